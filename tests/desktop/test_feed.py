"""The Feed without Qt: the inbox applied per frame, the resync and its patience, the
stale deltas dropped, and which new cases are urgent news."""

from __future__ import annotations

from desktop.core.feed import ANNOUNCE_WITHIN, SNAPSHOT_PATIENCE, Feed, urgent_news
from desktop.core.link import Inbox
from desktop.core.replica import Changes, Replica
from desktop.core.session import Status
from protocol.messages import Delta, Kpis, ServerMessage, Snapshot, Units
from tests.desktop.test_replica_stream import messages as recorded_stream
from tests.factories import make_event


class FailsOnce(Replica):
    """A replica with a bug that one delta trips (fault injection: the rest is real)."""

    def __init__(self, bad_seq: int) -> None:
        super().__init__()
        self.bad_seq = bad_seq

    def _delta(self, delta: Delta, changes: Changes) -> None:
        if delta.seq == self.bad_seq:
            self.bad_seq = -1
            raise KeyError("a bug")
        super()._delta(delta, changes)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def stream_parts() -> tuple[list[ServerMessage], int, list[Delta]]:
    """The recorded stream, the index of its snapshot and the deltas after it."""
    stream = recorded_stream()
    at = next(i for i, m in enumerate(stream) if isinstance(m, Snapshot))
    return stream, at, [m for m in stream[at + 1 :] if isinstance(m, Delta)]


def test_nothing_to_collect_before_listening() -> None:
    assert not Feed(Replica()).collect()


def test_a_failing_message_asks_for_a_snapshot_drops_stale_deltas_and_asks_again(
    caplog,
) -> None:
    stream, at, deltas = stream_parts()
    clock = Clock()
    resyncs: list[float] = []
    feed = Feed(FailsOnce(bad_seq=deltas[10].seq), monotonic=clock)
    inbox = Inbox(lambda: None)
    feed.listen(inbox, resync=lambda: resyncs.append(clock.now) or True)
    kpis = next(m for m in stream if isinstance(m, Kpis))
    assert any(isinstance(m, Units) for m in stream[: at + 1])

    for message in [*stream[: at + 1], *deltas[:20], kpis]:
        inbox.put(message)
    changes = feed.collect()
    assert resyncs == [1000.0] and feed.awaiting_snapshot
    assert "reloading the snapshot" in caplog.text
    assert changes.units and changes.kpis  # before and after the failure: both kept
    assert feed.replica.seq == deltas[9].seq and feed.last_data > 0

    for message in deltas[20:40]:  # the old connection's, still in flight
        inbox.put(message)
    assert not feed.collect() and feed.replica.seq == deltas[9].seq

    clock.now += SNAPSHOT_PATIENCE - 1
    feed.every_second()
    assert resyncs == [1000.0]  # still patient
    clock.now += 2
    feed.every_second()
    assert len(resyncs) == 2 and "asking again" in caplog.text

    for message in [stream[at], *deltas]:
        inbox.put(message)
    changes = feed.collect()
    assert changes.reset and not feed.awaiting_snapshot
    assert feed.replica.seq == deltas[-1].seq and len(resyncs) == 2
    reference = Replica()
    reference.apply_all([stream[at], *deltas])
    assert feed.replica.events == reference.events


def test_without_a_way_to_resync_the_deltas_keep_coming() -> None:
    stream, at, deltas = stream_parts()
    feed = Feed(FailsOnce(bad_seq=deltas[5].seq))
    inbox = Inbox(lambda: None)
    feed.listen(inbox, resync=lambda: False)
    for message in [*stream[: at + 1], *deltas]:
        inbox.put(message)
    feed.collect()
    assert not feed.awaiting_snapshot and feed.replica.seq == deltas[-1].seq


def test_a_resync_that_raises_is_logged_and_the_deltas_keep_coming(caplog) -> None:
    stream, at, deltas = stream_parts()
    feed = Feed(FailsOnce(bad_seq=deltas[5].seq))
    inbox = Inbox(lambda: None)

    def gone() -> bool:
        raise RuntimeError("session closed")

    feed.listen(inbox, resync=gone)
    for message in [*stream[: at + 1], *deltas]:
        inbox.put(message)
    feed.collect()
    assert "could not ask the session for a snapshot" in caplog.text
    assert not feed.awaiting_snapshot and feed.replica.seq == deltas[-1].seq


def test_a_snapshot_behind_the_failing_message_is_taken_at_once() -> None:
    stream, at, deltas = stream_parts()
    feed = Feed(FailsOnce(bad_seq=deltas[5].seq))
    inbox = Inbox(lambda: None)
    feed.listen(inbox, resync=lambda: True)
    for message in [*stream[: at + 1], *deltas[:10], stream[at], *deltas]:
        inbox.put(message)
    feed.collect()
    assert not feed.awaiting_snapshot and feed.replica.seq == deltas[-1].seq


def test_the_last_status_is_passed_on_after_the_messages_are_applied() -> None:
    stream, at, _ = stream_parts()
    seen: list[tuple[Status, int]] = []
    replica = Replica()
    feed = Feed(replica, on_status=lambda s: seen.append((s, replica.seq)))
    inbox = Inbox(lambda: None)
    feed.listen(inbox)
    first, last = Status(False, 1.0, 0.0), Status(True, 2.0, 2.0)
    inbox.put(first)
    inbox.put(stream[at])
    inbox.put(last)
    feed.collect()
    assert seen == [(last, stream[at].seq)]


def test_urgent_news_is_urgent_open_and_reported_just_now() -> None:
    now = 1_800_000_000.0
    replica = Replica()
    replica.events = {
        1: make_event(1, priority=1, reported_at=now - 5),
        2: make_event(2, priority=1, reported_at=now - ANNOUNCE_WITHIN),
        3: make_event(3, priority=1, reported_at=now - ANNOUNCE_WITHIN - 1),  # a replay's
        4: make_event(4, priority=1, reported_at=now, status="closed"),
        5: make_event(5, priority=2, reported_at=now),  # 紧急, not 特急
    }
    assert sorted(e.id for e in urgent_news(replica, {1, 2, 3, 4, 5, 99}, now)) == [1, 2]


def test_what_the_backend_forgot_is_forgotten_every_minute_or_half_hour_of_district_time() -> None:
    """Settled cases leave the replica after the keep window, once a minute of real time or
    every half hour of district time (a simulator's fast clock), whichever comes first."""
    from desktop.core.feed import PRUNE_EVERY, PRUNE_EVERY_DISTRICT
    from protocol.retention import KEEP_CLOSED_SECONDS

    clock = Clock()
    replica = Replica(monotonic=clock)
    feed = Feed(replica, monotonic=clock)
    district = 1_800_000_000.0
    replica.events = {
        1: make_event(1, status="closed", updated_at=district - KEEP_CLOSED_SECONDS - 10),
        2: make_event(2, status="closed", updated_at=district - KEEP_CLOSED_SECONDS + 100),
        3: make_event(3, status="reported", updated_at=district - 3 * KEEP_CLOSED_SECONDS),
    }
    assert not feed.every_second()  # the district clock not heard yet: nothing to judge by
    replica._hear_clock(district)  # as a KPI push tells it
    clock.now += PRUNE_EVERY + 1
    district += PRUNE_EVERY + 1
    assert feed.every_second().events == {1} and set(replica.events) == {2, 3}
    replica._hear_clock(district + 200)  # case 2 is past the window, but no minute has passed
    assert not feed.every_second()
    replica._hear_clock(district + PRUNE_EVERY_DISTRICT + 1)  # half an hour of district time
    assert feed.every_second().events == {2} and set(replica.events) == {3}
