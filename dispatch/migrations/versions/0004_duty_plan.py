"""duty_plan: the planned duty of each day (排班), set by an admin over the protocol

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12 10:00:00

One row per planned day: its commander (县干指挥长) and the centre's roster, as a DutyPlan
document, with who set it and when. A day's duty takes its roster from here when it begins.
Every change is recorded in admin_log (0003) in the same transaction.
"""

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('duty_plan',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('doc', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('day')
    )


def downgrade() -> None:
    # The plans go with the table (the admin log keeps who set what).
    op.drop_table('duty_plan')
