"""A real backend with the Open311 intake on its own HTTP port, and helpers to talk to it
with raw requests (httpx): form-encoded POSTs, XML parsed with xml.etree."""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from dispatch.intake.config import IntakeConfig, read_config
from dispatch.store.store import Store
from tests.dispatch.conftest import LINGHU_SQ, Running, point_in, start_server

CLIENT = "citizen-app"
KEY = "open311-key-of-the-citizen-app"
OTHER = "fixmystreet"
OTHER_KEY = "open311-key-of-fixmystreet-000"
JURISDICTION = "daguan.anqing.example"
ROOT = "/open311/v2"


def config(base: Path, **open311: Any) -> IntakeConfig:
    """HTTP on a free port, Open311 on with two clients."""
    section: dict[str, Any] = {
        "enabled": True,
        "jurisdiction_id": JURISDICTION,
        "clients": {CLIENT: {"key": KEY}, OTHER: {"key": OTHER_KEY}},
    }
    section.update(open311)
    return read_config(
        {"intake": {"http": {"host": "127.0.0.1", "port": 0}, "open311": section}}, base
    )


@dataclass
class Open311:
    """A running backend with the Open311 endpoint."""

    running: Running
    url: str  # .../open311/v2
    http: httpx.AsyncClient

    @property
    def server(self) -> Any:
        return self.running.server

    def point(self) -> tuple[float, float]:
        """(lat, long) inside the district (菱湖社区's first grid)."""
        lon, lat = point_in(self.server.reference, LINGHU_SQ)
        return lat, lon

    async def post(
        self,
        fields: dict[str, Any] | list[tuple[str, str]] | bytes,
        fmt: str = "json",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        body = fields if isinstance(fields, bytes) else urllib.parse.urlencode(fields).encode()
        sent = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
        sent.update(headers or {})
        return await self.http.post(f"{self.url}/requests.{fmt}", content=body, headers=sent)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(self.url + path, params=params)

    def request(self, **fields: Any) -> dict[str, Any]:
        """A good POST's fields: a streetlight-like report at a point in the district."""
        lat, lon = self.point()
        body: dict[str, Any] = {
            "api_key": KEY,
            "jurisdiction_id": JURISDICTION,
            "service_code": "08-02",
            "lat": f"{lat:.6f}",
            "long": f"{lon:.6f}",
            "description": "路灯不亮已经三天了",
            "first_name": "Li",
            "last_name": "Wei",
            "phone": "13812345678",
            "email": "li.wei@example.org",
        }
        body.update(fields)
        return {k: v for k, v in body.items() if v is not None}

    def events(self) -> list[Any]:
        return list(self.server.state.events.values())


def xml_of(response: httpx.Response) -> ET.Element:
    """The answer's XML root, after checking the declaration and content type."""
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def element_dict(element: ET.Element) -> dict[str, str | None]:
    """A flat element's children as {tag: text} (None for an empty element)."""
    return {child.tag: child.text for child in element}


async def start_open311(store: Store, base: Path, **kwargs: Any) -> Open311:
    running = await start_server(store, intake=config(base, **kwargs))
    port = running.server.intake.port
    return Open311(running, f"http://127.0.0.1:{port}{ROOT}", httpx.AsyncClient(timeout=10))


async def _serve(store: Store, base: Path) -> AsyncIterator[Open311]:
    line = await start_open311(store, base)
    yield line
    await line.http.aclose()
    await line.running.server.stop()


@pytest.fixture
async def open311(store, tmp_path) -> AsyncIterator[Open311]:
    """On SQLite and on PostgreSQL."""
    async for line in _serve(store, tmp_path):
        yield line


@pytest.fixture
async def open311_sqlite(sqlite_store, tmp_path) -> AsyncIterator[Open311]:
    async for line in _serve(sqlite_store, tmp_path):
        yield line
