"""Open311 GeoReport v2 through the real HTTP endpoint with raw requests (httpx), in JSON and
in XML (parsed with xml.etree): discovery, services, definitions, POST into the writer, the
GET side with its filters, tokens, privacy, and every bad input refused in the spec's shape
with nothing stored."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

from dispatch.intake.config import HttpSettings
from dispatch.intake.open311_wire import w3c
from protocol.messages import Result
from tests.dispatch.intake.conftest import read_stats
from tests.dispatch.intake.loop import work_the_case
from tests.dispatch.intake.open311_env import (
    CLIENT,
    JURISDICTION,
    KEY,
    OTHER_KEY,
    Open311,
    element_dict,
    open311,
    open311_sqlite,
    start_open311,
    xml_of,
)

__all__ = ["open311", "open311_sqlite"]  # the fixtures, used by name

REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


# ---- discovery and services ------------------------------------------------------------------


async def test_discovery_in_both_formats(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    doc = (await line.get("/discovery.json")).json()
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == line.url and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml_of(await line.get("/discovery.xml"))
    assert root.tag == "discovery"
    assert [e.tag for e in root] == ["changeset", "contact", "key_service", "endpoints"]
    (xml_endpoint,) = root.find("endpoints")  # type: ignore[union-attr]
    assert xml_endpoint.tag == "endpoint"
    assert xml_endpoint.findtext("url") == line.url
    assert [f.text for f in xml_endpoint.find("formats")] == [  # type: ignore[union-attr]
        "text/xml",
        "application/json",
    ]


async def test_services_are_the_category_table(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    answer = await line.get("/services.json", jurisdiction_id=JURISDICTION)
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    services = answer.json()
    assert isinstance(services, list)  # a top-level array, no wrapping key
    categories = line.server.reference.categories
    assert [s["service_code"] for s in services] == sorted(
        code for code in categories if not code.startswith("20")
    )  # the sensors' class is for machines, not citizens
    light = next(s for s in services if s["service_code"] == "08-02")
    assert light == {
        "service_code": "08-02",
        "service_name": "路灯不亮",
        "description": categories["08-02"].standard,
        "metadata": False,
        "type": "realtime",
        "keywords": "路灯不亮,公共设施,路灯,区城管局",
        "group": "公共设施",
    }
    noise = next(s for s in services if s["service_code"] == "06-01")
    assert "噪声扰民" in noise["keywords"].split(",")  # a 12345 synonym
    root = xml_of(await line.get("/services.xml"))
    assert root.tag == "services" and {e.tag for e in root} == {"service"}
    xml_light = next(e for e in root if e.findtext("service_code") == "08-02")
    assert element_dict(xml_light) == {
        **{k: str(v) for k, v in light.items() if k != "metadata"},
        "metadata": "false",
    }


async def test_a_service_definition_and_an_unknown_code(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    assert (await line.get("/services/08-02.json")).json() == {
        "service_code": "08-02",
        "attributes": [],
    }
    root = xml_of(await line.get("/services/08-02.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "08-02" and len(root.find("attributes")) == 0  # type: ignore[arg-type]
    for code in ("99-99", "20-01"):  # unknown, and not offered
        answer = await line.get(f"/services/{code}.json")
        assert answer.status_code == 404
        assert answer.json() == [{"code": 404, "description": f"service_code {code!r} not found"}]
        answer = await line.get(f"/services/{code}.xml")
        assert answer.status_code == 404
        root = xml_of(answer)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        assert element_dict(root[0]) == {
            "code": "404",
            "description": f"service_code {code!r} not found",
        }


async def test_paths_and_formats_we_do_not_serve(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    answer = await line.get("/services.csv")
    assert answer.status_code == 404 and xml_of(answer).tag == "errors"
    answer = await line.get("/servicerequestupdates.json")
    assert answer.status_code == 404 and answer.json()[0]["code"] == 404
    answer = await line.http.delete(f"{line.url}/requests/DG-20261202-000001.json")
    assert answer.status_code == 400
    assert answer.json() == [
        {
            "code": 400,
            "description": "DELETE is not used on /open311/v2/requests/DG-20261202-000001.json"
            " (only GET)",
        }
    ]
    answer = await line.http.put(f"{line.url}/requests.xml")
    assert answer.status_code == 400
    assert xml_of(answer)[0].findtext("description") == (
        "PUT is not used on /open311/v2/requests.xml (only GET or POST)"
    )
    answer = await line.get("/services.json", jurisdiction_id="sfgov.org")
    assert answer.status_code == 404
    assert "jurisdiction_id 'sfgov.org'" in answer.json()[0]["description"]


# ---- POST ----------------------------------------------------------------------------------


async def test_a_post_becomes_an_event_of_the_client(open311: Open311) -> None:
    line = open311
    fields = line.request(
        media_url="https://example.org/p.jpg",
        address_string="菱湖社区门口",
    )
    pairs = [
        *fields.items(),
        ("attribute[POLE]", "A-17"),
        ("attribute[SIDE][]", "东"),
        ("attribute[SIDE][]", "西"),
    ]
    answer = await line.post(pairs)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json; charset=utf-8"
    (got,) = answer.json()
    assert set(got) == {"service_request_id", "service_notice", "account_id"}
    assert got["service_notice"] == "受理后派遣处置，处置时限 2 个工作日"
    (event,) = line.events()
    assert event.code == got["service_request_id"]
    assert event.source == "citizen" and event.category == "08-02"
    assert event.title == "路灯不亮：路灯不亮已经三天了"
    assert event.description == "路灯不亮已经三天了" and event.address == "菱湖社区门口"
    assert event.reporter == "Li Wei 13812345678 li.wei@example.org"  # for the desk only
    intake = event.intake
    assert intake.channel == "open311" and intake.peer == CLIENT and intake.place == "point"
    assert intake.media_url == "https://example.org/p.jpg"
    assert intake.attributes == {"POLE": "A-17", "SIDE": "东,西"}
    rows = line.running.store.event_history(event.id)
    assert [(r.actor, r.action) for r in rows] == [(f"open311:{CLIENT}", "report")]


async def test_a_post_in_xml_and_by_address(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    fields = line.request(lat=None, long=None, address_string="安徽省安庆市大观区孝肃路288号")
    answer = await line.post(fields, fmt="xml")
    assert answer.status_code == 200, answer.text
    root = xml_of(answer)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    got = element_dict(root[0])
    assert list(got) == ["service_request_id", "service_notice", "account_id"]
    assert got["account_id"] is None  # an empty element
    (event,) = line.events()
    assert event.code == got["service_request_id"]
    assert event.intake.place == "poi" and event.intake.matched == "孝肃路288号"
    assert event.intake.confidence == 0.9


async def test_every_post_is_a_new_request_unless_it_names_a_key(open311: Open311) -> None:
    line = open311
    first = (await line.post(line.request())).json()[0]["service_request_id"]
    second = (await line.post(line.request())).json()[0]["service_request_id"]
    assert first != second and len(line.events()) == 2
    # With an Idempotency-Key, retries (a lost answer) and racing copies make one request.
    headers = {"Idempotency-Key": "app-7f3c-0001"}
    answers = await asyncio.gather(*(line.post(line.request(), headers=headers) for _ in range(10)))
    assert {a.status_code for a in answers} == {200}
    ids = {a.json()[0]["service_request_id"] for a in answers}
    assert len(ids) == 1 and len(line.events()) == 3
    # ... also when the retry says something else: the first request stands.
    again = await line.post(line.request(description="改了内容"), headers=headers)
    assert again.json()[0]["service_request_id"] in ids and len(line.events()) == 3
    # The key is the token: a client that lost the answer finds its request by it.
    (code,) = ids
    tokens = await line.get("/tokens/app-7f3c-0001.json")
    assert tokens.json() == [{"service_request_id": code, "token": "app-7f3c-0001"}]
    root = xml_of(await line.get("/tokens/app-7f3c-0001.xml"))
    assert root.tag == "service_requests"
    assert element_dict(root[0]) == {"service_request_id": code, "token": "app-7f3c-0001"}
    # Another client's same key is its own request.
    other = await line.post(line.request(api_key=OTHER_KEY), headers=headers)
    assert other.json()[0]["service_request_id"] not in ids and len(line.events()) == 4
    assert len((await line.get("/tokens/app-7f3c-0001.json")).json()) == 2
    missing = await line.get("/tokens/nobody-used-this.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "token 'nobody-used-this' not found"}]


async def test_the_longest_description_is_kept_whole(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    text = "灯" * 4000
    answer = await line.post(line.request(description=text))
    assert answer.status_code == 200, answer.text
    (event,) = line.events()
    assert event.description == text
    stored = line.running.store.event(event.id)
    assert stored is not None and stored.description == text


# ---- bad input ------------------------------------------------------------------------------

OUTSIDE = {"lat": "31.8206", "long": "117.2272"}  # Hefei: valid WGS84, not our district
BAD_POSTS: list[tuple[str, dict[str, Any], int, str]] = [
    ("no service_code", {"service_code": None}, 400, "service_code: required"),
    ("unknown service_code", {"service_code": "99-99"}, 404, "service_code '99-99' not found"),
    ("a sensor's code", {"service_code": "20-04"}, 404, "service_code '20-04' not found"),
    ("no api_key", {"api_key": None}, 403, "api_key: required to create a request"),
    ("empty api_key", {"api_key": ""}, 403, "api_key: required to create a request"),
    ("bad api_key", {"api_key": "guessed-key-0000000000"}, 403, "Invalid api_key"),
    ("lat not a number", {"lat": "north"}, 400, "lat/long: not numbers: 'north', …"),
    ("lat out of range", {"lat": "91"}, 400, "lat/long out of range: 91, …"),
    ("lat nan", {"lat": "nan"}, 400, "lat/long out of range: nan, …"),
    ("lat without long", {"long": None}, 400, "lat and long come together"),
    ("outside the district", OUTSIDE, 400, "lat/long (31.8206, 117.2272) is outside the district"),
    (
        "no location",
        {"lat": None, "long": None},
        400,
        "a location is required: lat and long, or address_string",
    ),
    (
        "only address_id",
        {"lat": None, "long": None, "address_id": "123"},
        400,
        "address_id is not used here: send lat and long, or address_string",
    ),
    (
        "unknown address",
        {"lat": None, "long": None, "address_string": "北京市海淀区中关村"},
        400,
        "address_string '北京市海淀区中关村' matches no place in the district; send lat and long",
    ),
    (
        "description too long",
        {"description": "灯" * 4001},
        400,
        "description: at most 4000 characters, not 4001",
    ),
    (
        "media_url not http",
        {"media_url": "javascript:alert(1)"},
        400,
        "media_url: an http(s) URL of at most 500 characters",
    ),
    (
        "contact too long",
        {"email": "x" * 90 + "@example.org"},
        400,
        "first_name, last_name, phone and email: at most 100 characters together",
    ),
    (
        "a control character",
        {"description": "路灯\x0b不亮"},
        400,
        "description: control characters are not allowed",
    ),
    (
        "another jurisdiction",
        {"jurisdiction_id": "sfgov.org"},
        404,
        "jurisdiction_id 'sfgov.org' is not served here (ours: daguan.anqing.example, or a"
        " district: 340803)",
    ),
]


def _like(shown: str, got: str) -> bool:
    """`got` is `shown`, where a "…" in `shown` stands for any text."""
    head, dots, tail = shown.partition("…")
    if not dots:
        return got == shown
    return got.startswith(head) and got.endswith(tail)


@pytest.mark.parametrize(
    ("why", "change", "status", "message"), BAD_POSTS, ids=[b[0] for b in BAD_POSTS]
)
async def test_a_bad_post_is_refused_and_stores_nothing(
    open311_sqlite: Open311, why: str, change: dict[str, Any], status: int, message: str
) -> None:
    line = open311_sqlite
    fields = line.request(**change)
    answer = await line.post(fields)
    assert answer.status_code == status, answer.text
    (error,) = answer.json()
    assert error["code"] == status and _like(message, error["description"]), error
    answer = await line.post(fields, fmt="xml")
    assert answer.status_code == status
    root = xml_of(answer)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    got = element_dict(root[0])
    assert got["code"] == str(status) and _like(message, got["description"] or "")
    assert line.events() == [] and line.running.store.event(1) is None
    stats = await read_stats(line.running, line.http, line.url.removesuffix("/open311/v2"))
    assert "ok" not in stats["answers"].get("open311", {})


async def test_a_body_that_is_not_a_form_is_refused(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    answer = await line.http.post(
        f"{line.url}/requests.json", json=line.request(), headers={"accept": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.json() == [
        {"code": 400, "description": "the body must be application/x-www-form-urlencoded"}
    ]
    answer = await line.post(b"api_key=" + KEY.encode() + b"&description=%FF%FE", fmt="xml")
    assert answer.status_code == 400
    assert xml_of(answer)[0].findtext("description") == "the body is not UTF-8"
    answer = await line.post(b"x" * (HttpSettings().max_body + 1))
    assert answer.status_code == 400 and "exceeds" in answer.json()[0]["description"]
    twice = [*line.request().items(), ("service_code", "08-03")]
    answer = await line.post(twice)
    assert answer.status_code == 400
    assert answer.json()[0]["description"] == "service_code: given twice"
    answer = await line.post(line.request(), headers={"Idempotency-Key": "has a space"})
    assert answer.status_code == 400
    assert line.events() == []


# ---- GET requests ---------------------------------------------------------------------------


async def test_requests_show_the_loop_and_never_the_reporter(open311: Open311) -> None:
    line = open311
    first = (await line.post(line.request(media_url="https://example.org/p.jpg"))).json()[0]
    second = (
        await line.post(
            line.request(service_code="01-02", description="垃圾没人收，电话13912345678")
        )
    ).json()[0]
    code_1, code_2 = first["service_request_id"], second["service_request_id"]
    events = {e.code: e for e in line.events()}
    await work_the_case(line.running, events[code_1].id, "已更换灯泡", "灯已修好，恢复照明")

    answer = await line.get(f"/requests/{code_1}.json", jurisdiction_id=JURISDICTION)
    (record,) = answer.json()
    assert list(record) == REQUEST_FIELDS
    closed = line.server.state.events[events[code_1].id]
    assert record["status"] == "closed"
    assert record["status_notes"] == "已办结：灯已修好，恢复照明"
    assert record["agency_responsible"] == "区城管局"
    assert record["media_url"] == "https://example.org/p.jpg"
    assert closed.closed_at is not None and closed.due_at is not None
    assert record["updated_datetime"] == w3c(closed.closed_at)  # the close, for a closed one
    assert record["expected_datetime"] == w3c(closed.due_at)  # the closure deadline
    assert record["requested_datetime"] == w3c(closed.reported_at)
    assert record["requested_datetime"].endswith("+08:00")
    assert record["lat"] == closed.lat and record["long"] == closed.lon
    assert record["address"] == "菱湖街道 菱湖社区 菱湖社区第1网格"

    (other,) = (await line.get(f"/requests/{code_2}.json")).json()
    assert other["status"] == "open" and other["status_notes"] == "已收到，待受理"
    assert other["description"] == "垃圾没人收，电话139****5678"
    assert other["media_url"] is None

    # Never the reporter: not in JSON, not in XML.
    for fmt in ("json", "xml"):
        text = (await line.get(f"/requests.{fmt}")).text
        for private in ("13812345678", "li.wei@example.org", "Li", "Wei", "13912345678"):
            assert private not in text, (fmt, private)

    root = xml_of(await line.get(f"/requests/{code_1}.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    got = element_dict(root[0])
    assert list(got) == REQUEST_FIELDS
    assert got["status"] == "closed" and got["zipcode"] is None
    assert got["lat"] == str(record["lat"]) and got["status_notes"] == record["status_notes"]

    missing = await line.get("/requests/DG-20000101-000001.xml")
    assert missing.status_code == 404
    assert xml_of(missing)[0].findtext("description") == (
        "service_request_id 'DG-20000101-000001' not found"
    )


async def test_the_filters(open311: Open311) -> None:
    line = open311
    codes = []
    for service in ("08-02", "08-02", "01-02"):
        answer = await line.post(line.request(service_code=service))
        codes.append(answer.json()[0]["service_request_id"])
    light_1, light_2, garbage = codes
    events = {e.code: e for e in line.events()}
    desk = await line.running.client("dispatcher")
    await desk.recv()
    reply = await desk.command("reject", {"event": events[light_2].id, "reason": "重复上报"})
    assert isinstance(reply, Result)
    await desk.ws.close()

    async def ids(**params: Any) -> list[str]:
        answer = await line.get("/requests.json", **params)
        assert answer.status_code == 200, answer.text
        return [r["service_request_id"] for r in answer.json()]

    assert await ids() == [garbage, light_2, light_1]  # newest first, the last 90 days
    assert await ids(service_code="08-02") == [light_2, light_1]
    assert await ids(service_code="08-02,01-02") == [garbage, light_2, light_1]
    assert await ids(status="closed") == [light_2]
    assert await ids(status="open") == [garbage, light_1]
    assert await ids(status="open,closed") == [garbage, light_2, light_1]
    assert await ids(status="open", service_code="08-02") == [light_1]
    # service_request_id overrides every other filter, and keeps the order asked.
    assert await ids(service_request_id=f"{light_1},{garbage}", status="closed") == [
        light_1,
        garbage,
    ]
    assert await ids(service_request_id="DG-20000101-000009") == []
    # Empty arguments are absent ones.
    assert await ids(service_code="", status="", start_date="") == [garbage, light_2, light_1]
    rejected = (await line.get(f"/requests/{light_2}.json")).json()[0]
    assert rejected["status"] == "closed" and rejected["status_notes"] == "不予受理：重复上报"

    now = line.server.clock.now()
    assert await ids(start_date=w3c(now - 3600), end_date=w3c(now + 60)) == [
        garbage,
        light_2,
        light_1,
    ]
    assert await ids(start_date=w3c(now - 80 * 86400), end_date=w3c(now - 86400)) == []
    assert await ids(end_date=w3c(now - 86400)) == []  # the 90 days before it
    assert await ids(start_date=w3c(now - 86400)) == [garbage, light_2, light_1]
    day = w3c(now - 3600)
    assert day is not None
    utc = day.replace("+08:00", "Z")  # the same wall time in UTC is 8 h later
    assert await ids(start_date=utc) == []

    # The XML of a list: one <request> per record.
    root = xml_of(await line.get("/requests.xml", service_code="08-02"))
    assert [r.findtext("service_request_id") for r in root] == [light_2, light_1]


BAD_QUERIES: list[tuple[dict[str, str], int, str]] = [
    (
        {"start_date": "2026-12-01"},
        400,
        "start_date: a datetime with its timezone is required, e.g. 2026-12-01T00:00:00Z",
    ),
    (
        {"end_date": "2026-12-01T08:00:00"},
        400,
        "end_date: a datetime with its timezone is required, e.g. 2026-12-01T00:00:00Z",
    ),
    (
        {"start_date": "yesterday"},
        400,
        "start_date: not a W3C datetime: 'yesterday' (e.g. 2026-12-02T09:15:00+08:00)",
    ),
    (
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        400,
        "start_date to end_date spans 151.0 days: at most 90",
    ),
    (
        {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
        400,
        "end_date is before start_date",
    ),
    ({"status": "pending"}, 400, "status: open or closed, not pending"),
    ({"service_code": "08-02,99-99"}, 404, "service_code '99-99' not found"),
    (
        {"jurisdiction_id": "sfgov.org"},
        404,
        "jurisdiction_id 'sfgov.org' is not served here (ours: daguan.anqing.example, or a"
        " district: 340803)",
    ),
]


@pytest.mark.parametrize(("params", "status", "message"), BAD_QUERIES)
async def test_a_bad_query_is_refused(
    open311_sqlite: Open311, params: dict[str, str], status: int, message: str
) -> None:
    line = open311_sqlite
    answer = await line.get("/requests.json", **params)
    assert answer.status_code == status
    assert answer.json() == [{"code": status, "description": message}]
    answer = await line.get("/requests.xml", **params)
    assert answer.status_code == status
    root = xml_of(answer)
    assert root.tag == "errors"
    assert element_dict(root[0]) == {"code": str(status), "description": message}


async def test_only_open311_requests_are_shown(open311_sqlite: Open311) -> None:
    """Cases of other channels (12345, patrols, cameras, sensors) are none of the public's
    business: the GET side shows the requests Open311 clients made, and no other."""
    line = open311_sqlite
    desk = await line.running.client("dispatcher")
    await desk.recv()
    lat, lon = line.point()
    reply = await desk.command(
        "report", {"category": "08-02", "title": "巡查发现路灯不亮", "lon": lon, "lat": lat}
    )
    assert isinstance(reply, Result)
    await desk.ws.close()
    code = line.events()[0].code
    assert (await line.get("/requests.json")).json() == []
    assert (await line.get(f"/requests/{code}.json")).status_code == 404


async def test_requests_survive_a_restart(open311_sqlite: Open311, tmp_path) -> None:
    line = open311_sqlite
    code = (await line.post(line.request())).json()[0]["service_request_id"]
    await line.http.aclose()
    await line.running.server.stop()
    again = await start_open311(line.running.store, tmp_path)
    try:
        (record,) = (await again.get(f"/requests/{code}.json")).json()
        assert record["service_request_id"] == code
    finally:
        await again.http.aclose()
        await again.running.server.stop()


def test_status_notes_cover_every_status() -> None:
    from dispatch.intake.open311 import STATUS_NOTES
    from protocol.entities import STATUSES

    assert set(STATUS_NOTES) == set(STATUSES)


def test_xml_never_carries_what_xml_cannot() -> None:
    """A text that reached a case another way (not a POST: those are refused) loses the
    characters XML 1.0 cannot hold instead of making the whole list unreadable."""
    import xml.etree.ElementTree as ET

    from dispatch.intake.open311_wire import xml_document

    body = xml_document("service_requests", [{"description": "a\x01b\x0bc\nd<e>&"}])
    assert ET.fromstring(body)[0].findtext("description") == "abc\nd<e>&"


async def test_a_client_taken_out_leaves_its_requests_visible(
    open311_sqlite: Open311, tmp_path
) -> None:
    line = open311_sqlite
    mine = (await line.post(line.request(api_key=OTHER_KEY))).json()[0]["service_request_id"]
    await line.http.aclose()
    await line.running.server.stop()
    clients = {CLIENT: {"key": KEY}}
    again = await start_open311(line.running.store, tmp_path, clients=clients)
    try:
        refused = await again.post(again.request(api_key=OTHER_KEY))
        assert refused.status_code == 403
        (record,) = (await again.get(f"/requests/{mine}.json")).json()
        assert record["service_request_id"] == mine
        assert [r["service_request_id"] for r in (await again.get("/requests.json")).json()] == [
            mine
        ]
    finally:
        await again.http.aclose()
        await again.running.server.stop()


async def test_every_answer_is_counted(open311_sqlite: Open311) -> None:
    line = open311_sqlite
    headers = {"Idempotency-Key": "count-me-0001"}
    await line.post(line.request(), headers=headers)
    await line.post(line.request(), headers=headers)
    await line.post(line.request(api_key="not-a-key-000000000"))
    await line.post(line.request(service_code="99-99"))
    await line.get("/services.json")
    await line.get("/requests.json", status="maybe")
    stats = await read_stats(line.running, line.http, line.url.removesuffix("/open311/v2"))
    assert stats["answers"]["open311"] == {
        "ok": 1,
        "repeat": 1,
        "bad_api_key": 1,
        "unknown_service": 1,
        "services": 1,
        "bad_status": 1,
    }


async def test_a_store_that_fails_answers_in_the_spec_shape(open311_sqlite: Open311) -> None:
    """The database file gone under a GET (moved away: SQLite opens an empty one in its
    place): a 400 in the spec's shape, the cause in the log, and the endpoint answers again
    once the file is back."""
    line = open311_sqlite
    await line.post(line.request())
    engine = line.running.store.engine
    path = Path(engine.url.database or "")
    files = [f"{path}{extra}" for extra in ("", "-wal", "-shm")]
    engine.dispose()  # closes the pooled connections: the next one opens the path anew
    moved = []
    for name in files:  # its WAL with it: nothing committed is left behind
        with contextlib.suppress(FileNotFoundError):
            os.replace(name, name + ".away")
            moved.append(name)
    try:
        answer = await line.get("/requests.xml")
        assert answer.status_code == 400
        assert xml_of(answer)[0].findtext("description") == (
            "the request could not be answered now; try again"
        )
    finally:
        engine.dispose()
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                os.remove(name)
        for name in moved:
            os.replace(name + ".away", name)
    assert len((await line.get("/requests.json")).json()) == 1
