"""checkpoints: the state (events, alerts, duty) at a log position, for a fast replay (复盘)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 18:40:00

A replay rebuilds the state at any moment from the nearest checkpoint at or before it plus
the log rows after it (dispatch/replay.py). A checkpoint is only ever a shortcut: without
any, a replay from the start of the log gives the same answer. Each is the zlib of the
msgspec JSON of the state at `seq` (as of `at`, the district time of that row), stamped with
the log's epoch; made off the event loop and off the writer, pruned as they age.
"""

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkpoints',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('epoch', sa.String(length=64), nullable=False),
    sa.Column('doc', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_checkpoints_at', 'checkpoints', ['at'], unique=False)


def downgrade() -> None:
    # Only shortcuts are lost: every replay still works from the log.
    op.drop_index('ix_checkpoints_at', table_name='checkpoints')
    op.drop_table('checkpoints')
