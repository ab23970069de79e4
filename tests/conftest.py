"""Shared fixtures: real SQLite files, the real PostgreSQL (required when CI=true)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from functools import cache

import pytest

PG_URL = os.environ.get("TONGGUAN_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


@cache
def pg_available() -> bool:
    """Whether PostgreSQL answers; under CI=true its absence is an error, never a skip."""
    if _pg_reachable():
        return True
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but PostgreSQL is not reachable at 127.0.0.1:5432")
    return False


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'dispatch.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not pg_available():
        pytest.skip("PostgreSQL not reachable (runs always under CI=true)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return request.getfixturevalue(name)
