"""The command line as an operator uses it, and the main job (`demo`) end to end."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dispatch.cli import main
from protocol.messages import Snapshot, Units, Welcome
from tests.dispatch.conftest import open_client

ROOT = Path(__file__).resolve().parents[2]


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_operator_commands(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert run_cli(capsys, "--url", url, "init-db")[0] == 0
    assert run_cli(capsys, "--url", url, "init-db")[0] == 0  # idempotent
    code, out = run_cli(capsys, "--url", url, "load-district")
    assert code == 0 and "loaded" in out
    token_file = tmp_path / "secret" / "linghu.token"
    code, out = run_cli(
        capsys,
        "--url",
        url,
        "create-user",
        "菱湖分中心",
        "--role",
        "street",
        "--street",
        "340803004",
        "--token-file",
        str(token_file),
    )
    assert code == 0 and str(token_file) in out
    token = token_file.read_text().strip()
    assert token not in out and oct(token_file.stat().st_mode & 0o777) == "0o600"
    code, out = run_cli(capsys, "--url", url, "users")
    assert "菱湖分中心" in out and "340803004" in out
    assert run_cli(capsys, "--url", url, "revoke-user", "菱湖分中心")[0] == 0
    assert run_cli(capsys, "--url", url, "revoke-user", "nobody")[0] == 1
    assert main(["--url", url, "create-user", "x", "--role", "street", "--street", "999"]) == 2
    assert "unknown street code(s): 999" in capsys.readouterr().err
    assert main(["--url", url, "create-user", "x", "--role", "street"]) == 2
    assert "needs at least one street" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--url", url, "create-user", "x", "--role", "emperor"])


def test_serve_refuses_an_uninitialised_database(tmp_path, capsys) -> None:
    assert main(["--url", f"sqlite:///{tmp_path / 'empty.db'}", "serve"]) == 2


async def test_demo_main_job_end_to_end(tmp_path) -> None:
    """`./tg run` runs `python -m dispatch demo`: a fresh data dir, then a live district."""
    env = {**os.environ, "TONGGUAN_DATA": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("TONGGUAN_DB_URL", None)
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, read from a thread
        [sys.executable, "-m", "dispatch", "demo", "--port", "0", "--speed", "120"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        port = None
        lines = []
        for _ in range(200):
            line = await asyncio.to_thread(proc.stdout.readline)
            lines.append(line)
            match = re.search(r"ws://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
                break
        assert port, "".join(lines)
        token = (tmp_path / "tokens" / "demo-wall.token").read_text().strip()
        client = await open_client(port, token)
        welcome = await client.recv(timeout=10)
        assert isinstance(welcome, Welcome) and welcome.role == "wall"
        units = await client.recv(timeout=20)
        assert isinstance(units, Units)
        assert len(units.reference.grids) == 351 and len(units.reference.cameras) == 3500
        snapshot = await client.recv(timeout=20)
        assert isinstance(snapshot, Snapshot)
        delta = await client.until(lambda m: m.__class__.__name__ == "Delta", timeout=30)
        assert delta.seq > snapshot.seq
        await client.ws.close()
        output = "".join(lines)
        assert token not in output
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0


def test_port_in_use_is_a_clear_error(tmp_path, capsys) -> None:
    import socket

    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert main(["--url", url, "load-district"]) == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as info:
            main(["--url", url, "serve", "--port", str(port)])
    assert f"cannot listen on 127.0.0.1:{port}" in str(info.value.code)
