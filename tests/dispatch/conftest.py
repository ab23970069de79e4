"""Fixtures for the backend: a prepared store, a real server on port 0, real clients."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from dispatch.app import district_units, load_reference
from dispatch.clock import Clock
from dispatch.domain.district import build_district
from dispatch.intake.config import IntakeConfig
from dispatch.reference import ReferenceData
from dispatch.server import DispatchServer, Limits
from dispatch.store.store import Store
from protocol.codec import decode_server, encode
from protocol.messages import Command, Error, Hello, Result, Resume, ServerMessage

LINGHU = "340803004"  # 菱湖街道
DEKUAN = "340803001"  # 德宽路街道
LINGHU_SQ = "340803004001"  # 菱湖街道 菱湖社区
YIYUAN = "340803004002"  # 菱湖街道 宜园社区


@cache
def units() -> list[tuple[str, str, str, str, bytes]]:
    return district_units(build_district())


_references: dict[str, ReferenceData] = {}


def prepared_store(url: str) -> Store:
    store = Store(url)
    store.upgrade()
    store.save_units(units())
    return store


def reference_for(store: Store) -> ReferenceData:
    # Building the grid index takes a moment; the units are the same in every test.
    if "ref" not in _references:
        _references["ref"] = load_reference(store)
    return _references["ref"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> ReferenceData:
    """The default district's reference data, for tests of the rules (no server)."""
    store = prepared_store(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'r.db'}")
    return reference_for(store)


@pytest.fixture
def store(db_url) -> Store:
    s = prepared_store(db_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_url) -> Store:
    s = prepared_store(sqlite_url)
    yield s
    s.close()


async def detect_by(running: Running, camera: str) -> int:
    """A detection with a snapshot image by this camera, through the writer; the alert id."""
    from dispatch.store.store import Image
    from dispatch.writer import DetectRequest

    answer = await running.server.submit(
        DetectRequest(
            camera,
            "exposed_garbage",
            0.9,
            Image("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        )
    )
    assert answer.ok
    return int(answer.data["alert"])


def point_in(reference: ReferenceData, street: str) -> tuple[float, float]:
    """A point of the street's first grid, or of a community's first grid (12-digit code)."""
    grid = next(g for g in reference.grids.values() if street in (g.street, g.community))
    return tuple(grid.centre)  # type: ignore[return-value]


@dataclass
class Client:
    """A real websocket client speaking protocol v1, for tests."""

    ws: ClientConnection
    ids: Any = field(default_factory=lambda: itertools.count(2))
    inbox: list[ServerMessage] = field(default_factory=list)
    units: Any = None

    async def recv(self, timeout: float = 5.0) -> ServerMessage:
        if self.inbox:
            return self.inbox.pop(0)
        return decode_server(await asyncio.wait_for(self.ws.recv(), timeout))

    async def until(
        self, predicate: Callable[[ServerMessage], bool], timeout: float = 5.0
    ) -> ServerMessage:
        deadline = asyncio.get_running_loop().time() + timeout
        kept: list[ServerMessage] = []
        try:
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    raise TimeoutError("condition not met")
                message = decode_server(await asyncio.wait_for(self.ws.recv(), remaining))
                if predicate(message):
                    return message
                kept.append(message)
        finally:
            self.inbox.extend(kept)

    async def command(
        self,
        op: str,
        args: dict[str, Any],
        command_id: str | None = None,
    ) -> Result | Error:
        request_id = next(self.ids)
        cmd = Command(id=request_id, command_id=command_id or uuid.uuid4().hex, op=op, args=args)
        await self.ws.send(encode(cmd).decode())
        reply = await self.until(
            lambda m: isinstance(m, (Result, Error)) and m.id == request_id, timeout=10
        )
        assert isinstance(reply, (Result, Error))
        return reply


async def open_client(
    port: int, token: str, resume: Resume | None = None, max_size: int | None = None
) -> Client:
    ws = await connect(f"ws://127.0.0.1:{port}", max_size=max_size, compression=None)
    await ws.send(
        encode(Hello(id=1, protocol=1, token=token, client="pytest", resume=resume)).decode()
    )
    return Client(ws)


@dataclass
class Running:
    server: DispatchServer
    store: Store
    port: int
    tokens: dict[str, str]

    async def client(self, user: str = "commander", resume: Resume | None = None) -> Client:
        return await open_client(self.port, self.tokens[user], resume)


async def start_server(
    store: Store,
    limits: Limits | None = None,
    clock: Clock | None = None,
    intake: IntakeConfig | None = None,
) -> Running:
    tokens = {
        "commander": store.create_user("指挥长", "commander"),
        "dispatcher": store.create_user("调度员", "dispatcher"),
        "wall": store.create_user("大屏", "wall"),
        "linghu": store.create_user("菱湖分中心", "street", [LINGHU]),
        "dekuan": store.create_user("德宽路分中心", "street", [DEKUAN]),
        "community": store.create_user("菱湖社区工作站", "community", communities=[LINGHU_SQ]),
    }
    server = DispatchServer(store, reference_for(store), clock, limits, intake)
    port = await server.start("127.0.0.1", 0)
    return Running(server, store, port, tokens)


@pytest.fixture
async def running(store) -> AsyncIterator[Running]:
    run = await start_server(store)
    yield run
    await run.server.stop()


@pytest.fixture
async def running_sqlite(sqlite_store) -> AsyncIterator[Running]:
    run = await start_server(sqlite_store)
    yield run
    await run.server.stop()
