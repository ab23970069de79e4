"""The KPI books kept across a clean restart.

Filling the books at start counts every case of the month again (~0.8 s of CPU for 40,000
cases on the machines of bench/RESULTS.md §4), and the figures are partial until it ends. A
backend that stops cleanly writes its book beside its SQLite database; the next start reads
it back in milliseconds when it describes the same log: the same epoch and head, the same
counting rules (a digest of dispatch/kpi.py's code) and the same departments. The file is
taken once: removed as it is read, whether it serves or not, so a later start after a crash,
a restore or a changed database never finds a book that no longer matches. PostgreSQL
backends (and in-memory databases) keep nothing and always fill.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import logging
import marshal
from collections.abc import Iterable
from pathlib import Path

import msgspec

from dispatch import kpi
from dispatch.private import write_private

log = logging.getLogger("dispatch.kept_kpis")

FORMAT = 2  # of the file; a change of SavedBook's layout bumps it


class _File(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    key: str
    book: kpi.SavedBook


@functools.cache
def rules_digest() -> str:
    """A digest of the code that counts (every function and method of dispatch.kpi, as
    this process first saw them)."""
    digest = hashlib.sha256(str(FORMAT).encode())
    for name, member in sorted(vars(kpi).items()):
        functions = []
        if inspect.isfunction(member) and member.__module__ == kpi.__name__:
            functions.append(member)
        elif inspect.isclass(member) and member.__module__ == kpi.__name__:
            functions.extend(f for _, f in sorted(vars(member).items()) if inspect.isfunction(f))
        for function in functions:
            digest.update(name.encode())
            digest.update(marshal.dumps(function.__code__))
    return digest.hexdigest()[:16]


def key_for(epoch: str, head: int, departments: Iterable[str]) -> str:
    """What a kept book must match to serve a start: the log's place, rules, departments."""
    units = hashlib.sha256(repr(sorted(departments)).encode()).hexdigest()[:16]
    return f"{FORMAT}:{rules_digest()}:{epoch}:{head}:{units}"


def path_beside(database: str | None) -> Path | None:
    """Where a book is kept for this SQLite database file (None: not a file)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database)
    return path.with_name(path.name + ".kpis")


def take(path: Path, key: str) -> kpi.SavedBook | None:
    """The book kept at `path` if it matches `key`; the file is gone either way."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("the kept KPI books at %s could not be read: %s", path, exc)
        return None
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
    try:
        kept = msgspec.msgpack.decode(data, type=_File)
    except msgspec.DecodeError as exc:
        log.warning("the kept KPI books at %s are unreadable (%s): counting again", path, exc)
        return None
    if kept.key != key:
        log.info("the kept KPI books describe another log or rules: counting again")
        return None
    return kept.book


def keep(path: Path, key: str, book: kpi.SavedBook) -> None:
    """Write the book for the next start (owner-only, atomically)."""
    write_private(path, msgspec.msgpack.encode(_File(key, book)))
