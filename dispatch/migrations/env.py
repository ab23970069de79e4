"""Alembic environment: runs on the connection the store hands over (no alembic.ini)."""

from __future__ import annotations

from alembic import context

from dispatch.store.models import Base

connection = context.config.attributes["connection"]
if (
    connection.dialect.name == "sqlite"
    and not connection.connection.dbapi_connection.in_transaction
):
    # pysqlite opens a transaction only before INSERT/UPDATE/DELETE, so without this every
    # CREATE TABLE commits on its own, and a backend killed half-way through a migration
    # leaves tables that no revision records: every later start then fails ("table ...
    # already exists"). SQLite's DDL is transactional: run the whole upgrade as one.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
