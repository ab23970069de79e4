"""The replica on a recorded stream (tests/desktop/data, made by tests/desktop/record_stream.py):
a welcome, the units, a snapshot, then live deltas and KPI pushes of 菱湖街道 at speed 120."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from desktop.core.replica import Changes, Replica, ReplicaError
from protocol.codec import decode_server
from protocol.entities import Event
from protocol.messages import Delta, Kpis, Snapshot, Welcome

STREAM = Path(__file__).parent / "data" / "linghu.jsonl.gz"
LINGHU = "340803004"


def messages():
    with gzip.open(STREAM, "rt", encoding="utf-8") as lines:
        return [decode_server(line) for line in lines]


def test_the_recorded_stream_builds_the_state_its_deltas_describe() -> None:
    stream = messages()
    replica = Replica()
    total = Changes()
    for message in stream:
        total.merge(replica.apply(message))
    snapshot = next(m for m in stream if isinstance(m, Snapshot))
    deltas = [m for m in stream if isinstance(m, Delta)]
    assert len(deltas) > 100, "the recording should hold live traffic"
    # Every entity is in its latest state: the last delta for it, else the snapshot's.
    latest: dict[int, Event] = {e.id: e for e in snapshot.events}
    for delta in deltas:
        if isinstance(delta.data, Event):
            latest[delta.data.id] = delta.data
    assert replica.events == latest
    assert replica.seq == deltas[-1].seq and replica.epoch == snapshot.epoch
    assert {e.street for e in replica.events.values()} == {LINGHU}  # a street user's view
    assert replica.units is not None and [s.code for s in replica.units.streets] == [LINGHU]
    kpis = [m for m in stream if isinstance(m, Kpis)]
    assert replica.kpis == kpis[-1].scopes and "district" not in replica.kpis
    assert replica.role == "street" and replica.jurisdiction == [LINGHU]
    welcome = next(m for m in stream if isinstance(m, Welcome))
    assert replica.now() >= welcome.server_time  # the clock moves with the welcome too
    new_in_stream = {d.data.id for d in deltas if isinstance(d.data, Event)} - {
        e.id for e in snapshot.events
    }
    assert new_in_stream <= total.new_events


def test_a_resume_half_way_gives_the_same_state() -> None:
    stream = messages()
    whole = Replica()
    for message in stream:
        whole.apply(message)
    half = len(stream) // 2
    first = Replica()
    for message in stream[:half]:
        first.apply(message)
    # The connection drops; the server replays from the replica's seq (deltas it already has
    # are skipped), after a welcome that offers the replay in the same epoch.
    point = first.resume_point()
    assert point is not None
    welcome = next(m for m in stream if isinstance(m, Welcome))
    replay = type(welcome)(**{**_fields(welcome), "resume": "replay", "epoch": point[0]})
    first.apply(replay)
    overlap = [m for m in stream[half - 20 : half] if isinstance(m, Delta)]
    for message in overlap + stream[half:]:
        first.apply(message)
    assert first.events == whole.events and first.seq == whole.seq


def test_a_replay_for_another_epoch_is_refused() -> None:
    stream = messages()
    replica = Replica()
    for message in stream[:5]:
        replica.apply(message)
    welcome = next(m for m in stream if isinstance(m, Welcome))
    other = type(welcome)(**{**_fields(welcome), "resume": "replay", "epoch": "another"})
    with pytest.raises(ReplicaError):
        replica.apply(other)


def _fields(struct) -> dict:
    return {name: getattr(struct, name) for name in struct.__struct_fields__}


def test_names_come_from_the_units_and_follow_their_version() -> None:
    replica = Replica()
    assert replica.names() == {}
    for message in messages()[:3]:
        replica.apply(message)
    names = replica.names()
    assert names[LINGHU] == "菱湖街道" and names["smoke_fire"] == "烟雾火情"
    assert names["340803"] == "大观区"  # a district user's jurisdiction reads as its name
    assert replica.names() is names  # cached while the units stay the same


def test_new_means_new_since_the_last_snapshot() -> None:
    before = Changes(events={1}, new_events={1})
    before.merge(Changes(reset=True, events={1, 2}))
    assert before.new_events == set() and before.reset
    before.merge(Changes(events={3}, new_events={3}))
    assert before.new_events == {3} and before.events == {1, 2, 3}


def test_the_district_clock_runs_on_between_pushes_at_their_pace() -> None:
    real = [1000.0]
    replica = Replica(monotonic=lambda: real[0])
    assert replica.now() == 0.0  # not heard yet
    replica.apply(Kpis(at=5000.0, scopes={}))
    real[0] += 2.0
    assert replica.now() == 5002.0  # production: real time from the last reading on
    replica.apply(Kpis(at=5002.0, scopes={}))
    real[0] += 30.0  # the link is down: no push, but deadlines keep passing
    assert replica.now() == 5032.0
    # A demo at 60x: the next readings show the pace, and the clock keeps it in between.
    replica.apply(Kpis(at=5032.0, scopes={}))
    real[0] += 1.0
    replica.apply(Kpis(at=5092.0, scopes={}))
    real[0] += 0.5
    assert replica.now() == 5122.0


def test_no_writer_holds_from_the_kpis_that_say_so_until_a_kpis_or_snapshot_says_not() -> None:
    stream = messages()
    replica = Replica()
    for message in stream:
        replica.apply(message)
    assert not replica.no_writer
    assert replica.apply(Kpis(at=replica.now(), scopes={}, no_writer=True)).kpis
    assert replica.no_writer
    replica.apply(next(m for m in stream if isinstance(m, Snapshot)))  # another node, perhaps
    assert not replica.no_writer
    replica.apply(Kpis(at=replica.now(), scopes={}, no_writer=True))
    replica.apply(Kpis(at=replica.now(), scopes={}))
    assert not replica.no_writer
