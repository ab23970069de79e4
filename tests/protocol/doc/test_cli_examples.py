"""The command lines docs/protocol.md shows around its frames: `dispatch hello` (the hello
pasted into the websockets CLI) and the refused `dispatch create-user` of the example
session (the admin log of §6.9 is compared in casework.py)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from dispatch.cli import main
from tests.dispatch.conftest import prepared_store
from tests.protocol.doc.extract import document


def run(argv: list[str]) -> tuple[int, str, str]:
    """`dispatch ARGV` in this process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def test_tg_dispatch_hello_prints_the_hello_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = document().blocks_in("Watching with a generic websocket client")[0].lines
    assert block[0] == "$ ./tg dispatch hello"
    monkeypatch.setenv("TONGGUAN_DATA", str(tmp_path))
    (tmp_path / "tokens").mkdir()
    (tmp_path / "tokens" / "demo-wall.token").write_text("secret-token\n")
    status, out, _ = run(["hello"])
    assert status == 0
    assert out.strip().replace("secret-token", "<token>") == block[1]
    assert block[4] == "> " + block[1]  # the line pasted into the CLI


def test_the_refused_create_user_commands_say_what_is_shown(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    before = store.accounts()
    title = "Refusals at the handshake (same backend)"
    block = next(b for b in document().blocks_in(title) if b.lines[0].startswith("$ dispatch"))
    commands = [
        (line[2:].split()[1:], block.lines[i + 1])
        for i, line in enumerate(block.lines)
        if line.startswith("$ ")
    ]
    assert len(commands) == 2
    for argv, shown in commands:
        status, out, err = run(["--url", url, *argv])
        assert (status, out, err.strip()) == (2, "", shown)
    assert "Both exit with status 2 and create nothing." in document().section_text(title)
    assert store.accounts() == before
