"""Files for the desk: the shifts' handover reports (交接班报告) and exports of the cases a
user may see (CSV, XLSX).

Asked for over the websocket — `shifts` lists the shifts, `download` makes a file — and
fetched over plain HTTP: a `download` answers a path holding a one-time ticket (32 random
bytes, good for TICKET_SECONDS, for its user only), and one `GET /downloads/<ticket>` with
the user's `Authorization: Bearer` header takes the file; the token never goes in a URL.
Both requests are checked by role and jurisdiction here, and leave a row in the admin log,
done or refused, like the roster's (dispatch/tables.py). The report of a shift that has just
ended is made when the duty changes hands, so that the desk's first download is at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from dispatch.admin import Audited, Refused
from dispatch.clock import Clock
from dispatch.domain.calendar import CST
from dispatch.exports import Filter, Format, export
from dispatch.handover import Shift, ShiftError, district_shifts, file_name, find_shift, make
from dispatch.hub import Client, Hub
from dispatch.jurisdiction import DISTRICT_WIDTH, STREET_WIDTH, DistrictUnclear, pick_district
from dispatch.reference import ReferenceData, local
from dispatch.state import Actor
from dispatch.store.store import AdminEntry, Store
from dispatch.tables import day_span
from protocol.codes import ErrorCode
from protocol.entities import SOURCES, STATUSES
from protocol.messages import SHIFTS_SPAN, Download, ShiftRow, Shifts

log = logging.getLogger("dispatch.admin")

DownloadRequest = Shifts | Download
ACTIONS: dict[type[DownloadRequest], str] = {Shifts: "shifts", Download: "download"}
# Who reads the handover reports: the district centre (they cover the whole district).
REPORT_READERS = frozenset({"commander", "dispatcher", "admin"})
# Who exports cases: every desk role, each the cases of its jurisdiction.
EXPORTERS = frozenset({"commander", "dispatcher", "street", "community", "admin"})
TICKET_SECONDS = 60.0
TICKETS_PER_USER = 4
TICKET_BYTES_MAX = 512 * 1024 * 1024  # held for all users at once
EXPORT_DAYS_MAX = 366
REPORTS_KEPT = 8  # reports made at handover, kept for the desk's first download
_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True, slots=True)
class Ticket:
    user: str
    name: str
    content_type: str
    body: bytes
    expires: float  # time.monotonic()


class Downloads(Audited):
    """Answers `shifts` and `download`, and hands each file out once over HTTP."""

    def __init__(self, hub: Hub, store: Store, reference: ReferenceData, clock: Clock) -> None:
        super().__init__(hub, store)
        self.reference = reference
        self.clock = clock
        self.tickets: dict[str, Ticket] = {}
        # Reports of ended shifts, by (scope, start, format): the same whenever made.
        self.made: OrderedDict[tuple[str, float, str], bytes] = OrderedDict()
        # Each district's duty's handover time as last seen (None: at start).
        self._seen_handover: dict[str, float] | None = None
        self._making: set[asyncio.Task[None]] = set()
        self.closing = False

    # ---- the websocket side ------------------------------------------------------------

    async def answer(self, client: Client, message: DownloadRequest) -> None:
        """Check, do, audit and answer one request."""
        entry = AdminEntry(
            at=time.time(),
            actor=client.user.name,
            peer=client.peer,
            action=ACTIONS[type(message)],
            target=_target(message),
            detail=_detail(message),
        )

        async def do() -> tuple[dict[str, Any], str]:
            if isinstance(message, Shifts):
                done = await self._shifts(self._district(client, message.district), message)
            elif message.report == "handover":
                district = self._district(client, message.district)
                done = await self._handover(client, district, message)
            else:
                done = await self._export(client, message)
            await asyncio.to_thread(self.store.record_admin, entry)
            return done

        if isinstance(message, Download) and message.report != "handover":
            await self.checked(client, message.id, entry, EXPORTERS, do, "export cases")
        else:
            await self.checked(
                client, message.id, entry, REPORT_READERS, do, "read the handover reports"
            )

    def _district(self, client: Client, asked: str) -> str:
        """The district whose shifts a request is about: a user of the whole of it (a
        district's or the city's; pick_district), else Refused."""
        if client.width > DISTRICT_WIDTH:
            raise Refused(
                ErrorCode.FORBIDDEN,
                "the handover reports cover the whole district: not for a user of some streets",
            )
        try:
            return pick_district(client.jurisdiction, asked, list(self.reference.districts), "duty")
        except DistrictUnclear as exc:
            raise Refused(ErrorCode(exc.code), str(exc)) from exc

    def _shifts_of(self, district: str) -> list[Shift]:
        """The shifts of a district's centre (a worker thread): their reports cover that
        district alone when the store holds several."""
        return district_shifts(self.store, district, list(self.reference.districts))

    async def _shifts(self, district: str, message: Shifts) -> tuple[dict[str, Any], str]:
        first, last = day_span(message.first, message.last, SHIFTS_SPAN)
        found = await asyncio.to_thread(self._shifts_of, district)
        low, high = first.isoformat(), (last + timedelta(days=1)).isoformat()
        rows = [
            ShiftRow(
                start=s.start,
                end=s.end,
                day=s.duty.day,
                commander=s.duty.commander.name,
                note=s.note is not None,
            )
            for s in reversed(found)
            if low <= local(s.start).date().isoformat() < high
        ]
        return {"shifts": msgspec.to_builtins(rows)}, f"{len(rows)} shift(s)"

    async def _handover(
        self, client: Client, district: str, message: Download
    ) -> tuple[dict[str, Any], str]:
        if message.format not in ("html", "pdf"):
            raise Refused(
                ErrorCode.BAD_ARGS, f"a handover report is html or pdf, not {message.format}"
            )
        if message.shift is None:
            raise Refused(ErrorCode.BAD_ARGS, "name the shift: its start (`shift`)")
        found = await asyncio.to_thread(self._shifts_of, district)
        try:
            shift = find_shift(found, message.shift)
        except ShiftError as exc:
            raise Refused(ErrorCode.NOT_FOUND, str(exc)) from None
        key = (shift.scope, shift.start, message.format)
        body = self.made.get(key) if shift.end is not None else None
        if body is None:
            body = await asyncio.to_thread(self._make, shift, message.format)
        name = file_name(shift, message.format)
        return self._ticket(client, name, message.format, body), name

    def _make(self, shift: Shift, fmt: str) -> bytes:
        body = make(self.store, self.reference, shift, fmt, self.clock.now())
        if shift.end is not None:  # an ended shift's report says the same whenever made
            self.made[(shift.scope, shift.start, fmt)] = body
            while len(self.made) > REPORTS_KEPT:
                self.made.popitem(last=False)
        return body

    async def _export(self, client: Client, message: Download) -> tuple[dict[str, Any], str]:
        if message.format not in ("csv", "xlsx"):
            raise Refused(ErrorCode.BAD_ARGS, f"an export is csv or xlsx, not {message.format}")
        if not message.first or not message.last:
            raise Refused(ErrorCode.BAD_ARGS, "an export needs its first and last day")
        day_span(message.first, message.last, EXPORT_DAYS_MAX)
        reference = self.reference
        # A bare code: that category in every district the user sees whose table has it.
        categories = reference.category_codes(client.jurisdiction)
        unknown = (
            [f"street {s}" for s in message.street if s not in reference.streets]
            + [f"category {c}" for c in message.category if c not in categories]
            + [f"status {s}" for s in message.status if s not in STATUSES]
            + [f"source {s}" for s in message.source if s not in SOURCES]
        )
        if unknown:
            raise Refused(ErrorCode.BAD_ARGS, f"unknown {', '.join(sorted(unknown))}")
        actor = Actor(client.user.name, client.user.role, client.jurisdiction)
        streets = frozenset(message.street)
        if client.jurisdiction is not None:
            mine = frozenset(code[:STREET_WIDTH] for code in client.jurisdiction)
            if client.width == DISTRICT_WIDTH:  # a district user's streets: its districts'
                mine = frozenset(s for s in reference.streets if s[:DISTRICT_WIDTH] in mine)
            outside = sorted(streets - mine)
            if outside:
                raise Refused(
                    ErrorCode.FORBIDDEN,
                    f"street {', '.join(outside)} is outside your jurisdiction",
                )
            streets = streets or mine
        start = _midnight(message.first)
        chosen = Filter(
            start,
            _midnight(message.last) + 86400,
            streets,
            frozenset(message.status),
            frozenset(message.category),
            frozenset(message.source),
        )
        body, count = await asyncio.to_thread(self._write_export, actor, chosen, message.format)
        name = f"事件导出-{message.first}至{message.last}.{message.format}"
        return self._ticket(client, name, message.format, body), f"{count} case(s): {name}"

    def _write_export(self, actor: Actor, chosen: Filter, fmt: str) -> tuple[bytes, int]:
        events = self.store.events_reported(
            chosen.start,
            chosen.end,
            streets=chosen.streets,
            statuses=chosen.statuses,
            categories=chosen.categories,
        )
        # A community user's streets hold other communities too: only its own go out.
        visible = (e for e in events if actor.may_see(e.community))
        with tempfile.TemporaryDirectory(prefix="tongguan-export-") as folder:
            path = Path(folder) / f"export.{fmt}"
            count = export(visible, self.reference, path, _format(fmt), chosen, self.clock.now())
            return path.read_bytes(), count

    def _ticket(self, client: Client, name: str, fmt: str, body: bytes) -> dict[str, Any]:
        self.expire()
        user = client.user.name
        held = [key for key, t in self.tickets.items() if t.user == user]
        for key in held[: max(0, len(held) - TICKETS_PER_USER + 1)]:
            del self.tickets[key]  # the oldest of a user's unfetched files give way
        if sum(len(t.body) for t in self.tickets.values()) + len(body) > TICKET_BYTES_MAX:
            raise Refused(ErrorCode.RATE_LIMITED, "too many files waiting to be fetched: ask again")
        key = secrets.token_urlsafe(32)
        self.tickets[key] = Ticket(user, name, _TYPES[fmt], body, time.monotonic() + TICKET_SECONDS)
        return {
            "path": f"/downloads/{key}",
            "name": name,
            "bytes": len(body),
            "expires_in": TICKET_SECONDS,
        }

    # ---- the HTTP side -----------------------------------------------------------------

    def expire(self) -> None:
        """Forget the tickets whose time is up."""
        now = time.monotonic()
        for key in [k for k, t in self.tickets.items() if t.expires <= now]:
            del self.tickets[key]

    def take(self, key: str, user: str) -> Ticket | None:
        """The file of a ticket, once, for its own user while it is good."""
        self.expire()
        ticket = self.tickets.get(key)
        if ticket is None or ticket.user != user:
            return None
        del self.tickets[key]
        return ticket

    # ---- at each change of duty ----------------------------------------------------------

    def watch(self) -> None:
        """Called as deliveries go out: when a district's duty has changed hands, make the
        report of its shift that ended (HTML and PDF) on a worker thread."""
        if self.closing:
            return
        home = self.reference.reference.district
        now = {d or home: duty.handover_at for d, duty in self.hub.duties.items()}
        seen, self._seen_handover = self._seen_handover, now
        if seen is None:
            return  # the duties in force at start: their shifts have not ended here
        for district, handover_at in now.items():
            if seen.get(district, handover_at) == handover_at:
                continue
            task = asyncio.get_running_loop().create_task(self._make_ended(district, handover_at))
            self._making.add(task)
            task.add_done_callback(self._making.discard)

    async def finish(self) -> None:
        """At a stop: make no more reports, and wait for one being made."""
        self.closing = True
        if self._making:
            await asyncio.wait(list(self._making))

    async def _make_ended(self, district: str, handover_at: float) -> None:
        def work() -> None:
            found = self._shifts_of(district)
            ended = [s for s in found if s.end is not None and abs(s.end - handover_at) < 0.001]
            for shift in ended[-1:]:
                started = time.perf_counter()
                for fmt in ("html", "pdf"):
                    if self.closing:  # the backend is stopping: not the next one
                        return
                    self._make(shift, fmt)
                log.info(
                    "handover report of the shift from %s made in %.2f s",
                    local(shift.start).strftime("%Y-%m-%d %H:%M"),
                    time.perf_counter() - started,
                )

        try:
            await asyncio.to_thread(work)
        except Exception:
            log.exception("the handover report could not be made")


def _midnight(day: str) -> float:
    return datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=CST).timestamp()


def _format(fmt: str) -> Format:
    return "xlsx" if fmt == "xlsx" else "csv"


def _target(message: DownloadRequest) -> str:
    if isinstance(message, Shifts):
        return f"{message.first[:10]}..{message.last[:10]}"
    if message.report == "handover":
        when = message.shift
        return f"handover {local(when):%Y-%m-%d %H:%M:%S}" if when is not None else "handover"
    return f"export {message.first[:10]}..{message.last[:10]}"


def _detail(message: DownloadRequest) -> str:
    if isinstance(message, Shifts):
        return ""
    parts = [f"format={message.format}"]
    for name in ("street", "status", "category", "source"):
        values: list[str] = getattr(message, name)
        if values:
            parts.append(f"{name}={','.join(values)[:200]}")
    return " ".join(parts)
