"""log_archive: trim-log moves audit rows there instead of deleting them; the audit is append-only

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 03:50:00

Triggers make the append-only rule the database's, not only the code's: no audit row is ever
updated, none leaves the archive, and a row leaves the live log only once it is in the
archive. (SQLite: a later batch migration that rebuilds `log` or `log_archive` drops their
triggers with the old table and must create them again.)
"""

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

_REFUSED = "the audit log is append-only"

_SQLITE_TRIGGERS = {
    "log_no_update": f"BEFORE UPDATE ON log BEGIN SELECT RAISE(ABORT, '{_REFUSED}: log rows are never updated'); END",
    "log_delete_only_archived": (
        "BEFORE DELETE ON log WHEN NOT EXISTS (SELECT 1 FROM log_archive WHERE seq = OLD.seq) "
        f"BEGIN SELECT RAISE(ABORT, '{_REFUSED}: a log row leaves only for log_archive'); END"
    ),
    "log_archive_no_update": f"BEFORE UPDATE ON log_archive BEGIN SELECT RAISE(ABORT, '{_REFUSED}: archived rows are never updated'); END",
    "log_archive_no_delete": f"BEFORE DELETE ON log_archive BEGIN SELECT RAISE(ABORT, '{_REFUSED}: archived rows are never deleted'); END",
}

# One function for every refusal; a delete from `log` passes once the row is in the archive.
_PG_FUNCTION = f"""
CREATE FUNCTION tongguan_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'log' AND TG_LEVEL = 'ROW' THEN
        IF EXISTS (SELECT 1 FROM log_archive WHERE seq = OLD.seq) THEN
            RETURN OLD;
        END IF;
    END IF;
    RAISE EXCEPTION '{_REFUSED}: % on % refused', TG_OP, TG_TABLE_NAME;
END
$$
"""
_PG_TRIGGERS = {
    "log_append_only": "BEFORE UPDATE OR DELETE ON log FOR EACH ROW",
    "log_no_truncate": "BEFORE TRUNCATE ON log FOR EACH STATEMENT",
    "log_archive_append_only": "BEFORE UPDATE OR DELETE ON log_archive FOR EACH ROW",
    "log_archive_no_truncate": "BEFORE TRUNCATE ON log_archive FOR EACH STATEMENT",
}


def upgrade() -> None:
    op.create_table('log_archive',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity', sa.String(length=10), nullable=False),
    sa.Column('entity_id', sa.BigInteger(), nullable=False),
    sa.Column('street', sa.String(length=12), nullable=False),
    sa.Column('before', sa.Text(), nullable=True),
    sa.Column('after', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    with op.batch_alter_table('log_archive', schema=None) as batch_op:
        batch_op.create_index('ix_log_archive_entity', ['entity', 'entity_id'], unique=False)
    # Rows an earlier trim-log deleted are gone for good: say up to where, for `history`.
    op.execute(
        "INSERT INTO meta (key, value) SELECT 'audit_deleted_upto', CAST(trimmed AS VARCHAR(20)) "
        "FROM log_head WHERE id = 1 AND trimmed > 0"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for name, when in _PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION tongguan_audit_append_only()")
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    # 0001 has no archive: archived rows go back to the log, so a downgrade loses nothing
    # (they stay below `trimmed`, so resuming clients behind them still get a reset).
    if op.get_bind().dialect.name == "postgresql":
        for name, when in _PG_TRIGGERS.items():
            table = when.split(" ON ")[1].split()[0]
            op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute("DROP FUNCTION tongguan_audit_append_only()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    columns = "seq, at, actor, action, entity, entity_id, street, before, after"
    op.execute(f"INSERT INTO log ({columns}) SELECT {columns} FROM log_archive")
    with op.batch_alter_table('log_archive', schema=None) as batch_op:
        batch_op.drop_index('ix_log_archive_entity')
    op.drop_table('log_archive')
    op.execute("DELETE FROM meta WHERE key = 'audit_deleted_upto'")
