"""intake_outbox: feedback owed to intake peers (12345 签收/办理中/办结/退回), delivered later

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-15 10:00:00

One row per feedback, written in the transaction of the workflow change that owes it (so a
change committed always has its feedback, and a change rolled back never has), then sent by
the backend's outbox task until the peer acknowledges it: `pending` → `delivered`, or
`refused` when the peer said no for good (4xx; retried by hand with `dispatch intake-outbox
--retry`). `key` is the idempotency key the peer de-duplicates on (a resend after a crash
between its answer and our mark carries the same key). Rows are read by state and time
(ix_intake_outbox_due) and by the case's order (peer, ref) so one case's feedback goes out
in the order it was made.
"""

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('peer', sa.String(length=100), nullable=False),
    sa.Column('ref', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_at', sa.Float(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('delivered_at', sa.Float(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key'),
    )
    op.create_index('ix_intake_outbox_due', 'intake_outbox', ['state', 'next_at'])
    op.create_index('ix_intake_outbox_order', 'intake_outbox', ['peer', 'ref', 'id'])
    op.create_index('ix_intake_outbox_event', 'intake_outbox', ['event_id'])


def downgrade() -> None:
    # Feedback not yet delivered is lost with the table: deliver it first.
    op.drop_index('ix_intake_outbox_event', table_name='intake_outbox')
    op.drop_index('ix_intake_outbox_order', table_name='intake_outbox')
    op.drop_index('ix_intake_outbox_due', table_name='intake_outbox')
    op.drop_table('intake_outbox')
