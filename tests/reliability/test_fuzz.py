"""Fuzzed frames against a running backend (a `dispatch serve` child), every answer held
against the document (bench/reliability/oracle.py, written from docs/protocol.md), the
backend alive and consistent afterwards. Bounded here; `python -m bench.reliability` sends
100,000.

Two sources: the suite's own seeded generator (frames/fuzz.py: well-formed frames of every
kind, broken in one place, mutated byte by byte), and hypothesis, whose shrinking turns a
failure into the smallest frames that show it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.reliability.backend import Backend
from bench.reliability.checks import audit, problems_by_kind
from bench.reliability.fuzz import FuzzReport, Target, fuzz, send_frames, start_target
from bench.reliability.oracle import Registry, first_frame, message_of, parse
from protocol.commands import ARGS

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("frames", [6000])
async def test_fuzzed_frames_get_the_documented_answers(db_url, tmp_path, frames) -> None:
    # Fewer on PostgreSQL: the same code answers, and the suite has two minutes in all.
    frames = frames if db_url.startswith("sqlite") else frames // 2
    report = await fuzz(db_url, tmp_path, frames, seed=5)
    assert not report.all_problems, problems_by_kind(report.all_problems)
    assert report.frames >= frames
    # Every kind of frame was tried, and the answers came in every documented shape.
    for label in ("ping", "command", "bad envelope", "not json", "stats", "second hello"):
        assert report.labels[label], (label, report.labels)
    assert report.labels["oversized"] or frames < 3000
    for code in ("result", "bad_message", "bad_id", "bad_args", "forbidden", "unknown_op"):
        assert report.codes[code], (code, report.codes)
    assert report.first_frames and report.probes == 7


# ---- hypothesis ------------------------------------------------------------------------------

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_TYPES = [
    *("ping", "command", "stats", "history", "hello", "users", "revoke_user", "create_user"),
    "update_user",
    *("roster", "set_roster", "set_category", "load_categories"),
]
_ENVELOPE = st.fixed_dictionaries(
    {
        "type": st.sampled_from([*_TYPES, "welcome", "delta", "Ping", ""]) | _VALUES,
        "id": st.integers(-3, 40) | _VALUES,
    },
    optional={
        "command_id": st.sampled_from(["a", "b", "", "x" * 65]) | st.text(max_size=66),
        "op": st.sampled_from(sorted(ARGS)) | st.text(max_size=8),
        "args": st.dictionaries(
            st.sampled_from(["event", "note", "reason", "assignee", "passed", "text", "alert"]),
            st.integers(-2, 50) | st.text(max_size=8) | st.booleans() | _VALUES,
            max_size=3,
        )
        | _VALUES,
        "by": st.sampled_from(["street", "worker", "grid", "x"]),
        "period": st.sampled_from(["today", "month", "year"]) | _VALUES,
        "event": st.integers(-1, 30) | _VALUES,
        "name": st.text(max_size=8),
        "first": st.sampled_from(["2026-12-03", "2030-01-01", "x"]),
        "last": st.sampled_from(["2026-12-10", "x"]),
        "day": st.sampled_from(["2026-12-03", "2020-01-01"]),
        "commander": st.none()
        | st.fixed_dictionaries({"name": st.text(max_size=4), "title": st.text(max_size=4)}),
        "check": st.booleans(),
        "protocol": st.integers(0, 2),
        "token": st.text(max_size=8),
        "extra": _VALUES,
    },
)


def _encoded(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


_FRAMES = st.lists(
    _ENVELOPE.map(_encoded)
    | st.binary(max_size=80)
    | st.text(max_size=60).map(lambda t: t.encode("utf-8", "surrogatepass")),
    min_size=1,
    max_size=12,
)


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Target, Registry, Backend]]:
    """A backend child on a SQLite file of its own, for the hypothesis examples."""
    data = tmp_path_factory.mktemp("hypothesis")
    url = f"sqlite:///{data / 'dispatch.db'}"
    backend, target = asyncio.run(start_target(url, data))
    try:
        yield target, Registry(), backend
    finally:
        backend.stop()
    found = audit(url)
    assert not found.problems, problems_by_kind(found.problems)


@settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(frames=_FRAMES, wall=st.booleans())
def test_hypothesis_frames_get_the_documented_answers(served, frames, wall) -> None:
    target, registry, backend = served
    report = FuzzReport()
    name = "模糊大屏1" if wall else "模糊调度"
    asyncio.run(send_frames(target, name, frames, registry, report))
    assert not report.all_problems, problems_by_kind(report.all_problems)
    assert backend.alive(), backend.log_tail()


@settings(max_examples=300, deadline=None, database=None)
@given(frame=_ENVELOPE.map(_encoded) | st.binary(max_size=60))
def test_the_oracle_reads_frames_as_the_document_does(frame) -> None:
    """The oracle's own reading, on its own: a frame it takes for a message is one the
    document's tables allow, and a hello is judged as §3 lists the refusals."""
    try:
        value = parse(frame)
    except Exception:
        return
    message = message_of(value)
    if message is not None:
        assert message["type"] in _TYPES and isinstance(message["id"], int)
        assert not isinstance(message["id"], bool)
    expect = first_frame(frame, {"t"}, "e")
    if message is None:
        assert expect.close_code in (4000, -1)
