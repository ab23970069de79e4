"""The wall window without a backend: status banner words, KPI tiles, focus and keys."""

from __future__ import annotations

import time

import msgspec
import pytest
from PySide6.QtCore import QCoreApplication, QSize, Qt
from PySide6.QtGui import QFontMetricsF

import desktop.core.feed
from desktop.core.district_time import clock_text
from desktop.core.link import Inbox
from desktop.core.replica import Changes, Replica
from desktop.core.session import LONGEST_NODE_NAME, Status
from desktop.ui.panels import calendar_notice, kpi_tiles
from desktop.ui.wall import WallWindow
from protocol.entities import OPEN_STATUSES, CalendarStatus, Kpi, Reference, Street
from protocol.messages import Delta, Kpis, Snapshot, Units
from tests.desktop.test_feed import FailsOnce
from tests.desktop.test_i18n import SCREENS, english, wall_font  # noqa: F401 (fixtures)
from tests.desktop.test_replica_stream import messages as recorded_stream
from tests.factories import make_event


def window(qtbot) -> WallWindow:
    wall = WallWindow(Replica())
    qtbot.addWidget(wall)
    return wall


def test_the_banner_tells_the_room_why_in_words(qtbot) -> None:
    wall = window(qtbot)
    wall.show()
    assert wall.banner.isVisible()  # no data yet: says so
    wall.set_status(Status(True, time.time(), time.time()))
    assert not wall.banner.isVisible()
    wall.set_status(
        Status(
            False,
            time.time(),
            time.time() - 30,
            attempt=2,
            error="[Errno 111] Connect call failed ('127.0.0.1', 1)",
        )
    )
    text = wall.banner.text()
    assert wall.banner.isVisible() and "数据截至" in text and "调度服务未响应" in text
    assert "Errno" not in text
    wall.set_status(Status(False, time.time(), 0.0, error="4001: bad token", fatal=True))
    assert "拒绝" in wall.banner.text() and "token" not in wall.banner.text()
    assert wall.header.freshness.text() == "连接中断"


def test_with_several_servers_the_wall_names_the_one_in_use_and_the_next(qtbot) -> None:
    wall = window(qtbot)
    wall.show()
    servers = ("ws://10.0.0.5:8765", "ws://10.0.0.6:8765")
    wall.set_status(
        Status(True, time.time(), time.time(), node=servers[1], nodes=2, servers=servers)
    )
    assert wall.header.freshness.full_text().endswith("· 10.0.0.6")
    wall.set_status(
        Status(
            False,
            time.time(),
            time.time() - 5,
            attempt=1,
            error="[Errno 111] Connect call failed",
            node="ws://standby.example:9000",
            nodes=2,
        )
    )
    assert "正在连接 standby.example:9000" in wall.banner.text()
    # One server: nothing of the kind.
    wall.set_status(Status(True, time.time(), time.time(), node="ws://10.0.0.6:8765"))
    assert "10.0.0.6" not in wall.header.freshness.full_text()


@pytest.mark.usefixtures("wall_font")
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", SCREENS, ids=["1080p", "4K"])
def test_the_header_names_the_server_in_use_whole_and_readable(
    qtbot, request, size: QSize, lang: str
) -> None:
    """The header's freshness names the server in use by a short name that is never cut,
    in letters readable from 5 m, beside the title, the focus and the clock, none of which
    moves or is cut for it (a calendar notice takes its room back)."""
    if lang == "en":
        request.getfixturevalue("english")
    wall = window(qtbot)
    wall.resize(size)
    wall._lay_out(size)
    wall.show()
    header = wall.header
    header.title.set_full_text(wall.tr("%s智慧联动中心 · 一网统管") % "大观区")
    header.set_scope(wall.tr("菱湖街道") + wall.tr("（轮巡）"))
    placed = {name: getattr(header, name).geometry() for name in ("title", "scope", "clock")}
    fresh = header.freshness
    least = size.height() / 60
    assert QFontMetricsF(fresh.font()).capHeight() >= least

    def shows(node: str, servers: tuple[str, ...], age: float = 0.4) -> str:
        now = time.time()
        wall.set_status(Status(True, now, now - age, node=node, nodes=2, servers=servers))
        assert not fresh.is_elided(), fresh.full_text()
        for name, rect in placed.items():
            part = getattr(header, name)
            assert part.geometry() == rect, name  # nothing moves for the server's name
            assert not part.is_elided(), part.full_text()
        scope, clock = header.scope.geometry(), header.clock.geometry()
        assert scope.right() < fresh.geometry().left()
        assert fresh.geometry().right() < clock.left()
        return fresh.text()

    # Only the ports differ (one machine): the port.
    on_one = ("ws://127.0.0.1:18766", "ws://127.0.0.1:18767")
    assert shows(on_one[1], on_one).endswith(" · :18767")
    assert shows(on_one[0], on_one).endswith(" · :18766")  # moving changes what is seen
    # Two machines, stale for most of an hour: the address whole.
    hosts = ("ws://10.0.0.20:8765", "ws://10.0.0.21:8765")
    assert shows(hosts[1], hosts, age=50 * 60).endswith(" · 10.0.0.21")
    # Neither tells them apart: the place in the --server list.
    mixed = ("ws://a:1", "ws://a:2", "ws://b:1")
    assert shows(mixed[1], mixed).endswith(" · 节点2" if lang == "zh" else " · Node 2")
    # The longest name shown whole; a longer one would be cut: numbered.
    longest = ("ws://" + "m" * LONGEST_NODE_NAME, "ws://" + "w" * LONGEST_NODE_NAME)
    assert shows(longest[1], longest, age=50 * 60).endswith(" · " + "w" * LONGEST_NODE_NAME)
    addresses = ("ws://192.168.100.200:8765", "ws://192.168.100.201:8765")
    assert shows(addresses[1], addresses).endswith(" · 192.168.100.201")
    long = ("ws://tongguan-node-01:8765", "ws://tongguan-node-02:8765")
    assert shows(long[1], long).endswith(" · 节点2" if lang == "zh" else " · Node 2")
    # A calendar notice takes its room back from the freshness, both whole.
    header.set_notice(calendar_year_notice(2027))
    assert not header.notice.is_elided(), header.notice.full_text()
    assert header.notice.geometry().right() < fresh.geometry().left()
    assert shows(hosts[1], hosts, age=50 * 60).endswith(" · 10.0.0.21")
    # No node writes (a gateway's `kpis`): said whole beside the server's name.
    wall.replica.apply(Kpis(at=1.0, scopes={}, no_writer=True))
    wall.kpi_view.show()
    assert shows(hosts[1], hosts, age=50 * 60).endswith(" · 10.0.0.21")
    assert not header.notice.is_elided(), header.notice.full_text()
    assert header.notice.geometry().right() < fresh.geometry().left()
    wall.replica.apply(Kpis(at=2.0, scopes={}))
    header.set_notice("")
    assert shows(hosts[0], hosts).endswith(" · 10.0.0.20")


def calendar_year_notice(year: int) -> str:
    """The header's notice when the calendar lacks `year` (as desktop.ui.panels words it)."""
    return QCoreApplication.translate("WallWindow", "%s年无官方日历，期限为估算") % year


def test_servers_come_as_a_list_repeated_or_comma_separated() -> None:
    from desktop.app import parse_args, parse_desk_args

    args = parse_args(["--server", "ws://a:8765, ws://b:8765", "--server", "ws://c:9000"])
    assert args.servers == ["ws://a:8765", "ws://b:8765", "ws://c:9000"]
    assert args.server == "ws://a:8765"
    assert parse_args([]).servers == [] and parse_args([]).server is None
    desk = parse_desk_args(["--server", "ws://a:8765,ws://b:8765"])
    assert desk.servers == ["ws://a:8765", "ws://b:8765"]


def test_kpi_tiles_tone_and_units() -> None:
    tiles = kpi_tiles(
        Kpi(received=10, closed=3, on_time_rate=0.8, overdue_now=2, avg_handling_minutes=150)
    )
    assert tiles["on_time"].value == "80.0%" and tiles["on_time"].tone == "alarm"
    assert tiles["overdue"].tone == "alarm" and tiles["handling"].value == "2.5 小时"
    assert kpi_tiles(Kpi())["on_time"].value == "—"


def test_flush_fills_the_queue_and_keys_move_the_focus(qtbot) -> None:
    wall = window(qtbot)
    wall.replica.events = {
        1: make_event(1, street="340803004", priority=1, reported_at=time.time()),
        2: make_event(2, street="340803001"),
    }
    wall.coalescer.push(Changes(reset=True, events={1, 2}))
    wall.coalescer.flush()
    assert wall.queue_panel.count.text() == ""  # no snapshot yet: no count
    wall.replica.epoch = "e1"  # as a snapshot sets it
    wall.coalescer.push(Changes(reset=True, events={1, 2}))
    wall.coalescer.flush()
    assert wall.queue_view.model.rowCount() == 2
    assert wall.queue_panel.count.text() == "2 件"
    wall.set_focus("340803004")
    assert wall.queue_view.model.rowCount() == 1 and wall.street_filter.currentData() in ("", None)
    qtbot.keyClick(wall, Qt.Key.Key_Escape)
    assert wall.focus_street == "" and wall.queue_view.model.rowCount() == 2
    muted = wall.chime.muted
    qtbot.keyClick(wall, Qt.Key.Key_M)
    assert wall.chime.muted is not muted


def test_the_tour_holds_while_someone_uses_the_keyboard(qtbot) -> None:
    wall = window(qtbot)
    wall.show()
    wall.start_tour(20)
    assert wall.tour is not None and not wall.tour.paused
    qtbot.keyClick(wall, Qt.Key.Key_Down)  # a key at the wall (its parts take no focus)
    assert wall.tour.paused and wall.tour.reason == "operator"
    wall._show_scope()
    assert "操作中" in wall.header.scope.full_text()
    qtbot.keyClick(wall, Qt.Key.Key_T)  # T stops the tour
    assert wall.tour is None and "轮巡" not in wall.header.scope.full_text()


def failing_wall(qtbot, bad: int, resync) -> tuple[WallWindow, Inbox, list, int, list]:
    """A wall on the recorded stream whose replica trips on delta number `bad`; with the
    stream, the index of its snapshot and the deltas after it."""
    stream = recorded_stream()
    at = next(i for i, m in enumerate(stream) if isinstance(m, Snapshot))
    deltas = [m for m in stream[at + 1 :] if isinstance(m, Delta)]
    wall = WallWindow(FailsOnce(bad_seq=deltas[bad].seq))
    qtbot.addWidget(wall)
    inbox = Inbox(lambda: None)
    wall.listen(inbox, resync=resync)
    return wall, inbox, stream, at, deltas


def test_a_message_that_cannot_be_applied_reloads_the_snapshot(qtbot, caplog, monkeypatch) -> None:
    resyncs: list[bool] = []
    wall, inbox, stream, at, deltas = failing_wall(qtbot, 10, lambda: resyncs.append(True) or True)
    start = stream[: at + 1]
    assert any(isinstance(m, Units) for m in start)
    kpis = next(m for m in stream if isinstance(m, Kpis))

    # The first batch of a connection fails part-way: what came before still counts (the
    # units: the next connection will not send them again), and what comes after but is
    # not a delta too (KPIs).
    for message in [*start, *deltas[:20], kpis]:
        inbox.put(message)
    wall.coalescer.flush()
    assert resyncs == [True] and "reloading the snapshot" in caplog.text
    assert wall.street_filter.count() == 2  # all streets + 菱湖街道: the units were shown
    assert wall.replica.seq == deltas[9].seq  # none of the old connection's deltas after it
    # The old connection's deltas still in flight are dropped until the snapshot arrives.
    for message in deltas[20:40]:
        inbox.put(message)
    wall.coalescer.flush()
    assert wall.replica.seq == deltas[9].seq and resyncs == [True]
    # No snapshot for a while: it is asked for again.
    monkeypatch.setattr(desktop.core.feed, "SNAPSHOT_PATIENCE", 0.0)
    wall._every_second()
    assert resyncs == [True, True]
    # The new connection: its snapshot (here the recorded one) and the deltas after it.
    for message in [stream[at], *deltas]:
        inbox.put(message)
    wall.coalescer.flush()
    assert wall.replica.seq == deltas[-1].seq and resyncs == [True, True]
    reference = Replica()
    reference.apply_all([stream[at], *deltas])
    assert wall.replica.events == reference.events
    shown = {wall.queue_view.model.id_at(r) for r in range(wall.queue_view.model.rowCount())}
    assert shown == {i for i, e in reference.events.items() if e.status in OPEN_STATUSES}


def test_without_a_way_to_resync_the_deltas_keep_coming(qtbot) -> None:
    # Nobody to ask for a snapshot (or the session is gone): dropping every delta from now on
    # would freeze the wall while it looks fresh.
    wall, inbox, stream, at, deltas = failing_wall(qtbot, 5, lambda: False)
    for message in [*stream[: at + 1], *deltas]:
        inbox.put(message)
    wall.coalescer.flush()
    assert wall.replica.seq == deltas[-1].seq


def test_a_snapshot_behind_the_failing_message_is_taken_at_once(qtbot) -> None:
    wall, inbox, stream, at, deltas = failing_wall(qtbot, 5, lambda: True)
    for message in [*stream[: at + 1], *deltas[:10], stream[at], *deltas]:
        inbox.put(message)
    wall.coalescer.flush()
    assert wall.replica.seq == deltas[-1].seq  # the later snapshot and its deltas applied


def test_an_urgent_case_reported_after_a_snapshot_in_the_same_frame_rings(qtbot) -> None:
    stream = recorded_stream()
    snapshot = next(m for m in stream if isinstance(m, Snapshot))
    now = time.time()
    wall = WallWindow(Replica(), clock=lambda: now)
    qtbot.addWidget(wall)
    wall.chime.muted = False
    inbox = Inbox(lambda: None)
    wall.listen(inbox)
    urgent = make_event(10**6, priority=1, reported_at=now - 5)
    inbox.put(snapshot)  # a reconnect's snapshot and a new 特急 case right behind it
    inbox.put(Delta(seq=snapshot.seq + 1, action="report", actor="x", at=now, data=urgent))
    wall.coalescer.flush()
    assert urgent.id in wall.replica.events and wall.chime.played == 1
    # What the snapshot itself holds is its state, not news: another snapshot does not ring.
    wall.chime._last = -1e9
    inbox.put(snapshot)
    wall.coalescer.flush()
    assert wall.chime.played == 1


def test_streets_rank_by_score_then_fewer_overdue(qtbot) -> None:
    square = [[[117.0, 30.5], [117.01, 30.5], [117.01, 30.51], [117.0, 30.5]]]
    wall = window(qtbot)
    names = {"340803001": "菱湖街道", "340803002": "德宽路街道", "340803003": "海口镇"}
    wall.replica.units = Reference(
        district="340803",
        district_name="大观区",
        outline=square,
        streets=[
            Street(code=c, name=n, kind="街道", polygon=square, centre=[117.0, 30.5])
            for c, n in names.items()
        ],
        communities=[],
        grids=[],
        departments=[],
        cameras=[],
        categories=[],
    )
    wall.replica.kpis = {
        "340803001": Kpi(on_time_rate=1.0, overdue_now=5, score=96.0),
        "340803002": Kpi(on_time_rate=1.0, overdue_now=1, score=96.0),
        "340803003": Kpi(on_time_rate=0.9, overdue_now=0, score=94.0),
    }
    rows = wall.kpi_view.ranking_rows()
    assert [r.key for r in rows] == ["340803002", "340803001", "340803003"]
    assert [r.name for r in rows] == ["德宽路", "菱湖", "海口"]  # short: the bars keep room
    assert rows[0].text == "96.0分 · 超期1"


def test_partial_kpis_say_loading_instead_of_numbers(qtbot) -> None:
    wall = window(qtbot)
    wall.replica.kpis = {"district": Kpi(received=12, on_time_rate=0.01, overdue_now=741)}
    wall.replica.kpis_partial = True
    wall.kpi_view.show()
    assert wall.kpi_panel.title.text() == "正在载入今日数据…"
    assert all(tile.value == "…" for tile in kpi_tiles(Kpi(), partial=True).values())
    wall.replica.kpis_partial = False
    wall.kpi_view.show()
    assert wall.kpi_panel.title.text().startswith("今日指标")


def test_while_no_node_writes_the_header_says_so(qtbot) -> None:
    """A gateway's `kpis` say no node writes (protocol §4.3): the room is told that cases
    wait, in the header's standing notice, until a `kpis` says a writer is back."""
    from protocol.messages import Kpis

    wall = window(qtbot)
    wall.replica.apply(Kpis(at=1.0, scopes={}, no_writer=True))
    wall.kpi_view.show()
    assert wall.header.notice.full_text() == "暂无主节点，案件办理暂停"
    assert wall.header.notice.isVisibleTo(wall)
    wall.replica.apply(Kpis(at=2.0, scopes={}))
    wall.kpi_view.show()
    assert wall.header.notice.full_text() == ""


def test_a_missing_calendar_year_is_said_in_the_header_when_a_deadline_reaches_it() -> None:
    square = [[[117.0, 30.5], [117.01, 30.5], [117.01, 30.51], [117.0, 30.5]]]
    units = Reference(
        district="340803",
        district_name="大观区",
        outline=square,
        streets=[],
        communities=[],
        grids=[],
        departments=[],
        cameras=[],
        categories=[],
        calendar=CalendarStatus(official=[2025, 2026], estimated=[2027], missing=[2027]),
    )
    guessed = [make_event(1, status="handling", calendar_guess=True)]
    assert calendar_notice(units, guessed) == "2027年无官方日历，期限为估算"
    assert calendar_notice(units, [make_event(1, status="handling")]) == ""  # nothing reaches it
    units.calendar = CalendarStatus(official=[2026], missing=[2027])
    assert calendar_notice(units, guessed) == "2027年缺日历，期限按周末推算"
    units.calendar = CalendarStatus(official=[2026, 2027])
    assert calendar_notice(units, guessed) == ""


def test_the_header_clock_is_the_district_clock(qtbot) -> None:
    wall = WallWindow(Replica(), clock=lambda: 1_800_000_000.0)
    qtbot.addWidget(wall)
    wall.header._tick()
    assert clock_text(1_800_000_000.0) == "2027-01-15  16:00:00"
    assert wall.header.clock.full_text() == "2027-01-15 16:00:00"  # one line, one space


def test_a_supervised_case_late_at_a_stage_does_not_show_time_left(qtbot) -> None:
    wall = window(qtbot)
    now = wall._clock()
    stage_late = make_event(1, status="handling", overdue=True, due_at=now + 3600)
    past_due = make_event(2, status="handling", due_at=now - 600)
    assert wall.duty_view.lateness(stage_late, now) == "环节超期"
    assert wall.duty_view.lateness(past_due, now) == "超时10分"
    ahead = make_event(3, status="handling", due_at=now + 2 * 3600 + 15 * 60)
    assert wall.duty_view.lateness(ahead, now) == "剩2时15分"


def test_the_wall_masks_phone_numbers_in_its_panels_its_case_card_and_grid_card(qtbot) -> None:
    from protocol.entities import Duty, Grid, Person
    from tests.desktop.test_views import SQUARE, reference

    wall = window(qtbot)
    wall.show()
    grid = Grid(
        code="340803004001001",
        name="第一网格",
        community="340803004001",
        street="340803004",
        polygon=SQUARE,
        centre=[117.0, 30.5],
        worker="王芳",
        worker_phone="138-1234-5678",
        leader="赵刚",
    )
    wall.replica.apply(Units(version="1", reference=reference(grids=[grid])))
    wall.replica.duty = Duty(
        day="2026-11-22",
        commander=Person(name="王建国", title="副区长", post="县干指挥长", phone="13905621234"),
        roster=[Person(name="李明", title="副主任", post="带班领导", phone="0556-5551234")],
        handover_at=0.0,
    )
    wall.replica.events = {
        1: make_event(1, consulting=True, title="张先生13812345678反映噪音扰民"),
    }
    wall.coalescer.push(Changes(reset=True, units=True, events={1}, duty=True))
    wall.coalescer.flush()
    # What the panel draws and what its tooltips say (a case's whole title, a person's phone).
    texts = " ".join(wall.duty.texts() + [hit.tip for hit in wall.duty._hits])
    assert "139****1234" in texts and "055****1234" in texts
    assert "张先生138****5678反映噪音扰民" in texts
    assert not any(number in texts for number in ("13905621234", "5551234", "12345678"))
    # A click on the case's marker opens the case, its phone numbers masked there too.
    wall.map.markerClicked.emit("e1")
    assert wall.case_view.isVisible() and wall.case_view.event_id == 1
    assert wall.case_view.sheet.card.title.text() == "张先生138****5678反映噪音扰民"
    wall.case_view.close_case()
    wall.map.markerClicked.emit("c34080300001320000002")  # a camera: not a case
    assert not wall.case_view.isVisible()
    # A click on the grid shows its card, the grid worker's phone masked.
    wall.map.areaClicked.emit("340803004001001")
    assert wall.grid_details.isVisible() and "第一网格" in wall.grid_details.title.text()
    people = wall.grid_details.people.text()
    assert "王芳" in people and "138****5678" in people and "1234-5678" not in people


def test_the_wall_starts_calm_dark_with_the_outline_and_no_numbers(qtbot) -> None:
    """Before the first connection has been tried: a calm note, not 连接中断; the map's view in
    the wall's colour before its page draws, then the district's outline; no counts, no
    empty figures; the first snapshot brings them all."""
    import json

    from desktop.core import outline
    from desktop.ui import theme

    wall = window(qtbot)
    wall.show()
    assert wall.map.page().backgroundColor().name() == theme.BACKGROUND  # never white
    assert wall.banner.isVisible() and wall.banner.calm
    assert wall.banner.text() == "正在连接调度服务…"
    assert wall.header.freshness.text() == "正在连接…"
    assert wall.queue_panel.count.text() == "" and wall.alert_panel.count.text() == ""
    assert not wall.alerts_empty.isVisible()
    assert not any(p.isVisible() for p in (wall.duty, wall.trend, wall.ranking))

    found = outline.bundled()
    assert found is not None and found[0] == "340803"
    wall.map_view.show_outline(*found)
    qtbot.waitUntil(lambda: wall.map.is_ready, timeout=30_000)
    counted: list[dict] = []
    wall.map.page().runJavaScript(
        "JSON.stringify(window.tg.counts())", 0, lambda v: counted.append(json.loads(v))
    )
    qtbot.waitUntil(lambda: bool(counted), timeout=5000)
    assert counted[0]["areas"] == 1 and counted[0]["markers"] == 0  # the outline alone

    inbox = Inbox(lambda: None)
    wall.listen(inbox)
    stream = recorded_stream()
    at = next(i for i, m in enumerate(stream) if isinstance(m, Snapshot))
    for message in stream[: at + 1]:
        inbox.put(message)
    inbox.put(Status(True, time.time(), time.time()))
    wall.coalescer.flush()
    assert not wall.banner.isVisible()
    assert all(p.isVisible() for p in (wall.duty, wall.trend, wall.ranking))
    assert wall.queue_panel.count.text().endswith("件")
    assert wall.alert_panel.count.text().endswith("条待处理")


def test_a_restarting_backend_is_said_in_words_and_the_data_time_is_the_districts(qtbot) -> None:
    from desktop.core.supervisor import BackendState

    wall = window(qtbot)
    wall.show()
    wall.set_backend(BackendState("starting"))
    assert wall.banner.calm and wall.banner.text() == "正在连接调度服务…"
    wall.set_status(Status(True, time.time(), time.time()))
    wall.replica._hear_clock(1_764_036_000.0)  # a KPI push at 2025-11-25 10:00:00 district
    lost = time.time()
    wall.set_status(Status(False, lost, lost, attempt=1, error="connection closed (1006)"))
    wall.set_backend(BackendState("restarting", 1, "exited", exit_code=-9))
    text = wall.banner.text()
    assert not wall.banner.calm and "调度服务重启中，第 1 次" in text and "意外退出" in text
    assert "数据截至 10:00:0" in text  # the district's time, as the header's clock
    wall.set_backend(BackendState("restarting", 2, "failed"))
    assert "第 2 次" in wall.banner.text() and "上次重启未成功" in wall.banner.text()
    wall.set_backend(BackendState("ready", 2, url="ws://127.0.0.1:1"))
    assert "调度服务已重启，正在恢复数据" in wall.banner.text()
    wall.set_status(Status(True, time.time(), time.time()))
    assert not wall.banner.isVisible()


def test_each_status_filter_lists_only_what_it_says_and_overdue_and_deadline_order(qtbot) -> None:
    from desktop.ui.models import STATUS_TEXT, text
    from desktop.ui.panels import OVERDUE

    now = 1_800_000_000.0
    clock = [now]
    wall = WallWindow(Replica(), clock=lambda: clock[0])
    qtbot.addWidget(wall)
    statuses = ["reported", "accepted", "dispatched", "handling", "handled", "verified"]
    events = {
        i: make_event(i, status=status, deadline=now + (7 - i) * 600, reported_at=now - i)
        for i, status in enumerate(statuses, start=1)
    }
    events[7] = make_event(7, status="handling", due_at=now - 60, deadline=now + 50_000)
    events[8] = make_event(8, status="dispatched", due_at=now + 30, deadline=now + 30)
    events[9] = make_event(9, status="closed")
    wall.replica.events = events
    wall.replica.epoch = "e"  # as a snapshot leaves it: the counts are known
    wall.coalescer.push(Changes(reset=True, events=set(events)))
    wall.coalescer.flush()
    model = wall.queue_view.model

    def shown() -> list[int]:
        return [model.id_at(row) or 0 for row in range(model.rowCount())]

    names = [wall.status_filter.itemText(i) for i in range(wall.status_filter.count())]
    assert names == ["全部在办", "待受理", "已受理", "已派遣", "处置中", "已处置", "已核查", "超期"]
    for index, name in enumerate(names):
        wall.status_filter.setCurrentIndex(index)
        chosen = wall.status_filter.itemData(index)
        rows = [events[i] for i in shown()]
        if chosen is None:
            assert sorted(shown()) == [1, 2, 3, 4, 5, 6, 7, 8]  # every open case
        elif chosen == OVERDUE:
            assert shown() == [7]
        else:  # the filter's name is the very word its rows show: 待核查 no longer lists 已核查
            assert rows and {text(STATUS_TEXT, e.status) for e in rows} == {name}
        assert wall.queue_panel.count.text() == f"{len(rows)} 件"
    # A case going late while 超期 is chosen joins the list within the second.
    clock[0] = now + 60
    wall._every_second()
    assert sorted(shown()) == [7, 8]
    # By deadline: the nearest first, the one long past its closure deadline by its own.
    wall.status_filter.setCurrentIndex(0)
    wall.queue_order.setCurrentIndex(wall.queue_order.findData("deadline"))
    deadlines = [events[i].deadline for i in shown()]
    assert deadlines == sorted(deadlines) and shown()[0] == 8
    wall.queue_order.setCurrentIndex(wall.queue_order.findData("priority"))
    assert shown() == sorted(
        shown(), key=lambda i: (events[i].priority, -events[i].reported_at, -i)
    )


def test_what_is_not_from_today_carries_its_date(qtbot) -> None:
    from desktop.core.district_time import moment
    from desktop.ui.models import AlertFeedModel
    from protocol.entities import Decision, Duty, Person
    from tests.factories import make_alert

    today = 1_800_000_000.0  # 2027-01-15 16:00 in the district
    wall = WallWindow(Replica(), clock=lambda: today)
    qtbot.addWidget(wall)
    assert moment(today - 3600, today) == "15:00"
    assert moment(today - 86400, today) == "01-14 16:00"
    wall.replica.alerts = {
        1: make_alert(1, last_at=today - 600),
        2: make_alert(2, last_at=today - 86400 - 600),
    }
    wall.coalescer.push(Changes(reset=True, alerts={1, 2}))
    wall.coalescer.flush()
    model = wall.alert_view.model
    times = [model.data(model.index(r, 0), AlertFeedModel.TIME_ROLE) for r in range(2)]
    assert times == ["15:50", "01-14 15:50"]
    boss = Person(name="王建国", title="副区长", post="县干指挥长")
    wall.replica.duty = Duty(
        day="2027-01-15",
        commander=boss,
        roster=[],
        handover_at=0.0,
        instructions=[
            Decision(at=today - 60, by="王建国", text="今天的"),
            Decision(at=today - 86400, by="王建国", text="昨天的"),
        ],
    )
    wall.duty_view.show()
    texts = wall.duty.texts()
    assert "15:59" in texts and "01-14 16:00" in texts


def test_while_the_backend_replays_the_day_the_duty_panel_waits_like_the_kpis(qtbot) -> None:
    """A fresh start's snapshot is partial (the simulator replays the day): the duty would
    read as yesterday's, so the duty panel, the trend and the ranking wait, as the KPIs do,
    until the backend has caught up."""
    wall = window(qtbot)
    wall.show()
    inbox = Inbox(lambda: None)
    wall.listen(inbox)
    stream = recorded_stream()
    at = next(i for i, m in enumerate(stream) if isinstance(m, Snapshot))
    snapshot = stream[at]
    assert isinstance(snapshot, Snapshot)
    for message in [*stream[:at], msgspec.structs.replace(snapshot, kpis_catching_up=True)]:
        inbox.put(message)
    wall.coalescer.flush()
    assert wall.replica.kpis_partial and wall.replica.events
    assert not any(p.isVisible() for p in (wall.duty, wall.trend, wall.ranking))
    wall.replica.kpis_partial = False  # as the next KPI push says once caught up
    wall.coalescer.push(Changes(kpis=True))
    wall.coalescer.flush()
    assert all(p.isVisible() for p in (wall.duty, wall.trend, wall.ranking))


def test_while_the_backend_replays_the_day_no_row_or_count_of_it_shows(qtbot) -> None:
    """A fresh start's state is a part of the day for a few seconds (the backend replays
    it): the queue's rows and the alert cards are covered by a calm note, with no count in
    their title bars, and the map (a real page) shows the district without a case or a
    cluster count; nothing moves meanwhile. Once the backend has caught up it all shows."""
    import json

    from PySide6.QtCore import QPoint, QRect

    def page_counts() -> dict:
        counted: list[dict] = []
        wall.map.page().runJavaScript(
            "JSON.stringify(window.tg.counts())", 0, lambda v: counted.append(json.loads(v))
        )
        qtbot.waitUntil(lambda: bool(counted), timeout=5000)
        return counted[0]

    def places() -> dict[str, QRect]:
        parts = {
            "queue": wall.queue,
            "alerts": wall.alerts,
            "queue panel": wall.queue_panel,
            "alert panel": wall.alert_panel,
            "map": wall.map,
        }
        return {k: QRect(w.mapTo(wall, QPoint(0, 0)), w.size()) for k, w in parts.items()}

    wall = window(qtbot)
    wall.show()
    qtbot.waitUntil(lambda: wall.map.is_ready, timeout=30_000)
    before = places()
    inbox = Inbox(lambda: None)
    wall.listen(inbox)
    stream = recorded_stream()
    at = next(i for i, m in enumerate(stream) if isinstance(m, Snapshot))
    snapshot = stream[at]
    assert isinstance(snapshot, Snapshot) and snapshot.events and snapshot.alerts
    for message in [*stream[:at], msgspec.structs.replace(snapshot, kpis_catching_up=True)]:
        inbox.put(message)
    inbox.put(Status(True, time.time(), time.time()))
    wall.coalescer.flush()
    assert wall.replica.syncing and wall.queue_view.model.rowCount() > 0

    for view, cover in ((wall.queue, wall.queue_cover), (wall.alerts, wall.alerts_cover)):
        assert cover.isVisible() and cover.text() == "正在同步…"
        assert cover.geometry() == view.viewport().rect()  # all of the rows, nothing else
    assert wall.queue.horizontalHeader().isVisible()  # the columns keep their place
    assert wall.queue_panel.count.text() == "" and wall.alert_panel.count.text() == ""
    assert not wall.alerts_empty.isVisible()
    # A click on the note opens no case from the rows under it.
    under = wall.queue.visualRect(wall.queue_view.model.index(0, 2)).center()
    qtbot.mouseClick(wall.queue_cover, Qt.MouseButton.LeftButton, pos=under)
    assert not wall.case_view.isVisible()
    # The map: the units (grids, cameras), no case, no cluster; a note says why.
    wall.map_view.pump.flush()
    qtbot.waitUntil(lambda: page_counts()["areas"] > 0, timeout=5000)
    counts = page_counts()
    assert counts["clustered"] == 0 and counts["markers"] == counts["statics"]
    assert wall.map_note.isVisible() and wall.map_note.text() == "正在同步…"
    assert places() == before

    inbox.put(Kpis(at=time.time(), scopes=snapshot.kpis, catching_up=False))  # caught up
    wall.coalescer.flush()
    assert not wall.replica.syncing
    assert not wall.queue_cover.isVisible() and not wall.alerts_cover.isVisible()
    assert wall.queue_panel.count.text().endswith("件")
    assert wall.alert_panel.count.text().endswith("条待处理")
    assert not wall.map_note.isVisible()
    wall.map_view.pump.flush()
    qtbot.waitUntil(lambda: page_counts()["clustered"] > 0, timeout=5000)
    assert places() == before
