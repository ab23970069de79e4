"""The store on real SQLite files and the real PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from dispatch.state import Change
from dispatch.store.store import CommandRecord, Image, Store, StoreError, hash_token, redact_url
from protocol.entities import Event
from tests import factories


def make_event(event_id: int, status: str = "reported", street: str = "340803004") -> Event:
    return factories.make_event(event_id, status=status, street=street)


def change(event: Event, before: Event | None = None, action: str = "report") -> Change:
    return Change(
        "event", event.id, event.street, action, "tester", event.updated_at, before, event
    )


@pytest.fixture
def fresh(db_url) -> Store:
    store = Store(db_url)
    store.upgrade()
    yield store
    store.close()


def test_upgrade_is_idempotent_and_sets_epoch(fresh: Store) -> None:
    epoch = fresh.epoch()
    fresh.upgrade()
    assert fresh.epoch() == epoch and fresh.is_current()
    assert fresh.head() == (0, 0)


def test_commit_assigns_consecutive_seqs_and_updates_rows(fresh: Store) -> None:
    first = fresh.commit([change(make_event(1)), change(make_event(2))])
    assert first == 1
    e1 = make_event(1)
    accepted = Event(
        **{
            **{f: getattr(e1, f) for f in e1.__struct_fields__},
            "status": "accepted",
            "updated_at": 50.0,
        }
    )
    second = fresh.commit([change(accepted, e1, "accept")])
    assert second == 3
    rows = fresh.read_log(0)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert [r.action for r in rows] == ["report", "report", "accept"]
    events, _, _, next_event, _ = fresh.load_state(since=0)
    assert {e.id: e.status for e in events} == {1: "accepted", 2: "reported"}
    assert next_event == 3


def test_failed_commit_keeps_nothing(fresh: Store) -> None:
    fresh.commit([change(make_event(1))])
    with pytest.raises(StoreError):
        # The same new event twice violates the primary key: the whole batch is refused.
        fresh.commit([change(make_event(2)), change(make_event(1))])
    assert fresh.head() == (1, 0)
    assert [r.seq for r in fresh.read_log(0)] == [1]


def test_read_log_by_jurisdiction(fresh: Store) -> None:
    fresh.commit([change(make_event(1, street="A")), change(make_event(2, street="B"))])
    assert [r.seq for r in fresh.read_log(0, streets=frozenset({"B"}))] == [2]


def test_users_tokens_hashed(fresh: Store) -> None:
    with pytest.raises(ValueError, match="no district loaded"):
        fresh.create_user("菱湖分中心", "street", ["340803004"])
    fresh.save_units([("street", "340803004", "340803", "菱湖街道", b"{}")])
    token = fresh.create_user("菱湖分中心", "street", ["340803004"])
    assert len(token) >= 40
    user = fresh.authenticate(token)
    assert user is not None and user.role == "street" and user.streets == {"340803004"}
    assert fresh.authenticate(token + "x") is None
    with fresh.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT token_hash FROM users").scalar()
    assert stored == hash_token(token) and token not in stored
    with pytest.raises(ValueError, match="needs at least one street"):
        fresh.create_user("无辖区", "street")
    assert fresh.revoke_user("菱湖分中心")
    assert fresh.authenticate(token) is None


def test_commands_and_images_stored(fresh: Store) -> None:
    record = CommandRecord("cmd-1", "u", "report", "d" * 64, '{"ok":true}', 0, 5.0)
    alert = factories.make_alert(7)
    alert_change = Change("alert", 7, alert.street, "detect", "camera", 1.0, None, alert)
    fresh.commit(
        [change(make_event(1)), alert_change], [record], [(7, Image("image/svg+xml", b"<svg/>"))]
    )
    found = fresh.find_commands(["cmd-1", "cmd-2"])
    assert list(found) == ["cmd-1"] and found["cmd-1"].seq == 1
    assert fresh.image(7) == Image("image/svg+xml", b"<svg/>", "340803004")
    assert fresh.image(8) is None


def test_trim_log(fresh: Store) -> None:
    fresh.commit([change(make_event(i)) for i in range(1, 6)])
    assert fresh.trim_log(3) == 3
    assert fresh.head() == (5, 3)
    assert [r.seq for r in fresh.read_log(0)] == [4, 5]


def test_redact_url() -> None:
    assert "secret" not in redact_url("postgresql+psycopg://u:secret@h/db")


def test_seq_follows_commit_order_with_concurrent_writers(db_url) -> None:
    """A reader following `seq > last` never sees a later seq before an earlier one."""
    writers, batches, per_batch = 4, 40, 5
    stores = [Store(db_url) for _ in range(writers + 1)]
    stores[0].upgrade()
    total = writers * batches * per_batch
    gaps: list[tuple[int, int]] = []
    done = threading.Event()

    def write(w: int) -> None:
        for b in range(batches):
            base = (w * batches + b) * per_batch + 1
            stores[w].commit([change(make_event(base + i)) for i in range(per_batch)])

    def read() -> None:
        last = 0
        deadline = time.monotonic() + 120
        while last < total and time.monotonic() < deadline:
            rows = stores[writers].read_log(last, 1000)
            for row in rows:
                if row.seq != last + 1:
                    gaps.append((last, row.seq))
                last = row.seq
            if not rows:
                time.sleep(0.0005)  # a poller; a tight loop would starve the writers of the GIL
        done.set()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    reader = threading.Thread(target=read)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reader.join()
    assert done.is_set()
    assert gaps == []
    assert [r.seq for r in stores[0].read_log(0, total + 10)] == list(range(1, total + 1))
    for s in stores:
        s.close()


def test_arrivals_counts_every_event_in_the_window_pruned_or_not(fresh: Store) -> None:
    from dispatch import kpi

    start = 1_700_000_000.0
    events = [
        factories.make_event(1, reported_at=start - 1),  # the day before: outside
        factories.make_event(2, reported_at=start + 10, status="closed"),
        factories.make_event(3, reported_at=start + 3600 * 5 + 1, street="340803001"),
        factories.make_event(4, reported_at=start + 86400),  # the next day: outside
    ]
    fresh.commit([change(e) for e in events])
    rows = fresh.arrivals(start, start + 86400)
    assert sorted(rows) == [("340803001", start + 3600 * 5 + 1), ("340803004", start + 10)]
    counts = kpi.hourly(rows, start)
    assert counts["district"][0] == 1 and counts["district"][5] == 1
    assert sum(counts["district"]) == 2 and counts["340803001"][5] == 1
