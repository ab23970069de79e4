"""external_ids: the external id of each report a gateway sent (report_batch), unique per user

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-14 10:00:00

One row per event created under an external id (a 12345 work-order number, an Open311
token, a camera platform's event id): the reporting user and the id are the primary key,
so a report sent again under the same id finds its event and creates nothing, across
restarts. A table of its own rather than a column of `events`: an event row is rewritten
on every change of the case, a mapping is written once; most events have no external id;
and the key is the user's as well as the id's. It is read and written only by its key
(on SQLite a WITHOUT ROWID table: one b-tree); the way back, from an event to its
external id, would need an index on event_id, which the ingest path then pays for.
"""

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('external_ids',
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('external_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('actor', 'external_id'),
    sqlite_with_rowid=False,
    )


def downgrade() -> None:
    # The events stay; only which external id made them is forgotten (a report sent again
    # under an old id would then create a second event).
    op.drop_table('external_ids')
