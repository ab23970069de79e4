"""The intake config file: each section read by its own reader; mistakes refused clearly."""

from __future__ import annotations

import os

import pytest

from dispatch.intake.config import ConfigError, HttpSettings, load_config
from dispatch.intake.demo import write_demo_config
from dispatch.intake.hotline import HotlineSettings


def _write(tmp_path, text: str):
    path = tmp_path / "intake.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_file_is_read(tmp_path) -> None:
    key = tmp_path / "peer.key"
    key.write_text("a-key-of-at-least-16-chars\n")
    os.chmod(key, 0o600)
    config = load_config(
        _write(
            tmp_path,
            """
[intake.http]
host = "0.0.0.0"
port = 8780

[intake.hotline]
enabled = true
coordinates = "gcj02"

[intake.hotline.peers.anqing12345]
key_file = "peer.key"
feedback_url = "https://12345.example/feedback"
""",
        )
    )
    http = config.get("http", HttpSettings)
    assert http == HttpSettings("0.0.0.0", 8780)
    hotline = config.get("hotline", HotlineSettings)
    assert hotline is not None and hotline.enabled and hotline.coordinates == "gcj02"
    peer = hotline.peers["anqing12345"]
    assert peer.key == b"a-key-of-at-least-16-chars" and peer.feedback_url.startswith("https")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[intake.htp]\nport = 1", "[intake.htp]: unknown section"),
        ("[intake.http]\nprot = 1", "[intake.http] unknown key(s): prot"),
        ("[intake.http]\nport = 70000", "port: 0..65535"),
        ("[intake.http]\nport = '80'", "port: must be int"),
        ("[other]\na = 1", "unknown top-level table(s): other (only [server], [intake.*])"),
        ("[intake.hotline]\nenabled = true", "enabled without any"),
        (
            "[intake.hotline]\nenabled = true\n[intake.hotline.peers.p]\nkey = 'short'",
            "at least 16",
        ),
        (
            "[intake.hotline]\nenabled = true\n[intake.hotline.peers.p]\n",
            "give exactly one of key, key_file",
        ),
        (
            "[intake.hotline]\nenabled = true\n[intake.hotline.peers.P]\nkey = '0123456789abcdef'",
            "a peer's name",
        ),
        ("[intake.http\n", "not TOML"),
    ],
)
def test_mistakes_are_refused_with_where(tmp_path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    assert message in str(caught.value)


def test_a_key_file_others_may_read_is_refused(tmp_path) -> None:
    key = tmp_path / "peer.key"
    key.write_text("a-key-of-at-least-16-chars\n")
    os.chmod(key, 0o644)
    text = "[intake.hotline]\nenabled = true\n[intake.hotline.peers.p]\nkey_file = 'peer.key'"
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match="mode 644 lets others read it; chmod 600"):
        load_config(path)


def test_the_demo_config_turns_the_intakes_on_and_keeps_its_keys(tmp_path) -> None:
    path = write_demo_config(tmp_path)
    config = load_config(path)
    hotline = config.get("hotline", HotlineSettings)
    assert hotline is not None and hotline.enabled
    assert config.get("http", HttpSettings) == HttpSettings("127.0.0.1", 0)
    key = next(iter(hotline.peers.values())).key
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert (
        load_config(write_demo_config(tmp_path))
        .get("hotline", HotlineSettings)
        .peers["demo-12345"]
        .key
        == key
    )


def test_serve_stops_with_the_reason_on_a_bad_config(tmp_path, caplog) -> None:
    from dispatch.cli import main
    from tests.dispatch.conftest import prepared_store

    url = f"sqlite:///{tmp_path / 'd.db'}"
    prepared_store(url).close()
    bad = _write(tmp_path, "[intake.hotline]\nenabled = true")
    assert main(["--url", url, "serve", "--port", "0", "--config", str(bad)]) == 2
    assert "enabled without any [intake.hotline.peers.NAME]" in caplog.text


def test_serve_stops_with_the_reason_on_a_mapping_it_cannot_use(tmp_path) -> None:
    from dispatch.cli import main
    from tests.dispatch.conftest import prepared_store

    url = f"sqlite:///{tmp_path / 'd.db'}"
    prepared_store(url).close()
    (tmp_path / "m.toml").write_text('triage = "99-99"', encoding="utf-8")
    config = _write(
        tmp_path,
        "[intake.http]\nport = 0\n[intake.hotline]\nenabled = true\nmapping = 'm.toml'\n"
        "[intake.hotline.peers.p]\nkey = '0123456789abcdef'",
    )
    with pytest.raises(SystemExit) as stopped:
        main(["--url", url, "serve", "--port", "0", "--config", str(config)])
    assert "triage: unknown category '99-99'" in str(stopped.value)
