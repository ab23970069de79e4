"""The desk's first seconds on a real X server: its first frame is the desk itself, and no
frame after it is black (the map page, built once the list is up, used to have the window
made anew: one black frame about a second after it appeared).

Offscreen Qt composites nothing, so the window there is never made anew: this test runs the
desk in a child process on an Xvfb of its own (installed by ./tg test; skipped without it
unless CI=true), against a real backend in this process.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatch.store.store import Store
from tests.desktop.test_wall import run_in_qt
from tests.dispatch.conftest import start_server

ROOT = Path(__file__).resolve().parents[2]
BLACK = 0.02  # mean grey level of a frame that is (almost) all black


@pytest.fixture
def x_display() -> Iterator[str]:
    """A display of its own (Xvfb, 1280x720), stopped afterwards."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Xvfb is missing (./tg test installs it)")
        pytest.skip("no Xvfb here (./tg test installs it)")
    read, write = os.pipe()
    server = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as answer:
        number = answer.readline().strip()
    try:
        assert number, "Xvfb gave no display number"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.timeout(120)
def test_the_first_frame_is_the_desk_and_none_after_it_is_black(
    qapp, qtbot, sqlite_store: Store, x_display: str
) -> None:
    async def scenario() -> dict[str, object]:
        running = await start_server(sqlite_store)
        env = {
            **os.environ,
            "DISPLAY": x_display,
            "QT_QPA_PLATFORM": "xcb",
            "PYTHONPATH": str(ROOT),
        }
        try:
            child = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.desktop.desk_on_x11",
                f"ws://127.0.0.1:{running.port}",
                running.tokens["linghu"],
                "4.5",  # the map page is built 1.5 s after the list is up
                cwd=ROOT,
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(child.communicate(), 90)
        finally:
            await running.server.stop()
        assert child.returncode == 0, err.decode(errors="replace")[-3000:]
        line = out.decode().strip().splitlines()[-1]
        return dict(json.loads(line))

    seen = run_in_qt(qapp, qtbot, scenario)
    assert seen["platform"] == "xcb"
    assert seen["map_built"], "the map page was not built: nothing was tested"
    # One native window from first to last: never destroyed and made anew.
    ids = [seen["shown_id"], *seen["ids"], seen["last_id"]]  # type: ignore[misc]
    assert len(set(ids)) == 1, f"the window was made anew: ids {ids}"
    frames = list(seen["frames"])  # type: ignore[call-overload]
    assert len(frames) > 50, f"only {len(frames)} frames grabbed"
    first = next((i for i, f in enumerate(frames) if f > BLACK), None)
    assert first is not None, "the window never showed"
    assert first == 0, f"{first} black frames before the first (the window shown unpainted)"
    black = [i for i, f in enumerate(frames) if f <= BLACK]
    assert not black, f"black frames at {black} of {len(frames)}"
