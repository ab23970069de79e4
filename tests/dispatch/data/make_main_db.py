"""Write the SQLite database that test_migrations upgrades: content as main wrote it at b82a89a.

It runs the code of the checkout on PYTHONPATH, so that the file is what that commit writes:

    git archive b82a89a | tar -x -C /tmp/main-b82a89a
    PYTHONPATH=/tmp/main-b82a89a .venv/bin/python tests/dispatch/data/make_main_db.py \
        tests/dispatch/data/main-b82a89a.sqlite     # writes main-b82a89a.sqlite.xz

The operator's commands (init-db, load-district, create-user, revoke-user, trim-log) through
the command line; a simulated day and a half through the real server (the simulator's warm-up
from a fixed clock); commands with ids from a real websocket client; then the log trimmed the
way that commit trims it (its rows deleted), so the file carries a trimmed head too.
"""

from __future__ import annotations

import asyncio
import lzma
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from websockets.asyncio.client import connect

import dispatch
from dispatch.app import load_reference
from dispatch.clock import Clock
from dispatch.server import DispatchServer
from dispatch.simulator import Simulator
from dispatch.store.store import Store
from protocol.codec import decode_server, encode
from protocol.messages import Command, Hello, Result, Snapshot

# 2026-11-20 (a Friday) 10:30 in the district: yesterday and this morning are replayed.
START = datetime(2026, 11, 20, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
LINGHU = "340803004"
CODE = Path(dispatch.__file__).resolve().parent.parent  # the checkout whose code writes


def cli(*args: str) -> None:
    """One operator command, as its own process on the checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(CODE)}
    subprocess.run([sys.executable, "-m", "dispatch", *args], check=True, cwd=CODE, env=env)


async def _command(ws, request_id: int, op: str, args: dict) -> dict:
    command = Command(id=request_id, command_id=uuid.uuid4().hex, op=op, args=args)
    await ws.send(encode(command).decode())
    while True:
        message = decode_server(await ws.recv())
        if getattr(message, "id", None) == request_id:
            assert isinstance(message, Result), message
            return dict(message.data or {})


async def _simulate_and_command(url: str, token: str) -> None:
    store = Store(url)
    server = DispatchServer(store, load_reference(store), Clock(speed=1.0, start=START))
    port = await server.start("127.0.0.1", 0)
    simulator = Simulator(server, seed=9, daily_events=90, daily_alerts=40)
    task = asyncio.create_task(simulator.run(warm_up=True))
    while not simulator.warmed_up:  # noqa: ASYNC110 (the simulator has no event to await)
        await asyncio.sleep(0.1)
    task.cancel()
    grid = next(g for g in server.reference.grids.values() if g.street == LINGHU)
    async with connect(f"ws://127.0.0.1:{port}", max_size=None) as ws:
        await ws.send(encode(Hello(id=1, protocol=1, token=token, client="fixture")).decode())
        while not isinstance(decode_server(await ws.recv()), Snapshot):
            pass
        ids = iter(range(2, 1000))
        report = {
            "category": "01-02",
            "title": "井盖缺失",
            "lon": grid.centre[0],
            "lat": grid.centre[1],
            "source": "hotline",
            "reporter": "张先生",
        }
        first = (await _command(ws, next(ids), "report", report))["event"]
        for op, args in (("accept", {}), ("dispatch", {"assignee": "网格员 王五"}), ("start", {})):
            await _command(ws, next(ids), op, {"event": first, **args})
        second = await _command(ws, next(ids), "report", {**report, "title": "占道经营"})
        await _command(ws, next(ids), "reject", {"event": second["event"], "reason": "重复"})
        third = await _command(ws, next(ids), "report", {**report, "title": "路灯不亮"})
        await _command(ws, next(ids), "accept", {"event": third["event"]})
        await _command(ws, next(ids), "dispatch", {"event": third["event"], "assignee": "市政"})
        await _command(ws, next(ids), "report", {**report, "title": "噪音扰民"})
    await server.stop()
    store.close()


def main(out: Path) -> None:
    """Write the database to `out` (replacing it)."""
    out.unlink(missing_ok=True)
    url = f"sqlite:///{out}"
    commander = out.with_suffix(".token")
    print(f"writing {out} with the code in {CODE}", file=sys.stderr)
    for args in (
        ["init-db"],
        ["load-district"],
        ["create-user", "指挥长", "--role", "commander", "--token-file", str(commander)],
        ["create-user", "大屏", "--role", "wall", "--token-file", str(out.with_suffix(".w"))],
        [
            "create-user",
            "菱湖分中心",
            "--role",
            "street",
            "--street",
            LINGHU,
            "--token-file",
            str(out.with_suffix(".s")),
        ],
        [
            "create-user",
            "离职调度员",
            "--role",
            "dispatcher",
            "--token-file",
            str(out.with_suffix(".d")),
        ],
        ["revoke-user", "离职调度员"],
    ):
        cli("--url", url, *args)
    asyncio.run(_simulate_and_command(url, commander.read_text().strip()))
    cli("--url", url, "trim-log", "--keep", "600")
    for suffix in (".token", ".w", ".s", ".d"):
        out.with_suffix(suffix).unlink()
    # One self-contained file: the WAL checkpointed into it, then compacted.
    db = sqlite3.connect(out)
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute("VACUUM")
    db.close()
    Path(f"{out}.owner").unlink(missing_ok=True)
    # Compressed for the repository (4 MB of JSON and SVG become about 250 kB).
    packed = out.with_name(out.name + ".xz")
    packed.write_bytes(lzma.compress(out.read_bytes(), preset=9))
    out.unlink()


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
