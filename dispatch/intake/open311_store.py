"""Reading the Open311 requests back from the store: the events that Open311 clients created.

No table of its own: each POST creates its event through report_batch under an external id
of the client's actor (`open311:<client>`), and the writer stores that id in `external_ids`
in the event's own transaction. The Open311 requests are therefore exactly the events joined
to an external id whose actor begins with `open311:` (a range of the table's primary key),
whatever clients the configuration names today.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import msgspec
from sqlalchemy import Select, select

from dispatch.store.models import EventRow, ExternalIdRow
from dispatch.store.store import Store
from protocol.entities import Event

ACTOR_PREFIX = "open311:"
# The first string after every one that begins with the prefix (":" + 1 is ";").
_ACTOR_END = ACTOR_PREFIX[:-1] + chr(ord(ACTOR_PREFIX[-1]) + 1)
CLOSED = ("closed", "evaluated", "rejected")
_decode = msgspec.json.Decoder(Event).decode


@dataclass(frozen=True, slots=True)
class Query:
    """The filters of GET requests (None: not filtered)."""

    since: float
    until: float
    categories: Collection[str] | None = None
    closed: bool | None = None  # True: closed only, False: open only
    limit: int = 1000


def _open311() -> Select[str]:
    return (
        select(EventRow.doc)
        .join(ExternalIdRow, ExternalIdRow.event_id == EventRow.id)
        .where(ExternalIdRow.actor >= ACTOR_PREFIX, ExternalIdRow.actor < _ACTOR_END)
    )


def by_codes(store: Store, codes: Collection[str]) -> list[Event]:
    """The Open311 requests among the event codes given (others are not there)."""
    if not codes:
        return []
    statement = _open311().where(EventRow.code.in_(list(codes))).order_by(EventRow.id)
    with store.engine.connect() as conn:
        return [_decode(doc) for (doc,) in conn.execute(statement)]


def search(store: Store, query: Query) -> list[Event]:
    """The Open311 requests reported in [since, until], newest first, at most `limit`."""
    statement = _open311().where(
        EventRow.reported_at >= query.since, EventRow.reported_at <= query.until
    )
    if query.categories is not None:
        statement = statement.where(EventRow.category.in_(list(query.categories)))
    if query.closed is True:
        statement = statement.where(EventRow.status.in_(CLOSED))
    elif query.closed is False:
        statement = statement.where(EventRow.status.not_in(CLOSED))
    statement = statement.order_by(EventRow.reported_at.desc(), EventRow.id.desc())
    with store.engine.connect() as conn:
        return [_decode(doc) for (doc,) in conn.execute(statement.limit(query.limit))]


def by_token(store: Store, token: str) -> list[tuple[str, str]]:
    """(event code, token) of the Open311 requests created under `token` (a client's
    Idempotency-Key); one per client that used it."""
    statement = (
        select(ExternalIdRow.code, ExternalIdRow.external_id)
        .where(ExternalIdRow.actor >= ACTOR_PREFIX, ExternalIdRow.actor < _ACTOR_END)
        .where(ExternalIdRow.external_id == token)
        .order_by(ExternalIdRow.event_id)
    )
    with store.engine.connect() as conn:
        return [(code, external_id) for code, external_id in conn.execute(statement)]
