"""A full disk ends in a bounded state: the sender told plainly, the backend out of the way
(exit status 3, for a supervisor to start it again), the database whole, and the next start
working once there is room, with every acknowledged report in it.

The database lives on a small tmpfs of the test's own (mounting needs root, as CI has).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from dispatch import exits
from dispatch.cli import main
from dispatch.store.store import Store
from protocol.codes import CloseCode
from protocol.messages import Error, Result
from tests.dispatch.conftest import LINGHU, open_client, point_in, reference_for
from tests.reliability.disks import small_disk
from tests.reliability.serving import serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(240)
async def test_a_full_disk_stops_the_backend_cleanly_and_the_next_start_has_every_report(
    tmp_path,
) -> None:
    prepared = tmp_path / "prepared.db"
    assert main(["--url", f"sqlite:///{prepared}", "load-district"]) == 0
    store = Store(f"sqlite:///{prepared}")
    token = store.create_user("菱湖分中心", "street", [LINGHU])
    lon, lat = point_in(reference_for(store), LINGHU)
    store.close()
    room = 16 * 1024 * 1024  # the WAL grows by pages: ~60 KiB a report
    disk = tmp_path / "disk"
    data = tmp_path / "data"
    size = prepared.stat().st_size
    with small_disk(disk, size + room + 512 * 1024):
        db = disk / "dispatch.db"
        # The backup API, not a file copy: the last writes may still be in the WAL file.
        with (
            contextlib.closing(sqlite3.connect(prepared)) as source,
            contextlib.closing(sqlite3.connect(db)) as target,
        ):
            source.backup(target)
        filler = disk / "filler"
        url = f"sqlite:///{db}"
        proc, port = serve(url, data)
        acknowledged: list[int] = []
        refused: Error | None = None
        try:
            client = await open_client(port, token)
            # Welcome, units, snapshot: then reports, each as long as a description may be.
            for _ in range(3):
                await client.recv(timeout=30)
            text = "路面塌陷，" * 190  # ~1,900 characters
            closed = None
            for n in range(5000):
                try:
                    answer = await client.command(
                        "report",
                        {
                            "category": "01-02",
                            "title": f"报告{n}",
                            "description": text,
                            "lon": lon,
                            "lat": lat,
                            "source": "patrol",
                        },
                    )
                except Exception as exc:  # the backend went away: its close code
                    closed = exc
                    break
                if isinstance(answer, Result):
                    acknowledged.append(answer.data["event"])
                else:
                    refused = answer
                    break
                if n == 50:
                    # Now fill the disk but for a little.
                    free = shutil.disk_usage(disk).free
                    filler.write_bytes(b"\0" * max(free - 256 * 1024, 0))
            assert refused is not None or closed is not None, "the disk never filled"
            if refused is not None:
                assert refused.message == "the disk is full; nothing was applied", refused
            told = time.monotonic()
            status = await asyncio.to_thread(proc.wait, 10)
            exit_after = time.monotonic() - told
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        log = (data / "backend.log").read_text()
        assert status == exits.WRITER_STOPPED, log[-3000:]
        assert "the disk is full: the writer stops" in log
        assert len(acknowledged) > 50
        assert exit_after <= 2.0, f"exited {exit_after:.1f} s after the refusal"
        # Whole, before anything is freed.
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # Room again: the next start serves every acknowledged report.
        filler.unlink()
        proc, port = serve(url, data)
        try:
            client = await open_client(port, token)
            for _ in range(2):
                await client.recv(timeout=30)
            snapshot = await client.recv(timeout=30)
            ids = {e.id for e in snapshot.events}  # type: ignore[attr-defined]
            assert set(acknowledged) <= ids
            again = await client.command(
                "report",
                {"category": "01-02", "title": "恢复", "lon": lon, "lat": lat, "source": "patrol"},
            )
            assert isinstance(again, Result)
            await client.ws.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(proc.wait, 10) == exits.OK
    assert CloseCode.SERVICE_RESTART == 1012
