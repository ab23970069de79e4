"""The desk bench's arithmetic: action latencies, where stall time went, browse operations."""

from __future__ import annotations

import math

import pytest

from bench.common import stall_split, where_time_went
from bench.desk import analyse_actions
from bench.desk_window import analyse_browse


def test_actions_are_timed_from_submit_to_answer_and_to_each_client() -> None:
    entries = [
        # (event, op, state, made_at, answered_at, code)
        [1, "accept", "done", 100.000, 100.020, ""],
        [1, "dispatch", "done", 100.200, 100.240, ""],
        [2, "accept", "refused", 101.000, 101.010, "conflict"],
        [3, "accept", "done", 102.000, 102.030, ""],
    ]
    seen = [[1, "accepted", 100.050], [1, "dispatched", 100.300], [3, "accepted", 102.090]]
    listed = [[1, "accepted", 100.060]]
    out = analyse_actions(entries, seen, listed)
    accept, dispatch = out["ops"]["accept"], out["ops"]["dispatch"]
    assert (accept["n"], accept["done"]) == (3, 2)  # the refusal is counted, not timed
    assert accept["answer"]["max"] == pytest.approx(30.0)
    assert accept["seen"]["max"] == pytest.approx(90.0) and accept["seen_n"] == 2
    assert accept["listed_n"] == 1 and accept["listed"]["p50"] == pytest.approx(60.0)
    assert dispatch["seen"]["p50"] == pytest.approx(100.0)
    assert dispatch["listed_n"] == 0 and math.isnan(dispatch["listed"]["p50"])
    assert out["states"] == {"done": 3, "refused": 1}
    assert out["answer"]["n"] == 3 and out["seen"]["n"] == 3


def test_stall_time_is_split_by_the_work_that_overlapped_it() -> None:
    # Two stalls of 20 ms beyond a 5 ms timer: [9.975, 10.0] and [19.975, 20.0].
    gaps = [[10.0, 20.0, 15.0, 5.0], [20.0, 20.0, 25.0, 0.0]]
    spans = [
        ["repaint", 9.980, 9.990],
        ["flush", 9.985, 10.050],  # runs on past the stall: only its part inside counts
        ["gc gen 0", 30.0, 30.001],  # outside any stall
    ]
    rows = {r["kind"]: r for r in where_time_went(spans, gaps, 5.0)}
    assert rows["repaint"]["in_stalls"] == pytest.approx(10.0)
    assert rows["flush"]["in_stalls"] == pytest.approx(15.0)
    assert rows["gc gen 0"]["in_stalls"] == 0.0 and rows["gc gen 0"]["n"] == 1
    # Covered in the first stall: 9.980-10.0 (20 ms); the second not at all (25 ms).
    assert rows["none of these"]["in_stalls"] == pytest.approx(5.0 + 25.0)
    # Each late tick spans gap + interval (25 ms): 40 ms ran, 5 waited of 50.
    assert stall_split(gaps, 5.0) == pytest.approx((80.0, 10.0, 10.0))
    assert stall_split([], 5.0) == (0.0, 0.0, 0.0)


def test_a_browse_operation_is_painted_after_its_rebuild() -> None:
    done = [
        ("page down", 1.000, 1.002, 1.050),
        ("page down", 2.000, 2.001, 2.050),  # no paint in its window
        ("search: last key", 3.000, 3.001, 3.500),  # the list rebuilds 150 ms later
    ]
    paints = [(1.003, 1.013), (3.100, 3.104), (3.200, 3.215)]
    rebuilds = [(3.150, 3.190)]
    gaps = [(1.013, 12.0, 12.0, 0.0), (3.215, 60.0, 60.0, 0.0)]
    out = analyse_browse(done, gaps, paints, rebuilds)
    page = out["page down"]
    assert page["n"] == 2 and page["unpainted"] == 1
    assert page["painted_max"] == pytest.approx(13.0) and page["stall_max"] == 12.0
    search = out["search: last key"]
    # From the rebuild's start (the search's pause is the user's) to the paint after it.
    assert search["painted_max"] == pytest.approx(65.0)
    assert search["rebuild_max"] == pytest.approx(40.0) and search["stalls_over"] == 1
