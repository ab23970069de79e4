"""The desk's sign-in screen: a clear error for what cannot work, the token kept 600."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.ui.desk.sign_in import SignInDialog


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TONGGUAN_CONFIG", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def test_a_url_with_credentials_or_no_token_is_refused_and_nothing_kept(qtbot, config) -> None:
    dialog = SignInDialog()
    qtbot.addWidget(dialog)
    dialog.server.setText("ws://user:pw@10.0.0.5:8765")
    dialog.token.setText("secret")
    dialog._sign_in()
    assert dialog.choice is None and "URL" in dialog.error.text()
    dialog.server.setText("ws://10.0.0.5:8765")
    dialog.token.setText("")
    dialog._sign_in()
    assert dialog.choice is None and dialog.error.text()
    assert not config.exists()


def test_a_pasted_token_is_remembered_in_a_600_file_and_offered_next_time(qtbot, config) -> None:
    dialog = SignInDialog()
    qtbot.addWidget(dialog)
    dialog.server.setText("ws://10.0.0.5:8765")
    dialog.token.setText("  secret  ")
    dialog.remember.setChecked(True)
    dialog._sign_in()
    assert dialog.choice == ("ws://10.0.0.5:8765", "secret")
    saved = config / "desk.token"
    assert saved.read_text() == "secret\n" and saved.stat().st_mode & 0o777 == 0o600
    again = SignInDialog()
    qtbot.addWidget(again)
    assert again.server.text() == "ws://10.0.0.5:8765" and again.token_file.text() == str(saved)
    again._sign_in()
    assert again.choice == ("ws://10.0.0.5:8765", "secret")


def test_a_token_file_others_can_read_is_refused(qtbot, config, tmp_path: Path) -> None:
    loose = tmp_path / "t.token"
    loose.write_text("secret")
    os.chmod(loose, 0o644)
    dialog = SignInDialog()
    qtbot.addWidget(dialog)
    dialog.server.setText("ws://10.0.0.5:8765")
    dialog.token_file.setText(str(loose))
    dialog._sign_in()
    assert dialog.choice is None and "chmod 600" in dialog.error.text()


def test_the_local_demo_as_a_chosen_user(qtbot, config) -> None:
    dialog = SignInDialog()
    qtbot.addWidget(dialog)
    dialog.demo.setCurrentIndex(dialog.demo.findData("street"))
    dialog._demo()
    assert dialog.choice == ("street", None)
