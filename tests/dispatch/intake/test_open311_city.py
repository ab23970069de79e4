"""Open311 on a city store (大观区 and 迎江区, 迎江区's table with a code of its own): the
jurisdiction_id selects the district whose table is offered and whose points a POST may
name; without one, the first district's table as before. A real backend, raw HTTP (httpx)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dispatch.app import load_reference
from dispatch.server import DispatchServer
from tests.dispatch.conftest import LINGHU_SQ, Running, point_in
from tests.dispatch.intake.city_env import (
    BINJIANG,
    DAGUAN,
    OWN_CODE,
    OWN_NAME,
    YINGJIANG,
    city_store,
)
from tests.dispatch.intake.open311_env import JURISDICTION, KEY, ROOT, Open311, config, xml_of


@pytest.fixture
async def city(tmp_path: Path) -> AsyncIterator[Open311]:
    """A city backend with the Open311 endpoint."""
    store = city_store(tmp_path / "city.db")
    server = DispatchServer(store, load_reference(store), intake=config(tmp_path))
    port = await server.start("127.0.0.1", 0)
    assert server.intake is not None
    url = f"http://127.0.0.1:{server.intake.port}{ROOT}"
    line = Open311(Running(server, store, port, {}), url, httpx.AsyncClient(timeout=10))
    yield line
    await line.http.aclose()
    await server.stop()
    store.close()


def at(line: Open311, street: str) -> dict[str, str]:
    """lat and long of a point in a street (or a community)."""
    lon, lat = point_in(line.server.reference, street)
    return {"lat": f"{lat:.6f}", "long": f"{lon:.6f}"}


async def codes_offered(line: Open311, **params: Any) -> list[str]:
    answer = await line.get("/services.json", **params)
    assert answer.status_code == 200, answer.text
    return [s["service_code"] for s in answer.json()]


async def test_services_are_the_named_districts_table(city: Open311) -> None:
    first = await codes_offered(city)
    assert OWN_CODE not in first and "01-02" in first
    # The configured jurisdiction_id and the first district's adcode: the same table.
    assert await codes_offered(city, jurisdiction_id=JURISDICTION) == first
    assert await codes_offered(city, jurisdiction_id=DAGUAN) == first
    theirs = await codes_offered(city, jurisdiction_id=YINGJIANG)
    # 迎江区's own bare codes (its table's), its own code among them, sensors still excluded.
    assert theirs == sorted([*first, OWN_CODE])
    answer = await city.get("/services.xml", jurisdiction_id=YINGJIANG)
    own = next(s for s in xml_of(answer) if s.findtext("service_code") == OWN_CODE)
    assert own.findtext("service_name") == OWN_NAME
    assert "区城管局" in (own.findtext("keywords") or "")
    definition = await city.get(f"/services/{OWN_CODE}.json", jurisdiction_id=YINGJIANG)
    assert definition.status_code == 200
    assert definition.json() == {"service_code": OWN_CODE, "attributes": []}
    for params in ({}, {"jurisdiction_id": DAGUAN}):
        missing = await city.get(f"/services/{OWN_CODE}.json", **params)
        assert missing.status_code == 404


async def test_a_request_naming_a_district_is_filed_under_its_table(city: Open311) -> None:
    fields = city.request(jurisdiction_id=YINGJIANG, service_code=OWN_CODE, **at(city, BINJIANG))
    answer = await city.post(fields, headers={"idempotency-key": "yj-0001"})
    assert answer.status_code == 200, answer.text
    code = answer.json()[0]["service_request_id"]
    assert code.startswith("YJ-")
    (event,) = city.events()
    assert event.code == code and event.category == OWN_CODE
    assert event.street.startswith(YINGJIANG)
    # Its district reads it back under its own code; another district does not see it.
    answer = await city.get(f"/requests/{code}.json", jurisdiction_id=YINGJIANG)
    assert answer.status_code == 200, answer.text
    (record,) = answer.json()
    assert record["service_code"] == OWN_CODE and record["service_name"] == OWN_NAME
    assert record["agency_responsible"] == "迎江区城管局"
    elsewhere = await city.get(f"/requests/{code}.json", jurisdiction_id=DAGUAN)
    assert elsewhere.status_code == 404
    # The whole server (no jurisdiction_id) shows every district's requests, as before.
    assert (await city.get(f"/requests/{code}.json")).status_code == 200
    listed = await city.get("/requests.json", jurisdiction_id=YINGJIANG, service_code=OWN_CODE)
    assert [r["service_request_id"] for r in listed.json()] == [code]
    assert (await city.get("/requests.json", jurisdiction_id=DAGUAN)).json() == []
    token = await city.get("/tokens/yj-0001.json", jurisdiction_id=YINGJIANG)
    assert token.json() == [{"service_request_id": code, "token": "yj-0001"}]
    assert (await city.get("/tokens/yj-0001.json", jurisdiction_id=DAGUAN)).status_code == 404


async def test_without_a_jurisdiction_a_point_files_in_its_own_district(city: Open311) -> None:
    # As before districts had their own intake: the first's codes, the point's district.
    answer = await city.post(city.request(jurisdiction_id=None, **at(city, BINJIANG)))
    assert answer.status_code == 200, answer.text
    assert answer.json()[0]["service_request_id"].startswith("YJ-")
    answer = await city.post(city.request(**at(city, LINGHU_SQ)))
    assert answer.status_code == 200, answer.text
    assert answer.json()[0]["service_request_id"].startswith("DG-")


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    (
        "a further district's code without a jurisdiction",
        {"jurisdiction_id": None, "service_code": OWN_CODE, "where": BINJIANG},
        404,
        f"service_code {OWN_CODE!r} not found",
    ),
    (
        "a further district's code in the first district",
        {"jurisdiction_id": DAGUAN, "service_code": OWN_CODE, "where": LINGHU_SQ},
        404,
        f"service_code {OWN_CODE!r} not found in district {DAGUAN}",
    ),
    (
        "a district the backend does not serve",
        {"jurisdiction_id": "340811", "where": BINJIANG},
        404,
        "jurisdiction_id '340811' is not served here (ours: daguan.anqing.example, or a"
        " district: 340803, 340802)",
    ),
    (
        "a point in another district",
        {"jurisdiction_id": YINGJIANG, "where": LINGHU_SQ},
        400,
        "lat/long (…) is in 大观区 (340803), not in jurisdiction_id 340802's district",
    ),
    (
        "an address in another district",
        {"jurisdiction_id": YINGJIANG, "lat": None, "long": None, "address_string": "孝肃路288号"},
        400,
        "address_string '孝肃路288号' is in 大观区 (340803), not in jurisdiction_id 340802's"
        " district",
    ),
    (
        "a point outside the city",
        {"jurisdiction_id": YINGJIANG, "lat": "31.8206", "long": "117.2272"},
        400,
        "lat/long (31.8206, 117.2272) is outside the district",
    ),
]


@pytest.mark.parametrize(("why", "change", "status", "message"), BAD, ids=[b[0] for b in BAD])
async def test_a_bad_district_request_is_refused_and_files_nothing(
    city: Open311, why: str, change: dict[str, Any], status: int, message: str
) -> None:
    change = dict(change)
    where = change.pop("where", None)
    fields = city.request(**{**(at(city, where) if where else {}), **change})
    assert fields["api_key"] == KEY
    for fmt in ("json", "xml"):
        answer = await city.post(fields, fmt=fmt)
        assert answer.status_code == status, answer.text
        if fmt == "json":
            (error,) = answer.json()
            description = error["description"]
        else:
            description = xml_of(answer)[0].findtext("description") or ""
        head, dots, tail = message.partition("…")
        if not dots:
            assert description == message
        assert description.startswith(head) and description.endswith(tail), description
    assert city.events() == [] and city.running.store.event(1) is None


async def test_an_unknown_jurisdiction_is_refused_on_every_resource(city: Open311) -> None:
    for path in ("/services.json", "/services/01-02.json", "/requests.json", "/tokens/x.json"):
        answer = await city.get(path, jurisdiction_id="beijing.gov.cn")
        assert answer.status_code == 404, path
        (error,) = answer.json()
        assert error["description"].startswith("jurisdiction_id 'beijing.gov.cn' is not served")
    filtered = await city.get("/requests.json", jurisdiction_id=DAGUAN, service_code=OWN_CODE)
    assert filtered.status_code == 404
    assert filtered.json()[0]["description"] == (
        f"service_code {OWN_CODE!r} not found in district {DAGUAN}"
    )
