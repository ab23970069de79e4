"""The embedded backend: a real `dispatch demo` child process, its readiness, its end."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.core.backend import PROJECT_ROOT, BackendError, EmbeddedBackend
from desktop.core.session import Session

FAST = ["--no-warm-up", "--speed", "60"]


def gone(pid: int) -> bool:
    """The process has exited (a zombie nobody reaped counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def refuses(url: str) -> bool:
    port = int(url.rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


async def until(predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


@pytest.mark.timeout(90)
async def test_embedded_backend_serves_the_district_and_stops_cleanly(tmp_path) -> None:
    data = tmp_path / "data"  # does not exist yet: a first start
    backend = EmbeddedBackend(data, args=FAST)
    backend.start()
    try:
        assert backend.running
        url, token = await backend.wait_ready(60)
        assert url.startswith("ws://127.0.0.1:") and not url.endswith(":0")
        ready = json.loads(backend.ready_path.read_text())
        # The demo's intake HTTP server too (docs/intake.md): its own port, said once the
        # intakes are up, after the catch-up (the wall does not wait for them).
        for _ in range(300):
            if "intake" in ready:
                break
            await asyncio.sleep(0.1)
            ready = json.loads(backend.ready_path.read_text())
        assert ready.pop("intake").startswith("http://127.0.0.1:")
        assert ready == {"url": url, "pid": backend.pid, "data": str(data)}
        assert (data / "dispatch.db").exists()
        session = Session(url, token, on_changes=lambda changes: None)
        task = asyncio.create_task(session.run())
        try:
            await asyncio.wait_for(session.wait_connected(), 20)
            units = session.replica.units
            assert units is not None and units.district_name == "大观区"
            assert len(units.grids) == 351 and len(units.cameras) == 3500
        finally:
            await session.stop()
            await task
    finally:
        code = await asyncio.to_thread(backend.stop)
    assert code == 0 and not backend.running and gone(backend.pid)
    assert refuses(url)
    assert not backend.ready_path.exists()
    log = backend.log_path.read_text()
    # stop() closed stdin and the backend shut down by itself (no terminate needed).
    assert "parent process gone" in log and "stopped" in log
    assert token not in log
    # Only this account reads the data: the directory 700, the database and the log 600.
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for private in (data / "dispatch.db", backend.log_path):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    assert "--log-file" in backend.command()  # rotated by size by the backend itself


@pytest.mark.timeout(90)
async def test_the_backend_ends_when_the_desktop_is_killed(tmp_path) -> None:
    """SIGKILL the process that started the backend: its stdin pipe closes, so it stops."""
    script = (
        "import asyncio, json, sys, time\n"
        "from desktop.core.backend import EmbeddedBackend\n"
        f"backend = EmbeddedBackend(sys.argv[1], args={FAST!r})\n"
        "backend.start()\n"
        "url, _ = asyncio.run(backend.wait_ready(60))\n"
        "print(json.dumps({'pid': backend.pid, 'url': url}), flush=True)\n"
        "time.sleep(600)\n"
    )
    desktop = subprocess.Popen(  # noqa: ASYNC220 - the stand-in desktop, read from a thread
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(desktop.stdout.readline), 60)
        started = json.loads(line)
        assert not gone(started["pid"])
        desktop.kill()
        await until(lambda: gone(started["pid"]), timeout=10)
    finally:
        desktop.kill()
        desktop.wait()
        desktop.stdout.close()
    assert refuses(started["url"])
    log = (tmp_path / "backend.log").read_text()
    assert "parent process gone" in log and "stopped" in log  # the clean path, not a kill
    assert not list(tmp_path.glob("*.ready.json"))


@pytest.mark.timeout(90)
async def test_sigterm_shuts_the_backend_down_cleanly(tmp_path) -> None:
    backend = EmbeddedBackend(tmp_path, args=FAST)
    backend.start()
    try:
        url, _ = await backend.wait_ready(60)
        os.kill(backend.pid, signal.SIGTERM)
        await until(lambda: not backend.running, timeout=10)
    finally:
        code = await asyncio.to_thread(backend.stop)
    assert code == 0 and refuses(url) and not backend.ready_path.exists()
    log = backend.log_path.read_text()
    assert "shutting down" in log and "stopped" in log and "parent process gone" not in log


@pytest.mark.timeout(60)
async def test_a_failing_backend_is_a_readable_error_not_a_hang(tmp_path) -> None:
    backend = EmbeddedBackend(tmp_path, env={"TONGGUAN_DB_URL": "nonsense://nowhere"})
    backend.start()
    started = time.monotonic()
    try:
        with pytest.raises(BackendError) as info:
            await backend.wait_ready(60)
    finally:
        await asyncio.to_thread(backend.stop)
    assert time.monotonic() - started < 30
    message = str(info.value)
    first = message.splitlines()[0]
    assert "exited with code 1 before it was ready: " in first
    assert "Can't load plugin: sqlalchemy.dialects:nonsense" in first  # the backend's own words
    assert str(backend.log_path) in message
    assert "nonsense" in info.value.log_tail  # the backend's own error, from its log

    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(BackendError, match="cannot use the data directory"):
        EmbeddedBackend(not_a_dir).start()


@pytest.mark.timeout(60)
async def test_not_ready_in_time_then_stopped_while_starting(tmp_path) -> None:
    backend = EmbeddedBackend(tmp_path, args=FAST)
    backend.start()
    try:
        with pytest.raises(BackendError, match=r"not ready after 0\.1 s"):
            await backend.wait_ready(0.1)
    finally:
        started = time.monotonic()
        code = await asyncio.to_thread(backend.stop)
    # Stopped before it served (importing, migrating): it unwinds at once, no kill needed.
    assert time.monotonic() - started < 5
    assert code == 130 and not backend.running
    assert "interrupted before serving" in backend.log_path.read_text()


@pytest.mark.timeout(90)
async def test_a_second_backend_on_a_served_data_dir_stops_without_touching_it(tmp_path) -> None:
    data = tmp_path / "data"
    first = EmbeddedBackend(data, args=FAST)
    first.start()
    try:
        url, token = await first.wait_ready(60)
        # As `./tg demo` would, by hand, on the same data directory.
        env = {**os.environ, "TONGGUAN_DATA": str(data), "PYTHONPATH": str(PROJECT_ROOT)}
        env.pop("TONGGUAN_DB_URL", None)
        second = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "dispatch", "demo", "--port", "0", "--no-warm-up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT_ROOT,
        )
        assert second.returncode != 0
        assert "another dispatch backend is serving" in second.stderr
        # The running one's token still works: nothing was replaced.
        assert (data / "tokens" / "demo-wall.token").read_text().strip() == token
        session = Session(url, token, on_changes=lambda c: None)
        task = asyncio.create_task(session.run())
        await asyncio.wait_for(session.wait_connected(), 20)
        await session.stop()
        await task
    finally:
        first.stop()
