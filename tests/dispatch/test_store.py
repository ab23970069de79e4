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


def test_state_loads_back_every_character_as_stored(fresh: Store) -> None:
    """load_state reads the documents as UTF-8 bytes (a bulk read's fast path): Chinese,
    emoji, quotes and escapes come back exactly as they were written."""
    text = '宜纺社区 "非机动车" 乱停放\\n😀 <b>&amp;</b> \u2028'
    written = Event(
        **{
            **{f: getattr(make_event(7), f) for f in make_event(7).__struct_fields__},
            "title": text,
            "description": text * 3,
        }
    )
    fresh.commit([change(written)])
    events, *_ = fresh.load_state(since=0)
    assert events == [written]


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


def test_the_writer_commits_on_its_own_connection_with_every_pooled_one_taken(
    fresh: Store,
) -> None:
    """Readers holding all of the pool (10 connections) never make a commit wait: before,
    the writer queued behind them for up to the pool's 30 s timeout."""
    held = [fresh.engine.connect() for _ in range(10)]
    try:
        began = time.monotonic()
        assert fresh.commit([change(make_event(1))]) == 1
        assert time.monotonic() - began < 2.0
    finally:
        for conn in held:
            conn.close()
    assert [r.seq for r in fresh.read_log(0)] == [1]


def test_failed_commit_keeps_nothing(fresh: Store) -> None:
    fresh.commit([change(make_event(1))])
    with pytest.raises(StoreError):
        # The same new event twice violates the primary key: the whole batch is refused.
        fresh.commit([change(make_event(2)), change(make_event(1))])
    assert fresh.head() == (1, 0)
    assert [r.seq for r in fresh.read_log(0)] == [1]


def test_read_log_by_jurisdiction(fresh: Store) -> None:
    fresh.commit([change(make_event(1, street="A")), change(make_event(2, street="B"))])
    assert [r.seq for r in fresh.read_log(0, jurisdiction=frozenset({"B"}))] == [2]


def test_users_tokens_hashed(fresh: Store) -> None:
    with pytest.raises(ValueError, match="no district loaded"):
        fresh.create_user("菱湖分中心", "street", ["340803004"])
    fresh.save_units([("street", "340803004", "340803", "菱湖街道", b"{}")])
    token = fresh.create_user("菱湖分中心", "street", ["340803004"])
    assert len(token) >= 40
    user = fresh.authenticate(token)
    assert user is not None and user.role == "street" and user.jurisdiction == {"340803004"}
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
    assert fresh.image(7) == Image("image/svg+xml", b"<svg/>", "340803004", "340803004001001")
    assert fresh.image(8) is None


def commit_lifecycles(fresh: Store, events: int = 3) -> None:
    """Each event reported, accepted and dispatched, interleaved: 3 audit rows per event."""
    steps = ["reported", "accepted", "dispatched"]
    for step, status in enumerate(steps):
        batch = []
        for i in range(1, events + 1):
            after = factories.make_event(i, status=status, updated_at=10.0 * step + i)
            before = None if step == 0 else factories.make_event(i, status=steps[step - 1])
            batch.append(change(after, before, ["report", "accept", "dispatch"][step]))
        fresh.commit(batch)


def _audit_rows(store: Store, table: str) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(f"SELECT * FROM {table} ORDER BY seq")]


def test_trim_log_moves_rows_to_the_archive(fresh: Store) -> None:
    commit_lifecycles(fresh)
    original = _audit_rows(fresh, "log")
    assert fresh.trim_log(4, chunk=3) == 4
    assert fresh.head() == (9, 4)
    # The very rows, every column, each in exactly one of the two tables.
    assert _audit_rows(fresh, "log_archive") == original[:4]
    assert _audit_rows(fresh, "log") == original[4:]
    assert [r.action for r in fresh.event_history(1)] == ["report", "accept", "dispatch"]
    assert fresh.trim_log(2) == 0 and fresh.head() == (9, 4)  # never moves `trimmed` back
    assert fresh.trim_log(9) == 5 and _audit_rows(fresh, "log") == []
    assert _audit_rows(fresh, "log_archive") == original


def test_trim_log_refuses_a_bound_outside_the_log(fresh: Store) -> None:
    commit_lifecycles(fresh)
    for upto in (-1, 10):
        with pytest.raises(ValueError, match=f"cannot archive up to seq {upto}"):
            fresh.trim_log(upto)
    assert fresh.head() == (9, 0) and len(_audit_rows(fresh, "log")) == 9


def test_trim_then_history_shows_the_whole_trail(fresh: Store, capsys) -> None:
    from dispatch.cli import main

    commit_lifecycles(fresh)
    code = main(["--url", fresh.url, "history", "2"])
    before_trim = capsys.readouterr().out
    assert code == 0 and len(before_trim.splitlines()) == 4  # a header, then three steps
    assert before_trim.startswith("event DG-")
    assert main(["--url", fresh.url, "trim-log", "--keep", "2"]) == 0
    assert "archived 7 log rows up to seq 7" in capsys.readouterr().out
    assert main(["--url", fresh.url, "history", "2"]) == 0
    assert capsys.readouterr().out == before_trim  # seq order: archive, then live rows
    assert [r.seq for r in fresh.event_history(2)] == [2, 5, 8]
    assert main(["--url", fresh.url, "trim-log", "--keep", "2"]) == 0
    assert "nothing to archive: the log holds seqs 8 to 9" in capsys.readouterr().out


def test_trim_log_and_history_bad_input(fresh: Store, capsys, tmp_path) -> None:
    from dispatch.cli import main

    commit_lifecycles(fresh)
    for keep in ("-1", "ten"):
        with pytest.raises(SystemExit) as exit_:
            main(["--url", fresh.url, "trim-log", "--keep", keep])
        assert exit_.value.code == 2
    assert "--keep: must be 0 or more, not -1" in capsys.readouterr().err
    assert main(["--url", fresh.url, "history", "99"]) == 1
    assert "no audit trail for event 99" in capsys.readouterr().err
    bare = f"sqlite:///{tmp_path / 'bare.db'}"
    for command in (["trim-log"], ["history", "1"], ["calendar"]):
        assert main(["--url", bare, *command]) == 2
        assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "bare.db").exists()  # a read-only command creates nothing
    (tmp_path / "empty.db").touch()
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    for command in (["trim-log"], ["history", "1"], ["calendar"]):
        assert main(["--url", empty, *command]) == 2
        assert "not initialised or not current: run `dispatch init-db`" in capsys.readouterr().err
    assert fresh.head() == (9, 0) and len(_audit_rows(fresh, "log")) == 9


class Interrupt(Exception):
    """Raised inside a trim's transaction, as a crash there would stop it."""


def _interrupt_before(store: Store, statement: str, nth: int = 1) -> None:
    """Raise Interrupt when the nth statement starting with `statement` is about to run."""
    from sqlalchemy import event

    seen = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _fail(conn, cursor, sql, params, context, executemany) -> None:
        if sql.lstrip().upper().startswith(statement):
            seen.append(sql)
            if len(seen) == nth:
                raise Interrupt(statement)


@pytest.mark.parametrize("statement", ["DELETE FROM LOG", "UPDATE LOG_HEAD"])
def test_an_interrupted_trim_leaves_every_row_in_place(db_url, statement) -> None:
    """Stopped after the copy to the archive, or after the delete: the chunk rolls back."""
    store = Store(db_url)
    store.upgrade()
    commit_lifecycles(store)
    original = _audit_rows(store, "log")
    _interrupt_before(store, statement)
    with pytest.raises(StoreError, match="trim stopped at seq 0"):
        store.trim_log(6)
    assert _audit_rows(store, "log") == original
    assert _audit_rows(store, "log_archive") == []
    assert store.head() == (9, 0)
    store.close()


def test_a_trim_interrupted_between_chunks_keeps_what_it_committed(db_url) -> None:
    store = Store(db_url)
    store.upgrade()
    commit_lifecycles(store)
    original = _audit_rows(store, "log")
    _interrupt_before(store, "DELETE FROM LOG", nth=2)
    with pytest.raises(StoreError, match="trim stopped at seq 3"):
        store.trim_log(9, chunk=3)
    # The first chunk is archived and `trimmed` says so; the second is untouched.
    assert _audit_rows(store, "log_archive") == original[:3]
    assert _audit_rows(store, "log") == original[3:]
    assert store.head() == (9, 3)
    assert [r.seq for r in store.event_history(1)] == [1, 4, 7]
    store.close()
    again = Store(db_url)
    assert again.trim_log(9, chunk=3) == 6
    assert _audit_rows(again, "log_archive") == original
    again.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE log SET actor = 'someone else' WHERE seq = 5",
        "DELETE FROM log WHERE seq = 5",
        "UPDATE log_archive SET actor = 'someone else' WHERE seq = 1",
        "DELETE FROM log_archive WHERE seq = 1",
    ],
)
def test_the_audit_trail_is_append_only_in_the_database(fresh: Store, sql: str) -> None:
    from sqlalchemy.exc import DBAPIError

    commit_lifecycles(fresh)
    fresh.trim_log(3)
    rows = _audit_rows(fresh, "log"), _audit_rows(fresh, "log_archive")
    with (
        pytest.raises(DBAPIError, match="the audit log is append-only"),
        fresh.engine.begin() as conn,
    ):
        conn.exec_driver_sql(sql)
    assert (_audit_rows(fresh, "log"), _audit_rows(fresh, "log_archive")) == rows


def test_a_replay_reads_rows_a_concurrent_trim_archived(fresh: Store) -> None:
    """A replay that started at seq 2 pages on after `trim-log` moved its next rows away."""
    commit_lifecycles(fresh)
    fresh.trim_log(6)
    assert [r.seq for r in fresh.read_log(2, limit=3)] == [3, 4, 5]
    assert [r.seq for r in fresh.read_log(5, limit=3)] == [6, 7, 8]
    linghu_only = fresh.read_log(2, jurisdiction=frozenset({"340803004"}))
    assert [r.seq for r in linghu_only] == [3, 4, 5, 6, 7, 8, 9]
    assert fresh.read_log(2, jurisdiction=frozenset({"340803001"})) == []


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
