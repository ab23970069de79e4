"""The map page loads offline and takes batches without reloading."""

from __future__ import annotations

import json

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
    qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().applied") == 3, timeout=10000)
    counts = json.loads(js(qtbot, view, "JSON.stringify(window.tg.counts())"))
    assert counts["markers"] == 2999 and counts["areas"] == 1
    assert js(qtbot, view, "typeof L") == "object"  # Leaflet came from the local package
    assert view.blocked_requests == []  # nothing tried to leave the machine
    assert loads.count(True) <= 1  # batches never reload the page
