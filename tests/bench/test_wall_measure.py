"""The wall bench's arithmetic: memory judged flat by the second half's trend."""

from __future__ import annotations

import pytest

from bench.wall import second_half_trend


def test_the_trend_sees_growth_and_not_where_a_collection_fell() -> None:
    steady_growth = [(t, 100.0 + t) for t in range(11)]  # 100 → 110
    assert second_half_trend(steady_growth) == pytest.approx(0.10)
    # Flat with a sawtooth (garbage collected now and then): the ends differ by 10 %, the
    # trend by far less.
    saw = [(t, 100.0 + (t % 5) * 2.5) for t in range(21)]
    assert (saw[-1][1] - saw[0][1]) / saw[0][1] == pytest.approx(0.0)
    assert abs(second_half_trend(saw)) < 0.02
    low_then_high = [(0, 366.0), *[(t, 390.0 + (t % 3) * 5) for t in range(1, 30)], (30, 397.0)]
    assert second_half_trend(low_then_high) < 0.05
    assert second_half_trend([(0, 1.0)]) == 0.0
