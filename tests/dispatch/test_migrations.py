"""Migrations: a database written by main at b82a89a (schema 0001) upgrades and loses nothing.

The database is tests/dispatch/data/main-b82a89a.sqlite.xz, written by that commit's code
(make_main_db.py beside it says how). On PostgreSQL the same rows are loaded into a schema
that Alembic built at 0001, as that commit's `init-db` builds it, then upgraded the same way.
"""

from __future__ import annotations

import lzma
from pathlib import Path
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext

from dispatch.app import load_reference
from dispatch.cli import main
from dispatch.store.models import Base
from dispatch.store.store import MIGRATIONS, Store
from protocol import entities
from tests.dispatch.test_store import commit_lifecycles

DATA = Path(__file__).parent / "data" / "main-b82a89a.sqlite.xz"
# The tables of schema 0001, each with the columns that order its rows.
TABLES_0001 = {
    "alembic_version": ["version_num"],
    "alert_images": ["alert_id"],
    "alerts": ["id"],
    "commands": ["command_id"],
    "duty": ["day"],
    "events": ["id"],
    "log": ["seq"],
    "log_head": ["id"],
    "meta": ["key"],
    "units": ["kind", "code"],
    "users": ["id"],
}
UNIT_TYPES: dict[str, Any] = {
    "district": list[list[list[list[float]]]],
    "street": entities.Street,
    "community": entities.Community,
    "grid": entities.Grid,
    "department": entities.Department,
    "camera": entities.Camera,
    "category": entities.Category,
}
AUDITED: dict[str, Any] = {"event": entities.Event, "alert": entities.Alert, "duty": entities.Duty}


def _migrate(url: str, revision: str, down: bool = False) -> None:
    """Alembic to `revision`, as Store.upgrade runs it (on a connection it hands over)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(cfg, revision)
    finally:
        engine.dispose()


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def _rows(url: str, tables: dict[str, list[str]] = TABLES_0001) -> dict[str, list[tuple]]:
    """Every row of every table as plain values, sorted by primary key here (collations differ)."""
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=list(tables))
    found: dict[str, list[tuple]] = {}
    try:
        with engine.connect() as conn:
            for name, order in tables.items():
                table = metadata.tables[name]
                keys = [table.c.keys().index(column) for column in order]
                rows = [tuple(_value(v) for v in row) for row in conn.execute(sa.select(table))]
                found[name] = sorted(rows, key=lambda row: tuple(row[k] for k in keys))
    finally:
        engine.dispose()
    return found


@pytest.fixture
def main_sqlite(tmp_path) -> str:
    """A copy of the database main wrote, as the SQLite file it is."""
    path = tmp_path / "main.db"
    path.write_bytes(lzma.decompress(DATA.read_bytes()))
    return f"sqlite:///{path}"


@pytest.fixture
def main_db(request, main_sqlite) -> str:
    """The database main wrote: the file on SQLite, its rows in a 0001 schema on PostgreSQL."""
    if request.param == "sqlite":
        return main_sqlite
    url: str = request.getfixturevalue("pg_url")
    _migrate(url, "0001")
    rows = _rows(main_sqlite)
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=list(TABLES_0001))
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            if name != "alembic_version" and table_rows:
                table = metadata.tables[name]
                conn.execute(sa.insert(table), [dict(zip(table.c.keys(), r)) for r in table_rows])
        # As after main's own inserts: the next user id follows the last one.
        conn.exec_driver_sql(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))"
        )
    engine.dispose()
    return url


both_databases = pytest.mark.parametrize("main_db", ["sqlite", "postgres"], indirect=True)


def test_the_fixture_is_what_main_wrote(main_sqlite) -> None:
    """Schema 0001 with real content: statuses, images, duty, users, commands, a trimmed log."""
    rows = _rows(main_sqlite)
    assert rows["alembic_version"] == [("0001",)]
    statuses = {r[2] for r in rows["events"]}
    assert {"reported", "accepted", "dispatched", "handling", "closed", "evaluated"} <= statuses
    assert {r[3] for r in rows["alerts"]} >= {"new", "confirmed", "dismissed"}
    assert len(rows["alert_images"]) == len(rows["alerts"]) > 10
    assert len(rows["duty"]) == 2 and len(rows["commands"]) >= 5 and len(rows["users"]) == 4
    [(_, head, trimmed)] = rows["log_head"]
    assert 0 < trimmed < head and [r[0] for r in rows["log"]] == list(range(trimmed + 1, head + 1))


@both_databases
def test_upgrade_from_main_loses_nothing(main_db, main_sqlite) -> None:
    before = _rows(main_sqlite)
    store = Store(main_db)
    assert not store.is_current()
    store.upgrade()
    assert store.is_current()
    after = _rows(main_db)
    head = store.head()[0]
    for name in TABLES_0001:
        if name == "alembic_version":
            assert after[name] == [(_head_revision(),)]
        elif name == "meta":
            # One fact added: where the audit rows that main's trim-log deleted end.
            trimmed = before["log_head"][0][2]
            assert after[name] == sorted([*before[name], ("audit_deleted_upto", str(trimmed))])
        elif name == "users":
            # One column added (0007): no display name for anyone yet.
            assert after[name] == [(*row, "") for row in before[name]]
        elif name == "duty":
            # Keyed by district too (0011): main's rows are its district's.
            assert after[name] == [(*row, "340803") for row in before[name]]
        else:
            assert after[name] == before[name], name
    assert _rows(main_db, {"log_archive": ["seq"], "admin_log": ["id"], "duty_plan": ["day"]}) == {
        "log_archive": [],
        "admin_log": [],
        "duty_plan": [],
    }
    assert store.head() == (head, before["log_head"][0][2])
    store.close()


@both_databases
def test_upgraded_documents_decode_into_todays_protocol(main_db) -> None:
    store = Store(main_db)
    store.upgrade()
    rows = _rows(main_db)
    events = [msgspec.json.decode(r[-1], type=entities.Event) for r in rows["events"]]
    assert [e.id for e in events] == [r[0] for r in rows["events"]]
    assert all(e.status == r[2] and e.street == r[3] for e, r in zip(events, rows["events"]))
    alerts = [msgspec.json.decode(r[-1], type=entities.Alert) for r in rows["alerts"]]
    assert all(a.id == r[0] and a.status == r[3] for a, r in zip(alerts, rows["alerts"]))
    duties = [msgspec.json.decode(r[2], type=entities.Duty) for r in rows["duty"]]
    assert [d.day for d in duties] == [r[0] for r in rows["duty"]]
    for _seq, _at, _actor, _action, entity, _id, _street, before, after in rows["log"]:
        msgspec.json.decode(after, type=AUDITED[entity])
        if before is not None:
            msgspec.json.decode(before, type=AUDITED[entity])
    for kind, _code, _parent, _name, doc in rows["units"]:
        msgspec.json.decode(doc, type=UNIT_TYPES[kind])
    # What the backend reads at start: the reference and the open state.
    reference = load_reference(store)
    assert len(reference.grids) == 351 and len(reference.cameras) == 3500
    open_events, open_alerts, duty, next_event, _ = store.load_state(since=0)
    assert len(open_events) == len(events) and len(open_alerts) == len(alerts)
    assert duty is not None and next_event == max(e.id for e in events) + 1
    assert store.image(alerts[0].id) is not None
    store.close()


@both_databases
def test_trim_and_history_after_the_upgrade(main_db, capsys) -> None:
    """Main's log trimmed by this trim-log: every row it still had stays readable."""
    store = Store(main_db)
    store.upgrade()
    live_before = _rows(main_db)["log"]
    head, trimmed = store.head()
    event = next(r[5] for r in live_before if r[4] == "event" and r[3] == "report")
    trail = store.event_history(event)
    assert main(["--url", main_db, "trim-log", "--keep", "10"]) == 0
    assert f"archived {head - 10 - trimmed} log rows" in capsys.readouterr().out
    assert store.event_history(event) == trail
    archived = _rows(main_db, {"log_archive": ["seq"], "log": ["seq"]})
    assert archived["log_archive"] + archived["log"] == live_before
    assert store.head() == (head, head - 10)
    # An event whose first steps main's trim-log deleted: the history says they are lost.
    partial = next(r[5] for r in live_before if r[4] == "event" and r[3] == "close")
    assert main(["--url", main_db, "history", str(partial)]) == 0
    assert f"audit rows up to seq {trimmed} are lost" in capsys.readouterr().out
    store.close()


def test_downgrade_returns_archived_rows_to_the_log(db_url) -> None:
    store = Store(db_url)
    store.upgrade()
    commit_lifecycles(store)
    everything = _rows(db_url, {"log": ["seq"]})["log"]
    store.trim_log(5)
    store.close()
    _migrate(db_url, "0001", down=True)
    assert _rows(db_url, {"log": ["seq"]})["log"] == everything
    _migrate(db_url, "head")
    again = Store(db_url)
    assert again.is_current() and again.head() == (9, 5)
    assert [r.seq for r in again.event_history(1)] == [1, 4, 7]
    again.close()


def test_models_match_the_migrations(db_url) -> None:
    """Every schema change is a migration: the models add nothing the migrations lack."""
    Store(db_url).upgrade()
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def test_a_start_on_a_current_database_does_not_need_alembic(tmp_path) -> None:
    """The newest migration read from the files is alembic's; a database at it is upgraded
    (a no-op) without importing alembic, a quarter of a second of every backend start."""
    import subprocess
    import sys

    from alembic.script import ScriptDirectory

    from dispatch.store.store import head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    url = f"sqlite:///{tmp_path / 'dispatch.db'}"
    store = Store(url)
    assert not store._at_head()  # no schema yet: alembic builds it
    store.upgrade()
    assert store._at_head() and store.is_current()
    script = (
        "import sys\n"
        "from dispatch.store.store import Store\n"
        f"Store({url!r}).upgrade()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.stdout.strip() == "[]"


_KILLED_MID_MIGRATION = """
import os, signal, sys
from alembic.operations import Operations
from dispatch.store.store import Store

made = []
create_table = Operations.create_table

def create_then_die(self, *args, **kwargs):
    made.append(args[0])
    result = create_table(self, *args, **kwargs)
    if len(made) == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)  # as `kill -9` would, half-way through
    return result

Operations.create_table = create_then_die
Store(sys.argv[1]).upgrade()
"""


@pytest.mark.parametrize("tables", [1, 5, 11])
def test_a_backend_killed_half_way_through_a_migration_starts_again(
    db_url, tmp_path, tables
) -> None:
    """SIGKILL after the n-th CREATE TABLE of the upgrade (0001 makes 10, 0002 the 11th): the
    next start migrates the whole way. On SQLite each CREATE TABLE used to commit on its own
    (pysqlite begins a transaction only before DML), so the next start failed for ever with
    `table alert_images already exists`."""
    import subprocess
    import sys

    script = tmp_path / "die.py"
    script.write_text(_KILLED_MID_MIGRATION)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script), db_url, str(tables)], cwd=root, capture_output=True
    )
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    store = Store(db_url)
    try:
        store.upgrade()  # raised OperationalError before the fix
        assert store.is_current()
        store.commit([])  # the log's head row is there: the store is usable
        assert store.head() == (0, 0)
    finally:
        store.close()
