"""The time machine's backend (复盘, issue 15 item 1): the state at any log position, rebuilt
from the nearest checkpoint at or before it plus the log rows after it, and the checkpoints.

Qt-free and loop-free: everything here runs on worker threads, each with reads of its own.
A log row is filed into the state by `put`, the very function the hub files every committed
change with, so a replay cannot drift from what the live wall was sent. A checkpoint is only
a shortcut: without any, a replay folds the log from its first row and gets the same state.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import msgspec

from dispatch.jurisdiction import districts_of
from dispatch.store.store import LogRow, Store
from protocol.entities import Alert, Duty, Event
from protocol.retention import View, alert_kept, event_kept, prune_settled, view_horizon

# A checkpoint at least every this many log rows, and at every district hour's turn.
CHECKPOINT_ROWS = 10_000
CHECKPOINT_SECONDS = 3600.0
# Checkpoints this recent are all kept (hourly); older ones, one per KEEP_OLDER_SECONDS.
KEEP_ALL_SECONDS = 48 * 3600.0
KEEP_OLDER_SECONDS = 6 * 3600.0
CHUNK = 5_000  # log rows read at once


class ReadModel(Protocol):
    """What holds the state a client is sent: the hub's read model, or a replay's."""

    events: dict[int, Event]
    alerts: dict[int, Alert]
    # Each district's duty in force, by its `district` ("": recorded before districts had
    # their own, the store's first district's).
    duties: dict[str, Duty]


def put(model: ReadModel, entity: Event | Alert | Duty) -> None:
    """File one committed entity (a delta's, a log row's) into a read model."""
    if isinstance(entity, Event):
        model.events[entity.id] = entity
    elif isinstance(entity, Alert):
        model.alerts[entity.id] = entity
    else:
        model.duties[entity.district] = entity


def districts_seen(held: Iterable[str], jurisdiction: Collection[str] | None) -> list[str]:
    """The districts a jurisdiction sees, in the store's order (`held`, its first first):
    all of them for a user without one, else those its codes lie in (as its units list
    them)."""
    mine = districts_of(jurisdiction)
    return [d for d in held if mine is None or d in mine]


def duty_view(
    duties: dict[str, Duty], mine: list[str], home: str
) -> tuple[Duty | None, dict[str, Duty]]:
    """What a snapshot carries of the duties for a user who sees the districts `mine` (the
    first first): the first's duty, and, when they are several, each one's by district."""

    def of(district: str) -> Duty | None:
        duty = duties.get(district)
        if duty is None and district == home:
            duty = duties.get("")
        return duty

    first = of(mine[0]) if mine else None
    if len(mine) < 2:
        return first, {}
    return first, {d: duty for d in mine if (duty := of(d)) is not None}


class _Doc(msgspec.Struct, array_like=True):
    """A checkpoint's document."""

    seq: int
    at: float
    events: list[Event]
    alerts: list[Alert]
    duty: Duty | None  # a checkpoint from before each district had its duty: its only one
    duties: dict[str, Duty] = {}


_DECODERS: dict[str, msgspec.json.Decoder[Event] | msgspec.json.Decoder[Alert]] = {
    "event": msgspec.json.Decoder(Event),
    "alert": msgspec.json.Decoder(Alert),
}
_duty_decoder = msgspec.json.Decoder(Duty)
_doc_decoder = msgspec.json.Decoder(_Doc)
_encode = msgspec.json.Encoder().encode


def decode_row(row: LogRow) -> Event | Alert | Duty:
    """The entity an audit row left behind."""
    decoder = _DECODERS.get(row.entity)
    return _duty_decoder.decode(row.doc) if decoder is None else decoder.decode(row.doc)


@dataclass(slots=True)
class Picture:
    """The state at log position `seq`; `at`: the latest district time the log had reached."""

    seq: int = 0
    at: float = -math.inf
    events: dict[int, Event] = field(default_factory=dict)
    alerts: dict[int, Alert] = field(default_factory=dict)
    duties: dict[str, Duty] = field(default_factory=dict)

    def fold(self, rows: list[LogRow]) -> None:
        """Apply these log rows (the next ones, in order)."""
        for row in rows:
            put(self, decode_row(row))
            self.seq = row.seq
            self.at = max(self.at, row.at)

    def dump(self) -> bytes:
        """The compressed document a checkpoint keeps."""
        doc = _Doc(
            self.seq,
            self.at,
            list(self.events.values()),
            list(self.alerts.values()),
            None,
            self.duties,
        )
        return zlib.compress(_encode(doc), 6)

    @classmethod
    def load(cls, blob: bytes) -> Picture:
        """The state a checkpoint kept."""
        doc = _doc_decoder.decode(zlib.decompress(blob))
        return cls(
            doc.seq,
            doc.at,
            {e.id: e for e in doc.events},
            {a.id: a for a in doc.alerts},
            doc.duties or ({doc.duty.district: doc.duty} if doc.duty is not None else {}),
        )

    def visible(
        self,
        sees: Callable[[str], bool],
        key_of: Callable[[Alert], str],
        view: View,
        moment: float,
    ) -> tuple[list[Event], list[Alert], dict[str, Duty]]:
        """What a client would have been sent at `moment`: what it may see (`sees` a key)
        of what its view keeps then (the filters of Hub.snapshot_frames), and the duties."""
        horizon = view_horizon(view, moment)
        events = [e for e in self.events.values() if sees(e.community) and event_kept(e, horizon)]
        alerts = [a for a in self.alerts.values() if sees(key_of(a)) and alert_kept(a, horizon)]
        return events, alerts, self.duties


def state_at(store: Store, seq: int, epoch: str, *, checkpoints: bool = True) -> Picture:
    """The state at log position `seq`: the nearest checkpoint of `epoch` at or before it
    (none with `checkpoints` off: from the first row), plus the log rows after it."""
    start = store.checkpoint_before(seq, epoch) if checkpoints else None
    picture = Picture() if start is None else Picture.load(start[2])
    while picture.seq < seq:
        rows = store.log_rows(picture.seq, seq, CHUNK)
        if not rows:
            break  # no rows up to `seq` left: positions never written (a failed batch)
        picture.fold(rows)
    picture.seq = max(picture.seq, seq)
    return picture


def make_checkpoints(
    store: Store,
    epoch: str,
    upto: int,
    *,
    every_rows: int = CHECKPOINT_ROWS,
    every_seconds: float = CHECKPOINT_SECONDS,
) -> int:
    """Walk the log from the last checkpoint to `upto`, keeping a checkpoint at the last row
    before each district hour's turn and every `every_rows` rows; how many were made.

    A worker thread's: reads of its own, and one short insert per checkpoint. Settled cases
    past the keep window are dropped from each (prune_settled): a replay never shows them
    at a later moment, and a later change of one brings its whole document back.
    """
    start = store.checkpoint_before(upto, epoch)
    picture = Picture() if start is None else Picture.load(start[2])
    mark_seq, mark_at = picture.seq, picture.at
    made = 0
    while picture.seq < upto:
        rows = store.log_rows(picture.seq, upto, CHUNK)
        if not rows:
            break
        for row in rows:
            turned = math.isfinite(mark_at) and (row.at // every_seconds > mark_at // every_seconds)
            if picture.seq > mark_seq and (turned or picture.seq - mark_seq >= every_rows):
                prune_settled(picture.events, picture.alerts, picture.at)
                store.save_checkpoint(picture.seq, picture.at, epoch, picture.dump())
                made += 1
                # The turn is this row's hour: the next checkpoint waits for the one after.
                mark_seq, mark_at = picture.seq, max(picture.at, row.at)
            elif not math.isfinite(mark_at):
                mark_at = row.at
            picture.fold([row])
    return made


def checkpoints_to_drop(
    kept: list[tuple[int, float]],
    now: float,
    *,
    keep_all: float = KEEP_ALL_SECONDS,
    older_every: float = KEEP_OLDER_SECONDS,
) -> list[int]:
    """The checkpoints (seq, at) to forget at `now`: all from the last `keep_all` seconds are
    kept, and of older ones the first of each `older_every` seconds."""
    drop = []
    blocks: set[float] = set()
    for seq, at in kept:
        if at >= now - keep_all:
            continue
        block = at // older_every
        if block in blocks:
            drop.append(seq)
        else:
            blocks.add(block)
    return drop


def keep_checkpoints(store: Store, epoch: str, now: float) -> tuple[int, int]:
    """Make the checkpoints the log is owed up to its head, forget the ones past their
    keep (and every other epoch's); (made, dropped). A worker thread's."""
    kept = store.checkpoints(epoch)
    span = store.log_span()
    if span is None:
        return 0, 0
    head, head_at = span[1]
    # Most rounds nothing is owed: known without reading the last checkpoint back.
    owed = not kept
    if kept:
        last_seq, last_at = kept[-1]
        owed = head - last_seq >= CHECKPOINT_ROWS or (
            head > last_seq and head_at // CHECKPOINT_SECONDS > last_at // CHECKPOINT_SECONDS
        )
    made = make_checkpoints(store, epoch, head) if owed else 0
    aged = checkpoints_to_drop(store.checkpoints(epoch) if made else kept, now)
    # A write only when there is something to forget (another epoch's go with the first).
    dropped = store.drop_checkpoints(aged, epoch) if made or aged else 0
    return made, dropped
