"""The map page loads offline, takes batches without reloading, and runs none of its data."""

from __future__ import annotations

import json
import math
import os
import re
import signal

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWebEngineCore import QWebEngineSettings, QWebEngineUrlRequestInterceptor

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
    # The outline is no approved map (resources/district/README.md): the map says so.
    assert js(qtbot, view, "document.querySelector('.tg-note').textContent") == "示意图，非标准地图"
    assert view.blocked_requests == []  # nothing tried to leave the machine
    assert loads.count(True) <= 1  # batches never reload the page


def test_clicks_statics_labels_and_a_local_tile_folder(qtbot, tmp_path) -> None:
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


def settled(qtbot, view: GridMap) -> None:
    """Wait until the page has drawn what it was given: no cluster splitting or merging, the
    last change parted, and nothing since for half a second."""
    quiet = "!window.tg.map.getPane('mapPane').classList.contains('leaflet-cluster-anim')"
    last = [-1]

    def still() -> bool:
        passes = js(qtbot, view, "window.tg.decluttered")
        same, last[0] = passes == last[0], passes
        return same and js(qtbot, view, quiet)

    qtbot.wait(350)  # a split or merge takes 0.3 s
    qtbot.waitUntil(lambda: (qtbot.wait(250), still())[1], timeout=10000)


@pytest.mark.parametrize("zoom_factor", [1.0, 2.0])  # the wall at 1920x1080 and 3840x2160
def test_nothing_on_the_map_is_drawn_over_anything_else(qtbot, zoom_factor) -> None:
    """At the wall's text size (its street names 28 CSS px, counts 26) on a map panel the
    size of the wall's: clusters' bubbles never overlap one another or the map's controls,
    a street's name moves off a bubble or hides, and the scale's words stay in its box, at
    every zoom a tour or an operator shows."""
    import random

    view = GridMap((117.06, 30.53), zoom=12, label_px=28)
    qtbot.addWidget(view)
    view.setZoomFactor(zoom_factor)
    view.resize(round(640 * zoom_factor), round(400 * zoom_factor))
    view.show()
    with qtbot.waitSignal(view.ready, timeout=20000):
        pass
    # Crowds of cases (a city's streets) around the streets' names, and a few on their own.
    pick = random.Random(7)
    spots = [(117.03 + 0.025 * (i % 4), 30.48 + 0.02 * (i // 4)) for i in range(12)]
    markers = [
        {"id": f"e{n}", "lon": lon + pick.gauss(0, 0.003), "lat": lat + pick.gauss(0, 0.003)}
        for n, (lon, lat) in enumerate(spots[i % len(spots)] for i in range(900))
    ]
    labels = [
        {"lon": lon, "lat": lat, "text": name, "minZoom": 0}
        for (lon, lat), name in zip(spots[::3], ("菱湖街道", "德宽路", "海口镇", "十里铺乡"))
    ]
    labels.append({"lon": 117.02, "lat": 30.47, "text": "石化路", "minZoom": 0})
    box = [[117.0, 30.46], [117.14, 30.56]]
    view.apply_batch({"markers": markers, "labels": labels, "fit": box})
    qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().clustered") == 900, timeout=10000)
    moved = (
        "[...document.querySelectorAll('.marker-cluster, .tg-label')]"
        ".filter(e => e.style.translate || e.style.visibility === 'hidden').length"
    )
    for zoom in (11, 11.5, 12, 12.25, 12.5, 13, 14, 15):
        passes = js(qtbot, view, "window.tg.decluttered")
        js(qtbot, view, f"window.tg.map.setZoom({zoom}, {{animate: false}}); 1")
        qtbot.waitUntil(lambda p=passes: js(qtbot, view, "window.tg.decluttered") > p)
        settled(qtbot, view)
        clashes = json.loads(js(qtbot, view, "JSON.stringify(window.tg.clashes())"))
        assert clashes == [], (zoom, clashes)
        if zoom == 12:  # the crowds at the wall's zoom: there was something to part
            assert js(qtbot, view, moved) > 0
            bubbles = js(qtbot, view, "document.querySelectorAll('.marker-cluster').length")
            assert bubbles >= 5
    # The scale's box holds its words, and its bar still stands for its distance.
    scale = json.loads(
        js(
            qtbot,
            view,
            "JSON.stringify((() => { const l = document.querySelector("
            "'.leaflet-control-scale-line'); const m = window.tg.map, y = m.getSize().y / 2;"
            " return {text: l.textContent, width: l.offsetWidth,"
            " metres: m.distance(m.containerPointToLatLng([0, y]),"
            " m.containerPointToLatLng([l.offsetWidth, y]))}; })())",
        )
    )
    number, unit = scale["text"].split()
    assert unit in ("m", "km")
    assert scale["metres"] == pytest.approx(float(number) * (1000 if unit == "km" else 1), rel=0.03)
    assert view.blocked_requests == []


def test_the_scale_shows_once_the_district_is_fitted(qtbot) -> None:
    """Before the first fit the view is the page's guess at world-ish zoom: its scale
    ("200 km") flashed on the wall's first frame. It is hidden until a batch fits the view."""
    view = GridMap((117.06, 30.53), zoom=9, label_px=28)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    with qtbot.waitSignal(view.ready, timeout=20000):
        pass
    shown = "getComputedStyle(document.querySelector('.leaflet-control-scale')).visibility"
    assert js(qtbot, view, shown) == "hidden"
    view.apply_batch({"markers": [], "fit": [[117.0, 30.46], [117.14, 30.56]]})
    qtbot.waitUntil(lambda: js(qtbot, view, shown) == "visible", timeout=10000)


def test_a_lost_renderer_loads_the_page_again(qtbot) -> None:
    view = GridMap((117.0, 30.5), zoom=12)
    qtbot.addWidget(view)
    view.resize(400, 300)
    view.show()
    with qtbot.waitSignal(view.ready, timeout=20000):
        pass
    # The renderer really killed (as the kernel's OOM killer would): Qt reports it. (Emitting
    # renderProcessTerminated from Python instead fails on PySide6 6.9: its status enum is
    # not a registered meta type there.)
    renderer = view.page().renderProcessPid()
    assert renderer > 0
    with qtbot.waitSignal(view.restarted, timeout=10000):
        os.kill(renderer, signal.SIGKILL)
    assert not view.is_ready and view.restarts == 1
    with qtbot.waitSignal(view.ready, timeout=20000):
        pass
    square = [[[117.0, 30.5], [117.01, 30.5], [117.01, 30.51], [117.0, 30.51], [117.0, 30.5]]]
    view.apply_batch({"areas": [{"id": "g1", "rings": square}]})
    qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().areas") == 1, timeout=5000)


# ---- text from the data stays text; the page runs and asks for nothing else -------------------

PAYLOAD = (
    "<img src=x onerror=\"window.pwned=1;console.log('pwned')\">"
    '<script>window.pwned=2</script><svg onload="window.pwned=3"></svg>'
    '<iframe src="file:///etc/hostname"></iframe><b>粗体</b>&amp;</div>'
)


class Recorder(QWebEngineUrlRequestInterceptor):
    """Every URL the page asks for (a witness of its own, on the profile)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def interceptRequest(self, info) -> None:
        self.urls.append(info.requestUrl().toString())


def page_point(view: GridMap, qtbot, code: str) -> QPoint:
    """A point of the page (CSS pixels) in the view's widget coordinates."""
    point = json.loads(js(qtbot, view, f"JSON.stringify({code})"))
    zoom = view.zoomFactor()
    return QPoint(round(point["x"] * zoom), round(point["y"] * zoom))


def hover(qtbot, target, point: QPoint, shown) -> None:
    """Move the mouse onto a point (a pixel to and fro, as a hand does) until `shown()`."""
    for step in range(60):
        QTest.mouseMove(target, point + QPoint(step % 3 - 1, 0))
        qtbot.wait(50)
        if shown():
            return
    raise AssertionError("hovering showed nothing")


def test_text_from_the_data_stays_text_and_nothing_runs_or_leaves(qtbot) -> None:
    recorder = Recorder()
    view = GridMap((117.0, 30.5), zoom=14)
    qtbot.addWidget(view)
    profile = view.page().profile()
    profile.setUrlRequestInterceptor(recorder)
    try:
        view.resize(800, 600)
        view.show()
        with qtbot.waitSignal(view.ready, timeout=20000):
            pass
        settings = view.page().settings()
        for attribute in ("LocalContentCanAccessFileUrls", "LocalContentCanAccessRemoteUrls"):
            assert not settings.testAttribute(getattr(QWebEngineSettings.WebAttribute, attribute))
        origin = view.url().toString().rsplit("/", 1)[0] + "/"
        assert origin.startswith("tgmap://") and all(u.startswith(origin) for u in recorder.urls)
        loaded = len(recorder.urls)
        big = [
            [[116.98, 30.49], [117.02, 30.49], [117.02, 30.51], [116.98, 30.51], [116.98, 30.49]]
        ]
        label = "DG-1 " + PAYLOAD
        view.apply_batch(
            {
                "areas": [{"id": "g1", "rings": big, "label": "网格\n" + PAYLOAD}],
                "markers": [
                    {"id": "e1", "lon": 117.0, "lat": 30.5, "label": label, "radius": 10},
                    {"id": "c1", "lon": 117.01, "lat": 30.5, "label": PAYLOAD, "static": True},
                ],
                "labels": [{"lon": 116.99, "lat": 30.505, "text": PAYLOAD, "minZoom": 0}],
            }
        )
        qtbot.waitUntil(lambda: js(qtbot, view, "window.tg.counts().applied") == 1, timeout=5000)
        target = view.focusProxy() or view
        marker = page_point(view, qtbot, "window.tg.point('e1')")
        # Hover the marker (its tooltip is made then), then click it.
        tips = "Array.from(document.querySelectorAll('.leaflet-tooltip'), t => t.textContent)"
        tips_json = f"JSON.stringify({tips})"
        hover(qtbot, target, marker, lambda: label in json.loads(js(qtbot, view, tips_json)))
        with qtbot.waitSignal(view.markerClicked, timeout=5000) as clicked:
            qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=marker)
        assert clicked.args == ["e1"]
        # The grid's tooltip, away from the marker: its line break kept, as text.
        grid = marker + QPoint(120, 60)
        hover(
            qtbot,
            target,
            grid,
            lambda: "网格\n" + PAYLOAD in json.loads(js(qtbot, view, tips_json)),
        )
        qtbot.wait(300)  # time for any handler that would have run
        # Every text shows as written; none became an element; nothing ran, nothing was asked.
        shown = "Array.from(document.querySelectorAll('.tg-label'), e => e.textContent)"
        assert json.loads(js(qtbot, view, f"JSON.stringify({shown})")) == [PAYLOAD]
        parsed = (
            "document.querySelectorAll('#map img:not(.leaflet-tile), "
            "script:not([src]):not([type]), svg, iframe, b').length"
        )
        assert js(qtbot, view, parsed) == 0
        assert js(qtbot, view, "typeof window.pwned") == "undefined"
        assert view.console_messages == []
        assert recorder.urls[loaded:] == [] and view.blocked_requests == []
    finally:
        profile.setUrlRequestInterceptor(None)


def test_the_page_policy_holds_even_if_html_got_in(qtbot) -> None:
    # Should some HTML ever reach the page, its Content-Security-Policy still runs none of
    # it and lets nothing be fetched from outside the page's own files.
    recorder = Recorder()
    view = GridMap((117.0, 30.5), zoom=12)
    qtbot.addWidget(view)
    profile = view.page().profile()
    profile.setUrlRequestInterceptor(recorder)
    try:
        view.resize(400, 300)
        view.show()
        with qtbot.waitSignal(view.ready, timeout=20000):
            pass
        loaded = len(recorder.urls)
        js(
            qtbot,
            view,
            """
            var box = document.createElement('div');
            box.innerHTML = PAYLOAD + '<img src="file:///etc/hostname">'
                + '<img src="http://127.0.0.1:9/x.png">';
            document.body.appendChild(box);
            var s = document.createElement('script');
            s.textContent = 'window.pwned = 4';
            document.body.appendChild(s);
            fetch('file:///etc/hostname').then(function () { window.pwned = 5; }, function () {});
            fetch('http://127.0.0.1:9/').then(function () { window.pwned = 6; }, function () {});
            1
            """.replace("PAYLOAD", json.dumps(PAYLOAD)),
        )
        qtbot.waitUntil(lambda: len(view.console_messages) >= 4, timeout=5000)
        qtbot.wait(300)
        assert js(qtbot, view, "typeof window.pwned") == "undefined"
        assert any("Content Security Policy" in m for m in view.console_messages)
        outside = [u for u in recorder.urls[loaded:] if not u.startswith("tgmap:")]
        assert outside == []
    finally:
        profile.setUrlRequestInterceptor(None)


def test_tiles_from_an_intranet_server_and_nothing_else_from_it(qtbot) -> None:
    import http.server
    import threading

    from PySide6.QtCore import QBuffer, QByteArray
    from PySide6.QtGui import QColor, QImage

    tile = QImage(256, 256, QImage.Format.Format_RGB32)
    tile.fill(QColor("#224466"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QBuffer.OpenModeFlag.WriteOnly)
    tile.save(buffer, "PNG")
    png = bytes(data.data())
    asked: list[str] = []

    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        view = GridMap((117.0, 30.5), zoom=12, tile_url=base + "/tiles/{z}/{x}/{y}.png")
        qtbot.addWidget(view)
        view.resize(400, 300)
        view.show()
        with qtbot.waitSignal(view.ready, timeout=20000):
            pass
        loaded = "document.querySelectorAll('img.leaflet-tile-loaded').length"
        qtbot.waitUntil(lambda: js(qtbot, view, loaded) > 0, timeout=10000)
        assert asked and all(re.fullmatch(r"/tiles/12/\d+/\d+\.png", p) for p in asked)
        assert view.blocked_requests == []
        # The tile server's origin may send images, but only tiles are asked of it.
        js(qtbot, view, f"var i = new Image(); i.src = '{base}/admin/export.png'; 1")
        qtbot.waitUntil(lambda: view.blocked_requests == [base + "/admin/export.png"])
        assert not [p for p in asked if not p.startswith("/tiles/")]
    finally:
        server.shutdown()
        server.server_close()


def test_a_tile_source_names_only_tiles(tmp_path) -> None:
    from widgets.grid_map import TileSource

    folder = TileSource.of(tmp_path.as_uri() + "/{z}/{x}/{y}.png", "m9")
    assert folder.template == "tgmap://m9/tiles/{z}/{x}/{y}.png" and folder.csp == ""
    assert folder.file("/tiles/12/3418/01690.png") == tmp_path / "12" / "3418" / "1690.png"
    for wrong in ("/tiles/12/../../etc/passwd.png", "/tiles/12/3418/x.png", "/tiles/12/1.png"):
        assert folder.file(wrong) is None
    server = TileSource.of("http://tiles.intra:8080/{z}/{x}/{y}.png", "m9")
    assert server.csp == "http://tiles.intra:8080" and server.remote is not None
    assert server.remote.fullmatch("http://tiles.intra:8080/12/3418/1690.png")
    assert not server.remote.fullmatch("http://tiles.intra:8080/admin/users")
    several = TileSource.of("https://{s}.tiles.intra/{z}/{x}/{y}.png", "m9")
    assert several.csp == "https://*.tiles.intra"
    for wrong in ("ftp://tiles/{z}/{x}/{y}", "http://{z}.tiles/{x}/{y}", "file:///srv/{q}.png"):
        with pytest.raises(ValueError):
            TileSource.of(wrong, "m9")
