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
  // Until the district is fitted the view is a guess: its scale ("200 km") is not shown.
  map.getContainer().classList.add("tg-unfitted");
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
  // The scale's bar stands for a round distance, and its words sit in the bar: where the
  // distance Leaflet picks draws a bar shorter than its words ("3 km" at the wall's text
  // size), the next round distance up is taken, so the box always holds its text.
  var measure = document.createElement("canvas").getContext("2d");
  function nextRound(meters) {
    var pow10 = Math.pow(10, Math.floor(Math.log10(meters) + 1e-9));
    var d = Math.round(meters / pow10);
    return pow10 * (d < 2 ? 2 : d < 3 ? 3 : d < 5 ? 5 : 10);
  }
  var Scale = L.Control.Scale.extend({
    _updateMetric: function (maxMeters) {
      var line = this._mScale, style = getComputedStyle(line);
      measure.font = style.font;
      var frame = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight) +
                  parseFloat(style.borderLeftWidth) + parseFloat(style.borderRightWidth);
      var perPixel = maxMeters / this.options.maxWidth;
      var meters = this._getRoundNum(maxMeters), label, width;
      for (var tries = 0; tries < 8; tries += 1) {
        label = meters < 1000 ? meters + " m" : (meters / 1000) + " km";
        width = Math.round(meters / perPixel);
        if (width >= Math.ceil(measure.measureText(label).width + frame) + 2) { break; }
        meters = nextRound(meters);
      }
      line.style.width = width + "px";
      line.textContent = label;
    }
  });
  new Scale({imperial: false}).addTo(map);
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
  function badgeSide(digits) {
    return Math.round(config.tooltipPx * (1.2 + 0.45 * digits)) + 10;
  }
  function clusterIcon(group) {
    var count = group.getChildCount();
    var kind = count < 10 ? "small" : (count < 100 ? "medium" : "large");
    var side = badgeSide(String(count).length);
    var inner = document.createElement("div");
    var number = document.createElement("span");
    number.textContent = String(count);
    inner.appendChild(number);
    return L.divIcon({html: inner, className: "marker-cluster marker-cluster-" + kind,
                      iconSize: L.point(side, side)});
  }
  // Markers gather into a cluster within a bubble's width of it (a three-digit one): two
  // clusters then rarely come closer than their bubbles; `declutter` parts the rest.
  var cluster = L.markerClusterGroup({chunkedLoading: true, disableClusteringAtZoom: 15,
                                      maxClusterRadius: badgeSide(3),
                                      iconCreateFunction: clusterIcon});
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

  // Nothing drawn over anything else: the clusters' bubbles part (each moved the least,
  // never over the map's notes, scale or credit), then each street name takes the first
  // free place of a few around its street's centre, or hides. Run once per frame after
  // anything changed what is drawn (a batch, a zoom, a cluster split or merged).
  var GAP = 2;
  // Where Leaflet puts an icon once any animation is over (a cluster's split or merge moves
  // it there in 0.3 s): its top-left in the map's container, and its size.
  function placeOf(el) {
    var pos = L.DomUtil.getPosition(el);
    if (!pos) { return null; }
    var p = map.layerPointToContainerPoint(pos);
    return {x: p.x + (parseFloat(el.style.marginLeft) || 0),
            y: p.y + (parseFloat(el.style.marginTop) || 0),
            w: el.offsetWidth, h: el.offsetHeight};
  }
  function boxOf(el, view) {
    var r = el.getBoundingClientRect();
    return {left: r.left - view.left, top: r.top - view.top,
            right: r.right - view.left, bottom: r.bottom - view.top};
  }
  var NAME_GAP = 8;  // between two names: they read as two
  function overlaps(a, b, gap) {
    return a.left < b.right + gap && b.left < a.right + gap &&
           a.top < b.bottom + gap && b.top < a.bottom + gap;
  }
  function circleHitsBox(c, b) {
    var x = Math.max(b.left, Math.min(c.x, b.right)), y = Math.max(b.top, Math.min(c.y, b.bottom));
    return (c.x - x) * (c.x - x) + (c.y - y) * (c.y - y) < (c.r + GAP) * (c.r + GAP);
  }
  function circleBox(c) {
    return {left: c.x - c.r, top: c.y - c.r, right: c.x + c.r, bottom: c.y + c.r};
  }
  function partBubbles(bubbles, fixed) {
    for (var round = 0; round < 40; round += 1) {
      var moved = false;
      for (var i = 0; i < bubbles.length; i += 1) {
        var a = bubbles[i];
        for (var j = i + 1; j < bubbles.length; j += 1) {
          var b = bubbles[j];
          var dx = b.x - a.x, dy = b.y - a.y, d = Math.sqrt(dx * dx + dy * dy);
          var need = a.r + b.r + GAP;
          if (d >= need) { continue; }
          if (d < 0.01) { dx = 1; dy = 0; d = 1; }
          var push = (need - d) / 2 + 0.01;
          a.x -= dx / d * push; a.y -= dy / d * push;
          b.x += dx / d * push; b.y += dy / d * push;
          moved = true;
        }
        fixed.forEach(function (box) {
          if (!circleHitsBox(a, box)) { return; }
          // Out of the box the shortest way: up or down, left or right.
          var ways = [[0, box.top - GAP - a.r - a.y], [0, box.bottom + GAP + a.r - a.y],
                      [box.left - GAP - a.r - a.x, 0], [box.right + GAP + a.r - a.x, 0]];
          ways.sort(function (p, q) {
            return Math.abs(p[0]) + Math.abs(p[1]) - Math.abs(q[0]) - Math.abs(q[1]);
          });
          a.x += ways[0][0]; a.y += ways[0][1];
          moved = true;
        });
      }
      if (!moved) { break; }
    }
  }
  function declutter() {
    var container = map.getContainer(), view = container.getBoundingClientRect();
    var width = view.width, height = view.height;
    var icons = [].slice.call(map.getPane("markerPane").querySelectorAll(".marker-cluster"));
    var names = [].slice.call(map.getPane("tgLabels").querySelectorAll(".tg-label"));
    icons.concat(names).forEach(function (el) { el.style.translate = ""; });
    var fixed = [].slice.call(container.querySelectorAll(".leaflet-control")).map(function (el) {
      return boxOf(el, view);
    }).filter(function (b) { return b.right > b.left && b.bottom > b.top; });
    var bubbles = [];
    icons.forEach(function (el) {
      var at = placeOf(el);
      if (el.style.opacity === "0" || !at) { return; }  // fading out (a merge or split)
      if (at.x + at.w <= 0 || at.y + at.h <= 0 || at.x >= width || at.y >= height) { return; }
      var r = at.w / 2;
      bubbles.push({el: el, x0: at.x + r, y0: at.y + r, x: at.x + r, y: at.y + r, r: r});
    });
    partBubbles(bubbles, fixed);
    bubbles.forEach(function (c) {
      var dx = c.x - c.x0, dy = c.y - c.y0;
      if (Math.abs(dx) > 0.5 || Math.abs(dy) > 0.5) {
        c.el.style.translate = dx.toFixed(1) + "px " + dy.toFixed(1) + "px";
      }
    });
    var taken = fixed.slice();
    names.forEach(function (el) {
      var at = placeOf(el);
      if (!el.textContent || !at) { el.style.visibility = ""; return; }
      // Centred on its point by its own translate (-50% -50%).
      var w = at.w, h = at.h;
      var b = {left: at.x - w / 2, top: at.y - h / 2, right: at.x + w / 2, bottom: at.y + h / 2};
      // Centred on the street's centre (the label's own -50% is undone here), else just
      // above or below it, else to its sides.
      var places = [[0, 0], [0, -h], [0, h], [-w * 0.6, 0], [w * 0.6, 0],
                    [0, -2 * h], [0, 2 * h]];
      var found = null;
      for (var k = 0; k < places.length && !found; k += 1) {
        var box = {left: b.left + places[k][0], right: b.right + places[k][0],
                   top: b.top + places[k][1], bottom: b.bottom + places[k][1]};
        var inside = box.left >= 0 && box.top >= 0 && box.right <= width && box.bottom <= height;
        var free = inside && !taken.some(function (t) { return overlaps(box, t, NAME_GAP); }) &&
                   !bubbles.some(function (c) { return circleHitsBox(c, box); });
        if (free) { found = {box: box, dx: places[k][0], dy: places[k][1]}; }
      }
      if (found) {
        el.style.visibility = "";
        if (found.dx || found.dy) {
          el.style.translate = "calc(-50% + " + found.dx.toFixed(1) + "px) calc(-50% + " +
                               found.dy.toFixed(1) + "px)";
        }
        taken.push(found.box);
      } else {
        el.style.visibility = "hidden";  // no room: the bubbles there say more
      }
    });
    window.tg.decluttered += 1;
  }
  var declutterQueued = false;
  function queueDeclutter() {
    if (declutterQueued) { return; }
    declutterQueued = true;
    requestAnimationFrame(function () { declutterQueued = false; declutter(); });
  }
  map.on("zoomend moveend resize", queueDeclutter);
  var refitting = null;
  map.on("resize", function () {
    if (refitting) { map.fitBounds(refitting, {animate: false}); }
  });
  ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (kind) {
    map.getContainer().addEventListener(kind, function () { refitting = null; }, {passive: true});
  });
  cluster.on("animationend", queueDeclutter);
  // Whatever adds, removes or refills a bubble or a name (our own moves change styles only).
  var watch = new MutationObserver(queueDeclutter);
  watch.observe(map.getPane("markerPane"), {childList: true, subtree: true});
  watch.observe(map.getPane("tgLabels"), {childList: true, subtree: true, characterData: true});
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
    decluttered: 0,  // passes of `declutter` (for tests)
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
        map.getContainer().classList.remove("tg-unfitted");
      }
      window.tg.applied += 1;
    },
    // What is drawn over something else now (for tests): bubbles over bubbles or controls,
    // street names over bubbles, controls or names, the scale's words beyond its box.
    clashes: function () {
      var container = map.getContainer(), view = container.getBoundingClientRect();
      var out = [];
      var shown = function (el) { return el.style.opacity !== "0"; };
      var bubbles = [].slice.call(map.getPane("markerPane").querySelectorAll(".marker-cluster"))
        .filter(shown).map(function (el) {
          var b = boxOf(el, view), r = (b.right - b.left) / 2;
          var seen = b.right > 0 && b.bottom > 0 && b.left < view.width && b.top < view.height;
          return {x: b.left + r, y: b.top + r, r: r, text: el.textContent, seen: seen};
        }).filter(function (c) { return c.seen; });  // what is off the map is not drawn
      var names = [].slice.call(map.getPane("tgLabels").querySelectorAll(".tg-label"))
        .filter(function (el) { return el.textContent && el.style.visibility !== "hidden"; })
        .map(function (el) { var b = boxOf(el, view); b.text = el.textContent; return b; });
      var controls = [].slice.call(container.querySelectorAll(".leaflet-control"))
        .map(function (el) { var b = boxOf(el, view); b.text = el.className; return b; });
      var hits = function (a, b) {  // boxes, with no gap
        return a.left < b.right - 0.5 && b.left < a.right - 0.5 &&
               a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
      };
      var hitsCircle = function (c, b) {
        var x = Math.max(b.left, Math.min(c.x, b.right));
        var y = Math.max(b.top, Math.min(c.y, b.bottom));
        return (c.x - x) * (c.x - x) + (c.y - y) * (c.y - y) < (c.r - 0.5) * (c.r - 0.5);
      };
      bubbles.forEach(function (a, i) {
        bubbles.slice(i + 1).forEach(function (b) {
          var d = Math.sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y));
          if (d < a.r + b.r - 0.5) { out.push("bubble " + a.text + " over bubble " + b.text); }
        });
        controls.forEach(function (c) {
          if (hitsCircle(a, c)) { out.push("bubble " + a.text + " under " + c.text); }
        });
      });
      names.forEach(function (n, i) {
        bubbles.forEach(function (c) {
          if (hitsCircle(c, n)) { out.push("name " + n.text + " over bubble " + c.text); }
        });
        controls.forEach(function (c) {
          if (hits(n, c)) { out.push("name " + n.text + " over " + c.text); }
        });
        names.slice(i + 1).forEach(function (m) {
          if (hits(n, m)) { out.push("name " + n.text + " over name " + m.text); }
        });
      });
      var line = container.querySelector(".leaflet-control-scale-line");
      if (line) {
        var words = document.createRange();
        words.selectNodeContents(line);
        var t = words.getBoundingClientRect(), l = line.getBoundingClientRect();
        var frame = getComputedStyle(line);
        var left = l.left + parseFloat(frame.borderLeftWidth);
        var right = l.right - parseFloat(frame.borderRightWidth);
        if (t.left < left - 0.5 || t.right > right + 0.5) {
          out.push("scale " + line.textContent + " beyond its box");
        }
      }
      return out;
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
      map.getContainer().classList.remove("tg-unfitted");
      // A resize of the page frames the box again (the wall making room for 复盘's time
      // bar: the resize may reach the page after this), until someone moves the map.
      refitting = box;
    }
  };
  // With --js-flags=--expose-gc (the application sets it) the page collects its garbage
  // every 15 s: live data are a few MiB; what a day of batches leaves behind is not.
  if (typeof window.gc === "function") { setInterval(function () { window.gc(); }, 15000); }
  document.title = "ready";
}());
