"""The PostgreSQL primary killed under load, its synchronous standby promoted: nothing lost.

Two clusters of the test's own (bench/reliability/replicated_pg.py: a primary and a hot
standby by `pg_basebackup -R`, `synchronous_commit = on` with the standby in
`synchronous_standby_names`), a `dispatch serve` child whose --url names both hosts with
`target_session_attrs=read-write`, and street users reporting cases, resending every
unanswered command with its command_id. The primary's postmaster and its children are
SIGKILLed, the standby promoted at once (what Patroni does once it has seen the primary gone):
every command acknowledged before or after is in the promoted database, once; the backend
goes on writing there; the seconds from the kill to the first command acknowledged on the
promoted primary are printed (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from bench.reliability import private_pg
from bench.reliability.private_pg import _free_port
from bench.reliability.replicated_pg import URL_OPTIONS, replicated_postgres
from dispatch import exits
from dispatch.app import load_reference, prepare
from dispatch.backup import backup
from dispatch.store.store import Store
from protocol.codec import decode_server
from protocol.codes import ErrorCode
from protocol.entities import Event
from protocol.messages import Delta, Result
from tests.dispatch.conftest import LINGHU, Client, open_client, point_in
from tests.reliability.serving import ROOT, serve, stop_backends

pytestmark = pytest.mark.timeout(120)

WRITERS = 3
# Never logged (a password in the URL; the test clusters trust 127.0.0.1 and ignore it).
PASSWORD = "pw-not-for-logs"


@dataclass
class Ack:
    """One acknowledged report: its title, event id, when it was (last) sent and answered,
    and the port of the backend that answered."""

    title: str
    event: int
    sent: float
    answered: float
    port: int


@dataclass
class Load:
    """What the writers did: acknowledged reports by command_id, refusals, reconnects."""

    acked: dict[str, Ack] = field(default_factory=dict)
    refused: int = 0
    reconnects: int = 0


async def _writer(
    n: int,
    ports: list[int],
    token: str,
    place: tuple[float, float],
    load: Load,
    stop: asyncio.Event,
) -> None:
    """Report cases one after another until `stop`; a command not answered ok is sent again
    with its command_id (on a new connection, to the next port, when the old one went) until
    it is."""
    client: Client | None = None
    at = 0  # the index of the port in use
    k = 0
    while not stop.is_set():
        k += 1
        command_id, title = uuid.uuid4().hex, f"主库切换 {n}-{k}"
        args = {"category": "01-02", "title": title, "lon": place[0], "lat": place[1]}
        while True:
            try:
                if client is None:
                    client = await open_client(ports[at], token)
                sent = time.monotonic()
                answer = await client.command("report", {**args, "source": "hotline"}, command_id)
            except (ConnectionClosed, OSError, TimeoutError):
                if client is not None:
                    with contextlib.suppress(Exception):
                        await client.ws.close()
                client = None
                at = (at + 1) % len(ports)
                load.reconnects += 1
                await asyncio.sleep(0.1)
                continue
            if isinstance(answer, Result):
                load.acked[command_id] = Ack(
                    title, int(answer.data["event"]), sent, time.monotonic(), ports[at]
                )
                break
            if answer.code == ErrorCode.NOT_WRITER:
                # A standby backend (it follows and serves): to the next port, same command_id.
                with contextlib.suppress(Exception):
                    await client.ws.close()
                client = None
                at = (at + 1) % len(ports)
                await asyncio.sleep(0.1)
                continue
            # The batch that met the dead primary: refused, nothing applied; sent again.
            assert answer.code == ErrorCode.INTERNAL, answer
            load.refused += 1
            await asyncio.sleep(0.05)
    if client is not None:
        await client.ws.close()


def _prepare(url: str) -> tuple[str, tuple[float, float]]:
    """The district in the database; a street user's token and a place in its street."""
    store = Store(url)
    try:
        prepare(store)
        token = store.create_user("菱湖分中心", "street", [LINGHU])
        return token, point_in(load_reference(store), LINGHU)
    finally:
        store.close()


def _all_in_the_database_once(url: str, load: Load) -> None:
    """Every acknowledged command is in the (promoted) database, its report once."""
    check = Store(url)
    try:
        found = check.find_commands(list(load.acked))
        events, _, _, _, _ = check.load_state(0.0)
    finally:
        check.close()
    lost = sorted(set(load.acked) - set(found))
    assert not lost, f"{len(lost)} acknowledged commands lost"
    titles = [e.title for e in events]
    assert len(titles) == len(set(titles)), "a report applied twice"
    by_id = {e.id: e.title for e in events}
    for ack in load.acked.values():
        assert by_id.get(ack.event) == ack.title, ack


def _standby_backend(url: str, data: Path, port: int) -> subprocess.Popen[bytes]:
    """`dispatch serve --standby` (docs/operations.md §8), not waited for."""
    data.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(data)}
    command = [sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", str(port)]
    log = ["--log-file", str(data / "backend.log"), "--ready-file", str(data / "ready.json")]
    return subprocess.Popen([*command, "--standby", *log], cwd=ROOT, env=env)


def _until_log(proc: subprocess.Popen[bytes], data: Path, what: str) -> None:
    """Until the backend's log says `what` ("": until it listens); it must stay up."""
    log = data / "backend.log"
    deadline = time.monotonic() + 60
    while not (
        (data / "ready.json").exists() if not what else (log.exists() and what in log.read_text())
    ):
        assert proc.poll() is None, log.read_text()[-2000:] if log.exists() else "no log"
        assert time.monotonic() < deadline, f"no {what!r}"
        time.sleep(0.05)


def _longest_gap(load: Load, since: float) -> float:
    """The longest time without an acknowledgement from `since` on: the unavailability."""
    times = sorted([since, *(a.answered for a in load.acked.values() if a.answered > since)])
    return max(b - a for a, b in itertools.pairwise(times))


async def _until_acknowledged(load: Load, count: int, after: float, what: str) -> None:
    deadline = time.monotonic() + 30
    while sum(1 for a in load.acked.values() if a.sent > after) < count:
        assert time.monotonic() < deadline, f"{len(load.acked)} acknowledged: {what}"
        await asyncio.sleep(0.05)


@dataclass(slots=True)
class Loss:
    """What a backend under load lived through: the primary lost at `lost`, the standby
    promoted at `promoted`, the first command acknowledged after the loss at `first`."""

    load: Load
    before: int  # acknowledged before the loss
    lost: float
    promoted: float
    first: float
    exited: list[int]  # the backend's exit codes meanwhile (restarted after each)
    # A gateway's wall: when each case's first delta reached it, by title.
    walled: dict[str, float] = field(default_factory=dict)

    def wall_live_again(self) -> float:
        """Seconds from the loss until the gateway's wall had a case reported after it."""
        after = [self.walled[a.title] for a in self.load.acked.values() if a.sent > self.lost]
        return min(after) - self.lost

    def told(self, what: str) -> str:
        """The figures in a line, `what` naming the loss ("kill", "cut")."""
        load = self.load
        return (
            f"promoted {self.promoted - self.lost:.2f} s later; the first command acknowledged"
            f" on the promoted primary {self.first - self.lost:.2f} s after the {what}"
            f" (longest without an answer {_longest_gap(load, self.lost):.2f} s); {self.before}"
            f" acknowledged before, {len(load.acked)} in all; {load.refused} refused and sent"
            f" again, {load.reconnects} reconnects; backend exits {self.exited}"
        )


async def _through_a_loss(
    url: str,
    data: Path,
    lose: Callable[[], float],
    promote: Callable[[], float],
    patience: float,
    gateway: Path | None = None,
) -> Loss:
    """A `dispatch serve` on `url` under WRITERS' load; once it acknowledges, `lose()` loses
    the primary (returning when), `promote()` promotes the standby; until 10 commands a
    writer sent after the loss are acknowledged, within `patience` seconds. The backend goes
    on on the promoted primary; if it stops instead (a commit cut after the standby had it:
    outcome uncertain, docs/operations.md §3), it is started again, as systemd does.

    With a `gateway` directory, a `--gateway` node follows the log meanwhile with a wall on
    it, and every acknowledged case must reach that wall (within `patience`)."""
    token, place = _prepare(url)
    proc, port = serve(url, data)
    walled: dict[str, float] = {}
    watching: asyncio.Task[None] | None = None
    follower: subprocess.Popen[bytes] | None = None
    if gateway is not None:
        try:  # the writer stopped too if the gateway cannot start
            follower, gateway_port = serve(url, gateway, 0, "--gateway")
            store = Store(url)
            try:
                wall_token = store.create_user("大屏", "wall")
            finally:
                store.close()
        except BaseException:
            stop_backends(follower, proc)
            raise
        watching = asyncio.create_task(_watch(gateway_port, wall_token, walled))
    load, stop = Load(), asyncio.Event()
    writers = [
        asyncio.create_task(_writer(n, [port], token, place, load, stop)) for n in range(WRITERS)
    ]
    exited: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while len(load.acked) < 60:  # the load is real: commits waiting for the standby
            assert time.monotonic() < deadline, f"only {len(load.acked)} acknowledged"
            await asyncio.sleep(0.05)
        before = len(load.acked)
        lost = await asyncio.to_thread(lose)
        promoted = await asyncio.to_thread(promote)
        deadline = time.monotonic() + patience
        while True:
            after = [a for a in load.acked.values() if a.sent > lost]
            if len(after) >= 10 * WRITERS:
                break
            assert time.monotonic() < deadline, (
                f"{len(after)} acknowledged after the loss: "
                + (data / "backend.log").read_text()[-3000:]
            )
            if proc.poll() is not None:
                exited.append(proc.returncode)
                assert proc.returncode == exits.WRITER_STOPPED, proc.returncode
                stopped = (data / "backend.log").read_text()
                assert "commit outcome uncertain: the writer stops" in stopped, stopped
                proc, _ = serve(url, data, port)
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*writers), 30)
        if watching is not None and gateway is not None:
            deadline = time.monotonic() + patience
            while missing := [a.title for a in load.acked.values() if a.title not in walled]:
                assert time.monotonic() < deadline, (
                    f"{len(missing)} acknowledged cases never reached the gateway's wall: "
                    + (gateway / "backend.log").read_text()[-3000:]
                )
                assert not watching.done(), watching
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        for task in [*writers, *([watching] if watching else [])]:
            task.cancel()
        await asyncio.gather(*writers, return_exceptions=True)
        if watching is not None:
            await asyncio.gather(watching, return_exceptions=True)
        for each in (proc, follower):
            if each is not None:
                stop_backends(each)
    first = min(a.answered for a in load.acked.values() if a.sent > lost)
    return Loss(load, before, lost, promoted, first, exited, walled)


async def _watch(port: int, token: str, walled: dict[str, float]) -> None:
    """A wall on `port`: when each case's first delta reached it, by title. It must stay
    connected through the loss (the gateway itself never stops)."""
    wall = await open_client(port, token)
    try:
        while True:
            message = decode_server(await wall.ws.recv())
            if isinstance(message, Delta) and isinstance(message.data, Event):
                walled.setdefault(message.data.title, time.monotonic())
    finally:
        await wall.ws.close()


async def test_the_primary_killed_loses_no_acknowledged_command(tmp_path: Path) -> None:
    if os.environ.get("CI") != "true" and not private_pg.available():
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    with replicated_postgres() as pair:
        url = pair.url.replace("postgres@", f"postgres:{PASSWORD}@")
        data = tmp_path / "backend"
        data.mkdir()

        def kill() -> float:
            killed = time.monotonic()
            pair.kill_primary()
            return killed

        loss = await _through_a_loss(url, data, kill, pair.promote, patience=30)
        print(f"primary killed: {loss.told('kill')}")
        assert pair.sql(pair.standby, "SELECT pg_is_in_recovery()") == "f"

        _all_in_the_database_once(url, loss.load)
        # Unavailable for seconds, not for the writer's 30 s grace.
        assert loss.first - loss.lost < 10, loss.first - loss.lost
        log = (data / "backend.log").read_text()
        assert PASSWORD not in log and "***" in log

        # A backup over the same URL goes to the promoted primary (the first host is gone).
        info = backup(url, tmp_path / "after.tgb")
        assert info.kind == "postgresql" and info.size > 0


async def test_with_the_standby_down_a_command_waits_for_it_and_is_answered_once_back(
    tmp_path: Path,
) -> None:
    # The other side of synchronous replication: nothing is acknowledged on one disk only.
    if os.environ.get("CI") != "true" and not private_pg.available():
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    with replicated_postgres() as pair:
        token, (lon, lat) = _prepare(pair.url)
        data = tmp_path / "backend"
        data.mkdir()
        proc, port = serve(pair.url, data)
        args = {"category": "01-02", "lon": lon, "lat": lat, "source": "hotline"}
        try:
            client = await open_client(port, token)
            before = await client.command("report", {**args, "title": "备库停前"})
            assert isinstance(before, Result), before
            pair.standby.stop("immediate")
            command_id = uuid.uuid4().hex
            waiting = asyncio.create_task(
                client.command("report", {**args, "title": "备库停时"}, command_id)
            )
            await asyncio.sleep(3)
            assert not waiting.done()
            # Committed on the primary's disk, waiting there for the standby's.
            query = "SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event = 'SyncRep'"
            assert pair.sql(pair.primary, query) == "t"
            back = time.monotonic()
            await asyncio.to_thread(pair.start_standby)
            answer = await waiting
            print(
                f"standby down: the command waited; answered {time.monotonic() - back:.2f} s "
                "after the standby's start"
            )
            assert isinstance(answer, Result) and not answer.repeat, answer
            assert pair.sql(pair.standby, "SELECT count(*) FROM events") == "2"
            await client.ws.close()
        finally:
            stop_backends(proc)


async def test_a_standby_backend_takes_over_on_the_promoted_primary(tmp_path: Path) -> None:
    # Two backends on the multi-host URL (docs/operations.md §8), the writer and a standby:
    # the writer's advisory lock went with the old primary's session, so the standby backend
    # finds it free on the promoted one and takes over; the old writer, deposed by the
    # fencing number, stops. Nothing acknowledged is lost through both.
    if os.environ.get("CI") != "true" and not private_pg.available():
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    with replicated_postgres() as pair:
        url = pair.url
        token, place = _prepare(url)
        ports = [_free_port(), _free_port()]
        (tmp_path / "a").mkdir()
        first, _ = serve(url, tmp_path / "a", ports[0])
        second: subprocess.Popen[bytes] | None = None
        load, stop = Load(), asyncio.Event()
        writers: list[asyncio.Task[None]] = []
        try:
            second = _standby_backend(url, tmp_path / "b", ports[1])
            await asyncio.to_thread(_until_log, second, tmp_path / "b", "standby of the writer")
            writers = [
                asyncio.create_task(_writer(n, ports, token, place, load, stop))
                for n in range(WRITERS)
            ]
            await _until_acknowledged(load, 60, 0.0, "before the kill")
            before = len(load.acked)
            killed = time.monotonic()
            pair.kill_primary()
            promoted = await asyncio.to_thread(pair.promote)
            await asyncio.to_thread(_until_log, second, tmp_path / "b", "took over as the writer")
            await _until_acknowledged(load, 10 * WRITERS, killed, "after the kill")
            taken = time.monotonic()
            await _until_acknowledged(load, 5 * WRITERS, taken, "after the takeover")
            stop.set()
            await asyncio.wait_for(asyncio.gather(*writers), 30)
            assert await asyncio.to_thread(first.wait, 15) == exits.WRITER_STOPPED
        finally:
            stop.set()
            for task in writers:
                task.cancel()
            await asyncio.gather(*writers, return_exceptions=True)
            for proc in (first, second):
                if proc is not None:
                    stop_backends(proc)
        after = [a for a in load.acked.values() if a.sent > killed]
        on_b = [a.answered for a in after if a.port == ports[1]]
        print(
            f"primary killed, a standby backend: promoted {promoted - killed:.2f} s later; "
            f"the first command acknowledged {min(a.answered for a in after) - killed:.2f} s "
            f"after the kill, the first by the standby backend {min(on_b) - killed:.2f} s; "
            f"longest without an answer {_longest_gap(load, killed):.2f} s; "
            f"{before} acknowledged before, {len(load.acked)} in all"
        )
        assert "this standby takes over" in (tmp_path / "b" / "backend.log").read_text()
        # Deposed; or stopped before that, on a commit the kill cut (as in the test above).
        stopped = (tmp_path / "a" / "backend.log").read_text()
        assert "no longer the writer" in stopped or "commit outcome uncertain" in stopped
        _all_in_the_database_once(url, load)


def test_a_backend_started_with_no_server_taking_writes_says_so_in_one_line(
    tmp_path: Path,
) -> None:
    # Both hosts away (a failover under way): exit 1 (docs/operations.md §2) with one line,
    # no traceback, no password; systemd starts it again.
    url = (
        f"postgresql+psycopg://postgres:{PASSWORD}@/test?host=127.0.0.1:{_free_port()}"
        f"&host=127.0.0.1:{_free_port()}&{URL_OPTIONS}"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == exits.FAILED, done.stderr
    assert done.stderr.startswith("error: the database does not answer: "), done.stderr
    assert "Traceback" not in done.stderr and PASSWORD not in done.stderr


def test_the_deployment_guide_shows_the_url_options_tested_here() -> None:
    guide = (ROOT / "docs" / "deployment.md").read_text()
    assert URL_OPTIONS in guide
    assert "host=db1:5432&host=db2:5432&" + URL_OPTIONS in guide
