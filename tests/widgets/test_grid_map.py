"""The map page loads offline and takes batches without reloading."""

from __future__ import annotations

import json
import math

from widgets.grid_map import GridMap


def js(qtbot, view: GridMap, code: str):
    result = []
    view.page().runJavaScript(code, 0, result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=5000)
    return result[0]


def test_map_loads_offline_and_applies_batches(qtbot) -> None:
    view = GridMap((117.03, 30.52), zoom=12)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    loads = []
    view.loadFinished.connect(loads.append)
    square = [[[117.0, 30.5], [117.01, 30.5], [117.01, 30.51], [117.0, 30.51], [117.0, 30.5]]]
    view.apply_batch({"areas": [{"id": "g1", "rings": square, "label": "第1网格"}]})  # queued
    with qtbot.waitSignal(view.ready, timeout=20000):
        pass
    qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().areas") == 1, timeout=5000)
    markers = [
        {"id": f"e{i}", "lon": 117.0 + i * 1e-4, "lat": 30.5, "color": "#ff4d4f"}
        for i in range(3000)
    ]
    view.apply_batch({"markers": markers})
    view.apply_batch(
        {"markers": [{"id": "e1", "lon": 117.005, "lat": 30.505, "pulse": True}], "remove": ["e2"]}
    )
    # Many urgent cases at once: a few rings pulse, not one per case.
    view.apply_batch({"markers": [{**m, "pulse": True} for m in markers[10:60]]})
    qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().applied") == 4, timeout=10000)
    counts = json.loads(js(qtbot, view, "JSON.stringify(window.tg.counts())"))
    assert counts["markers"] == 2999 and counts["areas"] == 1
    assert 1 <= counts["rings"] <= 6
    assert js(qtbot, view, "typeof L") == "object"  # Leaflet came from the local package
    credit = js(qtbot, view, "document.querySelector('.leaflet-control-attribution').innerHTML")
    assert credit.startswith("Leaflet") and "<a" not in credit and "<svg" not in credit
    assert view.blocked_requests == []  # nothing tried to leave the machine
    assert loads.count(True) <= 1  # batches never reload the page


def test_clicks_statics_labels_and_a_local_tile_folder(qtbot, tmp_path) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QColor, QImage

    # A local tile folder (as an intranet deployment would copy in): one 256px tile per z/x/y.
    tile = QImage(256, 256, QImage.Format.Format_RGB32)
    tile.fill(QColor("#224466"))
    n = 2**12
    tx = int((117.0 + 180) / 360 * n)
    ty = int((1 - math.asinh(math.tan(math.radians(30.5))) / math.pi) / 2 * n)
    for x in range(tx - 3, tx + 4):
        for y in range(ty - 3, ty + 4):
            folder = tmp_path / "12" / str(x)
            folder.mkdir(parents=True, exist_ok=True)
            tile.save(str(folder / f"{y}.png"))
    view = GridMap((117.0, 30.5), zoom=12, tile_url=tmp_path.as_uri() + "/{z}/{x}/{y}.png")
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    with qtbot.waitSignal(view.ready, timeout=20000):
        pass
    big = [[[116.9, 30.4], [117.1, 30.4], [117.1, 30.6], [116.9, 30.6], [116.9, 30.4]]]
    view.apply_batch(
        {
            "areas": [
                {"id": "g1", "rings": big, "fill": "#123456"},
                {"id": "s1", "rings": big, "fill": None, "interactive": False},
            ],
            "markers": [{"id": "c1", "lon": 117.0, "lat": 30.5, "static": True}],
            "labels": [
                {"lon": 117.0, "lat": 30.5, "text": "菱湖街道", "minZoom": 14},
                {"lon": 117.05, "lat": 30.45, "text": "德宽路街道", "minZoom": 14},
            ],
        }
    )
    qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().applied") == 1, timeout=5000)
    counts = json.loads(js(qtbot, view, "JSON.stringify(window.tg.counts())"))
    assert counts["statics"] == 1 and counts["clustered"] == 0 and counts["labels"] == 2
    shown = "JSON.stringify(Array.from(document.querySelectorAll('.tg-label'), e => e.textContent))"
    assert json.loads(js(qtbot, view, shown)) == ["", ""]  # too far out for either
    view.apply_batch(
        {
            "labels": [
                {
                    "lon": 117.0,
                    "lat": 30.52,
                    "text": "海口镇",
                    "minZoom": 14,
                    "short": "海口",
                    "shortZoom": 12,
                },
            ]
        }
    )
    qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().applied") == 2, timeout=5000)
    assert json.loads(js(qtbot, view, shown)) == ["", "", "海口"]  # the short form fits already
    js(qtbot, view, "window.tg.map.setZoom(14, {animate: false}); 1")
    qtbot.waitUntil(
        lambda: json.loads(js(qtbot, view, shown)) == ["菱湖街道", "德宽路街道", "海口镇"]
    )
    js(qtbot, view, "window.tg.map.setZoom(12, {animate: false}); 1")
    qtbot.waitUntil(lambda: json.loads(js(qtbot, view, shown)) == ["", "", "海口"])
    # The tiles came from the folder; nothing else was asked of the network.
    qtbot.waitUntil(
        lambda: js(qtbot, view, "document.querySelectorAll('img.leaflet-tile-loaded').length") > 0,
        timeout=10000,
    )
    assert view.blocked_requests == []
    # A click on the grid (through the outline-only street above it) names the grid, twice.
    clicked: list[str] = []
    view.areaClicked.connect(clicked.append)
    for _ in range(2):
        js(qtbot, view, "window.tg.clicked = null; 1")
        target = view.focusProxy() or view
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(500, 200))
        qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.clicked") == "g1", timeout=5000)
    qtbot.waitUntil(lambda: clicked == ["g1", "g1"], timeout=5000)


def test_a_lost_renderer_loads_the_page_again(qtbot) -> None:
    view = GridMap((117.0, 30.5), zoom=12)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    with qtbot.waitSignal(view.ready, timeout=20000):
        pass
    with qtbot.waitSignal(view.restarted, timeout=2000):
        view.page().renderProcessTerminated.emit(
            view.page().RenderProcessTerminationStatus.CrashedTerminationStatus, 11
        )
    assert not view.is_ready and view.restarts == 1
    with qtbot.waitSignal(view.ready, timeout=20000):
        pass
    square = [[[117.0, 30.5], [117.01, 30.5], [117.01, 30.51], [117.0, 30.51], [117.0, 30.5]]]
    view.apply_batch({"areas": [{"id": "g1", "rings": square}]})
    qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().areas") == 1, timeout=5000)
