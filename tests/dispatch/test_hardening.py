"""The backend's limits and holes (issue 12): refused frames on the allowance, refusals' log
lines limited and counted, a second hello's id, connection caps, strict HTTP, escaped client
text, private files (700/600), safe token files, logs rotated by size, users changed live."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from dispatch.cli import main
from dispatch.logs import RowBudget
from dispatch.server import Limits
from dispatch.store.store import Store
from protocol.codec import decode_server, encode
from protocol.codes import RESUMABLE_CLOSE_CODES, CloseCode, ErrorCode
from protocol.messages import Error, Hello, Result, Welcome
from tests.dispatch.conftest import (
    DEKUAN,
    LINGHU,
    Client,
    Running,
    detect_by,
    prepared_store,
    start_server,
)
from tests.dispatch.test_admin import closed_with, still_up
from tests.dispatch.test_server import handshake, report_args

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def error_for(client: Client, frame: str) -> Error:
    """Send a raw frame; the error that answers it (the next one)."""
    await client.ws.send(frame)
    reply = await client.until(lambda m: isinstance(m, Error), timeout=10)
    assert isinstance(reply, Error)
    return reply


# ---- refused frames: on the allowance, their log lines limited -------------------------------


async def test_refused_frames_draw_on_the_requests_allowance(store: Store) -> None:
    running = await start_server(store, Limits(commands_per_second=0.01, command_burst=5))
    try:
        c = await running.client("commander")
        await handshake(c)
        frames = ["{not json", '{"id": 50, "type": "welcome"}', '{"id": 1, "type": "ping"}']
        codes = [(await error_for(c, frames[i % 3])).code for i in range(5)]
        bad, stale = ErrorCode.BAD_MESSAGE, ErrorCode.BAD_ID
        assert codes == [bad, bad, stale, bad, bad]
        # The bucket is empty: a refused frame, then a command, are both rate_limited.
        refused = await error_for(c, "{not json")
        assert (refused.code, refused.message) == (ErrorCode.RATE_LIMITED, "too many requests")
        command = await c.command("report", report_args(running))
        assert isinstance(command, Error) and command.code == ErrorCode.RATE_LIMITED
        await still_up(c)  # ping is never rate-limited; the connection stays
    finally:
        await running.server.stop()


async def test_refusals_log_lines_are_limited_and_what_is_left_out_is_counted(
    sqlite_store: Store, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="dispatch")
    limits = Limits(
        commands_per_second=1e6,
        command_burst=10**6,
        refusal_log_window=2.0,
        refusal_log_lines=5,
    )
    running = await start_server(sqlite_store, limits)
    try:
        wall = await running.client("wall")
        await handshake(wall)
        started = time.monotonic()
        for _ in range(300):
            await wall.ws.send("{not json")
        # A frame whose refusal quotes the client's own text, newlines included.
        await wall.ws.send('{"id": 9, "type": "ping", "x\\nFAKE 2099-01-01 INFO forged": 1}')
        last = await wall.until(lambda m: isinstance(m, Error) and m.id == 9, timeout=10)
        assert isinstance(last, Error) and "forged" in last.message
        lines = [r for r in caplog.records if "refused request" in r.getMessage()]
        assert len(lines) == 5  # the window's lines, whatever came after
        await asyncio.sleep(max(0.0, started + 2.2 - time.monotonic()))
        summary = [r for r in caplog.records if "more refusals suppressed" in r.getMessage()]
        assert len(summary) == 1, caplog.text
        peer = f"127.0.0.1:{wall.ws.local_address[1]}"
        assert summary[0].getMessage() == (
            f"… and 296 more refusals suppressed in the last 2 s (most from {peer} (大屏): 296)"
        )
        # A new window: lines again, and the client's newline escaped in them.
        await wall.ws.send('{"id": 10, "type": "ping", "x\\nFAKE 2099-01-01 INFO forged": 1}')
        await wall.until(lambda m: isinstance(m, Error) and m.id == 10, timeout=10)
        forged = [r.getMessage() for r in caplog.records if "forged" in r.getMessage()]
        assert forged and all("\n" not in m and "x\\x0aFAKE" in m for m in forged)
        assert "\nFAKE" not in caplog.text
    finally:
        await running.server.stop()


async def test_a_second_hello_is_refused_without_taking_its_id(running: Running) -> None:
    c = await running.client("commander")
    await handshake(c)
    hello = Hello(id=50, protocol=1, token=running.tokens["commander"], client="again")
    refused = await error_for(c, encode(hello).decode())
    assert refused.id == 50 and refused.code == ErrorCode.BAD_MESSAGE
    assert refused.message == "hello is only allowed as the first message"
    # The counter is still at the first hello's 1 (§2): id 2 is accepted.
    await c.ws.send('{"id": 2, "type": "ping"}')
    answer = await c.until(lambda m: isinstance(m, (Result, Error)) and m.id == 2)
    assert isinstance(answer, Result), answer
    await c.ws.close()


async def test_what_a_client_names_itself_is_escaped_in_the_log(
    running_sqlite: Running, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="dispatch")
    forged = "desk\n2099-01-01 00:00:00 WARNING dispatch.server: forged\u2028line"
    for token in (running_sqlite.tokens["linghu"], "wrong-token"):
        ws = await connect(f"ws://127.0.0.1:{running_sqlite.port}", compression=None)
        await ws.send(encode(Hello(id=1, protocol=1, token=token, client=forged)).decode())
        if token == "wrong-token":
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        else:
            await ws.recv()
            await ws.close()
    messages = [r.getMessage() for r in caplog.records if "desk" in r.getMessage()]
    assert len(messages) == 2, caplog.text
    assert any("connected with desk\\x0a2099-01-01 00:00:00 WARN" in m for m in messages)
    assert any("authentication failed (client desk\\x0a2099" in m for m in messages)
    assert all("\n" not in m and "\u2028" not in m for m in messages)


# ---- connection caps ------------------------------------------------------------------------


async def test_connections_are_capped_per_user_and_in_all(store: Store) -> None:
    running = await start_server(store, Limits(connections=3, connections_per_user=2))
    try:
        first, second = await running.client("linghu"), await running.client("linghu")
        for client in (first, second):
            await handshake(client)
        third = await running.client("linghu")
        assert await closed_with(third) == (
            CloseCode.TOO_MANY_CONNECTIONS,
            "too many connections for this user",
        )
        wall = await running.client("wall")  # another user: the third connection in all
        await handshake(wall)
        ws = await connect(f"ws://127.0.0.1:{running.port}", compression=None)
        with pytest.raises(ConnectionClosed) as info:
            await ws.recv()  # refused before its hello
        assert info.value.rcvd is not None
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (
            CloseCode.SERVER_FULL,
            "server full: try again later",
        )
        await first.ws.close()
        await asyncio.sleep(0.2)
        again = await running.client("linghu")  # a place is free again
        await handshake(again)
        await still_up(second)
        for client in (second, wall, again):
            await client.ws.close()
    finally:
        await running.server.stop()
    assert {CloseCode.TOO_MANY_CONNECTIONS, CloseCode.SERVER_FULL} <= RESUMABLE_CLOSE_CODES


async def test_a_burst_of_connections_logs_its_budget_of_lines_and_a_count(
    sqlite_store: Store, caplog
) -> None:
    """2,000 connections at once: at most connection_log_lines connected/disconnected lines,
    then one line with the count of the rest (said at the latest when the server stops)."""
    caplog.set_level(logging.INFO, logger="dispatch")
    limits = Limits(connections_per_user=5000, connection_log_window=600.0)
    running = await start_server(sqlite_store, limits)
    token = running.tokens["community"]  # a small snapshot: the burst is of connections
    hello = encode(Hello(id=1, protocol=1, token=token, client="burst")).decode()

    async def one() -> None:
        async with connect(f"ws://127.0.0.1:{running.port}", compression=None) as ws:
            await ws.send(hello)
            assert json.loads(await ws.recv())["type"] == "welcome"

    try:
        for _ in range(20):
            await asyncio.gather(*(one() for _ in range(100)))
        await asyncio.sleep(0.5)  # the last disconnections' turns
    finally:
        await running.server.stop()
    said = [r.getMessage() for r in caplog.records]
    lines = [m for m in said if " connected with burst" in m or " disconnected (" in m]
    assert len(lines) == limits.connection_log_lines, len(lines)
    counted = [m for m in said if "more connection lines suppressed" in m]
    assert len(counted) == 1, counted
    assert re.fullmatch(
        r"… and 3,900 more connection lines suppressed in the last 600 s"
        r" \(most from 127\.0\.0\.1:\d+ \(菱湖社区工作站\): \d\)",
        counted[0],
    ), counted[0]


async def test_a_flood_of_forbidden_admin_requests_costs_little(
    sqlite_store: Store, caplog
) -> None:
    """3,000 admin requests from a commander, past the rate limit: each answered forbidden,
    at most 50 log lines, 20 rows in the admin log and one row counting the rest; another
    client's pings are answered promptly meanwhile."""
    caplog.set_level(logging.INFO, logger="dispatch")
    limits = Limits(commands_per_second=1e6, command_burst=10**6, refusal_log_window=600.0)
    running = await start_server(sqlite_store, limits)
    try:
        commander = await running.client("commander")
        await handshake(commander)
        other = await running.client("dekuan")
        await handshake(other)
        records = len(caplog.records)
        kinds = ('"type": "users"', '"type": "revoke_user", "name": "大屏"')
        frames = [f'{{"id": {i + 2}, {kinds[i % 2]}}}' for i in range(3000)]
        waits: list[float] = []

        async def pings() -> None:
            for _ in range(20):
                started = time.monotonic()
                await still_up(other)
                waits.append(time.monotonic() - started)
                await asyncio.sleep(0.02)

        pinging = asyncio.create_task(pings())
        for frame in frames:
            await commander.ws.send(frame)
        answers = 0
        while answers < 3000:
            reply = await commander.until(lambda m: isinstance(m, Error), timeout=30)
            assert isinstance(reply, Error) and reply.code == ErrorCode.FORBIDDEN, reply
            answers += 1
        await pinging
        assert max(waits) < 1.0, waits
        assert len(caplog.records) - records <= 50, caplog.text[-3000:]
        rows = sqlite_store.admin_log(1000)
        assert len(rows) == 20 and {r.outcome for r in rows} == {"forbidden"}
        assert {r.actor for r in rows} == {"指挥长"}
    finally:
        await running.server.stop()
    rows = sqlite_store.admin_log(1000)
    assert len(rows) == 21
    summary = rows[-1]
    assert (summary.action, summary.actor, summary.detail, summary.outcome) == (
        "more_refusals",
        "指挥长",
        "count=2980",
        "refused",
    )
    assert summary.peer.startswith("127.0.0.1:")
    assert summary.message == (
        "2980 more refused requests not recorded one by one (at most 20 rows in 60 s)"
    )


async def test_the_count_of_unrecorded_refusals_gets_its_row_when_the_window_ends(
    sqlite_store: Store,
) -> None:
    running = await start_server(sqlite_store, Limits(admin_log_window=1.0, admin_log_rows=3))
    try:
        wall = await running.client("wall")
        await handshake(wall)
        started = time.monotonic()
        for _ in range(5):
            await wall.ws.send(f'{{"id": {next(wall.ids)}, "type": "users"}}')
        for _ in range(5):
            await wall.until(lambda m: isinstance(m, Error), timeout=5)
        assert [r.action for r in sqlite_store.admin_log()] == ["users"] * 3
        while len(sqlite_store.admin_log()) < 4:
            assert time.monotonic() - started < 5, "no summary row"
            await asyncio.sleep(0.1)
        assert time.monotonic() - started >= 1.0  # when the window ended
        summary = sqlite_store.admin_log()[-1]
        summed = (summary.action, summary.actor, summary.detail)
        assert summed == ("more_refusals", "大屏", "count=2")
        # A new window: rows again.
        await wall.ws.send(f'{{"id": {next(wall.ids)}, "type": "users"}}')
        await wall.until(lambda m: isinstance(m, Error), timeout=5)
        assert [r.action for r in sqlite_store.admin_log()][-1] == "users"
    finally:
        await running.server.stop()
    assert len(sqlite_store.admin_log()) == 5  # nothing left to count at the stop


# ---- HTTP: strict ids, strict Authorization, tokens in URLs, /health -----------------------


def http_get(port: int, path: str, authorization: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def test_http_ids_and_authorization_are_strict(running_sqlite: Running, caplog) -> None:
    camera = next(c for c in running_sqlite.server.reference.cameras.values() if c.street == LINGHU)
    alert = await detect_by(running_sqlite, camera.code)
    port, token = running_sqlite.port, running_sqlite.tokens["wall"]
    bearer = f"Bearer {token}"

    async def get(path: str, authorization: str | None = bearer) -> tuple[int, bytes]:
        return await asyncio.to_thread(http_get, port, path, authorization)

    assert (await get(f"/snapshots/{alert}"))[0] == 200
    assert (await get(f"/snapshots/{alert}.svg"))[0] == 200
    assert (await get(f"/snapshots/{alert}", f"bearer {token}"))[0] == 200  # any case
    for path in (
        "/snapshots/" + "9" * 30,  # was 500 and a traceback: no such integer in the database
        "/snapshots/" + "9" * 19,
        "/snapshots/" + "9" * 18,
        f"/snapshots/+{alert}",
        f"/snapshots/{alert}_0",
        f"/snapshots/%20{alert}",
        f"/snapshots/-{alert}",
        f"/snapshots/{alert}.",
        "/snapshots/",
    ):
        assert await get(path) == (404, b"not found\n"), path
    for authorization in (token, f"Bearer  {token}", f"Token {token}", f"Bearer {token} x", ""):
        status, body = await get(f"/snapshots/{alert}", authorization)
        assert (status, body) == (401, b"send Authorization: Bearer <token>\n"), authorization
    assert "Traceback" not in caplog.text


async def test_health_says_more_only_to_a_valid_token(running_sqlite: Running) -> None:
    port, token = running_sqlite.port, running_sqlite.tokens["wall"]
    c = await running_sqlite.client("commander")
    await handshake(c)
    assert await asyncio.to_thread(http_get, port, "/health") == (200, b"ok\n")
    assert await asyncio.to_thread(http_get, port, "/health", "Bearer wrong") == (200, b"ok\n")
    assert await asyncio.to_thread(http_get, port, "/health", token) == (200, b"ok\n")
    head = running_sqlite.server.hub.head
    detail = await asyncio.to_thread(http_get, port, "/health?x=1", f"Bearer {token}")
    assert detail[0] == 200
    said = re.fullmatch(rb"ok head=(\d+) clients=1 tasks=(\d+) ring=(\d+)\n", detail[1])
    assert said is not None and int(said.group(1)) == head, detail
    # The backend's tasks: its periodic ones, the commander's connection's, the request's.
    assert 4 <= int(said.group(2)) <= 30
    assert int(said.group(3)) == running_sqlite.server.hub.ring_bytes
    await c.ws.close()


@pytest.mark.parametrize(
    "query", ["/?token=abc", "/?tok%65n=abc", "/?TOK%2545N=abc", "/tok%65n", "/?to%6Ben=a"]
)
async def test_a_token_in_a_websocket_url_is_refused_however_it_is_spelled(
    running_sqlite: Running, query: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"ws://127.0.0.1:{running_sqlite.port}{query}"):
            pass
    assert refused.value.response.status_code == 400


# ---- users: create-user refuses an existing name; update-user reaches open connections -----


async def test_update_user_narrows_a_user_within_a_second(store: Store, capsys) -> None:
    running = await start_server(store)
    url = store.url
    try:
        dispatcher = await running.client("dispatcher")
        welcome, _ = await handshake(dispatcher)
        assert (welcome.role, welcome.jurisdiction) == ("dispatcher", [])
        rows = {r.name: r.id for r in _user_ids(store)}
        started = time.monotonic()
        args = ["--url", url, "update-user", "调度员", "--role", "street", "--street", LINGHU]
        assert await asyncio.to_thread(main, args) == 0
        out, err = capsys.readouterr()
        assert out == ""  # no new token
        assert err == (
            f"updated 调度员: role street, {LINGHU}; "
            "a running backend closes its open connections within 1 s\n"
        )
        assert (await closed_with(dispatcher))[0] == CloseCode.CREDENTIALS_CHANGED
        assert time.monotonic() - started < 2.0
        # The same token (its checked answer was cached) now opens a street user's session.
        again = await running.client("dispatcher")
        welcome, snapshot = await handshake(again)
        assert (welcome.role, welcome.jurisdiction) == ("street", [LINGHU])
        assert {e.community[:9] for e in snapshot.events} <= {LINGHU}
        # Another street's case is out of its reach now.
        commander = await running.client("commander")
        await handshake(commander)
        case = await commander.command("report", report_args(running, street=DEKUAN))
        assert isinstance(case, Result)
        escalate = await again.command("escalate", {"event": case.data["event"], "reason": "x"})
        assert isinstance(escalate, Error) and escalate.code == ErrorCode.NOT_FOUND
        assert {r.name: r.id for r in _user_ids(store)} == rows  # the same rows: stable ids

        # Back to the whole district, in one step.
        args = ["--url", url, "update-user", "调度员", "--role", "dispatcher", "--whole-district"]
        assert await asyncio.to_thread(main, args) == 0
        assert (await closed_with(again))[0] == CloseCode.CREDENTIALS_CHANGED
        welcome, _ = await handshake(await running.client("dispatcher"))
        assert (welcome.role, welcome.jurisdiction) == ("dispatcher", [])
        for client in (commander,):
            await client.ws.close()
    finally:
        await running.server.stop()


def _user_ids(store: Store) -> list[sa.Row]:
    with store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT id, name FROM users ORDER BY id")))


def test_update_user_refuses_clearly_and_changes_nothing(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = prepared_store(url)
    token = store.create_user("菱湖分中心", "street", [LINGHU])
    before = store.accounts()
    refusals = [
        (["update-user", "无此人", "--role", "wall"], 1, "error: no user 无此人"),
        (["update-user", "菱湖分中心"], 2, "error: nothing to change: give --role"),
        (["update-user", "菱湖分中心", "--street", "999"], 2, "unknown street code(s): 999"),
        (["update-user", "菱湖分中心", "--whole-district", "--street", LINGHU], 2, "takes no"),
        (["update-user", "菱湖分中心", "--role", "community"], 2, "give --community"),
        (["update-user", "菱湖分中心", "--street", LINGHU, "--community", "1"], 2, "not both"),
        (["create-user", "菱湖分中心", "--role", "wall"], 2, "exists: `dispatch update-user"),
    ]
    for args, code, said in refusals:
        assert main(["--url", url, *args]) == code, args
        out, err = capsys.readouterr()
        assert out == "" and said in err, (args, err)
    assert store.accounts() == before and store.authenticate(token) is not None
    outcomes = [(r.action, r.outcome) for r in store.admin_log(100)]
    assert outcomes == [
        ("update_user", "not_found"),
        ("update_user", "bad_args"),
        ("update_user", "bad_args"),
        ("create_user", "conflict"),
    ]
    store.close()


# ---- files: the data directory 700, the database, logs and tokens 600 ---------------------


def test_the_data_directory_is_private(tmp_path, monkeypatch, caplog) -> None:
    from dispatch.app import data_dir

    fresh = tmp_path / "fresh" / "data"
    monkeypatch.setenv("TONGGUAN_DATA", str(fresh))
    assert data_dir() == fresh and mode(fresh) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    monkeypatch.setenv("TONGGUAN_DATA", str(loose))
    caplog.set_level(logging.WARNING, logger="dispatch")
    assert data_dir() == loose and mode(loose) == 0o700
    assert f"tightened {loose} from 755 to 700" in caplog.text


def test_database_files_are_private_from_the_start(tmp_path, caplog) -> None:
    path = tmp_path / "dispatch.db"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    store.claim()
    with store.engine.connect() as conn:  # the WAL and its index exist while connected
        conn.execute(sa.text("SELECT 1"))
        files = [path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", ".owner"))]
        assert all(p.exists() for p in files)
        assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    store.close()
    # A database left readable by anyone is tightened when it is next opened.
    for p in files:
        if p.exists():
            p.chmod(0o644)
    caplog.set_level(logging.WARNING, logger="dispatch")
    store = Store(f"sqlite:///{path}")
    assert store.is_current()
    assert mode(path) == 0o600 and f"tightened {path} from 644 to 600" in caplog.text
    store.close()


def test_token_files_are_written_safely(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    prepared_store(url).close()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "tokens" / "linghu.token"
    link.parent.mkdir()
    link.symlink_to(victim)
    args = ["create-user", "菱湖分中心", "--role", "street", "--street", LINGHU]
    assert main(["--url", url, *args, "--token-file", str(link)]) == 0
    capsys.readouterr()
    assert victim.read_text() == "keep me\n"  # the link was replaced, not followed
    assert not link.is_symlink() and mode(link) == 0o600 and len(link.read_text().strip()) >= 40
    # An existing file readable by others does not keep its mode.
    loose = tmp_path / "wall.token"
    loose.write_text("old\n")
    loose.chmod(0o644)
    assert (
        main(["--url", url, "create-user", "大屏", "--role", "wall", "--token-file", str(loose)])
        == 0
    )
    assert mode(loose) == 0o600 and loose.read_text() != "old\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


ROTATE = """
import logging, sys
from pathlib import Path
from dispatch.logs import log_to_file
path = Path(sys.argv[1])
log_to_file(path, max_bytes=4000, backups=2)
for i in range(200):
    logging.getLogger("dispatch.test").info("line %d %s", i, "x" * 60)
print("printed to stdout", flush=True)
print("and to stderr", file=sys.stderr, flush=True)
raise SystemExit("the end")
"""


def test_logs_rotate_by_size_and_are_private(tmp_path) -> None:
    path = tmp_path / "logs" / "backend.log"
    path.parent.mkdir(mode=0o755)
    path.write_text("from an earlier run\n")
    path.chmod(0o644)
    done = subprocess.run(
        [sys.executable, "-c", ROTATE, str(path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stdout == done.stderr == ""  # all went to the file
    files = sorted(path.parent.iterdir())
    assert [p.name for p in files] == ["backend.log", "backend.log.1", "backend.log.2"]
    assert all(mode(p) == 0o600 and p.stat().st_size <= 4000 for p in files)
    text = path.read_text()
    assert "line 199" in text and "printed to stdout" in text and "and to stderr" in text
    assert text.rstrip().endswith("the end")  # a crash's last words follow the rotation
    assert "line 0 " not in "".join(p.read_text() for p in files)  # the oldest rotated away


async def test_serve_writes_its_log_file_private_and_rotated(tmp_path) -> None:
    data = tmp_path / "data"
    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert main(["--url", url, "load-district"]) == 0
    log_file, ready = data / "backend.log", data / "ready.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(data)}
    command = [sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", "0"]
    proc = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for from a thread
        [*command, "--ready-file", str(ready), "--log-file", str(log_file)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for _ in range(300):
            if ready.exists() or proc.poll() is not None:
                break
            await asyncio.sleep(0.05)
        assert json.loads(ready.read_text())["url"].startswith("ws://127.0.0.1:")
        assert mode(data) == 0o700 and mode(ready) == 0o600 and mode(log_file) == 0o600
        assert "serving" in log_file.read_text()
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = await asyncio.to_thread(proc.communicate, timeout=20)
    assert proc.returncode == 0 and output == ""  # nothing on the terminal: all in the file
    assert "stopped" in log_file.read_text()


def test_a_ready_file_that_cannot_be_written_stops_the_backend_with_its_reason(
    tmp_path,
) -> None:
    """Nobody can find a backend whose ready file is not there: it stops (exit 1) and says
    why in its log, not with a traceback to a terminal that may be on the same full disk."""
    from dispatch import exits
    from tests.reliability.disks import small_disk

    url = f"sqlite:///{tmp_path / 'd.db'}"
    assert main(["--url", url, "load-district"]) == 0
    with small_disk(tmp_path / "disk", 4096) as disk:
        (disk / "filler").write_bytes(b"\0" * 4096)  # its one page
        log_file = tmp_path / "backend.log"
        done = subprocess.run(
            [
                *(sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", "0"),
                *("--ready-file", str(disk / "ready.json"), "--log-file", str(log_file)),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(tmp_path / "data")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert not (disk / "ready.json").exists()
        assert [p.name for p in disk.iterdir()] == ["filler"]  # no temporary file left
    text = log_file.read_text()
    assert done.returncode == exits.FAILED, text
    assert done.stdout == done.stderr == ""
    assert "cannot write the ready file" in text and "No space left on device" in text
    assert "Traceback" not in text and "stopped" in text


async def test_a_full_disk_after_the_first_ready_file_leaves_the_backend_serving(
    tmp_path,
) -> None:
    """The demo writes its ready file again once its intake listens: with no room for that,
    the first one stands (the clients' address) and the backend serves on (it stopped with
    status 1 and a traceback: found by the supervisor's full-disk test)."""
    from tests.reliability.disks import small_disk

    data = tmp_path / "data"
    with small_disk(tmp_path / "disk", 4096) as disk:  # one page: one ready file, not two
        ready, log_file = disk / "ready.json", data / "backend.log"
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for from a thread
            [
                *(sys.executable, "-m", "dispatch", "demo", "--port", "0", "--no-mqtt"),
                *("--ready-file", str(ready), "--log-file", str(log_file)),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(data)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            for _ in range(1200):
                text = log_file.read_text() if log_file.exists() else ""
                if "keeps no intake address" in text or proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            assert proc.poll() is None, text[-3000:]
            assert "No space left on device" in text and "Traceback" not in text
            first = json.loads(ready.read_text())
            assert "intake" not in first
            token = (data / "tokens" / "demo-wall.token").read_text().strip()
            async with connect(first["url"], max_size=None) as ws:  # serving where it said
                await ws.send(encode(Hello(id=1, protocol=1, token=token)).decode())
                assert isinstance(decode_server(await ws.recv()), Welcome)
        finally:
            proc.send_signal(signal.SIGINT)
            output, _ = await asyncio.to_thread(proc.communicate, timeout=30)
    assert proc.returncode == 0, output


def test_the_row_budget_counts_per_user_and_window() -> None:
    now = [0.0]
    budget = RowBudget(rows=2, window=60.0, clock=lambda: now[0])
    assert [budget.admit("甲", "p1") for _ in range(5)] == [True, True, False, False, False]
    assert budget.admit("乙", "p2")  # another user: its own rows
    assert budget.next_end() == 60.0 and budget.ended() == []
    now[0] = 61.0  # 甲's window is over; a refusal now begins the next one
    assert budget.admit("甲", "p3")
    assert budget.next_end() == 0.0  # the old count waits to be summed up
    assert budget.ended() == [("甲", "p1", 3)]
    assert budget.next_end() is None
    assert [budget.admit("甲", "p4") for _ in range(3)] == [True, False, False]
    assert budget.ended(everything=True) == [("甲", "p4", 2)]  # at shutdown


def test_text_from_a_client_is_made_printable() -> None:
    from dispatch.logs import printable

    assert printable("菱湖分中心 desk/1.0") == "菱湖分中心 desk/1.0"
    assert printable("a\nb\\c\u2028d\x1b[31m") == "a\\x0ab\\\\c\\u2028d\\x1b[31m"
    assert printable("x" * 300, 10) == "x" * 10 + "…"
