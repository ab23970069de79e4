"""The demo turns the intakes on: its simulator's live 12345 calls go through the real HTTP
endpoint, signed, and the centre's feedback goes back to the simulated platform."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest

from dispatch.store.store import Store
from tests.dispatch.intake.demo_process import running_demo

ROOT = Path(__file__).parents[3]


@pytest.mark.timeout(240)
async def test_the_demo_pushes_12345_calls_through_http(tmp_path) -> None:
    async with running_demo(tmp_path) as (proc, doc):
        deadline = time.monotonic()
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
    assert proc.returncode == 0
    log = (tmp_path / "log").read_text()
    assert "simulated 12345 platform: pushes to" in log
    # Through the 12345 gateway process (the demo's config turns it on, docs/intake.md §2.6).
    gateway = re.search(r"12345 gateway on 127\.0\.0\.1:(\d+)", log)
    assert gateway is not None, log[-3000:]
    assert f"pushes to http://127.0.0.1:{gateway[1]}," in log
    assert "Traceback" not in log
