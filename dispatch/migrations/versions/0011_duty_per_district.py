"""duty per district: each district of a city has its centre's duty and planned duty

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:00:00

`duty` and `duty_plan` get a `district` column and are keyed by (district, day): a city
store (several districts) keeps each district's duty and 排班 apart. The rows already there
are the store's first district's (meta `district`; 340803 when a store has none yet).
The duty's audit rows stay as they were (the log is append-only): those filed under "" are
read as the first district's (Store.read_log, Client.sees, the replays, handover reports).
"""

import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

_TABLES = ('duty', 'duty_plan')
_HOME = "COALESCE((SELECT value FROM meta WHERE key = 'district'), '340803')"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in _TABLES:
        column = sa.Column('district', sa.String(length=6), nullable=False, server_default='')
        if postgres:
            op.add_column(table, column)
            op.drop_constraint(f'{table}_pkey', table, type_='primary')
            op.create_primary_key(f'{table}_pkey', table, ['district', 'day'])
            op.execute(f"UPDATE {table} SET district = {_HOME}")
            # No default: every row names its district (as SQLite's copy and the models).
            op.alter_column(table, 'district', server_default=None)
        else:
            # SQLite cannot alter a primary key: a new table takes the rows.
            _copy(table, ['district', 'day'], f", {_HOME}")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    for table in _TABLES:
        # Only the first district's days fit a table keyed by day.
        op.execute(f"DELETE FROM {table} WHERE district <> {_HOME}")
        if postgres:
            op.drop_constraint(f'{table}_pkey', table, type_='primary')
            op.drop_column(table, 'district')
            op.create_primary_key(f'{table}_pkey', table, ['day'])
        else:
            _copy(table, ['day'], "")


def _columns(table: str, key: list[str]) -> list[sa.Column[object]]:
    """The table's columns, `district` when it is part of the key (0004's, 0001's)."""
    columns: list[sa.Column[object]] = [
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
    ]
    if table == 'duty_plan':
        columns.append(sa.Column('updated_by', sa.String(length=100), nullable=False))
    columns.append(sa.Column('doc', sa.Text(), nullable=False))
    if 'district' in key:  # last, as PostgreSQL's added column
        columns.append(sa.Column('district', sa.String(length=6), nullable=False))
    return columns


def _copy(table: str, key: list[str], district: str) -> None:
    """Rebuild `table` keyed by `key`, its rows copied (`district`: a comma and the new
    column's value, or "" when the column goes)."""
    columns = _columns(table, key)
    names = [c.name for c in columns if c.name != 'district']
    op.create_table(f'_new_{table}', *columns, sa.PrimaryKeyConstraint(*key))
    listed = ", ".join(names)
    into = listed + (", district" if district else "")
    op.execute(f"INSERT INTO _new_{table} ({into}) SELECT {listed}{district} FROM {table}")
    op.drop_table(table)
    op.rename_table(f'_new_{table}', table)
