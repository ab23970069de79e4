"""The database schema (SQLAlchemy 2 typed ORM); Alembic migrations in dispatch/migrations."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every table."""


class MetaRow(Base):
    """Key/value facts about this database: its epoch, the district it serves."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LogHead(Base):
    """One row holding the last sequence number handed out.

    Writers bump it inside their transaction; the row lock makes a second writer wait until
    the first commits, so sequence order is commit order on PostgreSQL as on SQLite.
    """

    __tablename__ = "log_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    # Entries <= this have moved to log_archive: kept for the audit trail, never replayed.
    trimmed: Mapped[int] = mapped_column(BigInteger, default=0)


class WriterLease(Base):
    """One row: the fencing number of the backend allowed to write (migration 0009).

    A backend becoming the writer bumps it and keeps its number; each writer commit checks
    in its own transaction that the number is still its own, so a deposed one never commits.
    """

    __tablename__ = "writer_lease"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fence: Mapped[int] = mapped_column(BigInteger)
    holder: Mapped[str] = mapped_column(String(200))
    taken_at: Mapped[float] = mapped_column(Float)
    # The websocket URL the writer serves at (migration 0010): standbys name it.
    endpoint: Mapped[str] = mapped_column(String(500), server_default="")


class AuditColumns:
    """The columns of an audit row, shared by the live log and its archive."""

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    street: Mapped[str] = mapped_column(String(12))
    before: Mapped[str | None] = mapped_column(Text, nullable=True)
    after: Mapped[str] = mapped_column(Text)


class LogEntry(AuditColumns, Base):
    """The append-only audit log: who did what to which entity, before and after."""

    __tablename__ = "log"
    __table_args__ = (Index("ix_log_entity", "entity", "entity_id"),)


class LogArchiveEntry(AuditColumns, Base):
    """Audit rows `trim-log` moved out of the live log: the same rows, never replayed.

    A row is in exactly one of `log` and `log_archive`; triggers (migration 0002) refuse any
    update, any delete from the archive, and a delete from the log of a row not archived.
    """

    __tablename__ = "log_archive"
    __table_args__ = (Index("ix_log_archive_entity", "entity", "entity_id"),)


class EventRow(Base):
    """An event's current state: indexed columns plus the full wire document."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    street: Mapped[str] = mapped_column(String(12), index=True)
    grid: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer)
    reported_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float, index=True)
    due_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    doc: Mapped[str] = mapped_column(Text)


class AlertRow(Base):
    """A camera alert's current state."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    camera: Mapped[str] = mapped_column(String(32))
    detection: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), index=True)
    street: Mapped[str] = mapped_column(String(12))
    last_at: Mapped[float] = mapped_column(Float, index=True)
    doc: Mapped[str] = mapped_column(Text)


class AlertImage(Base):
    """The snapshot image a camera sent with an alert."""

    __tablename__ = "alert_images"
    alert_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    content_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class DutyRow(Base):
    """The duty of one day of one district's centre: commander, roster, instructions."""

    __tablename__ = "duty"
    # The district's code (migration 0011: each district of a city has its own duty).
    district: Mapped[str] = mapped_column(String(6), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    updated_at: Mapped[float] = mapped_column(Float)
    doc: Mapped[str] = mapped_column(Text)


class DutyPlanRow(Base):
    """The planned duty of one day of one district (排班), set by an admin: commander and
    roster."""

    __tablename__ = "duty_plan"
    district: Mapped[str] = mapped_column(String(6), primary_key=True)  # as DutyRow's
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(100))
    doc: Mapped[str] = mapped_column(Text)  # the DutyPlan's wire document


class UserRow(Base):
    """A user: role, jurisdiction (street codes, empty for all), the name shown and a hashed
    token."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    streets: Mapped[str] = mapped_column(Text, default="")
    # The name people read (王芳), beside `name`, the account's id that everything recorded
    # holds; "" for none (migration 0007).
    display_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[float] = mapped_column(Float)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AdminLogRow(Base):
    """One admin request: who asked, when, what, on whom or what, and how it ended.

    Written for every admin request over the protocol (done or refused: users, the duty
    roster, the category table) and every user change by the command line; never holds a
    token. Append-only: triggers (migration 0003)
    refuse any update or delete.
    """

    __tablename__ = "admin_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(100))  # the user's name, or cli:<os user>
    peer: Mapped[str] = mapped_column(String(64))  # the connection's address, or "cli"
    # users, create_user, update_user, revoke_user, roster, set_roster, set_category,
    # load_categories; more_refusals: a user's refusals past the rows a minute, counted
    action: Mapped[str] = mapped_column(String(20))
    # the user, day, category code or table file acted on ("" for users)
    target: Mapped[str] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text)  # what was asked: role and jurisdiction, plan…
    outcome: Mapped[str] = mapped_column(String(40))  # ok, or the error code
    message: Mapped[str] = mapped_column(Text)  # why it was refused ("" when ok)


class CommandRow(Base):
    """A command applied once: its digest (op+args) and the result sent back."""

    __tablename__ = "commands"
    command_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(100))
    op: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    at: Mapped[float] = mapped_column(Float)


class ExternalIdRow(Base):
    """An external id (a gateway's own id of a report: a 12345 work order, an Open311 token, a
    camera platform's event id) and the event it created: unique per reporting user, so a
    report sent again under the same id creates nothing. Written once, in the transaction
    that creates the event; never changed."""

    __tablename__ = "external_ids"
    # Looked up and written only by its key: on SQLite the key is the table (no rowid, so
    # one b-tree instead of two).
    __table_args__ = ({"sqlite_with_rowid": False},)
    actor: Mapped[str] = mapped_column(String(100), primary_key=True)  # the user's name
    external_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(32))  # the event's code (DG-…), for repeats
    at: Mapped[float] = mapped_column(Float)


class OutboxRow(Base):
    """A feedback owed to an intake peer (12345 签收/办理中/办结/退回), written in the
    transaction of the change that owes it and delivered by the outbox task (migration 0006)."""

    __tablename__ = "intake_outbox"
    __table_args__ = (
        Index("ix_intake_outbox_due", "state", "next_at"),
        Index("ix_intake_outbox_order", "peer", "ref", "id"),
        Index("ix_intake_outbox_event", "event_id"),
    )
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(100), unique=True)  # the idempotency key
    channel: Mapped[str] = mapped_column(String(16))
    peer: Mapped[str] = mapped_column(String(100))
    ref: Mapped[str] = mapped_column(String(64))  # the peer's id of the case (工单编号)
    event_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # sign, progress, done, return, extend, reopen
    body: Mapped[str] = mapped_column(Text)  # the JSON sent
    state: Mapped[str] = mapped_column(String(12))  # pending, delivered, refused
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    delivered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str] = mapped_column(Text)


class UnitRow(Base):
    """A reference unit (street, community, grid, department, camera, category) as a document.

    The kinds share one shape: a code, its parent unit, a name and the wire document with
    geometry; typed access is through protocol.entities.
    """

    __tablename__ = "units"
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    parent: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(100))
    doc: Mapped[str] = mapped_column(Text)


class Checkpoint(Base):
    """The state at log position `seq` (as of its row's time `at`), compressed: a replay's
    starting point (dispatch/replay.py); never needed for a correct answer, only a fast one."""

    __tablename__ = "checkpoints"
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[float] = mapped_column(Float, index=True)
    epoch: Mapped[str] = mapped_column(String(64))
    doc: Mapped[bytes] = mapped_column(LargeBinary)  # zlib of the msgspec JSON of the state


class RiskModelRow(Base):
    """A deadline-risk model the writer trained (dispatch/risk_json.py's JSON): its standbys
    and gateways score the cases with it, so every node gives a case the same risk."""

    __tablename__ = "risk_models"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trained_at: Mapped[float] = mapped_column(Float, index=True)
    doc: Mapped[bytes] = mapped_column(LargeBinary)
