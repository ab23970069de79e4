"""The event queue model under pytest-qt's model tester, fed the way the coalescer feeds it."""

from __future__ import annotations

import random
import time

import pytest

from desktop.core.replica import Changes, Replica
from desktop.ui.coalescer import Coalescer
from desktop.ui.models import AMBER, RED, EventQueueModel, countdown
from protocol.entities import is_overdue
from protocol.messages import Delta
from tests.factories import make_event


def replica_with(events) -> Replica:
    replica = Replica()
    replica.events = {e.id: e for e in events}
    replica.epoch = "e"
    return replica


def rows(model: EventQueueModel) -> list[int]:
    return [model.data(model.index(r, 0), EventQueueModel.ID_ROLE) for r in range(model.rowCount())]


def test_order_is_urgent_then_newest(qtmodeltester) -> None:
    replica = replica_with(
        [
            make_event(1, priority=3, reported_at=10.0),
            make_event(2, priority=1, reported_at=5.0),
            make_event(3, priority=3, reported_at=20.0),
            make_event(4, status="closed", reported_at=30.0),
        ]
    )
    model = EventQueueModel(replica, clock=time.time)
    model.apply(Changes(reset=True))
    qtmodeltester.check(model)
    assert rows(model) == [2, 3, 1]  # closed events are not in the queue
    assert model.data(model.index(0, 0)) == "特急"
    from PySide6.QtCore import Qt

    assert model.headerData(4, Qt.Orientation.Horizontal) == "状态"


def test_batched_updates_keep_order_and_signal_in_blocks(qtmodeltester, qtbot) -> None:
    rng = random.Random(3)
    replica = replica_with(
        [make_event(i, priority=rng.randint(1, 4), reported_at=float(i)) for i in range(1, 201)]
    )
    model = EventQueueModel(replica, clock=time.time)
    model.apply(Changes(reset=True))
    qtmodeltester.check(model)
    inserted = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append(last - first + 1))
    changes = Changes()
    for seq in range(1, 301):
        event_id = rng.randint(1, 260)
        old = replica.events.get(event_id)
        status = rng.choice(["reported", "dispatched", "handling", "closed"])
        new = make_event(
            event_id,
            priority=rng.randint(1, 4) if old is None else old.priority,
            reported_at=float(event_id),
            status=status,
        )
        changes.merge(replica.apply(Delta(seq=seq, action="x", actor="a", at=1.0, data=new)))
    model.apply(changes)
    expected = sorted(
        (e.priority, -e.reported_at, -e.id, e.id)
        for e in replica.events.values()
        if e.status != "closed"
    )
    assert rows(model) == [e[-1] for e in expected]
    assert sum(inserted) <= len(changes.events)
    assert len(inserted) < len(changes.events)  # inserts came in blocks, not one by one


def test_filter_by_street_and_status(qtmodeltester) -> None:
    replica = replica_with(
        [
            make_event(1, street="A"),
            make_event(2, street="B"),
            make_event(3, street="A", status="closed"),
        ]
    )
    model = EventQueueModel(replica, clock=time.time)
    model.set_filter(streets=["A"], statuses=["reported", "closed"])
    qtmodeltester.check(model)
    assert sorted(rows(model)) == [1, 3]


def test_coalescer_merges_a_burst_into_one_flush(qtbot) -> None:
    coalescer = Coalescer(interval_ms=20)
    seen: list[Changes] = []
    coalescer.flushed.connect(seen.append)
    for i in range(1000):
        coalescer.push(Changes(events={i}, new_events={i}))
    qtbot.waitUntil(lambda: bool(seen), timeout=2000)
    qtbot.wait(50)
    assert len(seen) == 1 and len(seen[0].events) == 1000
    assert coalescer.flushes == 1


def test_countdown_text() -> None:
    assert countdown(None, 0) == ""
    # Hours and minutes named: "0:49" and "30:47" read alike from across a room.
    assert countdown(3600 + 125, now=0) == "1时3分"  # what is left is rounded up
    assert countdown(49 * 60, now=0) == "49分"
    assert countdown(30 * 3600 + 47 * 60, now=0) == "1天6时"
    assert countdown(3 * 86400 + 5 * 3600 + 60, now=0) == "3天5时"
    assert countdown(10, now=0) == "1分"  # never 0 while time is left
    assert countdown(0, now=90 * 60) == "超时1时30分"
    assert countdown(0, now=17 * 60 + 59) == "超时17分"  # what is past is rounded down
    assert countdown(0, now=5) == "超时1分"
    assert countdown(0, now=2 * 86400 + 3600) == "超时2天1时"


def test_alert_feed_newest_first_filtered_with_cards(qtmodeltester) -> None:
    from desktop.ui.models import AlertFeedModel
    from tests.factories import make_alert

    replica = Replica()
    replica.alerts = {
        1: make_alert(1, last_at=10.0, street="A"),
        2: make_alert(2, last_at=30.0, street="B", count=5),
        3: make_alert(3, last_at=20.0, street="A", status="dismissed"),
    }
    model = AlertFeedModel(replica)
    model.apply(Changes(reset=True))
    qtmodeltester.check(model)
    ids = [model.id_at(r) for r in range(model.rowCount())]
    assert ids == [2, 1]  # newest burst first; settled ones are not in the feed
    assert model.data(model.index(0, 0), AlertFeedModel.COUNT_ROLE) == 5
    assert model.data(model.index(0, 0), AlertFeedModel.KIND_ROLE) == "smoke_fire"  # no units
    model.set_filter(["A"], settled=True)
    assert [model.id_at(r) for r in range(model.rowCount())] == [3, 1]
    # A burst grows: the row moves to the top in one batch.
    replica.alerts[1] = make_alert(1, last_at=40.0, street="A", count=2)
    model.apply(Changes(alerts={1}))
    qtmodeltester.check(model)
    assert model.id_at(0) == 1


def test_coalescer_sends_a_lone_change_at_once_and_bursts_once_per_frame(qtbot) -> None:
    import time

    coalescer = Coalescer(interval_ms=100)
    seen: list[float] = []
    coalescer.flushed.connect(lambda _c: seen.append(time.monotonic()))
    started = time.monotonic()
    coalescer.push(Changes(events={1}))
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=1000)
    assert seen[0] - started < 0.05  # not held for a frame after a quiet spell
    for i in range(50):  # a burst right after: waits out the rest of the frame
        coalescer.push(Changes(events={i}))
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=1000)
    assert seen[1] - seen[0] >= 0.09
    qtbot.wait(150)
    assert len(seen) == 2


def test_coalescer_woken_from_another_thread_collects_its_source_once(qtbot) -> None:
    import threading

    taken: list[str] = []
    pending = {"ids": set()}
    lock = threading.Lock()

    def source() -> Changes:
        taken.append(threading.current_thread().name)
        with lock:
            ids, pending["ids"] = pending["ids"], set()
        return Changes(events=ids)

    coalescer = Coalescer(interval_ms=30, source=source)
    seen: list[Changes] = []
    coalescer.flushed.connect(seen.append)

    def session_thread() -> None:
        for i in range(500):
            with lock:
                pending["ids"].add(i)
            coalescer.wake()  # a queued signal: the flush runs on the GUI thread

    worker = threading.Thread(target=session_thread, name="session")
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: sum(len(c.events) for c in seen) == 500, timeout=2000)
    qtbot.wait(80)
    assert set(taken) == {threading.current_thread().name}
    assert len(seen) <= 2  # one flush per frame, not one per wake
    coalescer.push(Changes(duty=True))  # pushed changes and the source's go out together
    qtbot.waitUntil(lambda: len(seen) >= 2 and seen[-1].duty, timeout=1000)


def test_red_means_past_the_deadline_and_a_late_case_stays_marked() -> None:
    now = 1_800_000_000.0  # the district's clock (a demo runs it faster than the wall's)
    events = [
        make_event(1, reported_at=now - 3600, deadline=now - 60),  # past its deadline
        make_event(2, reported_at=now - 3600, deadline=now + 600),  # last quarter
        make_event(3, reported_at=now - 60, deadline=now + 3600),  # plenty of time
        # Missed a deadline, escalated, the next level's window still open.
        make_event(4, reported_at=now - 7200, deadline=now + 7000, overdue=True),
        # Past its closure deadline, not flagged yet: late as the KPI tiles count it.
        make_event(5, reported_at=now - 7200, deadline=now + 7000, due_at=now - 1),
    ]
    model = EventQueueModel(replica_with(events), clock=lambda: now)
    model.apply(Changes(reset=True, events={1, 2, 3, 4, 5}))
    deadline = EventQueueModel.COLUMNS.index("deadline")
    status = EventQueueModel.COLUMNS.index("status")
    rows = {model.id_at(r): model.row_cells(r) for r in range(model.rowCount())}
    assert rows[1][deadline].colour == RED and rows[1][deadline].text == "超时1分"
    assert rows[2][deadline].colour == AMBER and rows[2][deadline].text == "10分"
    assert rows[3][deadline].colour is None and rows[3][status].colour is None
    assert rows[4][deadline].colour is None and not rows[4][deadline].text.startswith("超")
    assert rows[4][status].colour == RED and rows[5][status].colour == RED


def test_late_means_open_and_flagged_or_past_its_closure_deadline() -> None:
    assert is_overdue(make_event(1, overdue=True), now=0.0)
    assert is_overdue(make_event(1, due_at=99.0), now=100.0)
    assert not is_overdue(make_event(1, due_at=100.0), now=100.0)  # due this very second
    assert not is_overdue(make_event(1, status="closed", overdue=True), now=0.0)
    assert not is_overdue(make_event(1, status="closed", due_at=1.0), now=100.0)


def test_a_to_do_row_paints_what_its_cells_say_and_a_search_narrows_the_rows() -> None:
    from PySide6.QtCore import Qt

    from desktop.core.case_list import Filters
    from desktop.core.todo import Me, TodoBook
    from desktop.ui.desk.todo_model import TodoModel

    now = 1_800_000_000.0
    events = [
        make_event(1, title="垃圾堆放", priority=1, due_at=now - 60),  # late: red countdown
        make_event(2, title="井盖缺失", priority=3, due_at=now + 7200),
    ]
    book = TodoBook(Me("clerk", "street", ("340803004",)))
    book.reset(events, now)
    model = TodoModel(replica_with(events), book, lambda: now)
    model.set_view("accept")
    assert model.rowCount() == 2
    for row in range(model.rowCount()):
        cells = model.row_cells(row)
        assert len(cells) == model.columnCount()
        for column, cell in enumerate(cells):
            index = model.index(row, column)
            assert cell.text == model.data(index)
            assert cell.colour == model.data(index, Qt.ItemDataRole.ForegroundRole)
            centred = model.data(index, Qt.ItemDataRole.TextAlignmentRole) is not None
            assert bool(cell.align & int(Qt.AlignmentFlag.AlignHCenter)) == centred
    due = TodoModel.COLUMNS.index("due")
    assert model.row_cells(0)[due].colour == RED and model.row_cells(0)[due].text.startswith("超")
    assert model.row_cells(5) == ()  # no such row
    model.set_view("accept", Filters(text="井盖"))
    assert [model.id_at(r) for r in range(model.rowCount())] == [2]
    model.set_view("accept", Filters(text="not there"))
    assert model.rowCount() == 0


def test_the_todo_model_switches_tabs_orders_and_filters_from_kept_lists(qtbot) -> None:
    """Through random changes, every tab, order and filter shows what a fresh sort would,
    and the rows a model announced are the rows it holds."""
    from desktop.core.case_list import ORDERS, Filters, sort_key
    from desktop.core.todo import Me, TodoBook
    from desktop.ui.desk.todo_model import TodoModel

    now = 1_800_000_000.0
    rng = random.Random(3)
    replica = replica_with([])
    book = TodoBook(Me("clerk", "street", ("340803004",)))
    book.reset((), now)
    model = TodoModel(replica, book, lambda: now)
    model.set_view("accept", Filters(), "deadline")
    model.rebuild()
    while model.build_kept():  # what the idle timer does
        pass
    announced = list(model.rows.ids)

    def removed(_parent: object, first: int, last: int) -> None:
        del announced[first : last + 1]

    def inserted(_parent: object, first: int, _last: int) -> None:
        announced.insert(first, model.id_at(first))

    model.rowsRemoved.connect(removed)
    model.rowsInserted.connect(inserted)
    model.modelReset.connect(lambda: announced.__setitem__(slice(None), model.rows.ids))
    for step in range(600):
        ids = {rng.randrange(80) for _ in range(rng.randint(1, 4))}
        for event_id in ids:
            event = make_event(
                event_id,
                status=rng.choice(("reported", "accepted", "dispatched")),
                priority=rng.randint(1, 4),
                reported_at=now - rng.randrange(86400),
                due_at=now + rng.randrange(-3600, 86400),
            )
            replica.events[event_id] = event
            book.update(event_id, event, now)
        model.apply(ids)
        assert announced == model.rows.ids
        if step % 50 == 0:
            tab = rng.choice(("accept", "dispatch", "working", "overdue"))
            order = rng.choice(ORDERS)
            urgent = rng.random() < 0.5
            model.set_view(tab, Filters(urgent_only=urgent), order)
            fresh = sorted(
                (i for i in book.ids(tab) if not urgent or replica.events[i].priority <= 2),
                key=lambda i, o=order: sort_key(replica.events[i], o),
            )
            assert model.rows.ids == fresh, (tab, order, urgent)


def test_coalescer_stretches_its_frame_when_the_gui_thread_is_busy(qtbot) -> None:
    """While the GUI thread idles, changes go out every few ms; a frame that kept the thread
    busy for 30 ms (its CPU time) makes the next flush wait twice that (capped at the
    longest), so under load the stream keeps to about half of the thread."""
    coalescer = Coalescer(interval_ms=8, longest_ms=50)
    seen: list[float] = []
    cost = {"s": 0.0}

    def subscriber(_changes: Changes) -> None:
        seen.append(time.monotonic())
        busy_until = time.thread_time() + cost["s"]
        while time.thread_time() < busy_until:  # CPU time, as a repaint spends it
            pass

    coalescer.subscribe(subscriber)
    for n in range(1, 4):
        pushed = time.monotonic()
        coalescer.push(Changes(events={n}))
        qtbot.waitUntil(lambda n=n: len(seen) == n, timeout=1000)
        assert seen[-1] - pushed < 0.02  # idle: out at once, or within the short frame
    cost["s"] = 0.030
    coalescer.push(Changes(events={10}))
    qtbot.waitUntil(lambda: len(seen) == 4, timeout=1000)
    cost["s"] = 0.0
    coalescer.push(Changes(events={11}))  # right after a busy frame: waits 50 ms, not 8
    qtbot.waitUntil(lambda: len(seen) == 5, timeout=1000)
    assert seen[4] - seen[3] >= 0.048
    assert coalescer.gap == pytest.approx(0.050)
    qtbot.wait(60)
    pushed = time.monotonic()
    coalescer.push(Changes(events={12}))  # idle again: at once
    qtbot.waitUntil(lambda: len(seen) == 6, timeout=1000)
    assert seen[5] - pushed < 0.02


def test_the_alert_feed_holds_a_bounded_number_of_snapshots_however_fast_alerts_come(
    qtbot,
) -> None:
    """Snapshots of alerts below the first cards are dropped as soon as too many are held,
    not only at the once-a-minute tidy-up (a simulator at 1,000x brings hundreds a minute)."""
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QLabel, QListView

    from desktop.ui.models import AlertFeedModel
    from desktop.ui.panels import THUMBNAILS_KEPT, AlertView
    from tests.factories import make_alert
    from widgets.panel import Panel

    replica = Replica()
    model = AlertFeedModel(replica)
    alerts = QListView()
    panel = Panel("视频告警", alerts)
    qtbot.addWidget(panel)
    view = AlertView(replica, model, panel, alerts, QLabel(panel))
    for n in range(1, 301):
        replica.alerts[n] = make_alert(n, last_at=float(n), camera=f"cam{n}")
        view.on_flush(Changes(alerts={n}))
        view.thumbnail_loaded(n, QPixmap(16, 9))
        assert len(model.thumbnails) <= THUMBNAILS_KEPT + 1
    newest = {model.id_at(r) for r in range(10)}
    assert newest <= set(model.thumbnails)  # the cards on screen keep theirs
