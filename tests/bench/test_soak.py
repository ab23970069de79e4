"""The soak bench (`python -m bench soak`): a short soak against a real `dispatch demo`
backend, and its verdict's arithmetic."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from bench.soak import Report, Sample, parse, print_report, soak, warm_up_start


@pytest.mark.timeout(240)
async def test_a_short_soak_measures_a_real_backend_and_loses_nothing(capsys) -> None:
    report = await soak(
        hours=0.3,  # 18 s at 60x, judged
        speed=60.0,
        clients=8,
        every=1.0,
        cut_every=1.5,
        ask_every=2.0,
        # A short catch-up (yesterday and the morning) and a warm-up of 6 s before 10:00:
        # a busy hour, when the cameras' alerts come through MQTT every minute or so.
        start="2026-11-25T10:00",
        seed=7,
        say=False,
        warm_up=0.1,
    )
    assert report.mix == Counter(
        {"wall": 2, "street": 3, "commander": 1, "dispatcher": 1, "community": 1}
    )
    # The warm-up's samples are kept apart from the judged ones, which follow them.
    warm = [s for s in report.samples if not s.judged]
    assert 5 <= len(warm) <= 7 and report.samples[: len(warm)] == warm
    assert len(report.judged) >= 16 and report.judged[0].t >= 6.0
    first = report.samples[0]  # before the first cut (any later one may find one away)
    # The backend as /proc and /health see it: 8 clients, a socket and two tasks each.
    assert first.clients == 8 and first.threads >= 2 and first.fds >= 8 + 3
    # Besides: the intakes', the periodic ones, the 12345 gateway's supervisor and the frames
    # of pushes it is filing (docs/intake.md §2.6), a varying few: a CI run saw 16 more.
    assert 8 * 2 <= first.tasks <= 8 * 2 + 20
    assert 50 <= first.rss <= 1000
    assert report.samples[-1].head > first.head  # the simulator went on
    # The resume ring's bytes from /health: the catch-up's deltas, and more since.
    assert 1.0 < first.ring <= report.judged[0].ring <= report.samples[-1].ring <= 16.0
    # The demo's intakes alive: its Mosquitto up at every sample, camera alerts through MQTT,
    # the 12345 platform's orders, each counted apart for the warm-up and the judged window.
    assert all(s.broker for s in report.samples)
    assert report.arrivals["frigate"] >= 1 and report.intakes_alive
    assert report.warm_up_arrivals["frigate"] >= 1 and report.arrivals["demo-12345"] >= 1
    assert report.cuts >= 4 and report.resumes["replay"] >= 1 and report.resumes["none"] == 8
    assert report.connections == 8 + report.resumes["replay"]
    assert report.asked["stats ok"] >= 2 and report.asked["history ok"] >= 1
    assert report.problems == [] and report.log_errors == [] and report.exit_status == 0
    assert report.passed, report.trends()
    print_report(report, ["soak", "--hours", "0.3", "--warm-up", "0.1"])
    out = capsys.readouterr().out
    assert "| asyncio tasks |" in out and "verdict: PASS" in out
    assert "(warm-up) |" in out and "and a warm-up of 0.1 simulated hours" in out
    assert "MQTT intake alive: " in out
    assert out.rstrip().endswith("-m bench soak --hours 0.3 --warm-up 0.1")


def test_the_warm_up_begins_before_the_judged_window() -> None:
    assert warm_up_start("2026-11-25T20:00", 24) == "2026-11-24T20:00"
    assert warm_up_start("2026-11-25T20:00", 0) == "2026-11-25T20:00"
    assert warm_up_start("2026-11-25T10:00", 0.1) == "2026-11-25T09:54"
    assert warm_up_start("2026-11-25T10:00", 0.01) == "2026-11-25T09:59:24"
    assert parse([]).warm_up == 24.0 and parse(["--warm-up", "0"]).warm_up == 0.0


def test_growth_in_the_second_half_fails_the_soak() -> None:
    def samples(rss: list[float]) -> list[Sample]:
        return [Sample(float(t), r, 40, 10, 100, 50, t) for t, r in enumerate(rss)]

    alive = Counter({"frigate": 12, "sensors": 1})
    flat = Report(24, 60, Counter(), samples=samples([150.0 + (t % 3) for t in range(40)]))
    flat.exit_status, flat.arrivals = 0, alive
    assert flat.flat and flat.passed
    growing = Report(24, 60, Counter(), samples=samples([150.0 + t for t in range(40)]))
    growing.exit_status, growing.arrivals = 0, alive
    assert growing.trends()["rss"] == pytest.approx(19 / 170, rel=0.01)
    assert not growing.flat and not growing.passed

    # Threads are few: one started late (a bounded pool's) is not growth; a steady rise is.
    def with_threads(threads: list[int]) -> Report:
        report = Report(24, 60, Counter(), samples=flat.samples)
        report.samples = [
            Sample(s.t, s.rss, s.fds, n, s.tasks, s.clients, s.head)
            for s, n in zip(flat.samples, threads, strict=True)
        ]
        report.exit_status, report.arrivals = 0, alive
        return report

    assert with_threads([14] * 30 + [15] * 10).passed
    assert not with_threads([14 + t // 4 for t in range(40)]).passed
    lost = Report(24, 60, Counter(), samples=flat.samples, problems=["wall-0: 1 events missing"])
    lost.exit_status, lost.arrivals = 0, alive
    assert not lost.passed

    # Growth in the warm-up is not judged; the same growth in the judged window is.
    warming = [
        replace(s, rss=100.0 + 2 * t, judged=False) for t, s in enumerate(samples([0.0] * 30))
    ]
    warm = Report(24, 60, Counter(), samples=warming + flat.samples)
    warm.exit_status, warm.arrivals = 0, alive
    assert warm.judged == flat.samples and warm.trends() == flat.trends() and warm.passed


def test_a_soak_without_its_mqtt_intake_fails() -> None:
    """The demo's Mosquitto gone at one sample, or nothing through MQTT: not a pass."""
    samples = [Sample(float(t), 150.0, 40, 10, 100, 50, t) for t in range(40)]

    def report(samples: list[Sample], arrivals: Counter[str]) -> Report:
        made = Report(24, 60, Counter(), samples=samples, arrivals=arrivals)
        made.exit_status = 0
        return made

    assert report(samples, Counter({"sensors": 1})).passed
    # Other intakes' arrivals do not stand for the MQTT intake's.
    quiet = report(samples, Counter({"demo-12345": 30, "open311:demo-citizen-app": 9}))
    assert not quiet.intakes_alive and not quiet.passed
    down = [replace(s, broker=False) if s.t == 33 else s for s in samples]
    assert not report(down, Counter({"frigate": 50})).passed
    # ... but a broker down in the warm-up only (and back) is not judged.
    warm = [replace(s, broker=False, judged=False) for s in samples[:5]] + samples[5:]
    assert report(warm, Counter({"frigate": 50})).passed
    assert not report([], Counter({"frigate": 50})).intakes_alive


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
