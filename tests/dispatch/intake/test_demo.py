"""The demo turns the intakes on: its simulator's live 12345 calls go through the real HTTP
endpoint, signed, and the centre's feedback goes back to the simulated platform."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dispatch.store.store import Store

ROOT = Path(__file__).parents[3]


@pytest.mark.timeout(240)
async def test_the_demo_pushes_12345_calls_through_http(tmp_path) -> None:
    env = {**os.environ, "TONGGUAN_DATA": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("TONGGUAN_DB_URL", None)
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "dispatch", "demo", "--port", "0", "--speed", "600"]
    command += ["--no-warm-up", "--ready-file", str(ready), "--log-file", str(tmp_path / "log")]
    proc = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: ASYNC220 - started once
    try:
        deadline = time.monotonic() + 60
        # The ready file says the intake's URL once the intakes are up (after the catch-up).
        while not ready.exists() or "intake" not in (doc := json.loads(ready.read_text())):
            assert proc.poll() is None and time.monotonic() < deadline, "the demo did not start"
            await asyncio.sleep(0.2)
        assert doc["intake"].startswith("http://127.0.0.1:")
        assert (tmp_path / "intake-demo.toml").stat().st_mode & 0o777 == 0o600
        # The counters are for an admin or a gateway: a gateway user of the demo's database.
        token = Store(f"sqlite:///{tmp_path / 'dispatch.db'}").create_user("统计网关", "gateway")
        auth = {"authorization": f"Bearer {token}"}
        async with httpx.AsyncClient() as http:
            ok = 0
            while ok < 3:
                assert time.monotonic() < deadline + 90, "no 12345 push reached the endpoint"
                await asyncio.sleep(0.5)
                stats = (await http.get(doc["intake"] + "/intake/stats", headers=auth)).json()
                ok = stats["answers"].get("12345", {}).get("ok", 0)
        store = Store(f"sqlite:///{tmp_path / 'dispatch.db'}")
        try:
            while store.outbox_counts().get("delivered", 0) < 1:
                assert time.monotonic() < deadline + 150, "no feedback delivered"
                await asyncio.sleep(0.5)
            # Newest first: by now a 签收's later 办理中 may have been delivered too.
            delivered = store.outbox_entries("delivered")
            assert {(e.peer, e.kind) for e in delivered} >= {("demo-12345", "sign")}
        finally:
            store.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    log = (tmp_path / "log").read_text()
    assert "simulated 12345 platform: pushes to" in log
    assert "Traceback" not in log
