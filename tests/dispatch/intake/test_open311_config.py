"""[intake.open311]: read by its own reader, mistakes refused with the key at fault; the demo
turns it on (also in a demo data directory made before Open311 existed)."""

from __future__ import annotations

import os

import pytest

from dispatch.intake.config import ConfigError, load_config
from dispatch.intake.demo import DEMO_FILE, DEMO_OPEN311_CLIENT, write_demo_config
from dispatch.intake.hotline import HotlineSettings
from dispatch.intake.open311 import Open311Settings


def _write(tmp_path, text: str):
    path = tmp_path / "intake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_section_is_read(tmp_path) -> None:
    key = tmp_path / "app.key"
    key.write_text("a-key-of-the-citizens-app\n")
    os.chmod(key, 0o600)
    config = load_config(
        _write(
            tmp_path,
            """
[intake.open311]
enabled = true
jurisdiction_id = "daguan.anqing.example"
contact = "大观区智慧联动中心"
key_service = "https://daguan.example/open311-key"
type = "test"
exclude = ["20", "11-05"]

[intake.open311.clients.citizen-app]
key_file = "app.key"

[intake.open311.clients.fixmystreet]
key = "another-key-0123456789"
""",
        )
    )
    settings = config.get("open311", Open311Settings)
    assert settings is not None and settings.enabled and settings.kind == "test"
    assert settings.jurisdiction_id == "daguan.anqing.example"
    assert settings.exclude == ("20", "11-05")
    assert settings.clients["citizen-app"].key == b"a-key-of-the-citizens-app"
    assert settings.clients["fixmystreet"].key == b"another-key-0123456789"


CLIENT = "[intake.open311.clients.app]\nkey = '0123456789abcdef'\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[intake.open311]\nenabled = true", "[intake.open311] enabled without any"),
        ("[intake.open311]\nenable = true", "[intake.open311] unknown key(s): enable"),
        ("[intake.open311]\ntype = 'staging'\n" + CLIENT, "type: production or test"),
        ("[intake.open311]\nexclude = '20'\n" + CLIENT, "exclude: must be list"),
        ("[intake.open311]\nexclude = ['']\n" + CLIENT, "exclude: a list of category code"),
        ("[intake.open311]\njurisdiction_id = ' x'\n" + CLIENT, "jurisdiction_id: at most"),
        ("[intake.open311.clients.App]\nkey = '0123456789abcdef'", "a client's name"),
        ("[intake.open311.clients.app]\nkey = 'short'", "at least 16"),
        ("[intake.open311.clients.app]\nurl = 'x'", "unknown key(s): url"),
        (
            CLIENT + "[intake.open311.clients.other]\nkey = '0123456789abcdef'",
            "[intake.open311.clients.other] the same API key as client 'app'",
        ),
    ],
)
def test_mistakes_are_refused_with_where(tmp_path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    assert message in str(caught.value)


def test_a_section_turned_off_serves_nothing_but_is_read(tmp_path) -> None:
    config = load_config(_write(tmp_path, "[intake.open311]\nenabled = false\n"))
    settings = config.get("open311", Open311Settings)
    assert settings is not None and not settings.enabled and settings.clients == {}


def test_the_demo_turns_open311_on(tmp_path) -> None:
    config = load_config(write_demo_config(tmp_path))
    settings = config.get("open311", Open311Settings)
    assert settings is not None and settings.enabled and settings.kind == "test"
    key = settings.clients[DEMO_OPEN311_CLIENT].key
    assert len(key) >= 32
    again = load_config(write_demo_config(tmp_path)).get("open311", Open311Settings)
    assert again is not None and again.clients[DEMO_OPEN311_CLIENT].key == key


def test_an_older_demo_file_gets_the_open311_section(tmp_path) -> None:
    """A demo data directory made before Open311 existed: its file gains the section, and
    what it had (its 12345 key) stays."""
    path = write_demo_config(tmp_path)
    text = path.read_text()
    older = text[: text.index("[intake.open311]")]
    path.write_text(older)
    hotline_key = load_config(path).get("hotline", HotlineSettings).peers["demo-12345"].key
    assert load_config(path).get("open311", Open311Settings) is None
    config = load_config(write_demo_config(tmp_path))
    settings = config.get("open311", Open311Settings)
    assert settings is not None and settings.enabled
    assert config.get("hotline", HotlineSettings).peers["demo-12345"].key == hotline_key
    assert oct((tmp_path / DEMO_FILE).stat().st_mode & 0o777) == "0o600"
