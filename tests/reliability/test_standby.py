"""Two `dispatch serve` on one PostgreSQL database: the second follows the first's log as a
standby; the first killed (-9), the second takes the writer lease and accepts commands within
5 s, and a desktop session given both URLs moves over and resumes by a replay: every command
acknowledged before the kill is in the new writer's state once, and ids go on without reuse.
A writer paused while it was deposed never commits again once it wakes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from websockets.exceptions import ConnectionClosed

from desktop.core.replica import Changes
from desktop.core.session import Session
from dispatch.app import load_reference, prepare
from dispatch.store.store import Store, StoreError
from protocol.codes import CloseCode, ErrorCode
from protocol.messages import Error, Result
from tests.dispatch.conftest import LINGHU, open_client, point_in
from tests.reliability.serving import ROOT, stop_backends

pytestmark = pytest.mark.timeout(180)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, data: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    data.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(data)}
    command = [sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", str(port)]
    return subprocess.Popen(
        [
            *command,
            *extra,
            "--ready-file",
            str(data / "ready.json"),
            "--log-file",
            str(data / "backend.log"),
        ],
        cwd=ROOT,
        env=env,
    )


def _wait_for(proc: subprocess.Popen[bytes], data: Path, what: str, seconds: float) -> None:
    """Until the backend's log says `what` ("" : until it listens); it must stay up."""
    log = data / "backend.log"
    deadline = time.monotonic() + seconds
    while not (
        (data / "ready.json").exists() if not what else (log.exists() and what in log.read_text())
    ):
        assert proc.poll() is None, log.read_text()[-2000:] if log.exists() else "no log"
        assert time.monotonic() < deadline, f"no {what!r}: " + (
            log.read_text()[-2000:] if log.exists() else "no log"
        )
        time.sleep(0.05)


async def test_a_standby_takes_over_within_5_s_and_loses_nothing(pg_url, tmp_path) -> None:
    store = Store(pg_url)
    prepare(store)
    token = store.create_user("指挥长", "commander")
    lon, lat = point_in(load_reference(store), LINGHU)
    store.close()
    ports = _free_port(), _free_port()
    first = _serve(pg_url, tmp_path / "a", ports[0])
    second: subprocess.Popen[bytes] | None = None
    session: Session | None = None
    task: asyncio.Task[None] | None = None
    try:
        await asyncio.to_thread(_wait_for, first, tmp_path / "a", "", 60)
        second = _serve(pg_url, tmp_path / "b", ports[1], "--standby")
        await asyncio.to_thread(_wait_for, second, tmp_path / "b", "standby of the writer", 60)
        # It follows the writer's log and serves, but does not steal the lease meanwhile.
        await asyncio.to_thread(_wait_for, second, tmp_path / "b", "", 60)
        await asyncio.sleep(1.0)
        assert second.poll() is None
        assert "this standby takes over" not in (tmp_path / "b" / "backend.log").read_text()

        resets: list[bool] = []

        def changed(changes: Changes) -> None:
            resets.append(changes.reset)

        urls = [f"ws://127.0.0.1:{port}" for port in ports]
        session = Session(urls, token, on_changes=changed, max_backoff=0.2)
        task = asyncio.create_task(session.run())
        acknowledged: dict[str, int] = {}
        for n in range(5):
            title = f"接管前 {n}"
            args = {"category": "01-02", "title": title, "lon": lon, "lat": lat}
            answer = await session.command("report", {**args, "source": "hotline"})
            assert isinstance(answer, Result), answer
            acknowledged[title] = int(answer.data["event"])
        await asyncio.sleep(0.3)  # the deltas of the last one reach the replica
        seq_before = session.seq
        snapshots_before = resets.count(True)

        killed = time.monotonic()
        first.send_signal(signal.SIGKILL)
        first.wait()
        args = {"category": "01-02", "title": "接管后", "lon": lon, "lat": lat}
        answer = await session.command("report", {**args, "source": "hotline"}, patience=30)
        took = time.monotonic() - killed
        assert isinstance(answer, Result), answer
        print(f"takeover: the first command answered {took:.2f} s after the kill")
        assert took <= 5.0, f"the standby took {took:.2f} s to serve"
        acknowledged["接管后"] = int(answer.data["event"])
        log = (tmp_path / "b" / "backend.log").read_text()
        assert "this standby takes over" in log and "fence 2" in log

        # The session moved over by a replay (the epoch is the database's): no snapshot.
        await asyncio.sleep(0.5)
        assert session.url == urls[1]
        assert resets.count(True) == snapshots_before
        assert session.seq > seq_before
        replica = session.replica
        titles = [e.title for e in replica.events.values()]
        for title, event in acknowledged.items():
            assert titles.count(title) == 1, title
            assert replica.events[event].title == title
        ids = list(acknowledged.values())
        assert len(set(ids)) == len(ids) and acknowledged["接管后"] > max(ids[:-1])

        # And the database: each acknowledged report once.
        check = Store(pg_url)
        try:
            events, _, _, _, _ = check.load_state(0.0)
        finally:
            check.close()
        stored = [e.title for e in events]
        assert sorted(stored) == sorted(acknowledged)
        assert {e.id for e in events} == set(ids)
    finally:
        if session is not None:
            await session.stop()
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
        stop_backends(first, second)


async def test_a_paused_writer_deposed_meanwhile_never_commits_again(pg_url, tmp_path) -> None:
    store = Store(pg_url)
    prepare(store)
    token = store.create_user("指挥长", "commander")
    lon, lat = point_in(load_reference(store), LINGHU)
    store.close()
    args = {"category": "01-02", "lon": lon, "lat": lat, "source": "hotline"}
    ports = _free_port(), _free_port()
    first = _serve(pg_url, tmp_path / "a", ports[0])
    second: subprocess.Popen[bytes] | None = None
    try:
        await asyncio.to_thread(_wait_for, first, tmp_path / "a", "", 60)
        client = await open_client(ports[0], token)
        before = await client.command("report", {**args, "title": "暂停前"})
        assert isinstance(before, Result), before
        second = _serve(pg_url, tmp_path / "b", ports[1], "--standby")
        await asyncio.to_thread(_wait_for, second, tmp_path / "b", "standby of the writer", 60)
        # The writer is paused, and its lock goes with its session (as when its connection
        # to the database dies): the standby takes over while the writer knows nothing.
        first.send_signal(signal.SIGSTOP)
        probe = Store(pg_url)
        with pytest.raises(StoreError):
            probe.claim()
        key = probe._key
        probe.close()
        admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            ended = conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND classid = :hi AND objid = :lo AND objsubid = 1"
                    " AND database = (SELECT oid FROM pg_database"
                    " WHERE datname = current_database())"
                ),
                {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
            ).all()
        admin.dispose()
        assert ended == [(True,)]
        await asyncio.to_thread(_wait_for, second, tmp_path / "b", "took over as the writer", 30)
        # The deposed writer wakes up: its commit is refused, nothing is written, it stops.
        first.send_signal(signal.SIGCONT)
        # Its command is refused, unless its clock's tick, reading the lease, stopped it
        # first: then its clients are closed 1012 (resumable) before the command is read.
        try:
            refused = await client.command("report", {**args, "title": "被废黜的写入"})
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == CloseCode.SERVICE_RESTART
        else:
            assert isinstance(refused, Error) and refused.code == ErrorCode.INTERNAL, refused
            assert "no longer the writer" in refused.message
        assert await asyncio.to_thread(first.wait, 15) == 3  # WRITER_STOPPED
        assert (
            "deposed: this backend is no longer the writer"
            in (tmp_path / "a" / "backend.log").read_text()
        )
        new = await open_client(ports[1], token)
        after = await new.command("report", {**args, "title": "接管后"})
        assert isinstance(after, Result), after
        await new.ws.close()
        with contextlib.suppress(ConnectionClosed):
            await client.ws.close()
        check = Store(pg_url)
        try:
            events, _, _, _, _ = check.load_state(0.0)
        finally:
            check.close()
        assert sorted(e.title for e in events) == sorted(["暂停前", "接管后"])
        assert after.data["event"] > before.data["event"]
    finally:
        stop_backends(first, second)


def test_a_standby_waits_through_a_database_that_does_not_answer(tmp_path) -> None:
    # Nobody listens on that port: the standby says so once and keeps waiting (a database
    # restarting), rather than exit; stopped, it exits as before serving.
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/test"
    proc = _serve(url, tmp_path / "b", _free_port(), "--standby")
    try:
        _wait_for(proc, tmp_path / "b", "standby: the database does not answer", 60)
        time.sleep(1.5)  # three more tries
        assert proc.poll() is None
        log = (tmp_path / "b" / "backend.log").read_text()
        assert log.count("the database does not answer") == 1
        assert not (tmp_path / "b" / "ready.json").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 130  # interrupted before serving


def test_a_standbys_simulator_runs_from_its_takeover(pg_url, tmp_path) -> None:
    """`--simulate` on a writer and on its standby (docs/deployment.md): the standby's waits,
    and once it has taken over the simulated district goes on from there. Before, it sent
    requests as a standby, died of it without a word, and after a takeover nothing came."""
    store = Store(pg_url)
    prepare(store)
    store.close()
    ports = _free_port(), _free_port()
    fast = ("--simulate", "--speed", "60")
    first = _serve(pg_url, tmp_path / "a", ports[0], *fast)
    second: subprocess.Popen[bytes] | None = None
    try:
        _wait_for(first, tmp_path / "a", "simulator running", 60)
        second = _serve(pg_url, tmp_path / "b", ports[1], "--standby", *fast)
        _wait_for(second, tmp_path / "b", "from this standby's takeover", 60)
        time.sleep(3)  # the writer's simulated minutes go by; the standby's stays waiting
        waited = (tmp_path / "b" / "backend.log").read_text()
        assert "the simulator starts" not in waited and "simulator stopped" not in waited, waited
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        _wait_for(second, tmp_path / "b", "this node writes: the simulator starts", 30)
        check = Store(pg_url)
        try:
            taken = check.head()[0]
            deadline = time.monotonic() + 30
            while not any(
                r.action == "report" for r in check.read_log(taken, limit=1000)
            ):  # a new case, about one every 2 s at 60x
                assert second.poll() is None
                assert time.monotonic() < deadline, "no case reported after the takeover"
                time.sleep(0.2)
        finally:
            check.close()
        log = (tmp_path / "b" / "backend.log").read_text()
        assert "simulator stopped" not in log and "Traceback" not in log, log[-3000:]
    finally:
        stop_backends(first, second)


def test_a_gateway_is_not_given_the_simulator(pg_url, tmp_path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "dispatch", "--url", pg_url, "serve", "--gateway", "--simulate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "a gateway never writes: --simulate runs on the writer" in done.stderr
