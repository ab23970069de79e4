"""Backups of the backend's database and their restore (docs/operations.md §5).

SQLite: SQLite's online backup API, a consistent copy while the backend writes (WAL readers
do not block the writer); the backup is itself an SQLite file. PostgreSQL: `pg_dump -Fc` of
the URL's schema, restored with `pg_restore`. Either way the schema revision travels with
the data (the alembic_version table): a backup from a newer schema than this code knows is
refused, an older one is upgraded after the restore.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlencode

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from dispatch import kept_kpis
from dispatch.private import create_private, tighten
from dispatch.store.store import MIGRATIONS, Store, StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


class BackupError(Exception):
    """A backup or restore that was refused or failed; nothing was changed."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """What a backup holds: its kind (sqlite, postgresql), its schema revision, its size."""

    kind: str
    revision: str
    size: int


def known_revisions() -> list[str]:
    """The migrations this code has, oldest first (their numbers: 0001, 0002, ...)."""
    found = []
    for path in (MIGRATIONS / "versions").iterdir():
        if match := _REVISION_FILE.match(path.name):
            found.append(match.group(1))
    return sorted(found)


def check_revision(revision: str) -> None:
    """Refuse a schema revision this code does not know (a newer one, or none)."""
    known = known_revisions()
    if not revision:
        raise BackupError("the backup has no schema revision: not a Tongguan database")
    if revision not in known:
        raise BackupError(
            f"the backup's schema is {revision}, newer than this code's {known[-1]}: "
            "restore it with the version of Tongguan that wrote it (or a newer one)"
        )


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"not an SQLite file: {url.render_as_string(hide_password=True)}")
    return Path(database)


def _pg_schema(url: URL) -> str:
    """The schema the URL's search_path names (the tests' per-test schemas), else public."""
    options = str(url.query.get("options", ""))
    match = re.search(r"-c\s*search_path\s*=\s*([A-Za-z0-9_]+)", unquote(options))
    return match.group(1) if match else "public"


def _pg_env(url: URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments for pg_dump / pg_restore: the password goes by environment,
    never on a command line that `ps` shows. A multi-host URL (`?host=a:5432&host=b:5432`,
    docs/deployment.md) keeps its hosts and its libpq options (`target_session_attrs`: the
    primary, wherever it is now)."""
    netloc = quote(url.username or "", safe="")
    listed = url.query.get("host")
    if listed:
        # host:port each, or a socket's directory (percent-encoded in a libpq URI).
        entries = [listed] if isinstance(listed, str) else list(listed)
        hosts = ",".join(quote(h, safe="") if h.startswith("/") else h for h in entries)
    else:
        hosts = url.host or ""
        if ":" in hosts:
            hosts = f"[{hosts}]"
        if url.port:
            hosts += f":{url.port}"
    if hosts:
        netloc = f"{netloc}@{hosts}" if netloc else hosts
    # The schema goes by pg_dump's own option (_pg_schema), not the URL's `options`.
    params = {k: v for k, v in url.query.items() if k not in ("host", "options")}
    query = f"?{urlencode(params, doseq=True)}" if params else ""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    database = quote(url.database or "", safe="")
    return [f"--dbname=postgresql://{netloc}/{database}{query}"], env


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/lib/postgresql/bin")
    if found is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client (postgresql-client)")
    return found


def _run(cmd: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {result.stderr.strip()}")
    return result.stdout


@contextlib.contextmanager
def _sqlite(path: Path) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


def _sqlite_revision(conn: sqlite3.Connection) -> str:
    try:
        rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        return ""
    return str(rows[0][0]) if len(rows) == 1 else ""


def backup(url_text: str, dest: Path) -> BackupInfo:
    """Write a consistent backup of the database at `url_text` to `dest` (mode 600; an
    existing file is refused)."""
    url = make_url(url_text)
    if dest.exists():
        raise BackupError(f"{dest} exists: choose a new name (a backup never overwrites)")
    if not dest.parent.is_dir():
        raise BackupError(f"no directory {dest.parent}")
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    create_private(partial)  # token hashes and reporters' phone numbers: mode 600 from the start
    try:
        if url.get_backend_name() == "sqlite":
            source = _sqlite_path(url)
            if not source.exists():
                raise BackupError(f"no database at {source}")
            with _sqlite(source) as src, _sqlite(partial) as dst:
                # One step (pages=-1): one read transaction, so one consistent moment, while
                # the backend goes on committing into the WAL.
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
                ok = dst.execute("PRAGMA integrity_check").fetchone()
                revision = _sqlite_revision(dst)
            if not ok or ok[0] != "ok":
                raise BackupError(f"the copy failed its integrity check: {ok}")
            kind = "sqlite"
        elif url.get_backend_name() == "postgresql":
            args, env = _pg_env(url)
            schema = _pg_schema(url)
            _run(
                [_tool("pg_dump"), *args, "-Fc", "--no-owner", "--no-privileges",
                 f"--schema={schema}", f"--file={partial}"],
                env,
            )  # fmt: skip
            revision = pg_dump_revision(partial)
            kind = "postgresql"
        else:
            raise BackupError(f"cannot back up a {url.get_backend_name()} database")
        if not revision:
            raise BackupError("the database has no schema: run `dispatch init-db` first")
        tighten(partial)
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(kind, revision, dest.stat().st_size)


def pg_dump_revision(path: Path) -> str:
    """The schema revision inside a pg_dump custom-format file ("" if it has none)."""
    text = _run(
        [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
        dict(os.environ),
    )
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            return "" if value == "\\." else value
    return ""


def inspect(path: Path) -> BackupInfo:
    """What a backup file is, read without restoring it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head.startswith(SQLITE_MAGIC):
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            revision = _sqlite_revision(conn)
        return BackupInfo("sqlite", revision, path.stat().st_size)
    if head.startswith(PG_MAGIC):
        return BackupInfo("postgresql", pg_dump_revision(path), path.stat().st_size)
    raise BackupError(f"{path} is not a Tongguan backup (neither SQLite nor pg_dump -Fc)")


# What `init-db` alone writes: a database holding only these is empty.
_BOOKKEEPING = {"alembic_version", "log_head", "meta", "writer_lease"}


def _tables(url_text: str) -> tuple[list[str], list[str]]:
    """The tables of the database at `url_text`, and those of them holding data (rows in
    any table but the schema's bookkeeping): none of the latter, safe to restore into."""
    engine = sa.create_engine(url_text)
    try:
        names = sorted(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            holding = [
                name
                for name in names
                if name not in _BOOKKEEPING
                and conn.exec_driver_sql(f'SELECT 1 FROM "{name}" LIMIT 1').first() is not None
            ]
        return names, holding
    finally:
        engine.dispose()


def restore(path: Path, url_text: str, *, force: bool = False) -> BackupInfo:
    """Restore the backup at `path` into the database at `url_text`, then bring its schema
    to this code's head. A database holding data is refused unless `force` (one that
    `init-db` alone made is empty); a backup from a newer schema always is; so is a
    database that a running backend serves."""
    info = inspect(path)
    check_revision(info.revision)
    url = make_url(url_text)
    backend = url.get_backend_name()
    if backend != info.kind:
        raise BackupError(f"{path} is a {info.kind} backup: it restores into {info.kind} only")
    if backend == "sqlite":
        target = _sqlite_path(url)
        if not target.parent.is_dir():
            raise BackupError(f"no directory {target.parent}")
    existing, holding = _tables(url_text) if backend != "sqlite" or target.exists() else ([], [])
    if holding and not force:
        raise BackupError(
            f"the database holds data already ({', '.join(holding[:4])}"
            f"{', …' if len(holding) > 4 else ''}): restoring replaces all of it; "
            "pass --force to do that"
        )
    store = Store(url_text)
    try:
        try:
            store.claim()  # no backend may serve it meanwhile, nor start while this runs
        except StoreError as exc:
            raise BackupError(str(exc)) from None
        fence = _fence(store) if existing else 0
        if backend == "sqlite":
            store.engine.dispose()
            store.writer_engine.dispose()
            # KPI books kept by the last clean stop describe the database being replaced.
            kept = kept_kpis.path_beside(str(target))
            if kept is not None:
                kept.unlink(missing_ok=True)
            create_private(target)
            with _sqlite(path) as src, _sqlite(target) as dst:
                src.backup(dst, pages=-1)  # replaces every page of the target, in one go
                dst.execute("PRAGMA journal_mode=WAL")
        else:
            _pg_restore(store, path, url, existing)
        store.upgrade()
        if fence:
            # The backup's number may be below the one a deposed writer still holds: never
            # let the restore give it back its right to commit.
            with store.engine.begin() as conn:
                conn.execute(
                    sa.text("UPDATE writer_lease SET fence = :fence WHERE fence < :fence"),
                    {"fence": fence},
                )
    finally:
        store.close()
    return info


def _fence(store: Store) -> int:
    """The writer lease's fencing number the database holds (0: none, before 0009)."""
    try:
        with store.engine.connect() as conn:
            value = conn.execute(sa.text("SELECT max(fence) FROM writer_lease")).scalar()
    except sa.exc.SQLAlchemyError:
        return 0
    return int(value or 0)


def _pg_restore(store: Store, path: Path, url: URL, existing: list[str]) -> None:
    """The dump as an SQL script, run by psql in one transaction after dropping what the
    schema holds: any failure rolls all of it back, the old content included."""
    args, env = _pg_env(url)
    schema = _pg_schema(url)
    drops = [f'DROP TABLE IF EXISTS "{schema}"."{name}" CASCADE;' for name in existing]
    with store.engine.connect() as conn:
        functions = conn.execute(
            sa.text(
                "SELECT p.proname, pg_get_function_identity_arguments(p.oid) FROM pg_proc p"
                " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :schema"
            ),
            {"schema": schema},
        ).all()
        sequences = conn.execute(
            sa.text(
                "SELECT sequence_name FROM information_schema.sequences"
                " WHERE sequence_schema = :schema"
            ),
            {"schema": schema},
        ).all()
    drops += [f'DROP SEQUENCE IF EXISTS "{schema}"."{name}" CASCADE;' for (name,) in sequences]
    drops += [f'DROP FUNCTION IF EXISTS "{schema}"."{n}"({a}) CASCADE;' for n, a in functions]
    with tempfile.TemporaryDirectory(prefix="tongguan-restore-") as work:  # mode 700
        prelude, script = Path(work) / "drop.sql", Path(work) / "restore.sql"
        prelude.write_text("\n".join(drops) + "\n", encoding="utf-8")
        _run(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", f"--schema={schema}",
             f"--file={script}", str(path)],
            env,
        )  # fmt: skip
        _run(
            [_tool("psql"), *args, "--quiet", "--no-psqlrc", "--single-transaction",
             "--set=ON_ERROR_STOP=1", f"--file={prelude}", f"--file={script}"],
            env,
        )  # fmt: skip
