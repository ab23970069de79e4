"""交接班报告: a shift's report rebuilt from the audit log, its figures by the KPI definitions,
the commander's note (shift_note), the shifts and files asked for over the websocket and
fetched once over HTTP with a ticket, exports limited to the user's jurisdiction."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from dispatch import handover_map, kpi
from dispatch.cli import main
from dispatch.clock import Clock
from dispatch.domain.calendar import CST
from dispatch.handover import gather, make, render, shifts
from dispatch.simulator import Simulator
from protocol.codec import encode
from protocol.entities import OPEN_STATUSES, Event, is_overdue
from protocol.messages import Download, Error, Result, Shifts
from tests.dispatch.conftest import DEKUAN, LINGHU, Running, start_server
from tests.dispatch.test_http_and_audit import http_get
from tests.dispatch.test_server import handshake, report_args
from tests.pdfs import pdf_objects

# Wednesday 2026-11-25 10:00: the simulator replays Tuesday and this morning, handing the
# duty over at 08:30 each day, so Tuesday 08:30 to Wednesday 08:30 is a whole shift.
START = datetime(2026, 11, 25, 10, 0, tzinfo=CST).timestamp()
TUESDAY_0830 = datetime(2026, 11, 24, 8, 30, tzinfo=CST).timestamp()
_event = msgspec.json.Decoder(Event)


@pytest.fixture
async def world(sqlite_store) -> AsyncIterator[Running]:
    """A backend on a simulated day and a half, the simulator stopped once caught up."""
    running = await start_server(sqlite_store, clock=Clock(speed=0.01, start=START))
    simulator = Simulator(running.server, seed=5, daily_events=160, daily_alerts=60)
    task = asyncio.create_task(simulator.run(warm_up=True))
    while not simulator.warmed_up:  # noqa: ASYNC110 (the simulator has no event to await)
        await asyncio.sleep(0.05)
    task.cancel()
    yield running
    await running.server.stop()


def replayed(running: Running, moment: float) -> list[Event]:
    """Every case as the log left it before `moment`, by walking the whole log from its
    start (not the report's way: no current rows, no per-case look-ups)."""
    cases: dict[int, Event] = {}
    after = 0
    while True:
        rows = running.store.read_log(after, limit=5000)
        if not rows:
            return list(cases.values())
        for row in rows:
            if row.entity == "event" and row.at < moment:
                event = _event.decode(row.after)
                cases[event.id] = event
        after = rows[-1].seq


async def ask(client: Any, message: Any) -> Result | Error:
    await client.ws.send(encode(message).decode())
    reply = await client.until(
        lambda m: isinstance(m, (Result, Error)) and m.id == message.id, timeout=60
    )
    assert isinstance(reply, (Result, Error))
    return reply


async def test_the_figures_are_the_kpi_definitions_over_the_log(world: Running) -> None:
    store = world.store
    found = await asyncio.to_thread(shifts, store)
    shift = next(s for s in found if abs(s.start - TUESDAY_0830) < 1)
    assert shift.end is not None and shift.end == pytest.approx(TUESDAY_0830 + 86400)
    report = await asyncio.to_thread(gather, store, shift, world.server.clock.now())
    # The day (Tuesday, 00:00-24:00): what the KPI book's "today" holds at the day's end,
    # counted from scratch over the cases as the whole log left them then.
    day_end = kpi.day_start(TUESDAY_0830) + 86400
    assert report.day_end == day_end
    book = kpi.compute(replayed(world, day_end), day_end - 0.001)
    expected = book.kpi("today", kpi.DISTRICT)
    for name in (
        "received",
        "dispatched",
        "closed",
        "closed_on_time",
        "due",
        "overdue_now",
        "open_now",
        "on_time_rate",
        "rework_rate",
        "avg_handling_minutes",
    ):
        assert getattr(report.day_kpi, name) == getattr(expected, name), name
    assert report.day_kpi.received > 50
    # The shift: each count by its definition (docs/kpis.md §3) over the cases at its end.
    end = shift.end
    cases = replayed(world, end)
    closed = [
        e
        for e in cases
        if e.status in ("closed", "evaluated")
        and e.closed_at is not None
        and e.closed_at >= shift.start
    ]
    overdue = [e for e in cases if e.status in OPEN_STATUSES and is_overdue(e, end)]
    k = report.shift_kpi
    assert k.received == sum(shift.start <= e.reported_at < end for e in cases) > 50
    assert k.closed == len(closed) > 0
    assert k.closed_on_time == sum(not kpi.is_late(e) for e in closed)
    assert k.overdue_now == len(overdue)
    assert k.due == k.closed + k.overdue_now
    assert k.open_now == sum(e.status in OPEN_STATUSES for e in cases)
    assert k.dispatched == sum(
        e.first_dispatched_at is not None and e.first_dispatched_at >= shift.start for e in cases
    )
    # The lists say the same as the figures.
    assert len(report.opened) == k.received
    assert len(report.closed) == k.closed
    assert len(report.overdue) == k.overdue_now
    assert report.confirmed or report.dismissed
    assert all(shift.start <= a.last_at < end for a in report.confirmed + report.dismissed)


async def test_note_page_and_pdf(world: Running, tmp_path: Path) -> None:
    commander = await world.client("commander")
    dispatcher = await world.client("dispatcher")
    await handshake(commander)
    await handshake(dispatcher)
    text = '<script>alert("x")</script> 夜间菱湖片区积水点已安排专人值守'
    assert isinstance(await commander.command("shift_note", {"text": text}), Result)
    refused = await dispatcher.command("shift_note", {"text": "我来写"})
    assert isinstance(refused, Error) and refused.code == "forbidden"
    assert refused.message == "role dispatcher may not shift_note"
    empty = await commander.command("shift_note", {"text": "   "})
    assert isinstance(empty, Error) and (empty.code, empty.message) == (
        "bad_args",
        "the note is empty",
    )
    blank = await commander.command("shift_note", {"text": ""})
    assert isinstance(blank, Error) and (blank.code, blank.message) == (
        "bad_args",
        "Expected `str` of length >= 1 - at `$.text`",
    )
    # The note is on the duty in force (everyone sees it) and in the log.
    assert world.server.state.duty is not None
    note = world.server.state.duty.note
    assert note is not None and note.text == text.strip() and note.by == "指挥长"
    found = await asyncio.to_thread(shifts, world.store)
    current = found[-1]
    assert current.end is None and current.note == note
    now = world.server.clock.now()
    report = await asyncio.to_thread(gather, world.store, current, now)
    page = render(report, world.server.reference, now)
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "交班记录" in page and "夜间菱湖片区积水点已安排专人值守" in page
    assert re.search(r"default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'", page)
    body = await asyncio.to_thread(make, world.store, world.server.reference, current, "pdf", now)
    assert body.startswith(b"%PDF-")
    inflated = pdf_objects(body)
    # The CJK font is embedded (a subset of it), and the page's text is drawn with it.
    assert b"WenQuanYi" in inflated and b"/FontFile2" in inflated and b"/ToUnicode" in inflated


_GROUP = re.compile(r'<g class="cases (\w+)" fill="(#[0-9a-f]{6})"[^>]*>(.*?)</g>', re.S)
_DOT = re.compile(r'<circle cx="([-\d.]+)" cy="([-\d.]+)"')
# The PDF's page draws each colour's dots as one path: a zero-length line per dot.
_PATH = re.compile(r'<path class="cases (\w+)" d="([^"]*)"[^>]*stroke="(#[0-9a-f]{6})"')
_MOVE = re.compile(r"M([-\d.]+) ([-\d.]+)h0")


def dots(page: str) -> dict[str, list[tuple[float, float]]]:
    """The map's case dots by colour class (late, near, open): their centres."""
    svgs = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(svgs) == 1 and "示意图" in svgs[0] and "示意图" in page.split("</svg>")[1]
    found: dict[str, list[tuple[float, float]]] = {t: [] for t in handover_map.COLOURS}
    for tone, colour, body in _GROUP.findall(svgs[0]):
        assert handover_map.COLOURS[tone] == colour
        found[tone] += [(float(x), float(y)) for x, y in _DOT.findall(body)]
    for tone, data, colour in _PATH.findall(svgs[0]):
        assert handover_map.COLOURS[tone] == colour
        found[tone] += [(float(x), float(y)) for x, y in _MOVE.findall(data)]
    return found


def pdf_rgb(colour: str, op: bytes = b"rg") -> bytes:
    """A colour as a PDF content stream sets it (WeasyPrint's way): rg to fill, RG to stroke."""
    parts = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    return " ".join(f"{p:f}".rstrip("0").rstrip(".") or "0" for p in parts).encode() + b" " + op


async def test_the_map_at_handover(world: Running) -> None:
    """The map shows exactly the cases open at the shift's end, where they are, coloured
    by the wall's meaning; a title with markup stays text, in the page and the PDF."""
    store, reference = world.store, world.server.reference
    found = await asyncio.to_thread(shifts, store)
    shift = next(s for s in found if abs(s.start - TUESDAY_0830) < 1)
    assert shift.end is not None
    report = await asyncio.to_thread(gather, store, shift, world.server.clock.now())
    page = render(report, reference, shift.end)
    drawn = dots(page)
    # The open cases at the shift's end, by walking the whole log (not the report's way).
    open_then = [e for e in replayed(world, shift.end) if e.status in OPEN_STATUSES]
    assert len(open_then) == report.shift_kpi.open_now > 5
    frame = handover_map.Frame.of(reference.reference.outline)
    expected: dict[str, list[tuple[float, float]]] = {"late": [], "near": [], "open": []}
    for event in open_then:
        expected[handover_map.tone(event, shift.end)].append(frame.xy(event.lon, event.lat))
    assert {t: sorted(p) for t, p in drawn.items()} == {t: sorted(p) for t, p in expected.items()}
    for_print = dots(render(report, reference, shift.end, tooltips=False))
    assert {t: sorted(p) for t, p in for_print.items()} == {t: sorted(p) for t, p in drawn.items()}
    assert "<circle" not in render(report, reference, shift.end, tooltips=False)
    # (The seeded history has some of each colour at Wednesday 08:30.)
    assert len(drawn["late"]) == len(report.overdue) > 0 and drawn["near"] and drawn["open"]
    # Every dot within the drawing, and the streets named on it.
    width, height = map(float, re.findall(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', page)[0])
    assert all(0 < x < width and 0 < y < height for p in drawn.values() for x, y in p)
    for street in reference.reference.streets:
        assert f">{street.name}</text>" in page
    assert f"超期 {len(drawn['late'])} 件" in page

    # A case reported now with markup in its title: on the map of the shift in force, as text.
    commander = await world.client("commander")
    await handshake(commander)
    title = '<script>alert("x")</script><img src=x onerror="alert(1)">井盖缺失'
    answer = await commander.command("report", report_args(world, LINGHU, title))
    assert isinstance(answer, Result), answer
    current = (await asyncio.to_thread(shifts, store))[-1]
    now = world.server.clock.now() + 1.0
    report = await asyncio.to_thread(gather, store, current, now)
    mine = next(e for e in report.open if e.id == int(answer.data["event"]))
    page = render(report, reference, now)
    assert sum(map(len, dots(page).values())) == len(report.open) == report.shift_kpi.open_now
    assert "<script" not in page and "<img" not in page and 'onerror="' not in page
    assert f"<title>{mine.code} &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;井盖缺失</title>" in page
    x, y = frame.xy(mine.lon, mine.lat)
    assert (x, y) in dots(page)[handover_map.tone(mine, now)]
    # The PDF draws the map: the grids' fill, each colour of dot that has cases (stroked
    # zero-length lines with round caps: discs), the names in the CJK font.
    body = await asyncio.to_thread(make, store, reference, current, "pdf", now)
    inflated = pdf_objects(body)
    assert pdf_rgb("#f1f5fb") in inflated, "the grids"
    assert b"\n1 J\n" in inflated
    for tone, points in dots(page).items():
        if points:
            assert pdf_rgb(handover_map.COLOURS[tone], b"RG") in inflated, tone
    html = await asyncio.to_thread(make, store, reference, current, "html", now)
    assert dots(html.decode())[handover_map.tone(mine, now)].count((x, y)) >= 1


async def test_shifts_and_files_over_the_wire(world: Running) -> None:
    port, tokens = world.port, world.tokens
    commander = await world.client("commander")
    await handshake(commander)
    answer = await ask(commander, Shifts(id=100, first="2026-11-24", last="2026-11-25"))
    assert isinstance(answer, Result)
    rows = answer.data["shifts"]
    # Newest first: this morning's (in force), Tuesday 08:30's, and the one the replay began in.
    assert [r["day"] for r in rows] == ["2026-11-25", "2026-11-24", "2026-11-24"]
    assert rows[0]["end"] is None and rows[1]["end"] == pytest.approx(rows[0]["start"])
    tuesday = rows[1]["start"]
    assert tuesday == pytest.approx(TUESDAY_0830)
    got = await ask(commander, Download(id=101, report="handover", format="html", shift=tuesday))
    assert isinstance(got, Result), got
    path = got.data["path"]
    assert got.data["name"] == "交接班报告-20261124-0830.html" and "token" not in path
    get = asyncio.to_thread
    assert (await get(http_get, port, path))[0] == 401  # no token: not even for the ticket
    assert (await get(http_get, port, path, tokens["dispatcher"]))[0] == 404  # not his
    status, body, ctype = await get(http_get, port, path, tokens["commander"])
    assert status == 200 and ctype == "text/html; charset=utf-8"
    assert "交接班报告" in body.decode() and "<script" not in body.decode()
    assert (await get(http_get, port, path, tokens["commander"]))[0] == 404  # once only
    pdf = await ask(commander, Download(id=102, report="handover", format="pdf", shift=tuesday))
    assert isinstance(pdf, Result)
    status, body, ctype = await get(http_get, port, pdf.data["path"], tokens["commander"])
    assert status == 200 and ctype == "application/pdf" and body.startswith(b"%PDF-")
    # Refusals, each saying what is wrong.
    refusals = [
        (
            Download(id=103, report="handover", format="html", shift=tuesday + 60),
            "not_found",
            "no shift began at 2026-11-24 08:31:00",
        ),
        (
            Download(id=104, report="handover", format="csv", shift=tuesday),
            "bad_args",
            "a handover report is html or pdf, not csv",
        ),
        (
            Download(id=105, report="handover", format="pdf"),
            "bad_args",
            "name the shift: its start (`shift`)",
        ),
        (
            Shifts(id=106, first="2026-11-25", last="2026-11-24"),
            "bad_args",
            "last 2026-11-24 is before first 2026-11-25",
        ),
        (
            Shifts(id=107, first="2026-11-01", last="2027-01-31"),
            "bad_args",
            "at most 62 days at once, not 92",
        ),
        (
            Shifts(id=108, first="2026-13-01", last="2026-11-24"),
            "bad_args",
            "first '2026-13-01' is not a date of the calendar",
        ),
    ]
    for message, code, text in refusals:
        reply = await ask(commander, message)
        assert isinstance(reply, Error) and (reply.code, reply.message) == (code, text)
    street = await world.client("linghu")
    await handshake(street)
    for message in (
        Shifts(id=200, first="2026-11-24", last="2026-11-25"),
        Download(id=201, report="handover", format="html", shift=tuesday),
    ):
        reply = await ask(street, message)
        assert isinstance(reply, Error) and reply.code == "forbidden"
    wall = await world.client("wall")
    await handshake(wall)
    reply = await ask(
        wall, Download(id=300, report="export", format="csv", first="2026-11-24", last="2026-11-25")
    )
    assert isinstance(reply, Error) and reply.message == "role wall may not export cases"
    log = await asyncio.to_thread(world.store.admin_log, 50)
    actions = [(e.actor, e.action, e.outcome) for e in log]
    assert ("指挥长", "download", "ok") in actions and ("指挥长", "shifts", "ok") in actions
    assert ("菱湖分中心", "shifts", "forbidden") in actions


async def test_a_street_exports_only_its_street(world: Running) -> None:
    port, tokens = world.port, world.tokens
    street = await world.client("linghu")
    await handshake(street)
    got = await ask(
        street,
        Download(id=10, report="export", format="csv", first="2026-11-24", last="2026-11-25"),
    )
    assert isinstance(got, Result), got
    status, body, ctype = await asyncio.to_thread(
        http_get, port, got.data["path"], tokens["linghu"]
    )
    assert status == 200 and ctype == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    start = datetime(2026, 11, 24, tzinfo=CST).timestamp()
    mine = [
        e
        for e in world.server.state.events.values()
        if e.street == LINGHU and start <= e.reported_at < start + 2 * 86400
    ]
    assert rows and {r["街道"] for r in rows} == {"菱湖街道"}
    assert len(rows) >= len(mine) and {e.code for e in mine} <= {r["案件编号"] for r in rows}
    for message, code, text in [
        (
            Download(
                id=11,
                report="export",
                format="xlsx",
                first="2026-11-24",
                last="2026-11-25",
                street=[DEKUAN],
            ),
            "forbidden",
            f"street {DEKUAN} is outside your jurisdiction",
        ),
        (
            Download(id=12, report="export", format="pdf", first="2026-11-24", last="2026-11-25"),
            "bad_args",
            "an export is csv or xlsx, not pdf",
        ),
        (
            Download(
                id=13,
                report="export",
                format="csv",
                first="2026-11-24",
                last="2026-11-25",
                category=["99-99"],
                status=["lost"],
            ),
            "bad_args",
            "unknown category 99-99, status lost",
        ),
        (
            Download(id=14, report="export", format="csv", first="2026-11-24"),
            "bad_args",
            "an export needs its first and last day",
        ),
    ]:
        reply = await ask(street, message)
        assert isinstance(reply, Error) and (reply.code, reply.message) == (code, text)
    xlsx = await ask(
        street,
        Download(
            id=15,
            report="export",
            format="xlsx",
            first="2026-11-24",
            last="2026-11-25",
            street=[LINGHU],
        ),
    )
    assert isinstance(xlsx, Result)
    status, body, _ = await asyncio.to_thread(http_get, port, xlsx.data["path"], tokens["linghu"])
    assert status == 200 and body.startswith(b"PK")
    log = await asyncio.to_thread(world.store.admin_log, 50)
    assert [e.outcome for e in log if e.actor == "菱湖分中心"].count("ok") == 2


async def test_the_report_is_made_when_the_duty_changes_hands(world: Running) -> None:
    commander = await world.client("commander")
    await handshake(commander)
    before = world.server.state.duty
    assert before is not None
    done = await commander.command("handover", {"commander": "李红梅", "note": "接班"})
    assert isinstance(done, Result)
    made = world.server.downloads.made
    for _ in range(600):
        if ("", before.handover_at, "pdf") in made:
            break
        await asyncio.sleep(0.05)
    assert ("", before.handover_at, "html") in made and ("", before.handover_at, "pdf") in made
    assert "交接班报告" in made[("", before.handover_at, "html")].decode()


async def test_the_command_line(world: Running, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    url = world.store.url

    def run(*args: str) -> int:
        return main(["--url", url, "handover-report", *args])

    assert await asyncio.to_thread(run, "--list") == 0
    listed = capsys.readouterr().out
    assert "2026-11-24T08:30:00  to 2026-11-25 08:30" in listed and "(in force)" in listed
    out = tmp_path / "report.pdf"
    assert await asyncio.to_thread(run, str(out), "--shift", "2026-11-24T12:00") == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert "交接班报告-20261124-0830.pdf" in capsys.readouterr().out
    page = tmp_path / "report.html"
    assert await asyncio.to_thread(run, str(page)) == 0  # the last shift that ended
    assert "2026-11-24" in page.read_text(encoding="utf-8")
    assert not await asyncio.to_thread(lambda: list(tmp_path.glob(".*.part")))
    assert await asyncio.to_thread(run, str(tmp_path / "r.doc")) == 2
    assert "name a .html or .pdf file" in capsys.readouterr().err
    assert await asyncio.to_thread(run, str(page), "--shift", "2020-01-01T08:00") == 2
    assert "no shift was in force at 2020-01-01 08:00" in capsys.readouterr().err
    assert await asyncio.to_thread(run, str(page), "--shift", "tuesday") == 2
    assert "is not a time like 2026-11-24T09:40" in capsys.readouterr().err
    missing = tmp_path / "no" / "such" / "dir" / "r.html"
    assert await asyncio.to_thread(run, str(missing)) == 1
    assert "cannot write" in capsys.readouterr().err
