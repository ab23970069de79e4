"""Reading the Open311 requests back from the store: the events that Open311 clients created.

No table of its own: each POST creates its event through report_batch under an external id
of the client's actor (`open311:<client>`), and the writer stores that id in `external_ids`
in the event's own transaction. The Open311 requests are therefore exactly the events joined
to an external id of one of those actors. The actors are looked up by equality (the leading
column of the table's primary key): a range of names would depend on the database's
collation (an ICU one sorts ";" before ":"). Every client ever configured is remembered in
the meta table (`open311.client.<name>`), so a client taken out of the configuration leaves
its requests visible.
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
CLIENTS_META = "open311.client."  # + the client's name: an Open311 client was configured
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
    district: str = ""  # a district's adcode: its requests only ("": every district's)


def actor(client: str) -> str:
    """The audit actor of a client: `open311:<name>`."""
    return ACTOR_PREFIX + client


def remember(store: Store, clients: Collection[str]) -> list[str]:
    """Note the clients configured now (once each) and return the actors of every client
    ever configured, sorted."""
    known = store.meta_items(CLIENTS_META)
    for name in clients:
        if CLIENTS_META + name not in known:
            store.set_meta(CLIENTS_META + name, actor(name))
            known[CLIENTS_META + name] = actor(name)
    return sorted(known.values())


def _open311(actors: Collection[str]) -> Select[str]:
    return (
        select(EventRow.doc)
        .join(ExternalIdRow, ExternalIdRow.event_id == EventRow.id)
        .where(ExternalIdRow.actor.in_(list(actors)))
    )


def by_codes(
    store: Store, actors: Collection[str], codes: Collection[str], district: str = ""
) -> list[Event]:
    """The Open311 requests among the event codes given (others are not there); of one
    district only when `district` is given."""
    if not codes or not actors:
        return []
    statement = _open311(actors).where(EventRow.code.in_(list(codes))).order_by(EventRow.id)
    if district:
        statement = statement.where(EventRow.street.startswith(district, autoescape=True))
    with store.engine.connect() as conn:
        return [_decode(doc) for (doc,) in conn.execute(statement)]


def search(store: Store, actors: Collection[str], query: Query) -> list[Event]:
    """The Open311 requests reported in [since, until], newest first, at most `limit`."""
    if not actors:
        return []
    statement = _open311(actors).where(
        EventRow.reported_at >= query.since, EventRow.reported_at <= query.until
    )
    if query.district:
        statement = statement.where(EventRow.street.startswith(query.district, autoescape=True))
    if query.categories is not None:
        statement = statement.where(EventRow.category.in_(list(query.categories)))
    if query.closed is True:
        statement = statement.where(EventRow.status.in_(CLOSED))
    elif query.closed is False:
        statement = statement.where(EventRow.status.not_in(CLOSED))
    statement = statement.order_by(EventRow.reported_at.desc(), EventRow.id.desc())
    with store.engine.connect() as conn:
        return [_decode(doc) for (doc,) in conn.execute(statement.limit(query.limit))]


def by_token(
    store: Store, actors: Collection[str], token: str, district: str = ""
) -> list[tuple[str, str]]:
    """(event code, token) of the Open311 requests created under `token` (a client's
    Idempotency-Key); one per client that used it; of one district only when `district` is
    given."""
    if not actors:
        return []
    statement = (
        select(ExternalIdRow.code, ExternalIdRow.external_id)
        .where(ExternalIdRow.actor.in_(list(actors)))
        .where(ExternalIdRow.external_id == token)
        .order_by(ExternalIdRow.event_id)
    )
    if district:
        statement = statement.join(EventRow, EventRow.id == ExternalIdRow.event_id).where(
            EventRow.street.startswith(district, autoescape=True)
        )
    with store.engine.connect() as conn:
        return [(code, external_id) for code, external_id in conn.execute(statement)]
