"""`dispatch serve` as a child process of a test, on the test's database."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.children import stop_process

ROOT = Path(__file__).resolve().parents[2]


def serve(
    url: str, data: Path, port: int = 0, *options: str
) -> tuple[subprocess.Popen[bytes], int]:
    """A `dispatch serve` process on `url` (with `options`: `--gateway`...), once it listens
    (on `port`, 0: any); its port."""
    ready = data / "ready.json"
    with contextlib.suppress(FileNotFoundError):
        ready.unlink()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TONGGUAN_DATA": str(data)}
    command = [sys.executable, "-m", "dispatch", "--url", url, "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, *options, "--ready-file", str(ready), "--log-file", str(data / "backend.log")],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, (data / "backend.log").read_text()[-2000:]
        assert time.monotonic() < deadline, "did not start"
        time.sleep(0.05)
    return proc, int(json.loads(ready.read_text())["url"].rsplit(":", 1)[1])


def stop_backends(*procs: subprocess.Popen[bytes] | None) -> None:
    """Stop the backends still running (a paused one is woken first), killed if need be."""
    for proc in procs:
        stop_process(proc)
