"""Fixtures for the intakes: a real backend with its intake HTTP server on port 0, and a
12345 peer that signs its pushes as a real one would (httpx)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dispatch.intake import signing
from dispatch.intake.config import IntakeConfig, read_config
from dispatch.intake.hotline import ORDERS_PATH
from dispatch.store.store import Store
from tests.dispatch.conftest import Running, start_server

PEER = "anqing12345"
KEY = "k3y-of-the-anqing-12345-platform"


def config(base: Path, feedback_url: str = "", **hotline: Any) -> IntakeConfig:
    """An intake config: HTTP on a free port, 12345 on with one peer."""
    peer: dict[str, Any] = {"key": KEY}
    if feedback_url:
        peer["feedback_url"] = feedback_url
    return read_config(
        {
            "intake": {
                "http": {"host": "127.0.0.1", "port": 0},
                "hotline": {"enabled": True, "peers": {PEER: peer}, **hotline},
            }
        },
        base,
    )


def order(no: str = "AQ12345-20261202-000001", **fields: Any) -> dict[str, Any]:
    """A work order as a 12345 platform pushes it."""
    body: dict[str, Any] = {
        "order_no": no,
        "kind": "噪声扰民",
        "content": "楼下烧烤店每晚十二点后仍很吵，影响休息。",
        "address": "安徽省安庆市大观区孝肃路288号",
        "caller": "王先生 13812345678",
        "appeal": "投诉",
        "received_at": "2026-12-02T09:15:00+08:00",
        "deadline_at": "2026-12-16T17:30:00+08:00",
    }
    body.update(fields)
    return body


async def read_stats(running: Running, http: httpx.AsyncClient, base: str) -> dict[str, Any]:
    """GET /intake/stats of the intake server at `base`, as an admin (the counters are
    shown to an admin or a gateway only)."""
    token = running.tokens.get("stats")
    if token is None:
        token = running.tokens["stats"] = running.store.create_user("统计管理员", "admin")
    answer = await http.get(base + "/intake/stats", headers={"authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


@dataclass
class Hotline:
    """A running backend with 12345 intake, and a signing peer."""

    running: Running
    url: str
    http: httpx.AsyncClient

    @property
    def server(self) -> Any:
        return self.running.server

    async def push(
        self,
        body: dict[str, Any] | bytes,
        *,
        peer: str = PEER,
        key: str = KEY,
        headers: dict[str, str] | None = None,
        signed: bool = True,
        path: str = ORDERS_PATH,
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        sent = {"content-type": "application/json"}
        if signed:
            sent.update(signing.sign(key.encode(), peer, "POST", path, raw))
        sent.update(headers or {})
        return await self.http.post(self.url + path, content=raw, headers=sent)

    def events(self) -> list[Any]:
        return list(self.server.state.events.values())

    async def stats(self) -> dict[str, Any]:
        """The intake server's answer counters (read as an admin)."""
        return await read_stats(self.running, self.http, self.url)


async def start_hotline(store: Store, base: Path, **kwargs: Any) -> Hotline:
    running = await start_server(store, intake=config(base, **kwargs))
    port = running.server.intake.port
    return Hotline(running, f"http://127.0.0.1:{port}", httpx.AsyncClient(timeout=10))


@pytest.fixture
async def hotline(store, tmp_path) -> AsyncIterator[Hotline]:
    line = await start_hotline(store, tmp_path)
    yield line
    await line.http.aclose()
    await line.running.server.stop()


@pytest.fixture
async def hotline_sqlite(sqlite_store, tmp_path) -> AsyncIterator[Hotline]:
    line = await start_hotline(sqlite_store, tmp_path)
    yield line
    await line.http.aclose()
    await line.running.server.stop()
