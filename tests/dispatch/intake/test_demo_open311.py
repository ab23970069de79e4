"""The demo's live citizen reports (随手拍) go through the real Open311 endpoint, from a
stand-in citizens' app (dispatch/intake/citizen_app.py), and go round the loop from there."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from tests.dispatch.intake.demo_process import running_demo


def by_app(db: Path) -> tuple[int, int]:
    """Reports the app made (the audit's actor is open311:<client>), and later steps of
    those cases by others."""
    with sqlite3.connect(db) as conn:
        made = conn.execute(
            "SELECT entity_id FROM log WHERE actor = 'open311:demo-citizen-app'"
            " AND action = 'report'"
        ).fetchall()
        ids = [row[0] for row in made]
        later = 0
        if ids:
            marks = ",".join("?" * len(ids))
            later = conn.execute(
                f"SELECT count(*) FROM log WHERE entity = 'event' AND entity_id IN ({marks})"
                " AND actor != 'open311:demo-citizen-app'",
                ids,
            ).fetchone()[0]
    return len(ids), later


@pytest.mark.timeout(240)
async def test_the_demo_s_citizen_reports_come_through_open311(tmp_path) -> None:
    async with running_demo(tmp_path, "--no-mqtt", patience=180) as (proc, _):
        deadline = time.monotonic() + 120
        made = later = 0
        while made < 2 or later < 1:
            assert proc.poll() is None
            assert time.monotonic() < deadline, f"{made} app reports, {later} steps after"
            await asyncio.sleep(1.0)
            made, later = await asyncio.to_thread(by_app, tmp_path / "dispatch.db")
    assert proc.returncode == 0
    log = (tmp_path / "log").read_text()
    assert "simulated citizens' app: reports to" in log
    assert "Open311 report failed" not in log and "Open311 report refused" not in log
    assert "Traceback" not in log
