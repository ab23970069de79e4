"""The synchronous-commit bench (bench/pg_sync.py): a short run end to end, and its bad input."""

from __future__ import annotations

import math
import os

import pytest

from bench import pg_sync
from bench.reliability import private_pg

pytestmark = pytest.mark.timeout(120)


async def test_a_short_run_measures_both_modes() -> None:
    if os.environ.get("CI") != "true" and not private_pg.available():
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    figures = await pg_sync.run(commands=20, seconds=1.0, clients=8, rounds=1)
    # sync then async, each a serial phase and a concurrent one.
    kinds = [(p.mode, p.kind) for p in figures.phases]
    assert kinds == [
        ("sync", "serial"),
        ("sync", "concurrent"),
        ("async", "serial"),
        ("async", "concurrent"),
    ]
    for phase in figures.phases:
        assert phase.latencies and all(0 < t < pg_sync.ANSWER_TIMEOUT for t in phase.latencies)
        assert phase.rate_limited == 0, phase
        assert phase.seconds > 0
    for mode in pg_sync.MODES:
        (serial,) = figures.of(mode, "serial")
        assert len(serial.latencies) == 20
        (concurrent,) = figures.of(mode, "concurrent")
        assert len(concurrent.latencies) >= 8  # every client had at least one answered
        medians = figures.medians(mode)
        lag = medians.pop("lag")  # nan when no sample met recent WAL (a starved machine)
        assert math.isnan(lag) or lag >= 0, lag
        assert all(math.isfinite(v) and v > 0 for v in medians.values()), medians
        assert medians["p50"] <= medians["p95"] <= medians["p99"]
    assert all(x >= 0 for p in figures.phases for x in p.flush_lags)
    assert set(figures.paired()) == set(figures.pooled("sync"))
    assert len(figures.loads) == 2 and figures.postgresql
    printed = pg_sync.report(figures)
    for row in ("| sync ", "| async ", "| sync − async, median", "pooled", "load average"):
        assert row in printed, printed


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--commands", "0"], "must be positive"),
        (["--seconds", "0"], "must be positive"),
        (["--seconds", "nan"], "must be positive"),
        (["--rounds", "-1"], "must be positive"),
        (["--commands", "201"], "at most 200 serial commands"),
        (["--clients", "32"], "at most 31 clients"),
    ],
)
def test_a_setting_it_cannot_measure_with_is_refused_at_once(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        pg_sync.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert says in err, err
