"""writer endpoint: where the writer serves, so that its standbys can name it

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 19:00:00

The writer lease's row gets the websocket URL the writer serves at. A standby or a gateway
refuses commands with the code `not_writer` and this URL (docs/protocol.md), and the desk
sends the command again there, with the same command_id.
"""

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('writer_lease') as batch:
        batch.add_column(
            sa.Column('endpoint', sa.String(length=500), nullable=False, server_default='')
        )


def downgrade() -> None:
    with op.batch_alter_table('writer_lease') as batch:
        batch.drop_column('endpoint')
