"""12345 work orders on a city store (大观区 and 迎江区, 迎江区's table with a code of its
own): the mapping table is checked at start against every district's table (a code bare or
keyed by its district, `340802:01-90`), and each order is mapped in the table of the district
it is placed in. A real backend, signed pushes over HTTP (httpx)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dispatch.app import load_reference
from dispatch.intake.mapping import MappingError, default_mapping_path
from dispatch.server import DispatchServer
from dispatch.store.store import Store
from tests.dispatch.conftest import LINGHU_SQ, Running, point_in
from tests.dispatch.intake.city_env import BINJIANG, OWN_CODE, OWN_NAME, YINGJIANG, city_store
from tests.dispatch.intake.conftest import Hotline, config, order

# The shipped table with a type only 迎江区's table maps (its [types] is the file's last table).
EXTRA = '"江堤垃圾清理" = "340802:01-90"\n"噪声" = "340803:06-01"\n'


def mapping_file(base: Path, extra: str = EXTRA, triage: str = "06-14") -> None:
    shipped = default_mapping_path().read_text(encoding="utf-8")
    shipped = shipped.replace('triage = "06-14"', f'triage = "{triage}"')
    (base / "m.toml").write_text(shipped + extra, encoding="utf-8")


def server_of(store: Store, base: Path) -> DispatchServer:
    return DispatchServer(store, load_reference(store), intake=config(base, mapping="m.toml"))


@pytest.fixture
async def city(tmp_path: Path) -> AsyncIterator[Hotline]:
    store = city_store(tmp_path / "city.db")
    mapping_file(tmp_path)
    server = server_of(store, tmp_path)
    port = await server.start("127.0.0.1", 0)
    assert server.intake is not None
    url = f"http://127.0.0.1:{server.intake.port}"
    line = Hotline(Running(server, store, port, {}), url, httpx.AsyncClient(timeout=10))
    yield line
    await line.http.aclose()
    await server.stop()
    store.close()


def at(line: Hotline, street: str) -> dict[str, Any]:
    lon, lat = point_in(line.server.reference, street)
    return {"lon": lon, "lat": lat, "crs": "wgs84", "address": ""}


async def filed(line: Hotline, no: str, kind: str, street: str) -> tuple[dict[str, Any], Any]:
    answer = await line.push(order(no, kind=kind, **at(line, street)))
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["ok"], got
    return got, line.server.state.events[got["event"]]


async def test_each_order_is_mapped_in_its_own_districts_table(city: Hotline) -> None:
    # A type keyed by 迎江区: its own code there ...
    got, event = await filed(city, "YJ-1", "江堤垃圾清理", BINJIANG)
    assert got["category"] == OWN_CODE and not got["triage"]
    assert event.category == OWN_CODE and event.street.startswith(YINGJIANG)
    assert event.code.startswith("YJ-")
    # ... passed over in 大观区, whose table lacks it: triage there, nothing dropped.
    got, event = await filed(city, "DG-1", "江堤垃圾清理", LINGHU_SQ)
    assert got["triage"] and got["category"] == "06-14" and event.code.startswith("DG-")
    assert event.intake.triage == "江堤垃圾清理"
    # A category's own name: in the table of the order's district.
    got, _ = await filed(city, "YJ-2", OWN_NAME, BINJIANG)
    assert got["category"] == OWN_CODE and not got["triage"]
    got, _ = await filed(city, "DG-2", OWN_NAME, LINGHU_SQ)
    assert got["triage"]
    # A bare code: every district's; one keyed by 大观区: 大观区's only.
    got, event = await filed(city, "YJ-3", "噪声扰民", BINJIANG)
    assert got["category"] == "06-01" and event.street.startswith(YINGJIANG)
    got, _ = await filed(city, "DG-3", "噪声", LINGHU_SQ)
    assert got["category"] == "06-01" and not got["triage"]
    got, _ = await filed(city, "YJ-4", "噪声", BINJIANG)
    assert got["triage"]


BAD_TABLES = [
    (
        "a district not served",
        '"x" = "340811:01-02"\n',
        "06-14",
        "types.'x': unknown category '340811:01-02' (no district 340811 is served here (served:"
        " 340803, 340802))",
    ),
    (
        "a code the named district lacks",
        '"x" = "340803:01-90"\n',
        "06-14",
        "types.'x': unknown category '340803:01-90' ('01-90' is not in district 340803's table)",
    ),
    (
        "a code no district has",
        '"x" = "99-99"\n',
        "06-14",
        "types.'x': unknown category '99-99' ('99-99' is in no district's table)",
    ),
    (
        "a triage one district lacks",
        "",
        "340802:06-14",
        "triage: category '340802:06-14' is not in the table of district 340803 (a case"
        " waiting for triage there is counted under it)",
    ),
]


@pytest.mark.parametrize(
    ("why", "extra", "triage", "message"), BAD_TABLES, ids=[b[0] for b in BAD_TABLES]
)
async def test_a_mapping_naming_no_districts_code_stops_the_start(
    tmp_path: Path, why: str, extra: str, triage: str, message: str
) -> None:
    store = city_store(tmp_path / "city.db")
    mapping_file(tmp_path, extra, triage)
    server = server_of(store, tmp_path)
    try:
        with pytest.raises(MappingError) as refused:
            await server.start("127.0.0.1", 0)
        assert str(refused.value) == f"{tmp_path / 'm.toml'}: {message}"
    finally:
        await server.stop()
    assert store.event(1) is None
    store.close()
