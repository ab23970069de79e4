"""The real wall window on a real embedded backend (a `dispatch demo` child process).

These tests drive their own qasync loop over the GUI thread, and the window's session runs
on a thread of its own, as in the application; so they are plain functions, not
pytest-asyncio coroutines.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QWidget

from desktop.core.backend import EmbeddedBackend
from desktop.core.link import SessionThread
from desktop.core.replica import Replica
from desktop.core.session import Session
from desktop.ui.app import wall_session, wall_supervisor
from desktop.ui.thumbnails import ThumbnailLoader
from desktop.ui.wall import WallWindow
from protocol.messages import Result
from tests.desktop.test_backend import FAST

_LOOP: list[qasync.QEventLoop] = []


def run_in_qt(qapp, qtbot, coro_fn: Callable[[], Awaitable[Any]], timeout: float = 120) -> Any:
    """Run a coroutine on a qasync loop while qtbot spins Qt's event loop.

    One asyncio loop over the running Qt loop for the whole process, and never a
    QApplication.exit(): Qt emits aboutToQuit on exit() and QtWebEngine tears its context
    down there, so a second page after a first loop.run_until_complete() crashes.
    """
    qapp.setQuitOnLastWindowClosed(False)  # as the application does: the loop decides
    if not _LOOP:
        _LOOP.append(qasync.QEventLoop(qapp, already_running=True))
    loop = _LOOP[0]
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)
    try:
        task = loop.create_task(coro_fn())
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()
    finally:
        # A backend served in this process reads the store through asyncio.to_thread, which
        # on qasync's loop runs on QThreads: they must end with the test (a QThread still
        # running when the process exits aborts it).
        executor = getattr(loop, "_QEventLoop__default_executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
            loop.set_default_executor(None)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


async def until(predicate: Callable[[], bool], timeout: float, what: str = "") -> float:
    """Wait for a condition; return how long it took."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < timeout, f"not within {timeout} s: {what}"
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def js(window: WallWindow, script: str) -> Any:
    """Evaluate JavaScript in the map page and return its value (through JSON)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    window.map.page().runJavaScript(
        f"JSON.stringify({script})", 0, lambda value: future.done() or future.set_result(value)
    )
    return json.loads(await asyncio.wait_for(future, 5))


def live_session(window: WallWindow, url: str, token: str, **options: Any) -> SessionThread:
    """A session on its own thread feeding the window, as the application wires it."""
    link = SessionThread(url, token, wake=window.coalescer.wake, **options)
    window.listen(link.inbox)
    return link


async def close_window(window: QWidget) -> None:
    """Close the window; keep it (and its web page) alive until the process ends."""
    window.close()
    _KEEP.append(window)
    await asyncio.sleep(0.3)


_KEEP: list[QWidget] = []


def token(data: Path, user: str) -> str:
    return (data / "tokens" / f"{user}.token").read_text().strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.timeout(180)
def test_a_reported_event_reaches_the_queue_and_the_map_within_a_second(
    qapp, qtbot, tmp_path
) -> None:
    data = tmp_path / "data"

    async def scenario() -> None:
        backend = EmbeddedBackend(data, args=FAST)
        backend.start()
        window = WallWindow(Replica())
        window.show()
        replica = window.replica
        session = commander = None
        try:
            url, wall_token = await backend.wait_ready(90)
            session = live_session(window, url, wall_token)
            loader = ThumbnailLoader(url, wall_token, parent=window)
            loader.loaded.connect(window.thumbnail_loaded)
            window.thumbnail_loader = loader
            session.start()
            await session.wait_connected()
            await until(lambda: window.map.is_ready, 30, "map page ready")
            await until(lambda: replica.units is not None and window.flushes > 0, 10, "units")
            # The units may be shown a frame before the snapshot that says "connected".
            await until(lambda: not window.banner.isVisible(), 5, "no banner once connected")
            counts = {"areas": 0}
            deadline = time.monotonic() + 10
            while counts["areas"] == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                counts = await js(window, "window.tg.counts()")
            assert counts["areas"] >= 351 + 40 + 9 and counts["statics"] >= 3000
            assert window.map.blocked_requests == []  # offline: nothing left the machine

            commander = Session(url, token(data, "demo-commander"), on_changes=lambda c: None)
            side = asyncio.ensure_future(commander.run())
            await commander.wait_connected()
            grid = replica.units.grids[0]
            sent = time.monotonic()
            answer = await commander.command(
                "report",
                {
                    "source": "hotline",
                    "category": "08-01",
                    "title": "井盖缺失（测试）",
                    "lon": grid.centre[0],
                    "lat": grid.centre[1],
                    "priority": 1,
                },
            )
            assert isinstance(answer, Result), answer
            event_id = answer.data["event"]

            def in_queue() -> bool:
                model = window.queue_view.model
                ids = [model.id_at(r) for r in range(model.rowCount())]
                return event_id in ids

            queue_time = await until(in_queue, 1.0, "event in the queue")
            marker = None
            while marker is None and time.monotonic() - sent < 1.0:
                marker = await js(window, f"window.tg.marker('e{event_id}')")
            assert marker is not None, "event marker not on the map within 1 s"
            assert marker["color"] == "#ff4d4f"  # 特急 = red
            assert queue_time < 1.0
            # An urgent event: the queue shows it at the top, the chime rang (unless muted).
            assert window.queue_view.model.id_at(0) == event_id or (
                window.queue_view.model.event_at(0).priority == 1
            )
            assert window.chime.played >= 1

            # Clicking the grid shows its people and open events, without a dialog.
            window.show_grid(grid.code)
            assert window.grid_details.isVisible()
            assert grid.name in window.grid_details.title.text()
            assert "井盖" in window.grid_details.events.text() or "08-01" in (
                window.grid_details.events.text()
            )
            # KPIs and camera alerts arrive; snapshots load over HTTP with the token header.
            await until(lambda: window.kpis.tiles["received"]._tile is not None, 10, "KPIs")
            await until(lambda: window.alert_view.model.rowCount() > 0, 30, "camera alerts")
            await until(
                lambda: bool(window.alert_view.model.thumbnails), 15, "a snapshot thumbnail"
            )
            assert loader.failures == 0

            await commander.stop()
            side.cancel()
            await session.stop()
        finally:
            if commander is not None:
                await commander.stop()
            if session is not None:
                await session.stop()
            await close_window(window)
            backend.stop()

    run_in_qt(qapp, qtbot, scenario)


@pytest.mark.timeout(240)
def test_after_a_backend_restart_the_window_holds_every_event_exactly_once(
    qapp, qtbot, tmp_path
) -> None:
    data = tmp_path / "data"
    port = free_port()
    args = ["--speed", "120", "--port", str(port)]

    async def scenario() -> None:
        backend = EmbeddedBackend(data, args=args)
        backend.start()
        window = WallWindow(Replica())
        window.show()
        replica = window.replica
        session = None
        try:
            url, wall_token = await backend.wait_ready(90)
            session = live_session(window, url, wall_token, max_backoff=0.5)
            session.start()
            await session.wait_connected()
            start_seq = replica.seq
            await until(lambda: replica.seq > start_seq + 20, 60, "live deltas")

            backend.stop()  # mid-stream
            await until(lambda: window.banner.isVisible(), 5, "outage banner")
            assert "数据截至" in window.banner.text()
            await asyncio.sleep(1.0)

            backend = EmbeddedBackend(data, args=args)
            backend.start()
            await backend.wait_ready(90)
            await until(lambda: session.status.connected, 30, "reconnected")
            await until(lambda: not window.banner.isVisible(), 5, "banner gone")
            seq_after = replica.seq
            await until(lambda: replica.seq > seq_after + 20, 60, "live again")

            # A fresh client's view of the backend is the truth to compare with.
            fresh = Session(url, wall_token, on_changes=lambda c: None)
            side = asyncio.ensure_future(fresh.run())
            await fresh.wait_connected()
            await fresh.stop()
            await side
            await asyncio.sleep(0.1)  # the frame in flight reaches the models
            window.coalescer.flush()

            model = window.queue_view.model
            shown = [model.id_at(r) for r in range(model.rowCount())]
            assert len(shown) == len(set(shown)), "an event shown twice"
            open_ids = {i for i, e in replica.events.items() if e.status in _OPEN}
            assert set(shown) == open_ids
            # Every event the backend has is in the replica once, in its latest state
            # (the fresh view may be a few deltas ahead of the window: compare up to it).
            common = set(fresh.replica.events) & set(replica.events)
            assert len(common) >= len(fresh.replica.events) - 5
            await session.stop()
        finally:
            if session is not None:
                await session.stop()
            await close_window(window)
            backend.stop()

    run_in_qt(qapp, qtbot, scenario)


_OPEN = {"reported", "accepted", "dispatched", "handling", "handled", "verified"}


@pytest.mark.timeout(240)
def test_the_wall_heals_its_killed_backend_and_holds_what_a_fresh_snapshot_holds(
    qapp, qtbot, tmp_path
) -> None:
    """kill -9 of the embedded backend under a real wall: its supervisor starts it again,
    the banner says so in words, the session resumes, and the window holds exactly what a
    fresh connection is given: no row twice, none stale."""
    data = tmp_path / "data"

    async def scenario() -> None:
        backend = EmbeddedBackend(data, args=FAST)
        window = WallWindow(Replica())
        window.show()
        replica = window.replica
        session: SessionThread | None = None
        supervisor = wall_supervisor(window, backend, lambda: session)
        assert window.banner.isVisible() and window.banner.calm  # connecting: calm
        assert window.header.freshness.text() == "正在连接…"  # not "连接中断" before a try
        watch = None
        try:
            url, wall_token = await supervisor.start(90)
            session = wall_session(window, url, wall_token)
            session.start()
            await session.wait_connected()
            await until(lambda: not window.banner.isVisible(), 10, "live: no banner")
            start_seq = replica.seq
            await until(lambda: replica.seq > start_seq + 10, 60, "live deltas")
            watch = asyncio.ensure_future(supervisor.run())

            said: list[str] = []
            calm: list[bool] = []

            def banner_texts() -> bool:
                if window.banner.isVisible() and window.banner.text() not in said:
                    said.append(window.banner.text())
                    calm.append(window.banner.calm)
                return bool(said) and not window.banner.isVisible()

            killed = backend.pid
            os.kill(killed, signal.SIGKILL)
            await until(banner_texts, 90, "the banner came and went")
            # Seen once in a loaded full run: the banner gone while the new backend's URL was
            # still unset (a second restart under way?): wait for it, and see the issue note.
            await until(
                lambda: backend.pid != killed and backend.url == url, 60, "back on its port"
            )
            assert any("调度服务重启中，第 1 次" in text for text in said), said
            assert not any(calm)  # an outage is red
            assert session.status.connected and supervisor.restarts == 1
            seq_after = replica.seq
            await until(lambda: replica.seq > seq_after + 5, 60, "live again")

            # A fresh client's view of the backend is the truth to compare with, at the same
            # point of the stream.
            fresh = Session(url, wall_token, on_changes=lambda c: None)
            side = asyncio.ensure_future(fresh.run())
            await fresh.wait_connected()
            await until(
                lambda: replica.seq == fresh.replica.seq and replica.epoch == fresh.replica.epoch,
                30,
                "the window and the fresh session at the same point",
            )
            assert replica.events == fresh.replica.events
            assert replica.alerts == fresh.replica.alerts
            assert replica.duty == fresh.replica.duty
            await fresh.stop()
            await side
            window.coalescer.flush()
            model = window.queue_view.model
            shown = [model.id_at(r) for r in range(model.rowCount())]
            assert len(shown) == len(set(shown)), "an event shown twice"
            open_ids = {i for i, e in fresh.replica.events.items() if e.status in _OPEN}
            assert set(shown) == open_ids  # none missing, none stale
        finally:
            if watch is not None:
                watch.cancel()
            if session is not None:
                await session.stop()
            await close_window(window)
            backend.stop()

    run_in_qt(qapp, qtbot, scenario)
