"""writer lease: the fencing number of the backend allowed to write

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:40:00

One row. A backend that becomes the writer (it got the database's advisory lock, or the
SQLite file's) adds one to `fence` in the transaction that reads it, and keeps its number;
each of its commits checks, in its own transaction, that the stored number is still its own.
A standby taking over bumps it, so a deposed writer that wakes up (paused, its lock gone
with its connection) can never commit again.
"""

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    lease = op.create_table('writer_lease',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('fence', sa.BigInteger(), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('taken_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.bulk_insert(lease, [{'id': 1, 'fence': 0, 'holder': '', 'taken_at': 0.0}])


def downgrade() -> None:
    # Only the fencing number goes: one backend at a time still holds the advisory lock.
    op.drop_table('writer_lease')
