"""12345 intake: signed work orders pushed over HTTP, and the feedback outbox.

`push`: the backend (with its intake HTTP server) in one process, CLIENTS concurrent httpx
clients in another, each pushing signed work orders one at a time back to back (every
order new; half with coordinates, half placed by address through the gazetteer). The figure
is the orders acknowledged per second over the window and the latency from request to
acknowledgement (after the writer's commit). Targets: >= 2,000/s sustained, p99 <= 50 ms.

`outbox`: a real `dispatch serve` process and the stand-in 12345 platform in this one. N
work orders are pushed and accepted (one 签收 each, N feedbacks) while the platform is down
(503); it comes back; the backend is killed with SIGKILL mid-delivery and started again; the
run ends when every feedback is delivered. Target: N = 10,000 delivered exactly once (one
key per work order, and no key applied twice).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from bench import common

KEY = "bench-12345-peer-key-0123456789"
PEER = "bench12345"
ADDRESSES = (
    "安徽省安庆市大观区孝肃路288号",
    "大观区菱湖街道菱湖社区",
    "同安家园3栋2单元",
    "玉琳路街道太平寺社区第2网格",
    "人民路与锡麟街口东侧",
    "大观区花亭路98号",
)
# Plain-socket clients instead of httpx, one order per push (the server's own limit).
RAW = os.environ.get("TG_BENCH_RAW") == "1"
PROCS = 2  # client processes (httpx costs about as much CPU per request as the server)
KINDS = ("噪声扰民", "城乡建设/市容环境/暴露垃圾", "停水", "物业服务", "其他/咨询类")


def _order(client: int, n: int, points: list[tuple[float, float]]) -> dict[str, object]:
    order: dict[str, object] = {
        "order_no": f"B{client:04d}-{n:08d}",
        "kind": KINDS[n % len(KINDS)],
        "content": "楼下烧烤店每晚十二点后仍很吵，影响休息，请尽快处理。",
        "address": ADDRESSES[n % len(ADDRESSES)],
        "caller": "王先生 138****5678",
        "appeal": "投诉",
        "received_at": "2026-12-02T09:15:00+08:00",
    }
    if n % 2:
        lon, lat = points[n % len(points)]
        order["lon"], order["lat"] = lon, lat
    return order


# ---- the client process --------------------------------------------------------------------


def clients_main(
    url: str,
    clients: int,
    warmup: float,
    duration: float,
    points: list,
    conn: Connection,
    proc: int = 0,
    batch: int = 0,
) -> None:
    """Entry point of a client process."""
    conn.send(asyncio.run(_clients(url, clients, warmup, duration, points, proc, batch)))


async def _clients(
    url: str, clients: int, warmup: float, duration: float, points: list, proc: int, batch: int
) -> tuple[list[float], int, int, float]:
    import httpx

    from dispatch.intake import signing
    from dispatch.intake.hotline import BATCH_PATH, ORDERS_PATH

    key = KEY.encode()
    latencies: list[float] = []
    errors = 0
    done = 0
    start = time.monotonic()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def client(index: int) -> None:
        nonlocal errors, done
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            n = 0
            while True:
                now = time.monotonic()
                if now >= stop_at:
                    return
                n += 1
                if batch:
                    orders = [
                        _order(proc * 1000 + index, n * batch + i, points) for i in range(batch)
                    ]
                    body = json.dumps({"orders": orders}, ensure_ascii=False).encode()
                    path = BATCH_PATH
                else:
                    order = _order(proc * 1000 + index, n, points)
                    body = json.dumps(order, ensure_ascii=False).encode()
                    path = ORDERS_PATH
                headers = signing.sign(key, PEER, "POST", path, body)
                headers["content-type"] = "application/json"
                sent = time.perf_counter()
                response = await http.post(path, content=body, headers=headers)
                took = time.perf_counter() - sent
                if now >= measure_from:
                    if response.status_code == 200:
                        latencies.append(took)
                        done += batch or 1
                    else:
                        errors += 1

    async def raw(index: int) -> None:
        # HTTP/1.1 keep-alive over a plain socket: the request and its answer, nothing else,
        # to find the server's own limit when httpx's cost per request is the bottleneck.
        nonlocal errors, done
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        n = 0
        while True:
            now = time.monotonic()
            if now >= stop_at:
                writer.close()
                return
            n += 1
            order = _order(proc * 1000 + index, n, points)
            body = json.dumps(order, ensure_ascii=False).encode()
            headers = signing.sign(key, PEER, "POST", ORDERS_PATH, body)
            head = f"POST {ORDERS_PATH} HTTP/1.1\r\nHost: {host}\r\n"
            head += "Content-Type: application/json\r\n"
            head += f"Content-Length: {len(body)}\r\n"
            head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            sent = time.perf_counter()
            writer.write(head.encode() + body)
            status = await reader.readuntil(b"\r\n")
            length = 0
            while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            took = time.perf_counter() - sent
            if now >= measure_from:
                if status.split()[1] == b"200":
                    latencies.append(took)
                    done += 1
                else:
                    errors += 1

    run = raw if RAW else client
    await asyncio.gather(*(run(i) for i in range(clients)))
    return latencies, done, errors, duration


# ---- push ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushOutcome:
    """One push run's figures."""

    db: str
    clients: int
    batch: int
    orders_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    events: int
    server_cpu: float
    gateway: str = "off"  # off, or the gateway's loop (uvloop, asyncio)
    gateway_cpu: float = 0.0  # % of a core: the gateway process (server_cpu: the backend's)


def run_push(
    db: str, clients: int, warmup: float, duration: float, batch: int, gateway: str = "off"
) -> PushOutcome:
    """One run in this (fresh) process: backend here, clients in child processes."""
    return asyncio.run(_push(db, clients, warmup, duration, batch, gateway))


def _cpu_of(pid: int | None) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _push(
    db: str, clients: int, warmup: float, duration: float, batch: int, gateway: str = "off"
) -> PushOutcome:
    from dispatch.intake.config import read_config
    from dispatch.server import DispatchServer, tune_gc

    with common.database(db) as url:
        store, reference = common.prepared(url)
        config = read_config(
            {
                "intake": {
                    "http": {"port": 0, "max_body": 1 << 20},
                    "hotline": {"enabled": True, "peers": {PEER: {"key": KEY}}},
                    **(
                        {}
                        if gateway == "off"
                        else {"gateway": {"enabled": True, "port": 0, "loop": gateway}}
                    ),
                }
            },
            Path("."),
        )
        server = DispatchServer(store, reference, intake=config)
        await server.start("127.0.0.1", 0)
        tune_gc()
        assert server.intake is not None
        part = server.intake.parts["hotline"]
        gw = getattr(part, "gateway", None)
        port = gw.port if gw is not None else server.intake.port
        gw_pid = gw.pid if gw is not None else None
        url_http = f"http://127.0.0.1:{port}"
        points = [tuple(g.centre) for g in list(reference.grids.values())[:200]]
        ctx = mp.get_context("spawn")
        pipes, procs = [], []
        for p in range(PROCS):
            parent, child = ctx.Pipe(duplex=False)
            share = clients // PROCS + (1 if p < clients % PROCS else 0)
            proc = ctx.Process(
                target=clients_main,
                args=(url_http, share, warmup, duration, points, child, p, batch),
            )
            proc.start()
            child.close()
            pipes.append(parent)
            procs.append(proc)
        await asyncio.sleep(warmup)
        before = os.times()
        gw_before = _cpu_of(gw_pid)
        latencies, done, errors, window = [], 0, 0, duration
        for parent in pipes:
            some, n, bad, window = await asyncio.to_thread(parent.recv)
            latencies += some
            done += n
            errors += bad
        after = os.times()
        gw_cpu = (_cpu_of(gw_pid) - gw_before) / window * 100
        loop_name = (gw.loop_name or gateway) if gw is not None else "off"
        if gw is not None:
            print(f"  gateway: {gw.filed / max(gw.frames, 1):.1f} orders per frame", flush=True)
        for proc in procs:
            proc.join()
        cpu = (after.user + after.system - before.user - before.system) / window * 100
        events = len(server.state.events)
        await server.stop()
        store.close()
    values = np.array(latencies) * 1000
    return PushOutcome(
        db,
        clients,
        batch,
        done / window,
        common.pct(values, 50),
        common.pct(values, 99),
        float(values.max()) if len(values) else float("nan"),
        errors,
        events,
        cpu,
        loop_name,
        gw_cpu,
    )


# ---- outbox --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxOutcome:
    """The outbox run's figures."""

    feedbacks: int
    delivered_keys: int
    orders_with_one_key: int
    duplicates: int
    outage_503s: int
    kills: int
    seconds: float
    delivery: float  # from the platform's return to the last feedback in, the kill included


def run_outbox(n: int, db: str) -> OutboxOutcome:
    """The outbox run (in a fresh process)."""
    return asyncio.run(_outbox(n, db))


async def _outbox(n: int, db: str) -> OutboxOutcome:
    from dispatch.intake.platform import FakePlatform

    platform = FakePlatform(PEER, KEY.encode())
    await platform.start()
    platform.down = True
    with common.database(db) as url, tempfile.TemporaryDirectory(prefix="tg-outbox-") as tmp:
        data = Path(tmp)
        config = data / "intake.toml"
        config.write_text(
            "[intake.http]\nport = 0\n[intake.hotline]\nenabled = true\n"
            "retry_base = 0.2\nretry_cap = 2.0\n"
            f'[intake.hotline.peers.{PEER}]\nkey = "{KEY}"\nfeedback_url = "{platform.url}"\n'
        )
        env = {**os.environ, "TONGGUAN_DATA": str(data)}
        store = common.prepared(url)[0]
        token = store.create_user("bench-desk", "dispatcher")
        store.close()
        started = time.monotonic()
        proc, intake, ws = await _serve(url, config, data, env)
        platform.intake_url = intake
        # N work orders pushed, N accepted: N feedbacks owed while the platform is down.
        events = await _push_orders(platform, n)
        # Over 4 connections: each may send 50 commands a second (Limits).
        await asyncio.gather(*(_accept_all(ws, token, events[i::4]) for i in range(4)))
        await asyncio.sleep(1.0)
        outage = platform.received.faults["down"]
        platform.down = False
        up = time.monotonic()
        # The backend killed mid-delivery, then started again.
        while len(platform.received.by_key) < n // 3:  # noqa: ASYNC110 - another process's progress
            await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc, _, _ = await _serve(url, config, data, env)
        while len(platform.received.by_key) < n:
            await asyncio.sleep(0.1)
            if time.monotonic() - started > 900:
                break
        delivery = time.monotonic() - up
        await asyncio.sleep(1.0)  # anything that would come twice
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        seconds = time.monotonic() - started
    per_order: dict[str, int] = {}
    for body in platform.received.by_key.values():
        per_order[str(body["order_no"])] = per_order.get(str(body["order_no"]), 0) + 1
    await platform.stop()
    return OutboxOutcome(
        n,
        len(platform.received.by_key),
        sum(1 for c in per_order.values() if c == 1),
        platform.received.duplicates,
        outage,
        1,
        seconds,
        delivery,
    )


async def _serve(
    url: str, config: Path, data: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str, str]:
    ready = data / f"ready-{time.monotonic_ns()}.json"
    command = [sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", "0"]
    command += ["--config", str(config), "--ready-file", str(ready)]
    command += ["--log-file", str(data / "log"), "--exit-with-parent"]
    # stdin a pipe held by this process: a bench that dies (or is stopped) takes it along.
    proc = subprocess.Popen(command, env=env, stdin=subprocess.PIPE)  # noqa: ASYNC220 - started once
    while not ready.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"the backend exited ({proc.returncode}); see {data / 'log'}")
        await asyncio.sleep(0.05)
    doc = json.loads(ready.read_text())
    return proc, doc["intake"], doc["url"]


async def _push_orders(platform: object, n: int) -> list[int]:
    from dispatch.intake.platform import FakePlatform

    assert isinstance(platform, FakePlatform)
    gate = asyncio.Semaphore(32)
    events: list[int] = []

    async def one(i: int) -> None:
        async with gate:
            order = {"order_no": f"O-{i:06d}", "kind": "噪声扰民", "content": "夜间噪音"}
            order["address"] = ADDRESSES[i % len(ADDRESSES)]
            response = await platform.push(order)
            events.append(int(response.json()["event"]))

    await asyncio.gather(*(one(i) for i in range(n)))
    return events


async def _accept_all(ws_url: str, token: str, events: list[int]) -> None:
    """Accept every event over one websocket, pipelined; a rate-limited command is sent
    again with its command_id a moment later."""
    import uuid

    from websockets.asyncio.client import connect

    async with connect(ws_url, max_size=None, compression=None) as ws:
        hello = {"id": 1, "type": "hello", "protocol": 1, "token": token, "client": "bench"}
        await ws.send(json.dumps(hello))
        pending: dict[int, dict[str, object]] = {}
        retry: list[dict[str, object]] = []
        next_id = 2
        todo = [
            {
                "type": "command",
                "command_id": uuid.uuid4().hex,
                "op": "accept",
                "args": {"event": e},
            }
            for e in events
        ]
        while todo or pending or retry:
            while (retry or todo) and len(pending) < 50:
                command = retry.pop() if retry else todo.pop()
                command["id"] = next_id
                await ws.send(json.dumps(command))
                pending[next_id] = command
                next_id += 1
            message = json.loads(await ws.recv())
            if message.get("type") not in ("result", "error"):
                continue
            command = pending.pop(message["id"])
            if message["type"] == "error":
                if message["code"] != "rate_limited":
                    raise RuntimeError(f"accept refused: {message}")
                retry.append(command)
                await asyncio.sleep(0.05)


# ---- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    """Run the push and outbox benchmarks; print the tables and how to reproduce them."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench intake", description=__doc__)
    parser.add_argument("--only", choices=("push", "outbox"))
    parser.add_argument("--db", default="sqlite", help="sqlite, postgres, or both: sqlite,postgres")
    parser.add_argument("--clients", default="32", help="concurrent clients per run")
    parser.add_argument(
        "--batch", default="0,20", help="orders per push: 0 one by one, N batch pushes of N"
    )
    parser.add_argument(
        "--gateway",
        default="off",
        help="the 12345 gateway process: off, auto, uvloop, asyncio (a list runs each)",
    )
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--feedbacks", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="shorter windows, 2,000 feedbacks")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.feedbacks = 8.0, 2000
    if args.only in (None, "push"):
        outcomes = []
        for db in args.db.split(","):
            for clients, batch, gateway in (
                (int(c), int(b), g)
                for c in args.clients.split(",")
                for b in args.batch.split(",")
                for g in args.gateway.split(",")
            ):
                o = common.isolated(
                    run_push, db, clients, args.warmup, args.duration, batch, gateway
                )
                outcomes.append(o)
                print(
                    f"  push {db:<8} {clients:>3} clients batch {batch:>3}"
                    f" gateway {o.gateway:<7}: {o.orders_per_s:>7,.0f} orders/s"
                    f"  p50 {o.p50_ms:.1f} ms  p99 {o.p99_ms:.1f} ms  max {o.max_ms:.0f} ms"
                    f"  errors {o.errors}  backend CPU {o.server_cpu:.0f}%"
                    f"  gateway CPU {o.gateway_cpu:.0f}%  load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        print()
        print(
            common.table(
                [
                    "db",
                    "clients",
                    "orders/push",
                    "gateway",
                    "orders/s",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "errors",
                    "backend CPU %",
                    "gateway CPU %",
                ],
                [
                    (
                        o.db,
                        o.clients,
                        o.batch or 1,
                        o.gateway,
                        f"{o.orders_per_s:,.0f}",
                        f"{o.p50_ms:.1f}",
                        f"{o.p99_ms:.1f}",
                        f"{o.max_ms:.0f}",
                        o.errors,
                        f"{o.server_cpu:.0f}",
                        f"{o.gateway_cpu:.0f}",
                    )
                    for o in outcomes
                ],
            )
        )
    if args.only in (None, "outbox"):
        db = args.db.split(",")[0]
        r = common.isolated(run_outbox, args.feedbacks, db)
        print(
            f"\n  outbox {db}: {r.feedbacks:,} feedbacks owed, {r.delivered_keys:,} delivered"
            f" ({r.orders_with_one_key:,} work orders with exactly one 签收),"
            f" {r.duplicates:,} resent copies de-duplicated by key,"
            f" {r.outage_503s:,} refused during the outage, {r.kills} SIGKILL; delivered"
            f" {r.delivery:.0f} s after the platform came back ({r.feedbacks / r.delivery:,.0f}/s"
            f" with the restart), whole run {r.seconds:.0f} s"
        )
    print(f"\nreproduce: {common.reproduce('bench intake', argv)}")


if __name__ == "__main__":
    from bench.intake import main as _main

    _main()
