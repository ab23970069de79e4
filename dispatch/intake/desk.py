"""The desk's view of the intakes: `intake_status` (roles dispatcher and admin) says how each
intake stands and what the 12345 feedback outbox holds; `retry_feedback` (role admin only)
sends feedback again now. Both are admin requests like the roster's (dispatch/tables.py):
past the rate limit each leaves a row in the admin log, done or refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from dispatch.admin import Audited, Refused
from dispatch.hub import Client, Hub
from dispatch.store.store import AdminEntry, OutboxEntry, Store
from protocol.codes import ErrorCode
from protocol.glossary import FEEDBACK_NAMES
from protocol.messages import IntakeStatus, OutboxRow, RetryFeedback

if TYPE_CHECKING:
    from dispatch.intake.service import IntakeService

log = logging.getLogger("dispatch.admin")

IntakeRequest = IntakeStatus | RetryFeedback
ACTIONS: dict[type[IntakeRequest], str] = {
    IntakeStatus: "intake_status",
    RetryFeedback: "retry_feedback",
}
# Who may look: the people who work the cases the intakes bring. Only an admin sends again.
STATUS_READERS = frozenset({"dispatcher", "admin"})


def outbox_row(entry: OutboxEntry) -> OutboxRow:
    """A stored feedback as the wire shows it."""
    return OutboxRow(
        id=entry.id,
        peer=entry.peer,
        ref=entry.ref,
        event=entry.event,
        status=FEEDBACK_NAMES.get(entry.kind, entry.kind),
        state=entry.state,  # type: ignore[arg-type]
        attempts=entry.attempts,
        created_at=entry.created_at,
        next_at=entry.next_at,
        delivered_at=entry.delivered_at,
        error=entry.last_error,
    )


class IntakeDesk(Audited):
    """Answers the intake requests of attached clients (store work on worker threads)."""

    def __init__(self, hub: Hub, store: Store, intake: Callable[[], IntakeService | None]) -> None:
        super().__init__(hub, store)
        self.intake = intake  # the backend's intakes, once started (None: none configured)

    async def answer(self, client: Client, message: IntakeRequest) -> None:
        """Check, do, audit and answer one request."""
        action = ACTIONS[type(message)]
        entry = AdminEntry(
            at=time.time(),
            actor=client.user.name,
            peer=client.peer,
            action=action,
            target=_target(message),
            detail=_detail(message),
        )
        if isinstance(message, IntakeStatus):
            status = message
            do = lambda: self._status(status, entry)  # noqa: E731
            await self.checked(client, message.id, entry, STATUS_READERS, do)
        else:
            retry = message
            await self.checked(
                client, message.id, entry, {"admin"}, lambda: self._retry(retry, entry)
            )

    async def _status(self, message: IntakeStatus, entry: AdminEntry) -> tuple[dict[str, Any], str]:
        service = self.intake()
        intakes = service.health() if service is not None else {}

        def read() -> dict[str, Any]:
            counts = self.store.outbox_counts()
            peers = self.store.outbox_peer_counts()
            rows = self.store.outbox_entries(message.state, None, message.limit)
            self.store.record_admin(entry)
            return {
                "counts": counts,
                "peers": peers,
                "rows": msgspec.to_builtins([outbox_row(r) for r in rows]),
            }

        outbox = await asyncio.to_thread(read)
        on = [name for name, part in intakes.items() if part.get("enabled")]
        note = f"intakes on: {', '.join(on) or 'none'}; {len(outbox['rows'])} outbox row(s)"
        return {"intakes": intakes, "outbox": outbox}, note

    async def _retry(self, message: RetryFeedback, entry: AdminEntry) -> tuple[dict[str, Any], str]:
        def retry() -> list[int]:
            found = self.store.outbox_retry_ids(message.ids, time.time())
            if found:
                self.store.record_admin(entry)
            return found

        retried = await asyncio.to_thread(retry)
        if not retried:
            raise Refused(
                ErrorCode.NOT_FOUND,
                "no feedback to send again: " + _ids(message.ids) + " delivered or absent",
            )
        service = self.intake()
        if service is not None:
            service.wake_outbox()
        skipped = sorted(set(message.ids) - set(retried))
        return {"retried": retried, "skipped": skipped}, f"{len(retried)} to send again"


def _ids(ids: list[int]) -> str:
    text = ",".join(str(i) for i in sorted(set(ids)))
    return text if len(text) <= 200 else text[:197] + "..."


def _target(message: IntakeRequest) -> str:
    if isinstance(message, RetryFeedback):
        return _ids(message.ids)
    return message.state or "all"


def _detail(message: IntakeRequest) -> str:
    if isinstance(message, IntakeStatus):
        return f"limit={message.limit}"
    return f"{len(set(message.ids))} id(s)"
