"""admin_log: every user-management request (who, when, what, on whom, outcome); append-only

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09 10:00:00

Admin requests over the protocol (users, create_user, revoke_user), done or refused, and the
command line's user changes are recorded here; tokens never are. As for the audit log
(0002), triggers make the append-only rule the database's: no row is updated or deleted.
"""

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_REFUSED = "the admin log is append-only"

_SQLITE_TRIGGERS = {
    "admin_log_no_update": f"BEFORE UPDATE ON admin_log BEGIN SELECT RAISE(ABORT, '{_REFUSED}: rows are never updated'); END",
    "admin_log_no_delete": f"BEFORE DELETE ON admin_log BEGIN SELECT RAISE(ABORT, '{_REFUSED}: rows are never deleted'); END",
}

_PG_FUNCTION = f"""
CREATE FUNCTION tongguan_admin_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{_REFUSED}: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$
"""
_PG_TRIGGERS = {
    "admin_log_append_only": "BEFORE UPDATE OR DELETE ON admin_log FOR EACH ROW",
    "admin_log_no_truncate": "BEFORE TRUNCATE ON admin_log FOR EACH STATEMENT",
}


def upgrade() -> None:
    op.create_table('admin_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('peer', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=100), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for name, when in _PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION tongguan_admin_log_append_only()"
            )
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    # The record of who changed which user goes with the table: 0002 has nowhere to keep it.
    if op.get_bind().dialect.name == "postgresql":
        for name in _PG_TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON admin_log")
        op.execute("DROP FUNCTION tongguan_admin_log_append_only()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table('admin_log')
