"""The fan-out bench's arithmetic: baseline messages, frame sizes, latencies, keeping up."""

from __future__ import annotations

import json
from array import array

import pytest
from websockets.frames import Frame, Opcode

from bench.common import CpuMark
from bench.fanout_baseline import message, run_rate
from bench.fanout_measure import MAX_DRIFT_MS, analyse, payload_size
from bench.rawclient import _DELTA, Received


@pytest.mark.parametrize("size", [200, 514, 70_000])
def test_baseline_message_has_the_asked_size_and_reads_as_a_delta(size: int) -> None:
    data = message(42, 1234.5, size)
    assert len(data) == size
    assert json.loads(data)["at"] == 1234.5
    found = _DELTA.match(data)
    assert found is not None and int(found.group(1)) == 42


def test_payload_size_strips_each_header_length() -> None:
    for n in (10, 125, 126, 65_535, 65_536):
        wire = Frame(Opcode.TEXT, b"x" * n).serialize(mask=False)
        assert payload_size(wire) == n


def test_unknown_baseline_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown baseline 'fast'"):
        run_rate("fast", 1000, 1, 1.0, 1.0, 100)


def _mark(wall: float) -> CpuMark:
    return CpuMark(wall, 0.0, {"clients": 0.0})


def _client(seqs: range, lag: float, growth: float = 0.0) -> Received:
    # One read per delta, sent at 100 + seq / 100 seconds.
    times = array("d", (100 + s / 100 + lag + growth * s for s in seqs))
    return Received(array("q", seqs), array("q", seqs), times, 0, None, len(seqs))


def test_analyse_measures_send_to_receipt_in_the_window() -> None:
    sent = [(s, 1, 100 + s / 100) for s in range(1, 1001)]
    records = [_client(range(1, 1001), 0.002), _client(range(1, 1001), 0.004)]
    out = analyse("batched", 100, 2, sent, records, (_mark(101.0), _mark(109.0)), 514)
    assert out.seqs == 801  # seqs 100..900 were sent inside [101, 109]
    assert out.delivered == out.expected == 1602
    assert out.p50_ms == pytest.approx(3.0, abs=0.01)
    assert out.max_ms == pytest.approx(4.0, abs=0.01)
    assert abs(out.drift_ms) < 0.01
    assert out.keeps_up
    assert out.achieved == pytest.approx(801 / 8)


def test_analyse_flags_a_growing_lag_and_lost_deliveries() -> None:
    sent = [(s, 1, 100 + s / 100) for s in range(1, 1001)]
    window = (_mark(101.0), _mark(109.0))
    late = [_client(range(1, 1001), 0.002, growth=0.0001)]  # 0.1 ms more per seq
    growing = analyse("broadcast", 100, 1, sent, late, window, 514)
    assert growing.drift_ms > MAX_DRIFT_MS and not growing.keeps_up
    partial = analyse("tongguan", 100, 1, sent, [_client(range(1, 500), 0.002)], window, 514)
    assert partial.lost == 801 - 400 and not partial.keeps_up
