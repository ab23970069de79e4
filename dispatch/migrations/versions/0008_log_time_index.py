"""log.at and log_archive.at indexed: a shift's handover report reads the log by time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:40:00

The handover report (交接班报告, dispatch/handover.py) of any past shift is rebuilt from the
audit log: the rows of the shift's hours, and each case's last row before a moment. Read by
`at`, not by walking the log from its start.
"""

from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_log_at', 'log', ['at'])
    op.create_index('ix_log_archive_at', 'log_archive', ['at'])


def downgrade() -> None:
    op.drop_index('ix_log_archive_at', table_name='log_archive')
    op.drop_index('ix_log_at', table_name='log')
