"""The soak bench (`python -m bench soak`): a short soak against a real `dispatch demo`
backend, and its verdict's arithmetic."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from pathlib import Path

import pytest

from bench.soak import Report, Sample, print_report, soak


@pytest.mark.timeout(240)
async def test_a_short_soak_measures_a_real_backend_and_loses_nothing(capsys) -> None:
    report = await soak(
        hours=0.2,  # 12 s at 60x
        speed=60.0,
        clients=8,
        every=1.0,
        cut_every=1.5,
        ask_every=2.0,
        start="2026-11-25T01:00",  # a short catch-up: yesterday and one hour
        seed=7,
        say=False,
    )
    assert report.mix == Counter(
        {"wall": 2, "street": 3, "commander": 1, "dispatcher": 1, "community": 1}
    )
    assert len(report.samples) >= 10
    first = report.samples[0]
    # The backend as /proc and /health see it: 8 clients, a socket and two tasks each.
    assert first.clients == 8 and first.threads >= 2 and first.fds >= 8 + 3
    assert 8 * 2 <= first.tasks <= 8 * 2 + 12
    assert 50 <= first.rss <= 1000
    assert report.samples[-1].head > first.head  # the simulator went on
    assert report.cuts >= 4 and report.resumes["replay"] >= 1 and report.resumes["none"] == 8
    assert report.connections == 8 + report.resumes["replay"]
    assert report.asked["stats ok"] >= 2 and report.asked["history ok"] >= 1
    assert report.problems == [] and report.log_errors == [] and report.exit_status == 0
    assert report.passed, report.trends()
    print_report(report, ["soak", "--hours", "0.2"])
    out = capsys.readouterr().out
    assert "| asyncio tasks |" in out and "verdict: PASS" in out
    assert out.rstrip().endswith("-m bench soak --hours 0.2")


def test_growth_in_the_second_half_fails_the_soak() -> None:
    def samples(rss: list[float]) -> list[Sample]:
        return [Sample(float(t), r, 40, 10, 100, 50, t) for t, r in enumerate(rss)]

    flat = Report(24, 60, Counter(), samples=samples([150.0 + (t % 3) for t in range(40)]))
    flat.exit_status = 0
    assert flat.flat and flat.passed
    growing = Report(24, 60, Counter(), samples=samples([150.0 + t for t in range(40)]))
    growing.exit_status = 0
    assert growing.trends()["rss"] == pytest.approx(19 / 170, rel=0.01)
    assert not growing.flat and not growing.passed

    # Threads are few: one started late (a bounded pool's) is not growth; a steady rise is.
    def with_threads(threads: list[int]) -> Report:
        report = Report(24, 60, Counter(), samples=flat.samples)
        report.samples = [
            Sample(s.t, s.rss, s.fds, n, s.tasks, s.clients, s.head)
            for s, n in zip(flat.samples, threads, strict=True)
        ]
        report.exit_status = 0
        return report

    assert with_threads([14] * 30 + [15] * 10).passed
    assert not with_threads([14 + t // 4 for t in range(40)]).passed
    lost = Report(24, 60, Counter(), samples=flat.samples, problems=["wall-0: 1 events missing"])
    lost.exit_status = 0
    assert not lost.passed


@pytest.mark.timeout(240)
async def test_a_backend_that_dies_during_the_soak_stops_it_cleanly(tmp_path, capsys) -> None:
    """SIGKILL the backend once the clients are soaking: the soak ends within seconds,
    without a traceback, says how, keeps the backend's log and prints where it is."""
    work = tmp_path / "soak"
    running = asyncio.ensure_future(
        soak(
            hours=2.0,  # 2 minutes at 60x: far longer than it will last
            speed=60.0,
            clients=4,
            every=0.5,
            cut_every=1.0,
            ask_every=2.0,
            start="2026-11-25T01:00",
            seed=7,
            work=work,
        )
    )
    log = work / "backend" / "backend.log"
    ready = work / "backend" / "ready.json"
    for _ in range(1200):  # the catch-up done and the clients attached
        if "soaking 2 simulated hours" in capsys.readouterr().out:
            break
        assert not running.done(), running
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the soak did not begin")
    await asyncio.sleep(2)  # a few samples
    pid = json.loads(ready.read_text())["pid"]
    os.kill(pid, signal.SIGKILL)
    report = await asyncio.wait_for(running, 60)
    assert report.died.startswith("the backend was killed by signal 9 while soaking ("), report
    assert not report.passed and report.samples
    assert report.log_kept == log and log.exists() and "simulator caught up" in log.read_text()
    out = capsys.readouterr().out
    assert f"soak stopped: {report.died}" in out
    assert f"the backend's log is kept: {log}" in out
    print_report(report, ["soak", "--hours", "2"])
    out = capsys.readouterr().out
    assert f"the backend's log is kept: {log}" in out and "verdict: FAIL" in out
    assert "Traceback" not in out


def test_a_backend_that_died_before_any_sample_is_reported(capsys) -> None:
    report = Report(24, 60, Counter(), died="the backend exited with status 1 while catching up")
    report.log_kept = Path("/tmp/tg-soak-x/backend/backend.log")
    print_report(report, ["soak"])
    out = capsys.readouterr().out
    assert "soak stopped: the backend exited with status 1 while catching up" in out
    assert "the backend's log is kept: /tmp/tg-soak-x/backend/backend.log" in out
    assert out.rstrip().endswith("verdict: FAIL")
