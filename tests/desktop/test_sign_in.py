"""Signing the desk in: demo tokens, a wall's running backend to share, token files kept 600."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from desktop.core.sign_in import (
    SignInError,
    check_server_url,
    demo_token,
    read_token_file,
    running_backend,
    save_token,
)


def test_a_saved_token_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = save_token("  secret-token \n", tmp_path / "cfg" / "desk.token")
    assert path.read_text() == "secret-token\n"
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_token_file(path) == "secret-token"


def test_a_token_file_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "t.token"
    path.write_text("abc")
    os.chmod(path, 0o644)
    with pytest.raises(SignInError, match="chmod 600"):
        read_token_file(path)
    os.chmod(path, 0o600)
    path.write_text("")
    with pytest.raises(SignInError, match="empty"):
        read_token_file(path)
    with pytest.raises(SignInError, match="cannot read"):
        read_token_file(tmp_path / "missing")


@pytest.mark.parametrize(
    "url",
    ["http://host:1", "ws://", "ws://u:p@host:1", "ws://host:1/?token=abc", "host:8765"],
)
def test_server_urls_are_websocket_urls_without_credentials(url: str) -> None:
    with pytest.raises(SignInError):
        check_server_url(url)


def test_a_good_server_url_passes() -> None:
    assert check_server_url(" ws://10.0.0.5:8765 ") == "ws://10.0.0.5:8765"


def test_the_demo_token_of_each_user(tmp_path: Path) -> None:
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "demo-linghu.token").write_text("tok\n")
    assert demo_token(tmp_path, "street") == "tok"
    with pytest.raises(SignInError, match="demo-commander"):
        demo_token(tmp_path, "commander")


def test_a_running_backend_is_found_only_when_it_answers(tmp_path: Path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        (tmp_path / "backend-1.ready.json").write_text(
            json.dumps({"url": f"ws://127.0.0.1:{port}"})
        )
        (tmp_path / "backend-2.ready.json").write_text("not json")
        assert running_backend(tmp_path) == f"ws://127.0.0.1:{port}"
    finally:
        listener.close()
    assert running_backend(tmp_path) is None
