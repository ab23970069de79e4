"""users.display_name: the name a person is shown by (王芳), beside the name they sign in with

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-16 10:00:00

A user's `name` is the account's id: the token's owner, what the audit log, the commands
and the workflow's checks (who requested, who handled) record and compare. People read
another name: "菱湖街道分中心 王芳", not "demo-linghu". The display name is that, kept beside
the id and changeable without touching anything recorded under the id; empty for none (the
id is then shown). Existing users get none.
"""

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(
            sa.Column('display_name', sa.String(length=100), nullable=False, server_default='')
        )


def downgrade() -> None:
    # Only the names shown are lost; every id, and everything recorded under it, stays.
    with op.batch_alter_table('users') as batch:
        batch.drop_column('display_name')
