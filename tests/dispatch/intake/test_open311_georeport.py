"""Open311 with an independent client: `georeport` (PyPI, 0.3.1), a GeoReport v2 wrapper
written against real city endpoints, drives the GET calls against our real server in both
of its formats (JSON, and XML read by xmltodict). It cannot create requests (its README says
so): the requests it reads are POSTed raw.

georeport uses `requests` (blocking): each call runs in a thread while the backend serves
on the test's event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import requests
from georeport import GeoReport

from tests.dispatch.intake.open311_env import JURISDICTION, Open311, open311_sqlite

__all__ = ["open311_sqlite"]  # the fixture, used by name


async def _call(function: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(function, *args, **kwargs)


async def _post_two(line: Open311) -> tuple[str, str]:
    first = await line.post(line.request(media_url="https://example.org/p.jpg"))
    second = await line.post(line.request(service_code="01-02", description="垃圾堆了一周"))
    assert first.status_code == second.status_code == 200
    return first.json()[0]["service_request_id"], second.json()[0]["service_request_id"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_reads_services_and_definitions(open311_sqlite: Open311, fmt: str) -> None:
    line = open311_sqlite
    client = GeoReport(line.url, jurisdiction=JURISDICTION, output_format=fmt)
    services = await _call(client.get_service_list)
    light = next(s for s in services if s["service_code"] == "08-02")
    assert light["service_name"] == "路灯不亮" and light["group"] == "公共设施"
    # XML carries text: the boolean is the word.
    assert light["metadata"] in (False, "false") and light["type"] == "realtime"
    assert len(services) == len([c for c in line.server.reference.categories if c[:2] != "20"])
    definition = await _call(client.get_service_definition, "08-02")
    assert definition["service_code"] == "08-02"
    assert definition["attributes"] in ([], None)  # xmltodict reads <attributes /> as None


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_georeport_reads_requests_with_filters(open311_sqlite: Open311, fmt: str) -> None:
    line = open311_sqlite
    light, garbage = await _post_two(line)
    client = GeoReport(line.url, jurisdiction=JURISDICTION, output_format=fmt)

    found = await _call(client.get_service_requests)
    # xmltodict gives a list for several <request>, a dict for one (the client's quirk).
    assert [r["service_request_id"] for r in found] == [garbage, light]

    one = await _call(client.get_service_requests, service_code="08-02")
    one = one if isinstance(one, list) else [one]
    assert [r["service_request_id"] for r in one] == [light]
    assert one[0]["media_url"] == "https://example.org/p.jpg"
    assert one[0]["status"] == "open" and one[0]["agency_responsible"] == "区城管局"

    both = await _call(
        client.get_service_requests, service_request_id=f"{light},{garbage}", status="closed"
    )
    assert [r["service_request_id"] for r in both] == [light, garbage]

    record = await _call(client.get_service_request, garbage)
    assert record["service_request_id"] == garbage and record["service_code"] == "01-02"
    assert record["description"] == "垃圾堆了一周"
    assert "13812345678" not in str(record) and "li.wei@example.org" not in str(record)

    now = line.server.clock.now()
    from dispatch.intake.open311_wire import w3c

    window = await _call(
        client.get_service_requests,
        start_date=w3c(now - 3600),
        end_date=w3c(now + 60),
        status="open",
    )
    assert len(window) == 2


async def test_georeport_sees_our_errors_as_http_errors(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    client = GeoReport(line.url, output_format="json")
    with pytest.raises(requests.HTTPError) as caught:
        await _call(client.get_service_request, "DG-20000101-000001")
    assert caught.value.response.status_code == 404
    assert caught.value.response.json() == [
        {"code": 404, "description": "service_request_id 'DG-20000101-000001' not found"}
    ]
    with pytest.raises(requests.HTTPError) as caught:
        await _call(
            client.get_service_requests,
            start_date="2026-01-01T00:00:00Z",
            end_date="2026-12-01T00:00:00Z",
        )
    assert caught.value.response.status_code == 400
