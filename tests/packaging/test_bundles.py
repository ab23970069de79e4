"""The PyInstaller bundles, started from their built folders (packaging/README.md).

Marked `bundle`: `pytest -m bundle` runs these alone. The bundles are built by
packaging/build.py into TG_DIST (default dist/) unless built from the same sources already.
Each program runs with no PYTHONPATH, from a directory outside the checkout: what it needs
must be in its folder.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bench.risk import END, history
from dispatch.risk_process import RiskTrainer, decode
from tests.packaging.conftest import packaging_build
from tests.pdfs import pdf_objects

# The first build of both takes minutes (packaging/README.md gives the figures).
pytestmark = [pytest.mark.bundle, pytest.mark.timeout(1200)]

LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::")


def clean_env(tmp_path: Path) -> dict[str, str]:
    """No PYTHONPATH, no virtualenv, no database URL: only the bundle."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "TONGGUAN", "UV_"))
    }
    env["TONGGUAN_DATA"] = str(tmp_path / "data")
    env["HOME"] = str(tmp_path / "home")
    env["PATH"] = "/usr/bin:/bin:/usr/sbin:/sbin"  # not .venv/bin
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_backend_bundle_serves(dist, tmp_path) -> None:
    exe = dist / "tongguan-dispatch" / "tongguan-dispatch"
    env = clean_env(tmp_path)
    assert "database ready" in run([str(exe), "init-db"], env, tmp_path)
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [str(exe), "demo", "--no-warm-up", "--no-mqtt", "--port", "0", "--ready-file", str(ready)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "no ready file within 60 s"
            time.sleep(0.2)
        url = json.loads(ready.read_text())["url"].replace("ws://", "http://")
        for _ in range(3):  # a few seconds of answering
            with urllib.request.urlopen(f"{url}/health", timeout=5) as answer:
                assert answer.status == 200
            time.sleep(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0].decode()
    assert proc.returncode == 0, out
    # The handover report as a PDF from the bundle: WeasyPrint, its Pango and HarfBuzz
    # (the system's, named in the .deb's dependencies) and the CJK font, embedded.
    report = tmp_path / "report.pdf"
    assert "written to" in run(
        [str(exe), "handover-report", "--shift", "current", str(report)], env, tmp_path
    )
    inflated = pdf_objects(report.read_bytes())
    assert report.read_bytes().startswith(b"%PDF-")
    assert b"WenQuanYi" in inflated and b"/FontFile2" in inflated and b"/ToUnicode" in inflated
    # The operator's commands from the bundle: migrations (alembic reads them as files),
    # a backup, the check.
    assert "backed up" in run([str(exe), "backup", str(tmp_path / "b.db")], env, tmp_path)
    checked = subprocess.run(
        [str(exe), "check", "--min-free-mb", "1"], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert re.search(r"^ok +schema +\d{4}, this code's newest$", checked.stdout, re.M), checked


def _connects(trace: Path) -> list[str]:
    """The addresses of every connect() to an IP address in an strace -f log."""
    found = []
    for line in trace.read_text(errors="replace").splitlines():
        if "connect(" not in line:
            continue
        match = re.search(r'inet_addr\("([^"]+)"\)', line) or re.search(
            r'inet_pton\(AF_INET6, "([^"]+)"', line
        )
        if match:
            found.append(match.group(1))
    return found


def test_the_desktop_bundle_draws_the_wall_offline(dist, tmp_path) -> None:
    """Offscreen: the wall complete (snapshot, figures, map page ready and drawn), a frame
    saved, and no connection anywhere but to its own local backend."""
    exe = dist / "tongguan" / "tongguan"
    env = clean_env(tmp_path)
    env.update(QT_QPA_PLATFORM="offscreen", TONGGUAN_CACHE=str(tmp_path / "cache"))
    if os.geteuid() == 0:
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"  # Chromium refuses its sandbox as root
    shot = tmp_path / "wall.png"
    trace = tmp_path / "connect.trace"
    cmd = [str(exe), "--data", str(tmp_path / "data"), "--screenshot", str(shot),
           "--screenshot-after", "0.5", "--tour", "0"]  # fmt: skip
    strace = ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)]
    with_strace = subprocess.run(["which", "strace"], capture_output=True).returncode == 0
    result = subprocess.run(
        [*(strace if with_strace else []), *cmd],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert "the wall is complete" in log, log[-4000:]
    assert shot.stat().st_size > 50_000, "the screenshot is (nearly) blank"
    if with_strace:
        outside = [a for a in _connects(trace) if a not in LOOPBACK]
        assert not outside, f"connections outside the machine: {sorted(set(outside))}"


def test_the_bundles_are_within_their_budget(dist) -> None:
    limits = packaging_build.budgets()
    assert set(limits) == set(packaging_build.BUNDLES)
    assert packaging_build.check_budget(dist, packaging_build.BUNDLES) == []


def test_both_bundles_train_the_risk_model_as_the_backend_does(dist, tmp_path) -> None:
    """Each frozen program as the backend's deadline-risk training process (`-m dispatch
    train-risk`, dispatch/risk_process.py): the model it writes on its stdout is the one
    trained from the source tree's (tests/dispatch/test_risk.py: the one the backend trains
    in its own process), to the bit. From a process, not this one: here numpy came before
    the dispatch package, which keeps its BLAS to one thread (another order of sums)."""
    db = history(4, 3, tmp_path / "history", daily=400)
    url = f"sqlite:///{db}"
    trainer = RiskTrainer(url)
    here = trainer.collect(trainer.start(END))
    assert here is not None
    request = json.dumps({"url": url, "now": END}).encode() + b"\n"
    for exe in (dist / "tongguan-dispatch" / "tongguan-dispatch", dist / "tongguan" / "tongguan"):
        # Its stdin open until it has answered: its EOF would tell it the backend is gone.
        proc = subprocess.Popen(
            [str(exe), "-m", "dispatch", "train-risk"], env=clean_env(tmp_path), cwd=tmp_path,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        proc.stdin.write(request)
        proc.stdin.flush()
        out = proc.stdout.read()
        proc.stdin.close()
        code = proc.wait(120)
        assert code == 0, proc.stderr.read().decode(errors="replace")[-4000:]
        proc.stderr.close()
        there = decode(out, proc.pid)
        assert there is not None, exe
        # To the BLAS's rounding: see tests/dispatch/test_risk.py _same_model.
        assert there.index == here.index
        assert np.allclose(there.weights, here.weights, rtol=1e-9, atol=1e-12)
        assert there.rates == here.rates and there.samples == here.samples
