// The grid map page (widgets/grid_map.py serves it). Batches come from Python through
// window.tg.apply({areas, markers, remove, labels, fit}); see GridMap.apply_batch.
//
// Every text from the data reaches the page as text: tooltips, labels and the note are DOM
// nodes filled with textContent, never HTML strings. The page's Content-Security-Policy
// (a response header) runs only this page's own script files.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("tg-config").textContent);
  var root = document.documentElement.style;
  root.setProperty("--tg-label-px", config.labelPx + "px");
  root.setProperty("--tg-tooltip-px", config.tooltipPx + "px");

  // Quarter zoom steps: a fitted district or street fills its panel (whole steps left it
  // at half the panel's size on the wall).
  var map = L.map("map", {center: config.center, zoom: config.zoom, zoomControl: false,
                          preferCanvas: true, maxZoom: 19, minZoom: 9,
                          zoomSnap: 0.25, zoomDelta: 0.5});
  if (config.tiles) {
    L.tileLayer(config.tiles, {maxZoom: 19, minZoom: 9}).addTo(map);
  }
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
  // The outline is not an approved map (resources/district/README.md): say so on it.
  if (config.note) {
    var Note = L.Control.extend({
      options: {position: "bottomleft"},
      onAdd: function () {
        var note = L.DomUtil.create("div", "tg-note");
        note.textContent = config.note;
        return note;
      }
    });
    new Note().addTo(map);
  }
  var areas = L.layerGroup().addTo(map);
  var areaById = {};
  var statics = L.layerGroup().addTo(map);
  // Street names above the event clusters (a crowded street must still be named) and
  // click-through, so the clusters under them stay clickable.
  map.createPane("tgLabels");
  map.getPane("tgLabels").style.zIndex = 640;
  map.getPane("tgLabels").style.pointerEvents = "none";
  // A cluster's bubble grows with the text size so that its count (at the tooltips' size)
  // fits; the count is a number the page computes, not text from the data.
  function clusterIcon(group) {
    var count = group.getChildCount();
    var kind = count < 10 ? "small" : (count < 100 ? "medium" : "large");
    var digits = String(count).length;
    var side = Math.round(config.tooltipPx * (1.2 + 0.45 * digits)) + 10;
    var inner = document.createElement("div");
    var number = document.createElement("span");
    number.textContent = String(count);
    inner.appendChild(number);
    return L.divIcon({html: inner, className: "marker-cluster marker-cluster-" + kind,
                      iconSize: L.point(side, side)});
  }
  var cluster = L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: 15,
                                      maxClusterRadius: 40, iconCreateFunction: clusterIcon});
  cluster.addTo(map);

  // A tooltip's content: a new element holding its layer's label as text (Leaflet calls
  // this each time the tooltip opens, so it shows the label as it is then).
  function textOf(layer) {
    var box = document.createElement("div");
    box.className = "tg-text";
    box.textContent = layer.tgLabel || "";
    return box;
  }
  cluster.on("mouseover", function (e) {
    var m = e.layer;
    if (m.tgLabel && !m.getTooltip()) { m.bindTooltip(textOf).openTooltip(); }
  });
  var markerClicks = 0;
  cluster.on("click", function (e) {
    var id = e.layer.tgId;  // a cluster of markers has none: it zooms in
    if (!id) { return; }
    markerClicks += 1; window.tg.clickedMarker = id;
    // "marker:<click counter>:<id>": the counter makes a second click change the title.
    document.title = "marker:" + markerClicks + ":" + id;
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
    var ringBox = document.createElement("div");
    ringBox.className = "tg-ring";
    ringBox.style.animationDelay = -(performance.now() % 1000) + "ms";
    var ring = L.marker([lat, lon], {interactive: false, keyboard: false,
      icon: L.divIcon({className: "tg-pulse", html: ringBox,
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
    clickedMarker: null,
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
          if (a.label) { layer.tgLabel = a.label; layer.bindTooltip(textOf, {sticky: true}); }
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
          marker.tgLabel = m.label;
          var tip = marker.getTooltip();
          if (tip && tip.isOpen()) { tip.update(); }  // a closed one reads it when it opens
        } else {
          marker = L.circleMarker([m.lat, m.lon], style);
          marker.tgId = m.id;
          // The tooltip is made when first hovered (see the cluster's mouseover): binding
          // one to each of thousands of markers costs more than anyone will ever hover.
          marker.tgLabel = m.label;
          if (m.static && m.label) { marker.bindTooltip(textOf); }  // not in the cluster
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
    // Where a marker is on the screen (CSS pixels of the page), e.g. to click it in a test.
    point: function (id) {
      var m = markerById[id]; if (!m) { return null; }
      var p = map.latLngToContainerPoint(m.getLatLng());
      return {x: p.x, y: p.y};
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
}());
