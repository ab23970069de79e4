"""log and log_archive indexed by time: a shift's handover report reads the log by time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:40:00

The handover report (交接班报告, dispatch/handover.py) of any past shift is rebuilt from the
audit log: the rows of the shift's hours, and each case's last row before a moment. Read by
`at`, not by walking the log from its start. The index holds what those reads select on
(the entity, the action, its id, the seq), so a busy day's 250,000 rows are counted from the
index alone, without a look-up of each row's document.
"""

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = ['at', 'entity', 'action', 'entity_id', 'seq']
    op.create_index('ix_log_at', 'log', columns)
    op.create_index('ix_log_archive_at', 'log_archive', columns)


def downgrade() -> None:
    op.drop_index('ix_log_archive_at', table_name='log_archive')
    op.drop_index('ix_log_at', table_name='log')
