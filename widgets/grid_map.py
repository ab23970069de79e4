"""A live grid map: Leaflet (from Python packages, never a CDN) in a QWebEngineView.

The page is built once with folium, written to a folder and loaded from the file (setHtml
drops pages over 2 MB); afterwards only batches go in through runJavaScript, never a
reload. Knows nothing of the application: it takes GeoJSON-like plain data.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import folium
import msgspec
import xstatic.pkg.leaflet as xleaflet
import xstatic.pkg.leaflet_markercluster as xcluster
from PySide6.QtCore import QCoreApplication, QTimer, QUrl, Signal
from PySide6.QtGui import QColor
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineUrlRequestInfo
from PySide6.QtWebEngineCore import QWebEngineUrlRequestInterceptor as _Interceptor
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

BACKGROUND = "#0b1a2e"  # the view's colour before the page draws: the wall's
_LEAFLET = Path(xleaflet.BASE_DIR)
_CLUSTER = Path(xcluster.BASE_DIR)


class _OfflineMap(folium.Map):
    """folium's Map with its assets from local files instead of CDNs (this class only)."""

    default_js = [  # noqa: RUF012 - folium reads these class attributes
        ("leaflet", (_LEAFLET / "leaflet.js").as_uri()),
        ("markercluster", (_CLUSTER / "leaflet.markercluster.js").as_uri()),
    ]
    default_css = [  # noqa: RUF012
        ("leaflet_css", (_LEAFLET / "leaflet.css").as_uri()),
        ("markercluster_css", (_CLUSTER / "MarkerCluster.css").as_uri()),
        ("markercluster_default_css", (_CLUSTER / "MarkerCluster.Default.css").as_uri()),
    ]


_API = """
<style>
.tg-label { color: #d6e6ff; font-weight: bold; white-space: nowrap; font-size: %(label_px)dpx;
            text-shadow: 0 0 3px #000, 0 0 6px #000; pointer-events: none; }
.leaflet-tooltip { font-size: %(tooltip_px)dpx; }
.tg-pulse { pointer-events: none; }
.tg-ring { width: 100%%; height: 100%%; border: 4px solid #ff4d4f; border-radius: 50%%;
           box-sizing: border-box; animation: tg-pulse 1s steps(8) infinite; opacity: 0;
           will-change: transform, opacity; }
@keyframes tg-pulse { from { transform: scale(0.2); opacity: 1; }
                      to { transform: scale(1); opacity: 0; } }
</style>
<script>
// Batches from Python: window.tg.apply({areas, markers, remove, labels, fit}); see apply_batch.
window.addEventListener("load", function () {
  var map = %(map)s;
  var canvas = L.canvas({padding: 0.5});
  // Cameras on a canvas of their own, above the areas and click-through: restyling grids
  // (every batch) then redraws the areas, not 3,500 cameras with them.
  map.createPane("tgStatics");
  map.getPane("tgStatics").style.zIndex = 450;
  map.getPane("tgStatics").style.pointerEvents = "none";
  var staticCanvas = L.canvas({padding: 0.5, pane: "tgStatics"});
  L.control.scale({imperial: false}).addTo(map);
  // Credit Leaflet in plain text: its default prefix carries a flag and a link out, and a
  // kiosk wall has nowhere to go.
  map.attributionControl.setPrefix("Leaflet");
  var areas = L.layerGroup().addTo(map);
  var areaById = {};
  var statics = L.layerGroup().addTo(map);
  // Street names above the event clusters (a crowded street must still be named) and
  // click-through, so the clusters under them stay clickable.
  map.createPane("tgLabels");
  map.getPane("tgLabels").style.zIndex = 640;
  map.getPane("tgLabels").style.pointerEvents = "none";
  var cluster = L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: 15,
                                      maxClusterRadius: 40});
  cluster.addTo(map);
  cluster.on("mouseover", function (e) {
    var m = e.layer;
    if (m.options.tgLabel && !m.getTooltip()) { m.bindTooltip(m.options.tgLabel).openTooltip(); }
  });
  var markerById = {}, staticIds = {};
  var labels = L.layerGroup().addTo(map);
  var pulses = L.layerGroup().addTo(map);
  var clicks = 0;
  // Pulses: a CSS animation on a small element of its own (the compositor moves it; the
  // canvas with every marker is not redrawn), a few at a time, each gone after 3 rounds.
  // 8 steps a second, not 60: every frame of the page is composed again into the window.
  var rings = [], MAX_RINGS = 6;
  function pulse(lat, lon) {
    // Every ring keeps the same beat (a negative delay puts it on a shared 1 s clock), so
    // the page changes 8 times a second however many rings there are, not 8 times each.
    var delay = -(performance.now() %% 1000);
    var ring = L.marker([lat, lon], {interactive: false, keyboard: false,
      icon: L.divIcon({className: "tg-pulse",
                       html: '<div class="tg-ring" style="animation-delay:' + delay + 'ms"></div>',
                       iconSize: [80, 80], iconAnchor: [40, 40]})});
    ring.addTo(pulses);
    rings.push(ring);
    while (rings.length > MAX_RINGS) { pulses.removeLayer(rings.shift()); }
    setTimeout(function () {
      var at = rings.indexOf(ring);
      if (at >= 0) { rings.splice(at, 1); pulses.removeLayer(ring); }
    }, 3000);
  }
  // A label shows only from the zoom at which its area is wide enough to hold it; before
  // that its short form (菱湖 for 菱湖街道), if that fits.
  function showLabels() {
    var zoom = map.getZoom();
    labels.eachLayer(function (l) {
      var text = zoom >= l.minZoom ? l.full : (l.short && zoom >= l.shortZoom ? l.short : "");
      if (text !== l.shown) {
        l.shown = text;
        l.getElement().textContent = text;
      }
    });
  }
  map.on("zoomend", showLabels);
  function styleOf(a) {
    return {color: a.stroke || "#5b8def", weight: a.weight === undefined ? 1 : a.weight,
            fill: a.fill !== null, fillColor: a.fill || "#1f3b73",
            fillOpacity: a.opacity === undefined ? 0.25 : a.opacity,
            dashArray: a.dash || null, interactive: a.interactive !== false, renderer: canvas};
  }
  window.tg = {
    map: map,  // for tests and a debugging console
    applied: 0,
    clicked: null,
    apply: function (batch) {
      if (batch.units_reset) {
        // New units replace the old: areas, static markers and labels start afresh.
        areas.clearLayers(); areaById = {};
        Object.keys(staticIds).forEach(function (id) { delete markerById[id]; });
        statics.clearLayers(); staticIds = {};
        labels.clearLayers();
      }
      (batch.areas || []).forEach(function (a) {
        var layer = areaById[a.id];
        if (layer) { layer.setStyle(styleOf(a)); }
        else {
          layer = L.polygon(a.rings.map(function (r) { return r.map(function (p) {
            return [p[1], p[0]]; }); }), styleOf(a));
          if (a.label) { layer.bindTooltip(a.label, {sticky: true}); }
          if (a.interactive !== false) {
            layer.on("click", function () {
              clicks += 1; window.tg.clicked = a.id;
              document.title = "area:" + clicks + ":" + a.id; });
          }
          layer.addTo(areas); areaById[a.id] = layer;
        }
      });
      var added = [], pulsing = [];
      (batch.markers || []).forEach(function (m) {
        var marker = markerById[m.id];
        var style = {radius: m.radius || 6, color: m.stroke || m.color || "#ffffff",
                     weight: m.weight === undefined ? 1 : m.weight,
                     fillColor: m.color || "#ffb300", fillOpacity: m.opacity || 0.9,
                     interactive: m.interactive !== false,
                     renderer: m.static && m.interactive === false ? staticCanvas : canvas};
        if (marker) {
          marker.setLatLng([m.lat, m.lon]); marker.setStyle(style);
          marker.options.tgLabel = m.label;
          if (marker.getTooltip()) { marker.setTooltipContent(m.label || ""); }
        } else {
          marker = L.circleMarker([m.lat, m.lon], style);
          // The tooltip is made when first hovered (see the cluster's mouseover): binding
          // one to each of thousands of markers costs more than anyone will ever hover.
          marker.options.tgLabel = m.label;
          if (m.static && m.label) { marker.bindTooltip(m.label); }  // not in the cluster
          markerById[m.id] = marker;
          if (m.static) { statics.addLayer(marker); staticIds[m.id] = true; }
          else { added.push(marker); }
        }
        if (m.pulse) { pulsing.push(m); }
      });
      // Only the last few of a batch: the others would be pushed out at once anyway.
      pulsing.slice(-MAX_RINGS).forEach(function (m) { pulse(m.lat, m.lon); });
      if (added.length) { cluster.addLayers(added); }
      var gone = [];
      (batch.remove || []).forEach(function (id) {
        var marker = markerById[id]; if (!marker) { return; }
        delete markerById[id];
        if (staticIds[id]) { delete staticIds[id]; statics.removeLayer(marker); }
        else { gone.push(marker); }
      });
      if (gone.length) { cluster.removeLayers(gone); }
      (batch.labels || []).forEach(function (l) {
        var label = L.marker([l.lat, l.lon], {interactive: false, keyboard: false, pane: "tgLabels",
          icon: L.divIcon({className: "tg-label", html: "", iconSize: null})});
        label.minZoom = l.minZoom || 0;
        label.full = l.text;
        label.shown = "";  // showLabels fills it in, as text (a name is never parsed as HTML)
        label.short = l.short || "";
        label.shortZoom = l.shortZoom === undefined ? label.minZoom : l.shortZoom;
        label.addTo(labels);
      });
      if (batch.labels || batch.units_reset) { showLabels(); }
      if (batch.fit) {
        map.invalidateSize({animate: false});
        map.fitBounds(batch.fit.map(function (p) { return [p[1], p[0]]; }), {animate: false});
      }
      window.tg.applied += 1;
    },
    counts: function () {
      return {areas: Object.keys(areaById).length, markers: Object.keys(markerById).length,
              statics: Object.keys(staticIds).length, clustered: cluster.getLayers().length,
              labels: labels.getLayers().length, rings: rings.length,
              applied: window.tg.applied};
    },
    marker: function (id) {
      var m = markerById[id]; if (!m) { return null; }
      return {lat: m.getLatLng().lat, lon: m.getLatLng().lng, color: m.options.fillColor,
              radius: m.options.radius};
    },
    area: function (id) {
      var a = areaById[id]; if (!a) { return null; }
      return {fill: a.options.fillColor, opacity: a.options.fillOpacity};
    },
    focus: function (bounds, animate) {
      var box = bounds.map(function (p) { return [p[1], p[0]]; });
      // The view may have been resized since the map last measured it (built hidden).
      map.invalidateSize({animate: false});
      if (animate) { map.flyToBounds(box, {duration: 1.0}); }
      else { map.fitBounds(box, {animate: false}); }
    }
  };
  // With --js-flags=--expose-gc (the application sets it) the page collects its garbage
  // every 15 s: live data are a few MiB; what a day of batches leaves behind is not.
  if (typeof window.gc === "function") { setInterval(function () { window.gc(); }, 15000); }
  document.title = "ready";
});
</script>
"""


_json = msgspec.json.Encoder().encode


class _ExternalRequests(_Interceptor):
    """Records (and blocks) any request that would leave the machine."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.allowed_prefix: str | None = None

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        """Let file:// and the configured tile server through; block the rest."""
        url = info.requestUrl().toString()
        if url.startswith(("file:", "data:", "qrc:")):
            return
        if self.allowed_prefix and url.startswith(self.allowed_prefix):
            return
        self.blocked.append(url)
        info.block(True)


_PROFILE: tuple[QWebEngineProfile, _ExternalRequests] | None = None


def _offline_profile() -> tuple[QWebEngineProfile, _ExternalRequests]:
    # One off-the-record profile for the application, owned by the application so that it
    # outlives every page that uses it.
    global _PROFILE
    if _PROFILE is None:
        profile = QWebEngineProfile(QCoreApplication.instance())
        interceptor = _ExternalRequests()
        interceptor.setParent(profile)
        profile.setUrlRequestInterceptor(interceptor)
        _PROFILE = (profile, interceptor)
    return _PROFILE


class GridMap(QWebEngineView):
    """The map view: `apply_batch` sends areas and markers; `ready` fires once loaded."""

    ready = Signal()
    areaClicked = Signal(str)
    restarted = Signal()  # the page's renderer died and the page is loading again

    def __init__(
        self,
        centre: tuple[float, float],
        zoom: int = 12,
        tile_url: str | None = None,
        parent: QWidget | None = None,
        label_px: int = 16,
    ) -> None:
        super().__init__(parent)
        # Removed with the view (or at exit): a wall restarted for months leaves nothing.
        self._tmp = tempfile.TemporaryDirectory(prefix="tongguan-map-")
        self._folder = Path(self._tmp.name)
        profile, self._interceptor = _offline_profile()
        if tile_url:
            self._interceptor.allowed_prefix = tile_url.split("{", 1)[0]
        self.setPage(QWebEnginePage(profile, self))
        # The wall's colour until the page has drawn (Chromium's default is white).
        self.page().setBackgroundColor(QColor(BACKGROUND))
        self.is_ready = False
        self.restarts = 0
        self._queue: list[dict[str, Any]] = []
        self._focus: list[list[float]] | None = None
        self._animate = True
        self.page().titleChanged.connect(self._title)
        page = self._build(centre, zoom, tile_url, label_px)
        self._url = QUrl.fromLocalFile(str(page))
        self.page().renderProcessTerminated.connect(self._renderer_gone)
        self.load(self._url)

    def _renderer_gone(self, *_status: object) -> None:
        # A wall runs for months: a renderer killed (out of memory, a crash) must not leave
        # the map blank. Load the page again; whoever feeds it hears `restarted` and `ready`.
        self.is_ready = False
        self.restarts += 1
        self.restarted.emit()
        QTimer.singleShot(1000, lambda: self.load(self._url))

    @property
    def blocked_requests(self) -> list[str]:
        """URLs the page tried to fetch from outside (should stay empty)."""
        return list(self._interceptor.blocked)

    def _build(
        self, centre: tuple[float, float], zoom: int, tile_url: str | None, label_px: int
    ) -> Path:
        lon, lat = centre
        fmap = _OfflineMap(
            location=[lat, lon],
            zoom_start=zoom,
            tiles=None,
            prefer_canvas=True,
            control_scale=False,  # a metric-only one is added by the page script
            zoom_control=False,
        )
        # Clustering needs the map's own zoom range (folium gives it only to tile layers).
        fmap.options.update({"maxZoom": 19, "minZoom": 9})
        if tile_url:
            folium.TileLayer(tiles=tile_url, attr="intranet tiles", name="base").add_to(fmap)
        page = fmap.get_root()
        assert isinstance(page, folium.Figure)  # a Map's root is the page folium made for it
        page.html.add_child(
            folium.Element("<style>html,body,.folium-map{background:#0b1a2e;}</style>")
        )
        page.html.add_child(
            folium.Element(
                _API % {"map": fmap.get_name(), "label_px": label_px, "tooltip_px": label_px - 2}
            )
        )
        path = self._folder / "map.html"
        fmap.save(str(path))
        return path

    def _title(self, title: str) -> None:
        if title == "ready" and not self.is_ready:
            self.is_ready = True
            queued, self._queue = self._queue, []
            for batch in queued:
                self.apply_batch(batch)
            if self._focus is not None:
                self.focus(self._focus, self._animate)
                self._focus = None
            self.ready.emit()
        elif title.startswith("area:"):
            # "area:<click counter>:<id>": the counter makes a second click change the title.
            self.areaClicked.emit(title.split(":", 2)[2])

    def apply_batch(self, batch: dict[str, Any]) -> None:
        """Send one batch of plain data (JSON-able), applied in the page in one go.

        areas: [{id, rings, fill (None: outline only), stroke, weight, opacity, dash, label,
        interactive}] (a known id only restyles); markers: [{id, lon, lat, color, stroke,
        radius, label, pulse, static (outside clustering), interactive}]; remove: [marker
        ids]; labels: [{lon, lat, text, minZoom, short, shortZoom}]; units_reset (drop areas,
        static markers and labels first); fit: [[lon, lat], [lon, lat]].
        """
        if not self.is_ready:
            self._queue.append(batch)
            return
        # msgspec writes JSON several times faster than json.dumps (a batch at 2,000 events/s
        # holds ~800 markers); the trailing `;0` keeps the page from sending back a result.
        self.page().runJavaScript(f"window.tg.apply({_json(batch).decode()});0")

    def focus(self, bounds: list[list[float]], animate: bool = True) -> None:
        """Fly (or, not animated, jump) to a bounding box given as [[lon, lat], [lon, lat]]
        (once loaded, if not yet)."""
        if not self.is_ready:
            self._focus = bounds
            self._animate = animate
            return
        self.page().runJavaScript(f"window.tg.focus({json.dumps(bounds)}, {json.dumps(animate)})")
