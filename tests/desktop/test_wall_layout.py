"""The wall as the room sees it, on a real backend (a `dispatch demo` child on port 0):
every text readable from 5 m, a layout that never moves, nothing half shown.

At 1920x1080, 3840x2160 and 7680x2160 the test walks the window's widget tree and measures
the cap height of every visible text's font (a label's, a view's, the fonts a painted widget
says it paints with); the map page's street names and tooltips are sized through the map's
`label_px` and zoom factor. It compares the panels' geometry before any data, with the day
loaded, with the outage banner shown and hidden, and while the backend catches up; it
checks that the queue and the alert feed show whole rows only, and that nothing on the map
is drawn over anything else.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QFont, QFontMetricsF
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QWidget,
)

from desktop.core.backend import EmbeddedBackend
from desktop.core.replica import Changes, Replica
from desktop.ui.theme import apply_palette
from desktop.ui.wall import MAP_LABEL_PX, WallWindow
from tests.desktop.test_backend import FAST
from tests.desktop.test_wall import close_window, js, live_session, run_in_qt, until
from widgets.text_table import TextTable

SCREENS = [QSize(1920, 1080), QSize(3840, 2160), QSize(7680, 2160)]


def _fonts(widget: QWidget) -> list[tuple[str, QFont]]:
    """What `widget` shows in which font: ("what", font) pairs; none if it shows no text."""
    if isinstance(widget, QLabel):
        return [(f"label {widget.text()!r}", widget.font())] if widget.text() else []
    if isinstance(widget, QAbstractButton):
        return [(f"button {widget.text()!r}", widget.font())] if widget.text() else []
    if isinstance(widget, QComboBox):
        return [(f"filter {widget.currentText()!r}", widget.font())]
    if isinstance(widget, QHeaderView):
        return [(f"{widget.parent().objectName()} header", widget.font())]
    if isinstance(widget, TextTable):
        return [(f"{widget.objectName()} rows", widget.font())]
    if isinstance(widget, QAbstractItemView):
        delegate = widget.itemDelegate()
        fonts = getattr(delegate, "fonts", None)
        if callable(fonts):
            return [(f"{widget.objectName()} card", font) for font in fonts()]
        return [(f"{widget.objectName()} items", widget.font())]
    fonts = getattr(widget, "fonts", None)  # painted widgets say what they paint with
    if callable(fonts):
        return [(f"{type(widget).__name__} text", font) for font in fonts()]
    return []


def too_small(window: WallWindow) -> list[str]:
    """Every visible text whose capital letters are under 1/60 of the window's height."""
    least = window.height() / 60
    problems: list[str] = []
    shown = [w for w in window.findChildren(QWidget) if w.isVisibleTo(window)]
    for widget in shown:
        if widget.width() <= 0 or widget.height() <= 0:
            continue
        for what, font in _fonts(widget):
            cap = QFontMetricsF(font).capHeight()
            if cap < least:
                problems.append(f"{what}: cap height {cap:.1f} < {least:.1f} px")
    # The map page's street names and tooltips: CSS pixels (label_px; tooltips 2 less)
    # times the zoom factor the wall gives the page.
    for what, css in (("map labels", MAP_LABEL_PX), ("map tooltips", MAP_LABEL_PX - 2)):
        font = QFont(window.font())
        font.setPixelSize(round(css * window.map.zoomFactor()))
        cap = QFontMetricsF(font).capHeight()
        if cap < least:
            problems.append(f"{what}: cap height {cap:.1f} < {least:.1f} px")
    return problems


def clipped(window: WallWindow) -> list[str]:
    """Visible texts and filters lower than their font's line: cut at the top or bottom."""
    problems = []
    for widget in window.findChildren(QWidget):
        if not widget.isVisibleTo(window) or not isinstance(widget, QLabel | QComboBox):
            continue
        if isinstance(widget, QLabel) and (not widget.text() or widget.wordWrap()):
            continue
        line = QFontMetricsF(widget.font()).height()
        if widget.contentsRect().height() < line * 0.95:
            problems.append(f"{widget.objectName() or widget.text()}: {widget.height()} < {line}")
    return problems


def layout(window: WallWindow) -> dict[str, QRect]:
    """Where the panels and their parts are: what must not move."""
    parts: dict[str, QWidget] = {
        **{f"panel {name}": panel for name, panel in window.panels.items()},
        **{f"{name} content": panel.content for name, panel in window.panels.items()},
        **{f"tile {key}": tile for key, tile in window.kpis.tiles.items()},
        "header": window.header,
        "title": window.header.title,
        "clock": window.header.clock,
        "street filter": window.street_filter,
        "status filter": window.status_filter,
        "order": window.queue_order,
        "map legend": window.map_legend,
        "queue legend": window.queue_legend,
    }
    rects = {
        name: QRect(w.mapTo(window, w.rect().topLeft()), w.size()) for name, w in parts.items()
    }
    header = window.queue.horizontalHeader()
    for column in range(header.count()):
        rects[f"queue column {column}"] = QRect(
            header.sectionViewportPosition(column), 0, header.sectionSize(column), 1
        )
    return rects


async def map_settled(window: WallWindow) -> None:
    """Wait until the map's page has drawn what it was sent: its batch applied, no cluster
    splitting or merging, nothing moved for half a second."""
    window.map_view.pump.flush()
    quiet = "!window.tg.map.getPane('mapPane').classList.contains('leaflet-cluster-anim')"
    last = -1
    for _ in range(40):
        await asyncio.sleep(0.35)
        passes = await js(window, "window.tg.decluttered")
        if passes == last and await js(window, quiet):
            return
        last = passes
    raise AssertionError("the map never settled")


def whole_rows_only(window: WallWindow) -> None:
    """The queue paints no row it cannot show whole; the alert cards fill their view."""
    queue = window.queue
    row = queue.verticalHeader().defaultSectionSize()
    viewport = queue.viewport()
    fits = viewport.height() // row
    assert fits >= 3, "the queue shows at least three rows"
    assert queue.model().rowCount() > fits, "enough cases to fill the queue"
    image = viewport.grab().toImage()
    # Under the last whole row the view's plain background: no piece of a row is drawn.
    strip = {
        image.pixelColor(x, y).name()
        for y in range(fits * row, image.height())
        for x in range(0, image.width(), 5)
    }
    assert len(strip) <= 1, f"a cut row is drawn under the last whole one: {strip}"
    cards = window.alerts
    card = window.card.row_height
    assert card > 0 and cards.viewport().height() % card == 0, "whole alert cards only"


@pytest.mark.timeout(300)
def test_the_wall_is_readable_from_five_metres_and_never_moves(qapp, qtbot, tmp_path) -> None:
    data = tmp_path / "data"

    # The application's font and palette (desktop/ui/app.py): the fonts measured are the
    # fonts the wall shows.
    font, palette = qapp.font(), qapp.palette()
    apply_palette(qapp)

    async def scenario() -> None:
        # A weekday morning: the traffic the test waits for does not depend on the hour it
        # runs at (at night the simulated district is quiet).
        backend = EmbeddedBackend(data, args=[*FAST, "--start", "2026-11-24T09:30"])
        backend.start()
        window = WallWindow(Replica())
        window.show()
        session = None
        empty: dict[tuple[int, int], dict[str, QRect]] = {}
        try:
            for size in SCREENS:  # before any data: the banner says so
                window.resize(size)
                await until(lambda s=size: window.size() == s, 5, "resized")
                await asyncio.sleep(0.2)
                empty[(size.width(), size.height())] = layout(window)
            assert window.banner.isVisible()

            url, wall_token = await backend.wait_ready(90)
            session = live_session(window, url, wall_token)
            session.start()
            await session.wait_connected()
            replica = window.replica
            await until(
                lambda: replica.kpis and not replica.kpis_partial and replica.duty is not None,
                60,
                "the day's figures",
            )
            # Generous: the demo's simulator feeds it, slower on a loaded machine.
            await until(lambda: window.queue_view.model.rowCount() > 30, 150, "cases")
            # Enough alert cards to fill the feed's three (the simulator reviews them too).
            await until(lambda: window.alert_view.model.rowCount() >= 3, 90, "camera alerts")
            await until(lambda: not window.banner.isVisible(), 10, "no banner once live")
            grid = next(iter(replica.units.grids)).code if replica.units else ""
            for size in SCREENS:
                window.resize(size)
                await until(lambda s=size: window.size() == s, 5, "resized")
                await asyncio.sleep(0.3)
                key = (size.width(), size.height())
                assert layout(window) == empty[key], f"the data moved the layout at {key}"
                window.banner.show_outage(time.strftime("%H:%M:%S"), 3, "调度服务未响应")
                await asyncio.sleep(0.05)
                assert layout(window) == empty[key], f"the banner moved the layout at {key}"
                assert window.banner.geometry() == window.header.geometry()
                window.banner.hide_outage()
                window.show_grid(grid)  # the grid card over the map is read too
                await asyncio.sleep(0.05)
                assert too_small(window) == [], f"texts too small at {key}"
                # The page's own texts (the scale, the credit, the clusters' counts, the note)
                # are as large as its tooltips, in CSS pixels.
                sizes = await js(
                    window,
                    "[...document.querySelectorAll('.leaflet-control-scale-line,"
                    " .leaflet-control-attribution, .marker-cluster span, .tg-note')]"
                    ".map(e => parseFloat(getComputedStyle(e).fontSize))",
                )
                assert len(sizes) >= 3 and min(sizes) >= MAP_LABEL_PX - 2, sizes
                assert clipped(window) == [], f"texts cut at {key}"
                whole_rows_only(window)
                window.grid_details.hide()
                # Nothing on the map drawn over anything else: clusters' bubbles, street
                # names, the note, the scale's words in its box.
                await map_settled(window)
                assert await js(window, "window.tg.clashes()") == [], f"the map at {key}"
                # The tour paused by T: its hint is as readable, and whole.
                window.tour_hint.show()
                await asyncio.sleep(0.05)
                assert too_small(window) == [] and clipped(window) == []
                hint = window.tour_hint
                assert hint.width() >= hint.fontMetrics().horizontalAdvance(hint.text())
                window.tour_hint.hide()
                # The backend catching up again (a restart replays its gap): the rows and
                # cards under their notes, nothing moved, the notes as readable as the rest.
                # (The live session's messages held back meanwhile: a KPI push between the
                # flag and the flush would say "whole" again before the wall drew it.)
                inbox, window.feed._inbox = window.feed._inbox, None
                replica.kpis_partial = True
                window.coalescer.push(Changes(kpis=True))
                window.coalescer.flush()
                covers = (window.queue_cover, window.alerts_cover, window.map_note)
                assert all(c.isVisible() for c in covers)
                assert layout(window) == empty[key], f"the catch-up moved the layout at {key}"
                assert too_small(window) == [] and clipped(window) == []
                replica.kpis_partial = False
                window.coalescer.push(Changes(kpis=True))
                window.coalescer.flush()
                assert not any(c.isVisible() for c in covers)
                window.feed._inbox = inbox
        finally:
            if session is not None:
                await session.stop()
            await close_window(window)
            backend.stop()

    try:
        run_in_qt(qapp, qtbot, scenario, timeout=280)
    finally:
        qapp.setFont(font)
        qapp.setPalette(palette)
