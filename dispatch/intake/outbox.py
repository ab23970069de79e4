"""Feedback to 12345 (签收, 办理中, 办结 with the result text, 退回 with the reason, 延期 when
an extension is approved, 重办 when a closed case is reopened) through a durable outbox.

The rule (on the writer's thread) turns a workflow change of a 12345 case into a row of
`intake_outbox`, written in the change's own transaction: a committed change always owes
its feedback, a rolled-back one never does. The sender (on the event loop) POSTs each
pending row, signed like the peer's pushes (signing.py) and with `Idempotency-Key`, to the
peer's feedback URL with httpx, until a 2xx; a failure (timeout, 5xx, 408/429, connection)
is retried after a capped exponential backoff that is stored with the row, so it survives
restarts; a 4xx is the peer's final no: the row is `refused`, shown by `dispatch
intake-outbox`, and sent again only by hand (`--retry`). One case's feedback goes out in
the order it was made: a row waits while an earlier row of the same 工单 is pending.

Exactly once from our side: a row is marked delivered only after the peer's 2xx, and a
resend (our crash between its answer and our mark, or a lost answer) carries the same key,
which the peer de-duplicates on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
import msgspec

from dispatch.domain.calendar import CST
from dispatch.intake import signing
from dispatch.state import Change, OutboxItem
from dispatch.store.store import OutboxEntry, Store
from protocol.entities import Event
from protocol.glossary import FEEDBACK_NAMES

log = logging.getLogger("dispatch.intake.outbox")
_encode = msgspec.json.Encoder().encode
IDEMPOTENCY_KEY = "idempotency-key"
# The workflow steps a 12345 platform hears of, and what it calls them. 延期 and 重办 are
# the published loop's 延期批准 and 发回重办 (shared/intake README §3.1: Anhui's practice as
# Xinhua reported it); their names on the wire, like the whole format, are ours: no
# 12345 interface specification is published (§3.2).
STATUS = FEEDBACK_NAMES  # the 12345 platform's words for each feedback kind


def _text_of(event: Event, ops: tuple[str, ...]) -> str:
    """The latest note recorded by one of `ops` (`"<op>: <note>"` in decisions)."""
    for decision in reversed(event.decisions):
        for op in ops:
            if decision.text.startswith(f"{op}: "):
                return decision.text[len(op) + 2 :]
    return ""


def _iso(at: float) -> str:
    """A district time as the platform reads it: ISO 8601 with +08:00, in seconds."""
    return datetime.fromtimestamp(at, CST).isoformat(timespec="seconds")


def feedback_kind(change: Change) -> str | None:
    """Which feedback a change of a case owes its platform, if any."""
    before, after = change.before, change.after
    if not isinstance(after, Event) or not isinstance(before, Event):
        return None
    action = change.action
    if action == "accept":
        return "sign"
    if action == "dispatch" and before.first_dispatched_at is None:
        return "progress"  # the first dispatch: the case is being handled (办理中)
    if action == "close":
        return "done"
    if action == "reject":
        return "return"
    if (
        action == "decide_extension"
        and after.extension is not None
        and after.extension.state == "approved"
    ):
        return "extend"  # a refused extension changes nothing the platform knows of
    if action in ("reopen", "auto_reopen"):
        return "reopen"  # by hand after a failed return visit, or by a low evaluation
    return None


def hotline_rule(
    peers: Callable[[], dict[str, str]], channel: str = "12345"
) -> Callable[[Change], OutboxItem | None]:
    """The rule for `channel`'s cases: `peers()` gives the feedback URL of each peer (a peer
    without one is owed nothing)."""

    def rule(change: Change) -> OutboxItem | None:
        after = change.after
        if not isinstance(after, Event) or after.intake is None:
            return None
        intake = after.intake
        if intake.channel != channel or not peers().get(intake.peer):
            return None
        kind = feedback_kind(change)
        if kind is None:
            return None
        extra: dict[str, str] = {}
        if kind == "done":
            text = _text_of(after, ("close", "handled")) or "已办结"
        elif kind == "return":
            text = _text_of(after, ("reject",))
        elif kind == "extend":
            assert after.extension is not None
            text = after.extension.reason
            if after.due_at is not None:  # the new 办理时限 the extension gives
                extra["deadline"] = _iso(after.due_at)
        elif kind == "reopen":
            text = _text_of(after, ("reopen", "auto_reopen"))
        else:
            text = ""
        key = f"tg-{after.code}-{kind}-{uuid.uuid4().hex[:12]}"
        body = {
            "key": key,
            "order_no": intake.ref,
            "status": STATUS[kind],
            "event": after.code,
            "at": _iso(change.at),
            "text": text,
            "unit": after.assignee,
            **extra,
        }
        # Scheduled on the wall clock the sender runs on (the district clock of a demo or a
        # replay runs faster); the body says when the change happened in district time.
        return OutboxItem(
            key,
            channel,
            intake.peer,
            intake.ref,
            after.id,
            kind,
            _encode(body).decode(),
            time.time(),
            change.at,
        )

    return rule


@dataclass(frozen=True, slots=True)
class Retry:
    """How failed deliveries are retried: base * 2^attempts, at most cap seconds, ±20 %."""

    base: float = 1.0
    cap: float = 300.0
    timeout: float = 5.0  # per request
    poll: float = 0.25  # how often the outbox is looked at when idle
    parallel: int = 16  # requests in flight at once

    def delay(self, attempts: int) -> float:
        """Seconds to wait before attempt `attempts + 1`."""
        return float(min(self.cap, self.base * 2 ** min(attempts, 30)) * random.uniform(0.8, 1.2))


@dataclass(frozen=True, slots=True)
class Target:
    """Where a peer's feedback goes and the key it is signed with."""

    url: str
    key: bytes


class OutboxSender:
    """Delivers pending feedback until acknowledged (a task on the backend's loop)."""

    def __init__(self, store: Store, targets: dict[str, Target], retry: Retry) -> None:
        self.store = store
        self.targets = targets
        self.retry = retry
        self.sent = 0  # requests made
        self.delivered = 0
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    def wake(self) -> None:
        """Look at the outbox now (new feedback was committed)."""
        self._wake.set()

    async def start(self) -> None:
        """Start delivering."""
        self._client = httpx.AsyncClient(
            timeout=self.retry.timeout,
            limits=httpx.Limits(max_connections=self.retry.parallel * 2),
        )
        self._task = asyncio.create_task(self._run(), name="intake-outbox")

    async def stop(self) -> None:
        """Stop delivering; what is pending stays pending for the next start."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        while True:
            try:
                busy = await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database hiccupped: try again shortly
                log.exception("outbox round failed")
                busy = False
            if not busy:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.retry.poll)
                self._wake.clear()

    async def round(self) -> bool:
        """Send what is due now, once; whether anything was sent."""
        pending = await asyncio.to_thread(self.store.outbox_pending)
        now = time.time()
        due: list[OutboxEntry] = []
        waiting: set[tuple[str, str]] = set()
        for entry in pending:
            order = (entry.peer, entry.ref)
            if order in waiting:
                continue  # an earlier feedback of this case goes first
            waiting.add(order)
            if entry.next_at <= now and entry.peer in self.targets:
                due.append(entry)
        if not due:
            return False
        delivered_any = False
        # In chunks, each marked when it is done: a crash resends at most one chunk's
        # delivered feedback (under the same keys), not a whole round's.
        chunk = self.retry.parallel * 8
        for start in range(0, len(due), chunk):
            delivered_any |= await self._deliver(due[start : start + chunk])
        return delivered_any

    async def _deliver(self, due: list[OutboxEntry]) -> bool:
        """Send `due` (at most `parallel` at once) and mark what became of each."""
        gate = asyncio.Semaphore(self.retry.parallel)

        async def one(entry: OutboxEntry) -> tuple[OutboxEntry, int | None, str]:
            async with gate:
                return (entry, *await self._send(entry))

        results = await asyncio.gather(*(one(e) for e in due))
        delivered: list[tuple[int, float]] = []
        failed: list[tuple[int, int, float, str]] = []
        refused: list[tuple[int, int, str]] = []
        at = time.time()
        for entry, status, error in results:
            attempts = entry.attempts + 1
            if status is not None and 200 <= status < 300:
                delivered.append((entry.id, at))
            elif status is not None and 400 <= status < 500 and status not in (408, 425, 429):
                refused.append((entry.id, attempts, error))
                log.error("12345 feedback %s refused by %s: %s", entry.key, entry.peer, error)
            else:
                failed.append((entry.id, attempts, at + self.retry.delay(entry.attempts), error))
        await asyncio.to_thread(self.store.outbox_mark, delivered, failed, refused)
        self.delivered += len(delivered)
        if failed:
            log.warning(
                "12345 feedback: %d delivered, %d to retry (e.g. %s)",
                len(delivered),
                len(failed),
                failed[0][3],
            )
        return bool(delivered)

    async def _send(self, entry: OutboxEntry) -> tuple[int | None, str]:
        """POST one feedback: (HTTP status or None, what went wrong)."""
        assert self._client is not None
        target = self.targets[entry.peer]
        body = entry.body.encode()
        path = httpx.URL(target.url).raw_path.decode()
        headers = signing.sign(target.key, entry.peer, "POST", path.split("?")[0], body)
        headers["content-type"] = "application/json"
        headers[IDEMPOTENCY_KEY] = entry.key
        self.sent += 1
        try:
            response = await self._client.post(target.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500] or type(exc).__name__
        if 200 <= response.status_code < 300:
            return response.status_code, ""
        return response.status_code, f"HTTP {response.status_code}: {response.text[:300]}"
