"""`dispatch demo` as a child process of a test: started at 600x with no warm-up, waited for
until its intakes serve (the ready file names their URL), stopped with SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[3]


@contextlib.asynccontextmanager
async def running_demo(
    data: Path, *extra: str, patience: float = 60.0
) -> AsyncIterator[tuple[subprocess.Popen[bytes], dict[str, Any]]]:
    """The demo on `data` (its database, log and ready file there); yields the process and
    its ready file's document once the intakes serve. The caller checks `returncode`."""
    env = {**os.environ, "TONGGUAN_DATA": str(data), "PYTHONPATH": str(ROOT)}
    env.pop("TONGGUAN_DB_URL", None)
    ready = data / "ready.json"
    command = [sys.executable, "-m", "dispatch", "demo", "--port", "0", "--speed", "600"]
    command += ["--no-warm-up", *extra, "--ready-file", str(ready)]
    command += ["--log-file", str(data / "log")]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: ASYNC220 - started once
    try:
        deadline = time.monotonic() + patience
        # The ready file says the intake's URL once the intakes are up (after the catch-up).
        while not ready.exists() or "intake" not in (doc := json.loads(ready.read_text())):
            assert proc.poll() is None and time.monotonic() < deadline, "the demo did not start"
            await asyncio.sleep(0.2)
        yield proc, doc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
