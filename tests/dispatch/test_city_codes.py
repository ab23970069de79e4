"""Case numbers per district: 大观区's cases DG-…, 迎江区's YJ-…, each numbered per day on its
own; a restart continues each sequence from the stored codes."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest
from msgspec.structs import replace

from dispatch.domain.calendar import CST
from dispatch.domain.district import DISTRICT_CODES, case_prefix
from dispatch.server import DispatchServer
from dispatch.state import SYSTEM, State, parse_code
from protocol import commands as c
from protocol.messages import Result
from tests.dispatch.conftest import LINGHU, Running, point_in
from tests.dispatch.test_city import BINJIANG, city, report  # noqa: F401 (a fixture)
from tests.dispatch.test_server import handshake

MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=CST).timestamp()


def test_each_district_has_its_own_prefix() -> None:
    prefixes = [case_prefix(code) for code in DISTRICT_CODES]
    assert prefixes[:2] == ["DG", "YJ"]
    assert len(set(prefixes)) == len(prefixes)  # two districts never share a sequence
    assert case_prefix("340811") is None


@pytest.mark.parametrize(
    ("code", "parsed"),
    [
        ("DG-20261123-000123", ("DG", "20261123", 123)),
        ("YJ-20261123-000001", ("YJ", "20261123", 1)),
        ("DG-2026-11-23-1", None),
        ("DG20261123000001", None),
        ("-20261123-000001", None),
        ("DG-2026112-000001", None),
        ("DG-20261123-", None),
        ("DG-20261123-12a", None),
    ],
)
def test_codes_are_read_back_or_refused(code: str, parsed: tuple[str, str, int] | None) -> None:
    assert parse_code(code) == parsed


def _report(state: State, street: str, at: float = MONDAY_9) -> str:
    lon, lat = point_in(state.reference, street)
    args = c.Report(category="01-02", title="t", lon=lon, lat=lat)
    return str(state.apply(SYSTEM, "report", args, at).data["code"])


async def test_a_city_numbers_each_district_on_its_own(city: Running) -> None:  # noqa: F811
    reference = city.server.reference
    assert reference.code_prefixes == {"340803": "DG", "340802": "YJ"}
    state = State(reference)
    assert [_report(state, s) for s in (LINGHU, BINJIANG, LINGHU, BINJIANG, BINJIANG)] == [
        "DG-20261123-000001",
        "YJ-20261123-000001",
        "DG-20261123-000002",
        "YJ-20261123-000002",
        "YJ-20261123-000003",
    ]
    # A failed batch gives its numbers back, in both districts.
    point = state.savepoint()
    journal = len(state.journal)
    _report(state, LINGHU)
    _report(state, BINJIANG)
    state.rollback(point, state.journal[journal:])
    assert _report(state, BINJIANG) == "YJ-20261123-000004"
    assert _report(state, LINGHU) == "DG-20261123-000003"
    # The next day starts both at 1.
    assert _report(state, BINJIANG, MONDAY_9 + 86400) == "YJ-20261124-000001"


async def test_a_restart_continues_each_district_sequence(city: Running) -> None:  # noqa: F811
    boss = await city.client("city")
    await handshake(boss)
    codes = []
    for street in (LINGHU, BINJIANG, BINJIANG):
        done = await boss.command("report", report(city, street, "事件"))
        assert isinstance(done, Result), done
        codes.append(str(done.data["code"]))
    assert [code.split("-")[0] for code in codes] == ["DG", "YJ", "YJ"]
    assert [code[-6:] for code in codes] == ["000001", "000001", "000002"]
    await boss.ws.close()
    await city.server.stop()

    # The same store served again: each district carries on from its stored codes.
    server = DispatchServer(city.store, city.server.reference)
    city.port = await server.start("127.0.0.1", 0)
    city.server = server
    boss = await city.client("city")
    await handshake(boss)
    for street, expected in ((BINJIANG, codes[2]), (LINGHU, codes[0])):
        done = await boss.command("report", report(city, street, "重启后"))
        assert isinstance(done, Result), done
        prefix, day, number = str(done.data["code"]).split("-")
        assert (prefix, day) == tuple(expected.split("-")[:2])
        assert int(number) == int(expected[-6:]) + 1
    await boss.ws.close()


def test_unreadable_and_foreign_codes_in_the_store_are_loaded_as_they_are(
    reference, caplog: pytest.LogCaptureFixture
) -> None:
    state = State(reference)
    _report(state, LINGHU)
    old = state.events[1]
    stored = [
        replace(old, id=1, code="DG-20261123-000007"),
        replace(old, id=2, code="ZZ-20261123-000050"),  # a prefix no district has now
        replace(old, id=3, code="12345-工单-1"),  # imported with another form
        replace(old, id=4, code=""),
    ]
    fresh = State(reference)
    with caplog.at_level(logging.WARNING, logger="dispatch"):
        fresh.load(stored, [], {})
    assert "2 stored case codes are not PREFIX-yyyymmdd-nnnnnn" in caplog.text
    assert len(fresh.events) == 4  # served all the same
    assert fresh.day_counters == {("DG", "20261123"): 7, ("ZZ", "20261123"): 50}
    fresh.next_event_id = 5
    assert _report(fresh, LINGHU) == "DG-20261123-000008"
