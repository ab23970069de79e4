"""12345 work orders through the real HTTP endpoint into the writer: events, idempotency,
triage, place, and every bad input refused with its reason and nothing stored."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from dispatch.intake import signing
from tests.dispatch.intake.conftest import KEY, PEER, Hotline, order


async def test_a_push_becomes_an_event_of_the_peer(hotline: Hotline) -> None:
    answer = await hotline.push(order())
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["ok"] and not got["repeat"] and got["category"] == "06-01"
    event = hotline.server.state.events[got["event"]]
    assert event.code == got["code"] and event.source == "hotline"
    assert event.category == "06-01" and event.status == "reported"
    assert event.reporter == "王先生 138****5678"  # never stored whole
    assert event.intake.ref == "AQ12345-20261202-000001" and event.intake.peer == PEER
    assert event.intake.place == "poi" and event.intake.matched == "孝肃路288号"
    assert event.intake.deadline_at == pytest.approx(1797413400.0)
    assert event.description.startswith("[投诉] 楼下烧烤店")
    # The audit log names the peer as the actor, as for any report_batch.
    rows = hotline.running.store.event_history(event.id)
    assert [(r.actor, r.action) for r in rows] == [(PEER, "report")]


async def test_a_retried_push_answers_the_same_event(hotline: Hotline) -> None:
    first = (await hotline.push(order())).json()
    again = await hotline.push(order(content="同一工单再次推送，内容改了"))
    assert again.status_code == 200
    second = again.json()
    assert second["repeat"] and second["event"] == first["event"]
    assert second["code"] == first["code"]
    assert len(hotline.events()) == 1
    assert hotline.events()[0].description.startswith("[投诉] 楼下烧烤店")


async def test_concurrent_duplicates_create_one_event(hotline: Hotline) -> None:
    answers = await asyncio.gather(*(hotline.push(order()) for _ in range(20)))
    assert {a.status_code for a in answers} == {200}
    events = {a.json()["event"] for a in answers}
    assert len(events) == 1
    assert sum(not a.json()["repeat"] for a in answers) == 1
    assert len(hotline.events()) == 1


async def test_a_retry_after_a_restart_finds_its_event(hotline_sqlite: Hotline, tmp_path) -> None:
    from tests.dispatch.intake.conftest import start_hotline

    first = (await hotline_sqlite.push(order())).json()
    await hotline_sqlite.http.aclose()
    await hotline_sqlite.running.server.stop()
    again = await start_hotline(hotline_sqlite.running.store, tmp_path)
    try:
        got = (await again.push(order())).json()
        assert got["repeat"] and got["event"] == first["event"]
        assert len(again.events()) == 1
    finally:
        await again.http.aclose()
        await again.running.server.stop()


async def test_an_unmapped_type_goes_to_triage(hotline: Hotline) -> None:
    got = (await hotline.push(order(kind="其他/未分类诉求"))).json()
    assert got["triage"] and got["category"] == "06-14"
    event = hotline.server.state.events[got["event"]]
    assert event.intake.triage == "其他/未分类诉求"


async def test_a_path_type_maps_by_its_most_specific_part(hotline: Hotline) -> None:
    got = (await hotline.push(order(kind="城乡建设／市容环境／暴露垃圾"))).json()
    assert got["category"] == "01-02" and not got["triage"]


async def test_coordinates_inside_place_by_point_outside_by_address(hotline: Hotline) -> None:
    grid = next(iter(hotline.server.reference.grids.values()))
    lon, lat = grid.centre
    inside = (await hotline.push(order("A-1", lon=lon, lat=lat))).json()
    assert inside["place"] == "point" and inside["confidence"] == 1.0
    event = hotline.server.state.events[inside["event"]]
    assert event.grid == grid.code
    outside = (await hotline.push(order("A-2", lon=116.40, lat=39.90))).json()
    assert outside["place"] == "poi"  # 孝肃路288号 from the address
    note = hotline.server.state.events[outside["event"]].intake.matched
    assert note == "孝肃路288号"
    nowhere = (await hotline.push(order("A-3", address="北京市朝阳区某路"))).json()
    assert nowhere["place"] == "none" and nowhere["confidence"] == 0.0


def _signed(body: bytes, **override: str) -> dict[str, str]:
    headers = signing.sign(KEY.encode(), PEER, "POST", "/12345/v1/orders", body)
    headers.update(override)
    return headers


BAD = [
    ("malformed", b'{"order_no": "X-1", ', {}, 400, "malformed_json"),
    ("missing field", json.dumps({"order_no": "X-2"}).encode(), {}, 400, "bad_payload"),
    (
        "lon without lat",
        json.dumps(order("X-3", lon=117.0)).encode(),
        {},
        400,
        "bad_payload",
    ),
    ("bad time", json.dumps(order("X-4", deadline_at="明天")).encode(), {}, 400, "bad_payload"),
    ("not json type", json.dumps(["X-5"]).encode(), {}, 400, "bad_payload"),
]


@pytest.mark.parametrize(("why", "body", "extra", "status", "reason"), BAD, ids=[b[0] for b in BAD])
async def test_bad_payloads_are_refused_and_nothing_stored(
    hotline: Hotline, why, body, extra, status, reason
) -> None:
    answer = await hotline.push(body)
    assert (answer.status_code, answer.json()["error"]) == (status, reason), answer.text
    assert answer.json()["message"]
    assert hotline.events() == []
    counts = await hotline.stats()
    assert counts["answers"]["12345"][reason] == 1
    # The rest keeps flowing.
    assert (await hotline.push(order("OK-1"))).status_code == 200


async def test_bad_signatures_are_refused(hotline: Hotline) -> None:
    body = json.dumps(order(), ensure_ascii=False).encode()
    cases = [
        ({"signed": False}, 401, "unsigned"),
        ({"headers": {"x-tg-signature": "0" * 64}}, 401, "bad_signature"),
        ({"key": "another-key-of-16-chars-or-more"}, 401, "bad_signature"),
        ({"peer": "someone-else"}, 403, "unknown_peer"),
        ({"headers": {"x-tg-nonce": "short"}}, 401, "bad_signature"),
    ]
    for kwargs, status, reason in cases:
        answer = await hotline.push(body, **kwargs)
        assert (answer.status_code, answer.json()["error"]) == (status, reason), kwargs
    # Signed for another path, or a body changed after signing.
    headers = _signed(body)
    answer = await hotline.http.post(
        hotline.url + "/12345/v1/orders",
        content=body.replace("孝肃路".encode(), "人民路".encode()),
        headers={"content-type": "application/json", **headers},
    )
    assert answer.json()["error"] == "bad_signature"
    assert hotline.events() == []


async def test_replays_are_refused(hotline: Hotline) -> None:
    body = json.dumps(order()).encode()
    headers = {"content-type": "application/json", **_signed(body)}
    first = await hotline.http.post(hotline.url + "/12345/v1/orders", content=body, headers=headers)
    assert first.status_code == 200
    again = await hotline.http.post(hotline.url + "/12345/v1/orders", content=body, headers=headers)
    assert (again.status_code, again.json()["error"]) == (409, "replayed")
    stale = signing.sign(KEY.encode(), PEER, "POST", "/12345/v1/orders", body, time.time() - 600)
    old = await hotline.http.post(
        hotline.url + "/12345/v1/orders",
        content=body,
        headers={"content-type": "application/json", **stale},
    )
    assert (old.status_code, old.json()["error"]) == (401, "stale_timestamp")
    assert len(hotline.events()) == 1


async def test_oversized_and_wrong_type_bodies_are_refused(hotline: Hotline) -> None:
    big = json.dumps(order(content="很" * 100_000), ensure_ascii=False).encode()
    answer = await hotline.push(big)
    assert (answer.status_code, answer.json()["error"]) == (413, "too_large")
    form = await hotline.push(b"a=b", headers={"content-type": "application/x-www-form-urlencoded"})
    assert (form.status_code, form.json()["error"]) == (415, "unsupported_media_type")
    assert hotline.events() == []


async def test_a_batch_push_answers_each_order_alone(hotline: Hotline) -> None:
    first = (await hotline.push(order("K-0"))).json()
    batch = {
        "orders": [
            order("K-1"),
            {"order_no": "K-2", "content": "没有诉求类型"},
            order("K-0"),  # pushed before: its event
            order("K-1"),  # twice in one batch: the second is a repeat
            order("K-3", lon=117.0),
            order("K-4", kind="其他"),
        ]
    }
    answer = await hotline.push(batch, path="/12345/v1/orders/batch")
    assert answer.status_code == 200, answer.text
    got = answer.json()["orders"]
    assert [(o["order_no"], o["ok"]) for o in got] == [
        ("K-1", True),
        ("K-2", False),
        ("K-0", True),
        ("K-1", True),
        ("K-3", False),
        ("K-4", True),
    ]
    assert got[1]["error"] == "bad_payload" and "`$.orders[1]`" in got[1]["message"]
    assert got[2]["repeat"] and got[2]["event"] == first["event"]
    assert got[3]["repeat"] and got[3]["event"] == got[0]["event"]
    assert got[4]["message"] == "lon and lat come together or not at all"
    assert got[5]["triage"]
    assert len(hotline.events()) == 3  # K-0, K-1, K-4


async def test_a_batch_of_the_wrong_shape_is_refused_whole(hotline: Hotline) -> None:
    for body, reason in [
        ({"orders": []}, "bad_payload"),
        ({"orders": [order(f"M-{i}") for i in range(201)]}, "bad_payload"),
        (b'{"orders": [', "malformed_json"),
    ]:
        answer = await hotline.push(body, path="/12345/v1/orders/batch")
        assert (answer.status_code, answer.json()["error"]) == (400, reason)
    assert hotline.events() == []


async def test_the_plain_asgi_route_answers_as_starlette_did(hotline: Hotline) -> None:
    """The POSTs go to a plain ASGI callable (bench/RESULTS.md §7): a body sent in chunks
    without a length is read (and refused past max_body), a Content-Length that is not a
    number is a 400, and any other method still gets Starlette's 405."""

    async def chunks(body: bytes):  # no Content-Length: chunked transfer encoding
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    body = json.dumps(order("CH-1"), ensure_ascii=False).encode()
    headers = {"content-type": "application/json", **_signed(body)}
    sent = await hotline.http.post(
        hotline.url + "/12345/v1/orders", content=chunks(body), headers=headers
    )
    assert sent.status_code == 200, sent.text
    assert sent.headers["content-type"] == "application/json"
    assert int(sent.headers["content-length"]) == len(sent.content)
    big = json.dumps(order("CH-2", content="很" * 100_000), ensure_ascii=False).encode()
    headers = {"content-type": "application/json", **_signed(big)}
    refused = await hotline.http.post(
        hotline.url + "/12345/v1/orders", content=chunks(big), headers=headers
    )
    assert (refused.status_code, refused.json()["error"]) == (413, "too_large")
    reader, writer = await asyncio.open_connection("127.0.0.1", int(hotline.url.rsplit(":", 1)[1]))
    writer.write(
        b"POST /12345/v1/orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 12abc\r\n\r\n"
    )
    await writer.drain()
    head = await reader.read(200)
    writer.close()
    assert head.startswith(b"HTTP/1.1 400"), head
    got = await hotline.http.get(hotline.url + "/12345/v1/orders")
    assert got.status_code == 405
    assert len(hotline.events()) == 1
