"""docs/protocol.md §4.4 (risk) against a real backend serving a seeded simulated history
(bench.risk.history: the real simulator through the real writer): the example's frame is
compared with the first `risk` message a street user of 菱湖街道 gets, field by field."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from bench.risk import END, history
from dispatch.clock import Clock
from dispatch.limits import Limits
from dispatch.store.store import Store
from protocol.codec import decode_server
from protocol.messages import Risk
from tests.dispatch.conftest import LINGHU, start_server
from tests.dispatch.test_server import handshake
from tests.protocol.test_batch_doc import frames, section

TITLE = "4.4 risk"
WHY = re.compile(r"^同类案件本街道近30天超期率 \d+%(；.+)?$")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history(4, 3, tmp_path_factory.getbasetemp() / "risk-history", daily=400)


async def test_the_example_is_what_a_street_user_gets(simulated: Path, tmp_path: Path) -> None:
    shown = frames(section(TITLE))
    assert [d for d, _ in shown] == ["<"]
    example: dict[str, Any] = shown[0][1]
    decode_server(json.dumps({**example, "cases": {}}))  # the example's shape is the schema's
    sent = await _first_risk(simulated, tmp_path)
    actual = json.loads(sent)
    assert set(example) == set(actual), (sorted(example), sorted(actual))
    assert example["type"] == actual["type"] == "risk" and example["full"] is actual["full"] is True
    assert example["trained_at"] <= example["at"] and actual["trained_at"] <= actual["at"]
    assert set(example["forecast"]) == set(actual["forecast"]) == {LINGHU}
    assert all(
        isinstance(v, float) for v in (*example["forecast"].values(), *actual["forecast"].values())
    )
    shown_cases = {k: v for k, v in example["cases"].items() if k != "…"}
    assert shown_cases and actual["cases"]
    for cases in (shown_cases, actual["cases"]):
        for event_id, case in cases.items():
            assert event_id.isdigit() and set(case) == {"p", "why"}
            assert 0.0 <= case["p"] <= 1.0 and WHY.match(case["why"]), case


async def _first_risk(simulated: Path, tmp_path: Path) -> str:
    path = tmp_path / "served.db"
    shutil.copy(simulated, path)
    store = Store(f"sqlite:///{path}")
    running = await start_server(
        store, Limits(risk_interval=0.2, risk_first_delay=0.0), Clock(start=END + 60)
    )
    try:
        client = await running.client("linghu")
        await handshake(client)
        while True:
            raw = await asyncio.wait_for(client.ws.recv(), 60)
            if isinstance(decode_server(raw), Risk):
                await client.ws.close()
                return str(raw)
    finally:
        await running.server.stop()
        store.close()
