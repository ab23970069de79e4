"""The 12345 gateway ([intake.gateway]): pushes read in a child process, filed by the backend.

Real parts: the backend (in this process, or a `dispatch serve` process), its real gateway
child, real HTTP clients. Every acknowledged work order is in the database exactly once
whatever is killed mid-stream (the gateway or the backend, SIGKILL), and bad input gets its
clear HTTP error with nothing stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dispatch.intake import signing
from dispatch.intake.config import ConfigError, read_config
from dispatch.intake.hotline import BATCH_PATH, ORDERS_PATH
from dispatch.intake.hotline_part import HotlinePart
from dispatch.store.store import Store
from tests.dispatch.conftest import Running, start_server
from tests.dispatch.intake.conftest import KEY, PEER, order, read_stats

ROOT = Path(__file__).resolve().parents[3]


def _config(base: Path, port: int = 0) -> dict[str, Any]:
    return {
        "intake": {
            "http": {"host": "127.0.0.1", "port": 0},
            "gateway": {"enabled": True, "host": "127.0.0.1", "port": port},
            "hotline": {"enabled": True, "peers": {PEER: {"key": KEY}}},
        }
    }


async def _push(
    http: httpx.AsyncClient,
    base: str,
    body: dict[str, Any] | bytes,
    *,
    path: str = ORDERS_PATH,
    key: str = KEY,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    sent = {
        "content-type": "application/json",
        **signing.sign(key.encode(), PEER, "POST", path, raw),
    }
    sent.update(headers or {})
    return await http.post(base + path, content=raw, headers=sent)


class _Gw:
    def __init__(self, running: Running) -> None:
        self.running = running
        assert running.server.intake is not None
        part = running.server.intake.parts["hotline"]
        assert isinstance(part, HotlinePart) and part.gateway is not None
        self.part = part
        self.url = f"http://127.0.0.1:{part.push_port}"
        self.http = httpx.AsyncClient(timeout=20)

    def events(self) -> list[Any]:
        return list(self.running.server.state.events.values())


@pytest.fixture
async def gw(store: Store, tmp_path: Path) -> AsyncIterator[_Gw]:
    running = await start_server(store, intake=read_config(_config(tmp_path), tmp_path))
    line = _Gw(running)
    yield line
    await line.http.aclose()
    await running.server.stop()


def test_the_section_is_read_and_checked(tmp_path: Path) -> None:
    from dispatch.intake.gateway import GatewaySettings

    got = read_config(_config(tmp_path, 9999), tmp_path).get("gateway", GatewaySettings)
    assert got == GatewaySettings(True, "127.0.0.1", 9999, "auto")
    for bad, says in (
        ({"port": 70000}, "port: 0..65535"),
        ({"loop": "trio"}, "loop: auto, uvloop or asyncio"),
        ({"workers": 2}, "unknown key(s): workers"),
    ):
        with pytest.raises(ConfigError, match=re.escape("[intake.gateway] " + says)):
            read_config({"intake": {"gateway": bad}}, tmp_path)


async def test_a_push_through_the_gateway_becomes_an_event(gw: _Gw) -> None:
    answer = await _push(gw.http, gw.url, order())
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["ok"] and not got["repeat"] and got["category"] == "06-01"
    assert got["place"] == "poi"
    event = gw.running.server.state.events[got["event"]]
    assert event.intake is not None
    assert event.intake.ref == "AQ12345-20261202-000001" and event.reporter == "王先生 138****5678"
    rows = gw.running.store.event_history(event.id)
    assert [(r.actor, r.action) for r in rows] == [(PEER, "report")]
    # A retry answers the same event; so do concurrent duplicates.
    again = await asyncio.gather(*(_push(gw.http, gw.url, order()) for _ in range(10)))
    assert {a.json()["event"] for a in again} == {got["event"]}
    assert all(a.json()["repeat"] for a in again)
    assert len(gw.events()) == 1
    # A batch: each order answered on its own, a bad one refused alone.
    batch = {"orders": [order("B-1"), {"order_no": "B-2", "kind": ""}, order("B-3", lon=1.0)]}
    answer = await _push(gw.http, gw.url, json.dumps(batch).encode(), path=BATCH_PATH)
    assert answer.status_code == 200, answer.text
    orders = answer.json()["orders"]
    assert [o["ok"] for o in orders] == [True, False, False]
    assert orders[1]["error"] == "bad_payload" and "orders[1]" in orders[1]["message"]
    assert orders[2]["error"] == "bad_payload" and "lon and lat" in orders[2]["message"]
    assert {e.intake.ref for e in gw.events()} == {"AQ12345-20261202-000001", "B-1"}
    health = gw.part.health()
    assert health["gateway"]["port"] == gw.part.push_port and health["gateway"]["starts"] == 1


async def test_bad_input_gets_a_clear_error_and_nothing_is_stored(gw: _Gw) -> None:
    raw = json.dumps(order()).encode()
    cases: list[tuple[httpx.Response, int, str]] = [
        (await _push(gw.http, gw.url, raw, key="not-the-key-of-the-peer"), 401, "bad_signature"),
        (await _push(gw.http, gw.url, b"{not json"), 400, "malformed_json"),
        (await _push(gw.http, gw.url, order(order_no="")), 400, "bad_payload"),
        (await _push(gw.http, gw.url, order(lon=117.0)), 400, "bad_payload"),
        (await _push(gw.http, gw.url, b"x" * 300_000), 413, "too_large"),
        (
            await _push(gw.http, gw.url, raw, headers={"content-type": "text/plain"}),
            415,
            "unsupported_media_type",
        ),
        (
            await gw.http.post(
                gw.url + ORDERS_PATH,
                content=raw,
                headers={"content-type": "application/json"},
            ),
            401,
            "",
        ),
        (await gw.http.get(gw.url + ORDERS_PATH), 405, "method_not_allowed"),
        (await gw.http.get(gw.url + "/intake/stats"), 404, "not_found"),
    ]
    for answer, status, reason in cases:
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["ok"] is False and body["message"]
        if reason:
            assert body["error"] == reason
    assert gw.events() == []
    # A signed replay of a push is refused as such (the gateway's replay guard).
    headers = signing.sign(KEY.encode(), PEER, "POST", ORDERS_PATH, raw)
    headers["content-type"] = "application/json"
    first = await gw.http.post(gw.url + ORDERS_PATH, content=raw, headers=headers)
    replay = await gw.http.post(gw.url + ORDERS_PATH, content=raw, headers=headers)
    assert first.status_code == 200 and replay.status_code == 409
    assert replay.json()["error"] == "replayed"
    assert len(gw.events()) == 1
    # The gateway's refusals reach the backend's counters (GET /intake/stats).
    assert gw.running.server.intake is not None
    base = f"http://127.0.0.1:{gw.running.server.intake.port}"
    deadline = time.monotonic() + 5
    while True:
        answers = (await read_stats(gw.running, gw.http, base))["answers"]["12345"]
        if answers.get("replayed") == 1 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert answers["ok"] == 1 and answers["replayed"] == 1 and answers["bad_payload"] == 2
    assert answers["bad_signature"] == 1 and answers["too_large"] == 1


class _Pushers:
    """Clients pushing new work orders back to back, each sent again until acknowledged
    (as a platform does); what was acknowledged, by order number -> event."""

    def __init__(self, clients: int = 8) -> None:
        self.clients = clients
        self.acked: dict[str, int] = {}
        self.failures = 0
        self.stop = asyncio.Event()

    async def run(self, base: Any) -> None:
        async def one(index: int) -> None:
            async with httpx.AsyncClient(timeout=10) as http:
                n = 0
                while not self.stop.is_set():
                    n += 1
                    number = f"K{index:02d}-{n:06d}"
                    while True:  # until acknowledged: a failure is sent again
                        try:
                            answer = await _push(http, base(), order(number))
                        except httpx.HTTPError:
                            answer = None
                        if answer is not None and answer.status_code == 200:
                            self.acked[number] = answer.json()["event"]
                            break
                        self.failures += 1
                        if self.stop.is_set():
                            return
                        await asyncio.sleep(0.05)

        await asyncio.gather(*(one(i) for i in range(self.clients)))


def _once(store: Store, acked: dict[str, int]) -> None:
    """Every acknowledged order is one event, with the event it was answered with."""
    refs: dict[str, list[int]] = {}
    for event in store.load_state(0)[0]:
        if event.intake is not None:
            refs.setdefault(event.intake.ref, []).append(event.id)
    assert acked, "nothing was acknowledged"
    for number, event_id in acked.items():
        assert refs.get(number) == [event_id], (number, refs.get(number))
    assert all(len(ids) == 1 for ids in refs.values())


async def test_a_killed_gateway_is_started_again_and_loses_nothing(
    sqlite_store: Store, tmp_path: Path
) -> None:
    running = await start_server(sqlite_store, intake=read_config(_config(tmp_path), tmp_path))
    try:
        line = _Gw(running)
        pushers = _Pushers()
        task = asyncio.create_task(pushers.run(lambda: line.url))
        await _until(lambda: len(pushers.acked) >= 100)
        first = line.part.gateway.pid if line.part.gateway else None
        assert first is not None
        os.kill(first, signal.SIGKILL)
        await _until(lambda: line.part.gateway is not None and line.part.gateway.starts == 2)
        seen = len(pushers.acked)
        await _until(lambda: len(pushers.acked) >= seen + 100)
        pushers.stop.set()
        await task
        await line.http.aclose()
        assert line.part.push_port == int(line.url.rsplit(":", 1)[1])  # the same port
    finally:
        await running.server.stop()
    _once(sqlite_store, pushers.acked)


async def test_a_killed_backend_loses_no_acknowledged_order(tmp_path: Path) -> None:
    from tests.dispatch.conftest import prepared_store

    url = f"sqlite:///{tmp_path / 'd.db'}"
    prepared_store(url).close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "intake.toml"
    config.write_text(
        "[intake.http]\nport = 0\n"
        f"[intake.gateway]\nenabled = true\nport = {port}\n"
        f"[intake.hotline]\nenabled = true\n[intake.hotline.peers.{PEER}]\nkey = '{KEY}'\n",
        encoding="utf-8",
    )
    base = f"http://127.0.0.1:{port}"
    pushers = _Pushers()
    task = asyncio.create_task(pushers.run(lambda: base))
    backend = await _serve(url, config, tmp_path)
    try:
        await _until(lambda: len(pushers.acked) >= 100, 60)
        backend.send_signal(signal.SIGKILL)
        await asyncio.to_thread(backend.wait)
        killed_at = len(pushers.acked)
        backend = await _serve(url, config, tmp_path)
        await _until(lambda: len(pushers.acked) >= killed_at + 100, 60)
        pushers.stop.set()
        await task
    finally:
        backend.send_signal(signal.SIGTERM)
        await asyncio.to_thread(backend.wait, 30)
    assert pushers.failures > 0  # the kill was felt
    store = Store(url)
    try:
        _once(store, pushers.acked)
    finally:
        store.close()


async def _serve(url: str, config: Path, data: Path) -> subprocess.Popen[bytes]:
    ready = data / "ready.json"
    with contextlib.suppress(FileNotFoundError):
        ready.unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(data)}
    command = [sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", "0"]
    command += ["--config", str(config), "--ready-file", str(ready)]
    command += ["--log-file", str(data / "backend.log")]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: ASYNC220 - started once
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, (data / "backend.log").read_text()[-2000:]
        assert time.monotonic() < deadline, "did not start"
        await asyncio.sleep(0.05)
    return proc


async def _until(condition: Any, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)
