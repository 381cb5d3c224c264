/* Jiuzai map dashboard: fills the folium layers from the GeoJSON API.
 *
 * Folium draws the map, its named (empty) layers, the layer control and the legend; this file
 * fetches the data and adds it: counties (simplified per zoom), affected villages as clustered
 * circle markers coloured by severity, depots with a popup of their stock, dispatches in transit
 * as lines, coverage gaps, and the linked tables beside the map. Nothing is fetched from outside
 * this server. When every layer is loaded, window.jiuzaiMapReady becomes true (benchmarks and
 * browser tests wait for it), window.jiuzaiMapReadyAt holds performance.now() at that moment and
 * window.jiuzaiMapStats counts what was drawn.
 */
(function () {
  "use strict";

  var cfg = window.JIUZAI_MAP;
  if (!cfg) { return; }
  var map = cfg.map, layers = cfg.layers, opt = cfg.options, T = opt.labels;
  // Attribution without Leaflet's default prefix (a flag): the library's name is enough.
  if (map.attributionControl) { map.attributionControl.setPrefix("Leaflet"); }
  var severityColour = {}, severityLabel = {};
  opt.severity.forEach(function (s) { severityColour[s["class"]] = s.colour; severityLabel[s["class"]] = s.label; });

  var state = {
    item: opt.item,
    colourBy: "severity",
    villages: [],          // [{code, name, township, severity, figures, lat, lon}]
    markers: {},           // village code -> circle marker
    depots: {},            // depot code -> {feature, marker}
    nearest: {},           // village code -> {depot_code, distance_km, available}
    countyZoom: null,
    countyLayer: null,
    countyRequest: 0,
  };
  window.jiuzaiMapReady = false;
  window.jiuzaiMapStats = {};
  L.control.scale({imperial: false}).addTo(map);

  // --- helpers -------------------------------------------------------------------------------
  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function num(value) {
    if (value == null) { return "—"; }
    return Number(value).toLocaleString("zh-CN");
  }
  function withQuery(url, params) {
    var u = new URL(url, window.location.href);
    Object.keys(params).forEach(function (k) {
      if (params[k] == null || params[k] === "") { u.searchParams.delete(k); } else { u.searchParams.set(k, params[k]); }
    });
    return u.pathname + u.search;
  }
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/geo+json, application/json"}})
      .then(function (response) {
        if (!response.ok) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            throw new Error((body && (body.detail || body.title)) || ("HTTP " + response.status));
          });
        }
        return response.json();
      });
  }
  function showError(err) {
    var box = document.getElementById("jz-map-error");
    if (box) {
      box.textContent = T.load_failed + "：" + (err && err.message ? err.message : err);
      box.classList.remove("d-none");
    }
    window.jiuzaiMapError = String(err && err.message ? err.message : err);
  }
  function itemName(code) {
    var it = opt.items[code];
    return it ? it.name : code;
  }
  function itemUnit(code) {
    var it = opt.items[code];
    return it ? it.unit : "";
  }
  function figureRows(figures) {
    return Object.keys(opt.figures).filter(function (f) { return figures && figures[f]; }).map(function (f) {
      return "<tr><td>" + esc(opt.figures[f].label) + "</td><td class='text-end'>" + num(figures[f]) +
        " " + esc(opt.figures[f].unit) + "</td></tr>";
    }).join("");
  }
  function sevBadge(klass) {
    return "<span class='badge jz-sev-badge jz-sev-" + klass + "'>" + esc(severityLabel[klass]) + "</span>";
  }

  // --- counties (choropleth) -------------------------------------------------------------------
  function countyStyle(feature) {
    var p = feature.properties, fill;
    if (state.colourBy === "response") {
      fill = p.response ? p.response.colour : opt.tier_none_colour;
    } else {
      fill = p.severity != null ? severityColour[p.severity] : "#f0f0f0";
    }
    return {color: "#555", weight: 1, opacity: 0.9, fillColor: fill, fillOpacity: opt.event_id ? 0.45 : 0.08};
  }
  function countyPopup(layer) {
    var p = layer.feature.properties, html = "<div class='jz-popup'><strong>" + esc(p.name) + "</strong> <small class='text-muted'>" + esc(p.code) + "</small>";
    if (p.severity != null) {
      html += "<div>" + esc(T.severity) + "：" + sevBadge(p.severity) + "</div>";
      html += "<div>" + esc(T.response) + "：" + (p.response ? esc(p.response.level) + (p.response.inherited ? esc(T.inherited) : "") : esc(T.no_response)) + "</div>";
      html += "<div>" + esc(T.reporting_units) + "：" + num(p.reporting_units) + (p.as_of ? "，" + esc(T.as_of) + " " + esc(p.as_of.slice(0, 16).replace("T", " ")) : "") + "</div>";
      html += "<table class='table table-sm mb-0'>" + figureRows(p.figures) + "</table>";
    }
    return html + "</div>";
  }
  function loadCounties(zoom) {
    var ticket = ++state.countyRequest;
    return getJSON(withQuery(opt.urls.counties, {zoom: zoom})).then(function (data) {
      performance.mark("jz-counties-fetched");
      if (ticket !== state.countyRequest) { return; }
      var layer = L.geoJSON(data, {style: countyStyle});
      layer.eachLayer(function (l) {
        l.bindTooltip(esc(l.feature.properties.name), {sticky: true});
        l.bindPopup(function () { return countyPopup(l); });
      });
      layers.counties.clearLayers();
      layers.counties.addLayer(layer);
      layer.bringToBack();
      state.countyLayer = layer;
      state.countyZoom = zoom;
      window.jiuzaiMapStats.counties = data.features.length;
    });
  }
  map.on("zoomend", function () {
    var z = map.getZoom();
    if (state.countyZoom !== null && z > state.countyZoom + 1) { loadCounties(z).catch(showError); }
  });
  function restyleCounties() {
    if (state.countyLayer) { state.countyLayer.setStyle(countyStyle); }
    document.querySelectorAll(".jz-legend-section").forEach(function (el) {
      el.classList.toggle("d-none", el.getAttribute("data-colour-by") !== state.colourBy);
    });
  }

  // --- villages --------------------------------------------------------------------------------
  function villagePopup(v) {
    var near = state.nearest[v.code], html = "<div class='jz-popup'><strong>" + esc(v.township) + " " + esc(v.name) +
      "</strong> <small class='text-muted'>" + esc(v.code) + "</small><div>" + esc(T.severity) + "：" + sevBadge(v.severity) + "</div>";
    html += "<table class='table table-sm mb-1'>" + figureRows(v.figures) + "</table>";
    if (state.item) {
      html += "<div>" + esc(T.nearest) + "（" + esc(itemName(state.item)) + "）：" + nearestText(v.code) + "</div>";
    }
    return html + "</div>";
  }
  var villagePopupBox = L.popup();
  function openVillagePopup(marker) {
    villagePopupBox.setLatLng(marker.getLatLng()).setContent(villagePopup(marker.village)).openOn(map);
  }
  if (layers.villages) {
    layers.villages.on("click", function (e) {
      if (!e.layer.village) { return; }
      highlightRow("jz-villages", e.layer.village.code);
      openVillagePopup(e.layer);
    });
  }
  function loadVillages() {
    return getJSON(opt.urls.villages).then(function (data) {
      performance.mark("jz-villages-fetched");
      var markers = [];
      state.villages = [];
      state.markers = {};
      data.features.forEach(function (f) {
        var p = f.properties, v = {code: p.code, name: p.name, township: p.township, county: p.county || "", severity: p.severity,
          figures: p.figures || {}};
        state.villages.push(v);
        if (!f.geometry) { return; }
        v.lon = f.geometry.coordinates[0];
        v.lat = f.geometry.coordinates[1];
        var marker = L.circleMarker([v.lat, v.lon], {
          radius: 5 + p.severity, color: "#333", weight: 1, fillColor: severityColour[p.severity],
          fillOpacity: 0.9, severity: p.severity,
        });
        marker.village = v;  // one shared popup, opened by the cluster group's click (below)
        state.markers[v.code] = marker;
        markers.push(marker);
      });
      layers.villages.clearLayers();
      var clustered = new Promise(function (resolve) {
        // with chunkedLoading the layer clusters in slices between frames: ready at the last one
        if (!layers.villages.options.chunkedLoading || !markers.length) { resolve(); return; }
        layers.villages.options.chunkProgress = function (processed, total) {
          if (processed >= total) { resolve(); }
        };
      });
      performance.mark("jz-villages-markers");
      layers.villages.addLayers(markers);
      performance.mark("jz-villages-clustered");
      state.villages.sort(function (a, b) {
        return (b.severity - a.severity) || ((b.figures.affected_population || 0) - (a.figures.affected_population || 0)) || (a.code < b.code ? -1 : 1);
      });
      window.jiuzaiMapStats.villages = markers.length;
      renderVillageTable();
      return clustered;
    });
  }
  function nearestText(code) {
    var n = state.nearest[code];
    if (!n) { return "…"; }
    if (!n.depot_code) { return "<span class='text-danger'>" + esc(T.none_within) + "</span>"; }
    var d = state.depots[n.depot_code], name = d ? d.feature.properties.name : n.depot_code;
    var far = n.distance_km > opt.coverage_km ? " text-danger fw-semibold" : "";
    return esc(name) + " <span class='text-nowrap" + far + "'>" + n.distance_km.toFixed(1) + " " + esc(T.km) + "</span>";
  }
  function renderVillageTable() {
    var body = document.querySelector("#jz-villages tbody");
    if (!body) { return; }
    var search = (document.getElementById("jz-search").value || "").trim();
    var rows = state.villages.filter(function (v) {
      return !search || v.name.indexOf(search) >= 0 || v.township.indexOf(search) >= 0 ||
        v.county.indexOf(search) >= 0 || v.code.indexOf(search) === 0;
    });
    var shown = rows.slice(0, opt.table_rows);
    body.innerHTML = shown.map(function (v) {
      return "<tr data-code='" + esc(v.code) + "'><td class='text-nowrap'>" + esc(v.name) +
        "<div class='text-muted d-md-none'>" + esc(v.township) + " · " + esc(v.county) + "</div></td>" +
        "<td class='d-none d-md-table-cell'>" + esc(v.township) + "</td><td class='d-none d-md-table-cell'>" +
        esc(v.county) + "</td><td>" +
        sevBadge(v.severity) + "</td><td class='text-end'>" + num(v.figures.affected_population || 0) + "</td><td class='text-end'>" +
        num(v.figures.relocated_population || 0) + "</td><td>" + (state.item ? nearestText(v.code) : "") + "</td></tr>";
    }).join("") || "<tr><td colspan='7' class='text-muted'>" + esc(T.no_rows) + "</td></tr>";
    var note = document.getElementById("jz-villages-note");
    if (note && rows.length > shown.length) { note.textContent = T.rows_shown.replace("{n}", shown.length); }
  }
  // Leaflet.markercluster's zoomToShowLayer only knows icon markers; these are circle markers.
  function visibleParent(marker) {
    if (marker._map) { return marker; }
    var parent = marker.__parent;
    while (parent && !parent._icon) { parent = parent.__parent; }
    return parent || null;
  }
  function openWhenShown(marker, tries) {
    var shown = visibleParent(marker);
    if (shown === marker) { openVillagePopup(marker); return; }
    if (shown && map.getZoom() >= map.getMaxZoom()) {  // same place as others: spread them out
      layers.villages.once("spiderfied", function () { openVillagePopup(marker); });
      shown.spiderfy();
      return;
    }
    if (tries > 0) { window.setTimeout(function () { openWhenShown(marker, tries - 1); }, 100); }
  }
  function focusVillage(code) {
    var marker = state.markers[code];
    if (!marker) { return; }
    highlightRow("jz-villages", code);
    if (!map.hasLayer(layers.villages)) { map.addLayer(layers.villages); }
    var unclustered = marker.__parent ? Math.min(marker.__parent._zoom + 1, map.getMaxZoom()) : map.getZoom();
    map.setView(marker.getLatLng(), Math.max(map.getZoom(), unclustered), {animate: false});
    openWhenShown(marker, 30);
  }

  // --- depots ----------------------------------------------------------------------------------
  var TIER_RADIUS = {central: 12, provincial: 11, prefecture: 9, county: 7, township: 6};
  function depotHasStock(p) {
    if (state.item) { return (p.stock[state.item] || 0) > 0; }
    return Object.keys(p.stock).some(function (k) { return p.stock[k] > 0; });
  }
  function depotPopup(p) {
    var codes = Object.keys(p.stock).sort(function (a, b) { return (a === state.item ? -1 : 0) - (b === state.item ? -1 : 0) || (a < b ? -1 : 1); });
    var rows = codes.map(function (code) {
      var cls = code === state.item ? " class='table-warning'" : "";
      return "<tr" + cls + "><td>" + esc(itemName(code)) + "</td><td class='text-end'>" + num(p.stock[code]) + " " + esc(itemUnit(code)) + "</td></tr>";
    }).join("");
    return "<div class='jz-popup'><strong>" + esc(p.name) + "</strong> <small class='text-muted'>" + esc(p.code) + "</small>" +
      "<div>" + esc(T.tier) + "：" + esc(p.tier_label) + "；" + esc(T.region) + "：" + esc(p.region_code) + "</div>" +
      "<div class='fw-semibold mt-1'>" + esc(T.stock) + "</div>" +
      (rows ? "<table class='table table-sm mb-0'>" + rows + "</table>" : "<div class='text-muted'>" + esc(T.no_stock) + "</div>") + "</div>";
  }
  function loadDepots() {
    return getJSON(withQuery(opt.urls.depots, {item: state.item})).then(function (data) {
      layers.depots.clearLayers();
      state.depots = {};
      data.features.forEach(function (f) {
        if (!f.geometry) { return; }
        var p = f.properties, stocked = depotHasStock(p);
        var marker = L.circleMarker([f.geometry.coordinates[1], f.geometry.coordinates[0]], {
          radius: TIER_RADIUS[p.tier] || 7, color: "#fff", weight: 2, fillColor: stocked ? "#1a9850" : "#969696",
          fillOpacity: 0.95, className: "jz-depot",
        });
        marker.bindPopup(function () { return depotPopup(p); });
        marker.bindTooltip(esc(p.name));
        marker.on("click", function () { highlightRow("jz-depots", p.code); });
        marker.addTo(layers.depots);
        state.depots[p.code] = {feature: f, marker: marker};
      });
      window.jiuzaiMapStats.depots = data.features.length;
      renderDepotTable(data.features);
    });
  }
  function renderDepotTable(features) {
    var body = document.querySelector("#jz-depots tbody");
    if (!body) { return; }
    var sorted = features.slice().sort(function (a, b) {
      var qa = state.item ? (a.properties.stock[state.item] || 0) : 0, qb = state.item ? (b.properties.stock[state.item] || 0) : 0;
      return (qb - qa) || (a.properties.code < b.properties.code ? -1 : 1);
    });
    body.innerHTML = sorted.map(function (f) {
      var p = f.properties, qty = state.item ? (p.stock[state.item] || 0) : null;
      return "<tr data-code='" + esc(p.code) + "'><td>" + esc(p.name) + "</td><td>" + esc(p.tier_label) + "</td><td class='text-end'>" +
        (qty === null ? "" : num(qty) + " " + esc(itemUnit(state.item))) + "</td></tr>";
    }).join("");
  }
  function focusDepot(code) {
    var d = state.depots[code];
    if (!d) { return; }
    highlightRow("jz-depots", code);
    if (!map.hasLayer(layers.depots)) { map.addLayer(layers.depots); }
    map.setView(d.marker.getLatLng(), Math.max(map.getZoom(), 9));
    d.marker.openPopup();
  }

  // --- dispatches in transit -----------------------------------------------------------------
  function loadDispatches() {
    return getJSON(opt.urls.dispatches).then(function (data) {
      layers.dispatches.clearLayers();
      var layer = L.geoJSON(data, {style: function () { return {color: "#2166ac", weight: 3, opacity: 0.9, dashArray: "8 6"}; }});
      layer.eachLayer(function (l) {
        var p = l.feature.properties;
        l.bindPopup(function () {
          var from = state.depots[p.from_depot];
          var lines = p.lines.map(function (line) { return esc(itemName(line.item)) + " " + num(line.quantity) + " " + esc(itemUnit(line.item)); }).join("，");
          return "<div class='jz-popup'><strong>" + esc(T.dispatch) + " #" + esc(p.id) + "</strong><div>" + esc(T.depot) + "：" +
            esc(from ? from.feature.properties.name : p.from_depot) + "</div><div>" + esc(T.to_region) + "：" + esc(p.to_region_code) +
            "</div><div>" + esc(T.status) + "：" + esc(T["status_" + p.status] || p.status) + "</div><div>" + esc(T.lines) + "：" + lines + "</div></div>";
        });
      });
      layers.dispatches.addLayer(layer);
      window.jiuzaiMapStats.dispatches = data.features.length;
    });
  }

  // --- the forecast's footprint (预判): polygons by intensity, exposed villages as dots ---------
  function loadFootprint() {
    if (!layers.footprint || !opt.urls.footprint) { return Promise.resolve(); }
    return getJSON(opt.urls.footprint).then(function (data) {
      layers.footprint.clearLayers();
      var layer = L.geoJSON(data, {
        style: function () { return {color: "#1f78b4", weight: 1, fillColor: "#a6cee3", fillOpacity: 0.4}; },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, {radius: 3, color: "#1f78b4", weight: 1, fillOpacity: 0.8});
        },
        onEachFeature: function (feature, l) {
          var p = feature.properties;
          l.bindPopup(p.kind === "village"
            ? "<div class='jz-popup'><strong>" + esc(p.name) + "</strong><div>" + esc(T.forecast_affected) + "：" +
              (p.affected_est === null ? "—" : num(p.affected_est)) + "</div></div>"
            : "<div class='jz-popup'><strong>" + esc(T.footprint) + "</strong>" +
              (p.intensity === null ? "" : "<div>" + esc(T.intensity) + "：" + esc(p.intensity) + "</div>") + "</div>");
        }
      });
      layers.footprint.addLayer(layer);
      layer.bringToBack();
    });
  }

  // --- nearest stocked depot and coverage gaps ----------------------------------------------
  function loadNearest() {
    if (!opt.urls.nearest || !state.item) { state.nearest = {}; return Promise.resolve(); }
    return getJSON(withQuery(opt.urls.nearest, {item: state.item})).then(function (rows) {
      performance.mark("jz-nearest-fetched");
      state.nearest = {};
      rows.forEach(function (r) { state.nearest[r.village_code] = r; });
    });
  }
  // Coverage gaps (保障盲区) on the map come from the nearest-depot rows: a village is uncovered
  // when no stocked depot is within the service radius. (The coverage-gaps endpoint gives the
  // same list to other clients; the page saves a request.)
  function drawGaps() {
    if (!layers.gaps) { return; }
    layers.gaps.clearLayers();
    var count = 0;
    state.villages.forEach(function (v) {
      var n = state.nearest[v.code];
      if (!n || (n.depot_code && n.distance_km <= opt.coverage_km)) { return; }
      count += 1;
      if (v.lat == null) { return; }
      var ring = L.circleMarker([v.lat, v.lon], {
        radius: 11, color: "#6a3d9a", weight: 2, fill: false, className: "jz-gap",
      });
      ring.bindTooltip(esc(v.township) + " " + esc(v.name) + "：" + (n.depot_code ? n.distance_km.toFixed(1) + " " + esc(T.km) : esc(T.none_within)));
      ring.on("click", function () { focusVillage(v.code); });
      ring.addTo(layers.gaps);
    });
    window.jiuzaiMapStats.gaps = count;
  }

  // --- linked tables -------------------------------------------------------------------------
  function highlightRow(tableId, code) {
    var table = document.getElementById(tableId);
    if (!table) { return; }
    table.querySelectorAll("tr.jz-active").forEach(function (tr) { tr.classList.remove("jz-active"); });
    var row = table.querySelector("tr[data-code='" + code + "']");
    if (row) { row.classList.add("jz-active"); row.scrollIntoView({block: "nearest"}); }
  }
  function onRowClick(tableId, handler) {
    var table = document.getElementById(tableId);
    if (!table) { return; }
    table.addEventListener("click", function (e) {
      var tr = e.target.closest("tr[data-code]");
      if (tr) { handler(tr.getAttribute("data-code")); }
    });
  }
  onRowClick("jz-villages", focusVillage);
  onRowClick("jz-depots", focusDepot);
  var search = document.getElementById("jz-search");
  if (search) { search.addEventListener("input", renderVillageTable); }

  // --- summary and filters ----------------------------------------------------------------
  function renderSummary() {
    var s = window.jiuzaiMapStats, parts = [];
    if (layers.villages) {
      var counts = {};
      state.villages.forEach(function (v) { counts[v.severity] = (counts[v.severity] || 0) + 1; });
      parts.push(esc(T.villages_count) + " <strong>" + num(state.villages.length) + "</strong>（" +
        [4, 3, 2, 1].map(function (k) { return esc(severityLabel[k]) + " " + num(counts[k] || 0); }).join("、") + "）");
      if (state.item) {
        parts.push(esc(T.uncovered) + "（" + esc(itemName(state.item)) + "）<strong>" + num(s.gaps || 0) + "</strong>");
      }
    }
    parts.push(esc(T.depots_count) + " <strong>" + num(s.depots || 0) + "</strong>");
    parts.push(esc(T.dispatches_count) + " <strong>" + num(s.dispatches || 0) + "</strong>");
    document.getElementById("jz-summary").innerHTML = parts.join(" · ");
  }
  function loadItemLayers(villagesLoaded) {
    // All at once; the table names depots, and the gaps need both villages and nearest depots.
    var depots = loadDepots();
    return Promise.all([depots, loadDispatches(),
                        Promise.all([loadNearest(), villagesLoaded, depots]).then(function () {
                          renderVillageTable();
                          performance.mark("jz-table");
                          drawGaps();
                          performance.mark("jz-gaps");
                        })]);
  }
  function setReady(promise) {
    window.jiuzaiMapReady = false;
    return promise.then(function () {
      renderSummary();
      window.jiuzaiMapReadyAt = performance.now();
      window.jiuzaiMapReady = true;
      document.documentElement.setAttribute("data-map-ready", "1");
    }).catch(showError);
  }

  var eventSelect = document.getElementById("jz-event");
  if (eventSelect) {
    eventSelect.addEventListener("change", function () {
      window.location.href = withQuery(eventSelect.value, {item: state.item});
    });
  }
  var itemSelect = document.getElementById("jz-item");
  if (itemSelect) {
    itemSelect.addEventListener("change", function () {
      state.item = itemSelect.value;
      window.history.replaceState(null, "", withQuery(window.location.href, {item: state.item}));
      setReady(loadItemLayers(Promise.resolve()));
    });
  }
  var colourSelect = document.getElementById("jz-colour-by");
  if (colourSelect) {
    colourSelect.addEventListener("change", function () { state.colourBy = colourSelect.value; restyleCounties(); });
  }
  var filters = document.getElementById("jz-filters");
  if (filters) { filters.addEventListener("submit", function (e) { e.preventDefault(); }); }

  // --- start ---------------------------------------------------------------------------------
  var villagesLoaded = layers.villages ? loadVillages() : Promise.resolve();
  setReady(Promise.all([loadCounties(map.getZoom()),
                        villagesLoaded, loadItemLayers(villagesLoaded), loadFootprint()]));
})();
