"""The `replay` request (复盘, docs/protocol.md §6.14): a moment's state or a range's deltas,
under the same roles, jurisdiction and view as the live stream, read on a worker thread and
audited like other reads. Nothing changes: no command, no notification is sent."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

from dispatch import kpi
from dispatch.admin import Audited, Refused
from dispatch.clock import Clock
from dispatch.hub import Client, Hub, kpi_scopes
from dispatch.limits import Limits
from dispatch.reference import ReferenceData, local
from dispatch.replay import Picture, decode_row, districts_seen, duty_view, state_at
from dispatch.state import Actor
from dispatch.store.store import AdminEntry, Store
from protocol.codes import ErrorCode
from protocol.entities import OPEN_STATUSES, Alert, Duty, Event, Kpi
from protocol.messages import REPLAY_SPAN_MAX, Delta, Replay

LogSpan = tuple[tuple[int, float], tuple[int, float]] | None  # Store.log_span()

# Who replays: the people at the screens, each within its jurisdiction (not an intake system).
REPLAYERS = frozenset({"commander", "dispatcher", "street", "community", "wall", "admin"})
# Replays rebuilt at once (each is a few hundred ms of a worker thread at most).
TURNS = 2


class Replays(Audited):
    """Answers `replay` requests."""

    def __init__(
        self, hub: Hub, store: Store, reference: ReferenceData, clock: Clock, limits: Limits
    ) -> None:
        super().__init__(hub, store)
        self.rows = limits.replay_rows
        self.reference = reference
        self.clock = clock
        # The units a case's assignee is counted under as a department (the live KpiBook's).
        self.departments = frozenset(reference.departments)
        self._turns = asyncio.Semaphore(TURNS)

    async def answer(self, client: Client, message: Replay) -> None:
        """Check, read, audit and answer one request."""
        entry = AdminEntry(
            at=time.time(),
            actor=client.user.name,
            peer=client.peer,
            action="replay",
            target=_target(message),
        )
        actor = Actor(client.user.name, client.user.role, client.jurisdiction)
        home = self.reference.reference.district

        def sees(key: str) -> bool:
            # Client.sees without its cache (this runs on a worker thread).
            shown = key or home  # "": an old duty row, the first district's
            return not shown or actor.may_see(shown)

        async def do() -> tuple[dict[str, Any], str]:
            ranged = message.from_seq is not None or message.to_seq is not None
            forms = (message.at is not None) + (message.seq is not None) + ranged
            if forms != 1:
                raise Refused(
                    ErrorCode.BAD_ARGS, "name one of `at`, `seq`, or `from_seq` with `to_seq`"
                )
            if ranged and message.only_kpis:
                raise Refused(
                    ErrorCode.BAD_ARGS,
                    "`only_kpis` is for a moment (`at` or `seq`), not a range of deltas",
                )
            now = self.clock.now()
            async with self._turns:
                if ranged:
                    done = await asyncio.to_thread(self._range, message, sees)
                else:
                    done = await asyncio.to_thread(self._state, client, actor, message, sees, now)
            await asyncio.to_thread(self.store.record_admin, entry)
            return done

        await self.checked(client, message.id, entry, REPLAYERS, do, "replay")

    def _state(
        self,
        client: Client,
        actor: Actor,
        message: Replay,
        sees: Callable[[str], bool],
        now: float,
    ) -> tuple[dict[str, Any], str]:
        span = self.store.log_span()
        head = span[1][0] if span is not None else 0
        if message.at is not None:
            at = message.at
            if not math.isfinite(at):
                raise Refused(ErrorCode.BAD_ARGS, "`at` must be a finite number of seconds")
            if at > now:
                raise Refused(ErrorCode.BAD_ARGS, f"at {_when(at)} is in the future")
            if span is None or at < span[0][1]:
                begins = "nothing yet" if span is None else _when(span[0][1])[:16]
                raise Refused(
                    ErrorCode.BAD_ARGS,
                    f"at {_when(at)} is before the kept history, which begins at {begins}",
                )
            seq = min(self.store.last_seq_at(at), head)
        else:
            assert message.seq is not None
            seq = message.seq
            _not_beyond("seq", seq, head)
            _not_before("seq", seq, span)
            at = -math.inf
        picture = state_at(self.store, seq, self.hub.epoch)
        moment = max(at, picture.at)
        events: list[Event] = []
        alerts: list[Alert] = []
        duty: Duty | None = None
        duties: dict[str, Duty] = {}
        if not message.only_kpis:  # a player's look ahead: thousands of events, unwanted
            events, alerts, all_duties = picture.visible(
                sees, self.reference.key_of, client.view, moment
            )
            mine = districts_seen(self.reference.districts, client.jurisdiction)
            duty, duties = duty_view(all_duties, mine, self.reference.reference.district)
        # Before the first row (seq 0) there is no moment: the day is the first row's.
        first = span[0][1] if span is not None else now
        counted = moment if math.isfinite(moment) else first
        day = kpi.day_start(counted)
        kpis, curve = self._figures(picture, counted, day, actor, client.jurisdiction)
        data: dict[str, Any] = {
            "epoch": self.hub.epoch,
            "seq": seq,
            "at": moment if math.isfinite(moment) else None,
            "events": events,
            "alerts": alerts,
            "duty": duty,
            **({"duties": duties} if duties else {}),
            "kpis": kpis,
            "day": int(day),
            "curve": curve,
        }
        shown = (
            "KPIs only" if message.only_kpis else f"{len(events)} event(s), {len(alerts)} alert(s)"
        )
        return data, f"seq {seq}: {shown}"

    def _figures(
        self,
        picture: Picture,
        moment: float,
        day: float,
        actor: Actor,
        jurisdiction: frozenset[str] | None,
    ) -> tuple[dict[str, Kpi], list[int]]:
        """Today's KPIs at `moment` of the scopes this user may see, as the live `kpis`
        message's `scopes` held them then, and the whole day's arrivals per hour that it may
        see (the day that began at `day`, up to the log's head).

        The KPIs are kpi.compute() over the picture's cases, before any jurisdiction or view
        filter (the scopes are filtered after, as Hub.kpi_sets does). That is enough for the
        day: a case counts in a day's figures only when it is open or one of its times falls
        on that day, and the picture holds every case but those settled with no change in
        the 36 hours before its position (a checkpoint drops those, prune_settled), all of
        whose times are before the day began. It is not for the week or the month: those
        are not answered. Yesterday's curve (`hourly_yesterday`) and the day's are read from
        the store, as the server reads yesterday's: yesterday's early cases may have left
        the picture, and the day's curve runs past the moment.
        """
        # One read for both days.
        rows = self.store.arrivals_placed(day - 86400, day + 86400)
        yesterday = kpi.hourly(((street, at) for street, _, at in rows if at < day), day - 86400)
        # Only the cases open or changed today can count in today's figures (every time a
        # count hangs on is at most its updated_at): the rest, counted, would add nothing.
        counted = [
            e for e in picture.events.values() if e.status in OPEN_STATUSES or e.updated_at >= day
        ]
        book = kpi.compute(counted, moment, yesterday, self.departments)
        curve = [0] * 24
        for _, grid, at in rows:
            # Filed under its grid, whose code begins with its community's and its street's:
            # where the case is now (a case moved since counts where it went).
            if at >= day and actor.may_see(grid):
                curve[min(23, int((at - day) // 3600))] += 1
        return kpi_scopes(book, "today", jurisdiction), curve

    def _range(self, message: Replay, sees: Callable[[str], bool]) -> tuple[dict[str, Any], str]:
        low, high = message.from_seq, message.to_seq
        if low is None or high is None:
            raise Refused(ErrorCode.BAD_ARGS, "a range needs both `from_seq` and `to_seq`")
        if high < low:
            raise Refused(ErrorCode.BAD_ARGS, f"the range ({low}, {high}] is reversed")
        if high - low > REPLAY_SPAN_MAX:
            raise Refused(
                ErrorCode.BAD_ARGS,
                f"the range ({low}, {high}] spans over {REPLAY_SPAN_MAX} positions: page it",
            )
        span = self.store.log_span()
        head = span[1][0] if span is not None else 0
        _not_beyond("to_seq", high, head)
        _not_before("from_seq", low, span)
        rows = self.store.log_rows(low, high, self.rows)
        more = len(rows) == self.rows and rows[-1].seq < high
        deltas = [
            Delta(seq=row.seq, action=row.action, actor=row.actor, at=row.at, data=decode_row(row))
            for row in rows
            if sees(row.key)
        ]
        data: dict[str, Any] = {
            "epoch": self.hub.epoch,
            "from_seq": low,
            "to_seq": rows[-1].seq if more else high,
            "more": more,
            "deltas": deltas,
        }
        return data, f"({low}, {data['to_seq']}]: {len(deltas)} delta(s)"


def _when(moment: float) -> str:
    """A district time as people read it (local time, to the second)."""
    try:
        return local(moment).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):  # past the calendar's years
        return f"{moment:g}"


def _target(message: Replay) -> str:
    lean = " only_kpis" if message.only_kpis else ""
    if message.at is not None:
        return f"at={message.at}{lean}"
    if message.seq is not None:
        return f"seq={message.seq}{lean}"
    return f"seq={message.from_seq}..{message.to_seq}{lean}"


def _not_beyond(name: str, seq: int, head: int) -> None:
    """Refused unless the log position is at or below the log's head."""
    if seq > head:
        raise Refused(ErrorCode.BAD_ARGS, f"{name} {seq} is beyond the log's head {head}")


def _not_before(name: str, seq: int, span: LogSpan) -> None:
    """Refused when the log position is before the first kept row (`span`: first, last)."""
    if span is not None and seq < span[0][0] - 1:
        raise Refused(
            ErrorCode.BAD_ARGS,
            f"{name} {seq} is before the kept history, which begins at seq {span[0][0]}",
        )
