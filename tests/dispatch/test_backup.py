"""`dispatch backup` / `restore` / `check` on real databases (SQLite files, PostgreSQL).

The content is the database main wrote (tests/dispatch/data, schema 0001: events in every
status, alerts with images, duty, commands, users, a trimmed log), upgraded to head, with
rows added in every table that came later (admin log, duty plans, external ids, the intake
outbox, the log archive, the replay's checkpoints): a round trip must give back every row
of every table.
"""

from __future__ import annotations

import lzma
import sqlite3
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dispatch import risk_json
from dispatch.backup import BackupError, _pg_env, backup, inspect, known_revisions, restore
from dispatch.cli import main
from dispatch.health import FAIL, OK, WARN, run_checks
from dispatch.replay import make_checkpoints
from dispatch.risk import Rates, RiskModel
from dispatch.store.models import Base, ExternalIdRow, OutboxRow
from dispatch.store.store import AdminEntry, Store
from protocol.entities import DutyPlan, Person
from tests.dispatch.test_migrations import _migrate, _value, main_db, main_sqlite  # noqa: F401

both_databases = pytest.mark.parametrize("main_db", ["sqlite", "postgres"], indirect=True)
TABLES = sorted(Base.metadata.tables)


def all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (and alembic_version), as plain sorted values."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    wanted = {*TABLES, "alembic_version"}  # those of them an older schema has
    metadata.reflect(engine, only=lambda name, _: name in wanted)
    found = {}
    try:
        with engine.connect() as conn:
            for name, table in metadata.tables.items():
                rows = [tuple(_value(v) for v in row) for row in conn.execute(sa.select(table))]
                found[name] = sorted(rows, key=repr)
    finally:
        engine.dispose()
    return found


def fill(url: str) -> Store:
    """The main database upgraded to head, with rows in every later table."""
    store = Store(url)
    store.upgrade()
    now = time.time()
    store.record_admin(AdminEntry(now, "cli:root", "cli", "create_user", "x", "role wall"))
    plan = DutyPlan(
        day="2026-11-23",
        commander=Person(name="县干 李强", title="县干指挥长", phone="13800000000"),
        roster=[Person(name="钱峰", title="值班员", post="调度")],
        updated_at=now,
        updated_by="demo-admin",
    )
    store.set_duty_plan(
        plan.day, plan, audit=AdminEntry(now, "demo-admin", "admin", "plan", plan.day)
    )
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(ExternalIdRow),
            [
                {"actor": "demo-12345", "external_id": f"GD{i}", "event_id": i,
                 "code": f"DG-{i}", "at": now}
                for i in range(1, 4)
            ],
        )  # fmt: skip
        conn.execute(
            sa.insert(OutboxRow),
            [
                {"key": f"k{i}", "channel": "hotline", "peer": "city", "ref": f"GD{i}",
                 "event_id": i, "kind": "sign", "body": '{"状态": "签收"}', "state": state,
                 "attempts": i, "next_at": now, "created_at": now, "delivered_at": None,
                 "last_error": ""}
                for i, state in enumerate(("pending", "delivered", "refused"), 1)
            ],
        )  # fmt: skip
    # The writer's deadline-risk model (0012), in its JSON.
    model = RiskModel({"b": 0}, np.zeros(1), Rates(0.1, {}, {}, {}, 0), now, 0)
    store.save_risk_model(now, risk_json.dumps(model))
    head, trimmed = store.head()
    assert store.trim_log(trimmed + 10) == 10
    # The replay's checkpoints (0008), made from the log as the backend makes them.
    assert make_checkpoints(store, store.epoch(), head, every_rows=20) > 0
    return store


def test_every_table_is_filled(main_sqlite) -> None:  # noqa: F811
    store = fill(main_sqlite)
    store.close()
    rows = all_rows(main_sqlite)
    assert not {name for name, found in rows.items() if not found}
    assert set(rows) == {*TABLES, "alembic_version"}


@both_databases
def test_round_trip_loses_nothing(main_db, tmp_path, capsys) -> None:  # noqa: F811
    store = fill(main_db)
    store.close()
    before = all_rows(main_db)
    target = tmp_path / "backup.tgb"
    assert main(["--url", main_db, "backup", str(target)]) == 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert inspect(target).revision == known_revisions()[-1]
    # Changed after the backup: a new user, a new admin row.
    assert main(["--url", main_db, "create-user", "late", "--role", "wall"]) == 0
    changed = all_rows(main_db)
    assert changed != before
    capsys.readouterr()
    # Refused without --force: nothing changed.
    assert main(["--url", main_db, "restore", str(target)]) == 1
    assert "pass --force" in capsys.readouterr().err
    assert all_rows(main_db) == changed
    assert main(["--url", main_db, "restore", "--force", str(target)]) == 0
    assert all_rows(main_db) == before
    # And the restored database serves: the log and users read back.
    store = Store(main_db)
    [(_, head, trimmed)] = before["log_head"]
    assert store.is_current() and store.head() == (head, trimmed)
    users = {u.name for u in store.users()}  # the revoked one is not listed
    assert users and users < {r[1] for r in before["users"]} and "late" not in users
    store.close()


def test_a_restore_never_lowers_the_writer_fence(db_url, tmp_path) -> None:
    store = Store(db_url)
    store.upgrade()
    store.close()
    target = tmp_path / "backup.tgb"
    assert main(["--url", db_url, "backup", str(target)]) == 0  # at fence 0
    for _ in range(3):  # three writers since
        writer = Store(db_url)
        writer.take_lease()
        writer.close()
    assert main(["--url", db_url, "restore", "--force", str(target)]) == 0
    store = Store(db_url)
    try:
        # The last writer held 3: the next one gets 4, never a number a deposed one holds.
        assert store.take_lease() == 4
    finally:
        store.close()


def test_a_fresh_sqlite_file_gets_everything(main_sqlite, tmp_path) -> None:  # noqa: F811
    fill(main_sqlite).close()
    before = all_rows(main_sqlite)
    backup(main_sqlite, tmp_path / "b.db")
    fresh = tmp_path / "new" / "dispatch.db"
    fresh.parent.mkdir()
    restore(tmp_path / "b.db", f"sqlite:///{fresh}")
    assert all_rows(f"sqlite:///{fresh}") == before
    assert fresh.stat().st_mode & 0o777 == 0o600
    # A database that init-db alone made holds no data: restored into without --force.
    made = f"sqlite:///{tmp_path / 'made.db'}"
    Store(made).upgrade()
    # KPI books kept beside the replaced database by its last clean stop go with it.
    kept = tmp_path / "made.db.kpis"
    kept.write_bytes(b"books of the database being replaced")
    restore(tmp_path / "b.db", made)
    assert all_rows(made) == before
    assert not kept.exists()


def test_a_backup_taken_while_the_backend_writes_is_consistent(sqlite_url, tmp_path) -> None:
    store = Store(sqlite_url)
    store.upgrade()
    stop = threading.Event()
    written = []

    def write() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            store.record_admin(AdminEntry(time.time(), "w", "cli", "create_user", f"u{i}", ""))
            written.append(i)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 50:
            time.sleep(0.01)
        info = backup(sqlite_url, tmp_path / "live.db")
        seen = len(written)
        while len(written) < seen + 20:  # the writer went on meanwhile and after
            time.sleep(0.01)
    finally:
        stop.set()
        writer.join()
    assert info.kind == "sqlite"
    with sqlite3.connect(tmp_path / "live.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        targets = [r[0] for r in conn.execute("SELECT target FROM admin_log ORDER BY id")]
    # A prefix of what was written: every row up to one moment, none after it missing.
    assert targets == [f"u{i}" for i in range(1, len(targets) + 1)]
    assert 50 <= len(targets) <= len(written)
    store.close()


@both_databases
def test_a_backup_from_a_newer_schema_is_refused(main_db, tmp_path, capsys) -> None:  # noqa: F811
    fill(main_db).close()
    engine = sa.create_engine(main_db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    backup(main_db, tmp_path / "newer")
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE alembic_version SET version_num = '{known_revisions()[-1]}'"))
    engine.dispose()
    before = all_rows(main_db)
    assert main(["--url", main_db, "restore", "--force", str(tmp_path / "newer")]) == 1
    assert "schema is 0099, newer than this code's" in capsys.readouterr().err
    assert all_rows(main_db) == before


def test_an_older_backup_is_upgraded_after_restore(main_sqlite, tmp_path) -> None:  # noqa: F811
    backup(main_sqlite, tmp_path / "old.db")  # schema 0001, as main wrote it
    assert inspect(tmp_path / "old.db").revision == "0001"
    url = f"sqlite:///{tmp_path / 'restored.db'}"
    restore(tmp_path / "old.db", url)
    store = Store(url)
    assert store.is_current()
    store.close()


def test_restore_refuses_a_served_database_and_the_wrong_kind(main_sqlite, tmp_path) -> None:  # noqa: F811
    backup(main_sqlite, tmp_path / "b.db")
    serving = Store(main_sqlite)
    serving.claim()
    try:
        with pytest.raises(BackupError, match="another dispatch backend is serving"):
            restore(tmp_path / "b.db", main_sqlite, force=True)
    finally:
        serving.close()
    with pytest.raises(BackupError, match="restores into sqlite only"):
        restore(tmp_path / "b.db", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    (tmp_path / "junk").write_bytes(b"not a backup")
    with pytest.raises(BackupError, match="not a Tongguan backup"):
        restore(tmp_path / "junk", main_sqlite, force=True)
    with pytest.raises(BackupError, match="never overwrites"):
        backup(main_sqlite, tmp_path / "b.db")


# ---- dispatch check -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _one_look_at_the_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check looks at the writer's lock a second time, 3 s on, before failing: these
    tests' databases have no writer, and need no second look."""
    from dispatch import health

    monkeypatch.setattr(health, "WRITER_LOOK_AGAIN", 0.0)


def _levels(findings) -> dict[str, str]:
    return {f.name: f.level for f in findings}


def _finding(findings, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in findings if f.name == name)


def test_check_a_healthy_database(db_url, tmp_path) -> None:
    Store(db_url).upgrade()
    found = run_checks(db_url, tmp_path, min_free_mb=1, today=date(2026, 6, 1))
    expected = {
        "database": OK, "schema": OK, "calendar": OK, "disk": OK, "clock": OK, "outbox": OK,
        "risk model": OK,
    }  # fmt: skip
    if db_url.startswith("postgresql"):
        expected["writer"] = FAIL  # nothing serves it: no node writes
        expected["notifications"] = OK
    assert _levels(found) == expected
    if db_url.startswith("postgresql"):
        serving = Store(db_url)
        try:
            serving.claim()
            serving.take_lease()
            serving.set_endpoint("ws://writer.example:8765")
            writer = next(
                f for f in run_checks(db_url, tmp_path, min_free_mb=1) if f.name == "writer"
            )
            assert writer.level == OK and "at ws://writer.example:8765" in writer.text
        finally:
            serving.release()
            serving.close()
        writer = next(f for f in run_checks(db_url, tmp_path, min_free_mb=1) if f.name == "writer")
        assert (
            writer.level == FAIL and "no node writes" in writer.text and "has gone" in writer.text
        )
    if db_url.startswith("postgresql"):  # our clock 30 s behind the database server's
        found = run_checks(db_url, tmp_path, min_free_mb=1, now=lambda: time.time() - 30)
        assert any(f.level == FAIL and "clock +30" in f.text for f in found), found
    found = run_checks(db_url, tmp_path, min_free_mb=1, today=date(2026, 12, 1))
    assert _levels(found)["calendar"] == WARN  # 2027 not published yet: soon needed
    found = run_checks(db_url, tmp_path, min_free_mb=1, today=date(2031, 3, 1))
    assert _levels(found)["calendar"] == FAIL  # deadlines this year are guesses


@both_databases
def test_check_fails_on_each_problem(main_db, tmp_path, capsys) -> None:  # noqa: F811
    # Schema 0001: older than the code.
    found = run_checks(main_db, tmp_path, min_free_mb=1)
    assert _levels(found)["schema"] == FAIL and "calendar" not in _levels(found)
    assert main(["--url", main_db, "check", "--min-free-mb", "1"]) == 1
    assert "run `dispatch init-db`" in capsys.readouterr().out
    fill(main_db).close()  # head, with a refused feedback in the outbox
    found = run_checks(main_db, tmp_path, min_free_mb=1)
    assert _levels(found)["outbox"] == FAIL
    assert _levels(run_checks(main_db, tmp_path, min_free_mb=10**9))["disk"] == FAIL
    # Audit rows stamped a day after the clock: the clock went back.
    engine = sa.create_engine(main_db)
    with engine.connect() as conn:
        newest = conn.execute(sa.text("SELECT max(at) FROM log")).scalar()
    engine.dispose()
    found = run_checks(main_db, tmp_path, min_free_mb=1, now=lambda: newest - 86400)
    assert any(f.level == FAIL and "set back" in f.text for f in found if f.name == "clock")
    # The writer's risk model (fill keeps one, trained now): stale four hours on, and one
    # that does not read.
    assert _levels(run_checks(main_db, tmp_path, min_free_mb=1))["risk model"] == OK
    later = run_checks(main_db, tmp_path, min_free_mb=1, now=lambda: time.time() + 4 * 3600)
    assert any(f.level == WARN and "over 3 hours ago" in f.text for f in later), later
    store = Store(main_db)
    store.save_risk_model(time.time(), b'{"version": 9}')
    store.close()
    found = run_checks(main_db, tmp_path, min_free_mb=1)
    assert any(f.level == WARN and "does not read" in f.text for f in found), found
    (tmp_path / "intake.toml").write_text("[intake.nonsense]\n")
    found = run_checks(main_db, tmp_path, min_free_mb=1, config=tmp_path / "intake.toml")
    assert next(f for f in found if f.name == "intake").level == FAIL


def test_check_a_node_whose_data_directory_is_not_made_yet(pg_url, tmp_path) -> None:
    """A node on PostgreSQL may not have made its data directory (it keeps nothing there
    yet): the disk it will be made on is checked, not a failure."""
    Store(pg_url).upgrade()
    data = tmp_path / "not" / "yet"
    [disk] = [f for f in run_checks(pg_url, data, min_free_mb=1) if f.name == "disk"]
    assert disk.level == OK and f"(not made yet: at {tmp_path})" in disk.text
    assert not data.exists()  # the check makes nothing
    [disk] = [f for f in run_checks(pg_url, data, min_free_mb=10**9) if f.name == "disk"]
    assert disk.level == FAIL


def test_check_sees_a_listener_that_stopped_reading(pg_url, tmp_path, monkeypatch) -> None:
    """A session LISTENing that reads nothing holds every later notification in PostgreSQL's
    queue: the check warns, then fails (thresholds scaled down: the real queue is 8 GB)."""
    from dispatch import health

    store = Store(pg_url)
    store.upgrade()
    args, params = store.connect_args()
    stalled = psycopg.connect(*args, **params)
    sender = psycopg.connect(*args, autocommit=True, **params)
    try:
        stalled.execute(f"LISTEN {store.log_channel}")
        stalled.commit()
        # Idle in a transaction: PostgreSQL hands it nothing until it ends (an idle session
        # would be handed them into its socket's buffers, read or not).
        stalled.execute("SELECT 1")
        for _ in range(20):
            sender.execute("SELECT pg_notify(%s, %s)", (store.log_channel, "x" * 7000))
        usage = sender.execute("SELECT pg_notification_queue_usage()").fetchone()[0]
        assert usage > 0
        monkeypatch.setattr(health, "QUEUE_SHARE_FOR_ROWS", usage / 2)
        monkeypatch.setattr(health, "QUEUE_FAIL_SHARE", usage * 2)
        [found] = [
            f for f in run_checks(pg_url, tmp_path, min_free_mb=1) if f.name == "notifications"
        ]
        assert found.level == WARN and "a session listening stopped reading" in found.text
        monkeypatch.setattr(health, "QUEUE_FAIL_SHARE", usage / 2)
        [found] = [
            f for f in run_checks(pg_url, tmp_path, min_free_mb=1) if f.name == "notifications"
        ]
        assert found.level == FAIL and "fails every commit" in found.text
    finally:
        stalled.close()
        sender.close()
        store.close()


def test_check_creates_no_database(tmp_path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    assert main(["--url", url, "check"]) == 1
    assert "no database at" in capsys.readouterr().out
    assert not (tmp_path / "none.db").exists()


# ---- upgrading the schema main has today --------------------------------------------------

HEAD_DATA = Path(__file__).parent / "data" / "head-0007.sqlite.xz"


@pytest.fixture
def head_db(request, tmp_path) -> str:
    """The database at schema 0007 (main's head on 2026-12-03, make_head_db.py): the file on
    SQLite; on PostgreSQL its rows in a schema that Alembic built at 0007."""
    path = tmp_path / "head.db"
    path.write_bytes(lzma.decompress(HEAD_DATA.read_bytes()))
    sqlite = f"sqlite:///{path}"
    if request.param == "sqlite":
        return sqlite
    url: str = request.getfixturevalue("pg_url")
    _migrate(url, "0007")
    rows = all_rows(sqlite)
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=lambda name, _: name in TABLES)  # those 0007 has
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            if rows[table.name]:
                keys = table.c.keys()
                conn.execute(sa.insert(table), [dict(zip(keys, r)) for r in rows[table.name]])
            if "id" in table.c:  # as after the inserts of the code: ids go on from the last
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                    f" (SELECT max(id) FROM {table.name})) WHERE pg_get_serial_sequence("
                    f"'{table.name}', 'id') IS NOT NULL AND EXISTS (SELECT 1 FROM {table.name})"
                )
    engine.dispose()
    return url


@pytest.mark.parametrize("head_db", ["sqlite", "postgres"], indirect=True)
def test_an_upgrade_from_todays_head_keeps_every_row(head_db) -> None:
    before = all_rows(head_db)
    assert before["alembic_version"] == [("0007",)]
    assert not [name for name, rows in before.items() if not rows]  # every table has rows
    store = Store(head_db)
    store.upgrade()
    assert store.is_current()
    after = all_rows(head_db)
    # A migration after 0007 that changes what is stored says so here, table by table.
    for name, rows in before.items():
        if name == "alembic_version":
            assert after[name] == [(known_revisions()[-1],)]
        elif name in ("duty", "duty_plan"):
            # 0011: keyed by district too; the rows there were the store's district's.
            assert after[name] == [(*row, "340803") for row in rows], name
        else:
            assert after[name] == rows, name
    events, alerts, duties, _, _ = store.load_state(0.0)
    assert events and alerts and list(duties) == ["340803"]
    store.close()


def test_pg_dump_is_given_every_host_of_a_multi_host_url() -> None:
    # docs/deployment.md: the backup goes to whichever host is the primary now.
    url = make_url(
        "postgresql+psycopg://tg:s3cret@/dispatch?host=db1:5432&host=db2:5433"
        "&target_session_attrs=read-write&connect_timeout=2&options=-csearch_path%3Dx"
    )
    args, env = _pg_env(url)
    assert args == [
        "--dbname=postgresql://tg@db1:5432,db2:5433/dispatch"
        "?target_session_attrs=read-write&connect_timeout=2"
    ]
    assert env["PGPASSWORD"] == "s3cret"
    socket_dir = make_url("postgresql+psycopg://tg@/dispatch?host=/var/run/postgresql")
    assert _pg_env(socket_dir)[0] == ["--dbname=postgresql://tg@%2Fvar%2Frun%2Fpostgresql/dispatch"]
    plain = make_url("postgresql+psycopg://tg@127.0.0.1:5432/dispatch")
    assert _pg_env(plain)[0] == ["--dbname=postgresql://tg@127.0.0.1:5432/dispatch"]
