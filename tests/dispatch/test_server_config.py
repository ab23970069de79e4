"""A config file's [server] table (the installed service's /etc/tongguan/dispatch.toml):
the database URL and listen address, for every command through TONGGUAN_CONFIG."""

from __future__ import annotations

import pytest

from dispatch.cli import main, server_settings
from dispatch.intake.config import load_config


def test_server_settings_reach_every_command(tmp_path, monkeypatch, capsys) -> None:
    db = tmp_path / "from-config.db"
    config = tmp_path / "dispatch.toml"
    config.write_text(
        f'[server]\nurl = "sqlite:///{db}"\nhost = "127.0.0.2"\nport = 9999\n\n'
        '[intake.http]\nhost = "127.0.0.1"\nport = 0\n'
    )
    monkeypatch.setenv("TONGGUAN_CONFIG", str(config))
    monkeypatch.delenv("TONGGUAN_DB_URL", raising=False)
    assert main(["init-db"]) == 0
    assert db.exists() and str(db) in capsys.readouterr().out
    assert load_config(config).get("http", object) is not None  # [server] is no intake error
    assert server_settings(config) == {"url": f"sqlite:///{db}", "host": "127.0.0.2", "port": 9999}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[server]\nport = '80'", "[server] port must be a int"),
        ("[server]\nlisten = 1", "[server] has no key 'listen'"),
        ("server = 1", "[server] must be a table"),
    ],
)
def test_a_bad_server_table_is_refused(tmp_path, text, error) -> None:
    config = tmp_path / "dispatch.toml"
    config.write_text(text)
    with pytest.raises(SystemExit, match=error.replace("[", r"\[").replace("]", r"\]")):
        server_settings(config)
