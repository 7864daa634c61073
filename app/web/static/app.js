// The planner's page: draw road segments, read their bill of materials, save it, export it.
// Leaflet and Leaflet-Geoman are loaded as plain scripts (window.L); this module holds the rest.

import {
  explainProblem,
  explainWarning,
  formatMoney,
  formatNumber,
  formatPercent,
  parseNumber,
  t,
  WORDS,
} from "./i18n.js";

const L = window.L;
const DEBOUNCE_MS = 250;
const ROADS = "roads";
// A road layer with more features than this is drawn from its vector tiles.
const TILES_ABOVE = Number(document.body.dataset.tilesAbove);
const START_VIEW = { center: [-6.17, 106.63], zoom: 14 };
const WIDTH_RANGE = { min: 0.5, max: 100 };
const EARTH_RADIUS_M = 6378137;
const SHAPE_STYLE = { color: "#0b5cad", weight: 4, fillOpacity: 0.25, opacity: 1 };
const SELECTED_COLOR = "#e07b00";
const ERROR_STYLE = { color: "#b00020", fillOpacity: 0.15 };
const ROAD_STYLE = { color: "#8a6d00", weight: 5, opacity: 0.75 };
const SAVED_STYLE = { color: "#6b3fa0", weight: 3, dashArray: "6 4", fillOpacity: 0.1 };
const OSM_ATTRIBUTION =
  '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';

const PLACE_IN_MESSAGE = /lon (-?\d+(?:\.\d+)?), lat (-?\d+(?:\.\d+)?)/;

const $ = (id) => document.getElementById(id);
const api = (path) => new URL(path, document.baseURI);

const state = {
  lang: initialLanguage(),
  templates: [],
  catalogs: [],
  templateDetails: new Map(),
  catalogDetails: new Map(),
  segments: [], // {id, layer, template, widthText, name}: one feature each
  selected: null, // id of the segment the form edits
  nextId: 1,
  result: null, // the last JSON answer of POST /estimates (or a saved one)
  savedId: null, // id of the saved estimate shown, while nothing changed
  saving: false,
  error: null, // {problem} from the API, or {key} of a page message
  inputError: null, // what is wrong with the width typed, in words
  status: null,
  timer: null,
  inFlight: null,
  sequence: 0,
  savedFeatures: new Map(),
  tilesFailed: false,
  opened: null, // the saved estimate drawn from: {id, version, supersededBy}
  sources: new Map(), // material sources by id, as features
};

// ----------------------------------------------------------------------------- the map

const map = L.map("map", { zoomControl: true }).setView(START_VIEW.center, START_VIEW.zoom);
window.takeoffMap = map; // for scripted checks of pixel <-> lon/lat
// The map's box changes with the words around it (language, messages, a phone turned).
new ResizeObserver(() => map.invalidateSize({ pan: false })).observe($("map"));

const tileUrl = document.body.dataset.tileUrl;
if (tileUrl) {
  const tiles = L.tileLayer(tileUrl, { maxZoom: 20, maxNativeZoom: 19 });
  if (tileUrl.includes("openstreetmap.org")) tiles.options.attribution = OSM_ATTRIBUTION;
  tiles.on("tileerror", () => {
    if (state.tilesFailed) return;
    state.tilesFailed = true;
    showTilesNote();
  });
  tiles.addTo(map);
}
L.control.scale({ imperial: false }).addTo(map);

map.pm.addControls({
  position: "topleft",
  drawMarker: false,
  drawCircleMarker: false,
  drawCircle: false,
  drawText: false,
  drawRectangle: true,
  drawPolyline: true,
  drawPolygon: true,
  editMode: true,
  dragMode: true,
  cutPolygon: false,
  rotateMode: false,
  removalMode: true,
});
// No snapping: a 6 m road is 10 px wide at zoom 18, so a corner would snap to the first one
// and close the outline early. A shape ends only when the planner says so.
map.pm.setGlobalOptions({
  allowSelfIntersection: true,
  snappable: false,
  finishOn: "dblclick",
  finishOnEnter: true,
  exitModeOnEscape: true,
  pathOptions: SHAPE_STYLE,
});

const roadsLayer = L.geoJSON(null, {
  style: ROAD_STYLE,
  pmIgnore: true,
  onEachFeature: bindRoad,
});
const savedLayer = L.geoJSON(null, { style: SAVED_STYLE, pmIgnore: true, onEachFeature: bindSaved });
let roadsOverlay = roadsLayer; // the GeoJSON roads, or the vector tiles of a large layer
const sourcesLayer = L.featureGroup();
roadsLayer.addTo(map);
savedLayer.addTo(map);
sourcesLayer.addTo(map);
const layersControl = L.control.layers(null, {}, { collapsed: false }).addTo(map);

const LiveControl = L.Control.extend({
  onAdd() {
    const box = L.DomUtil.create("div", "live-measure");
    box.id = "live";
    box.hidden = true;
    return box;
  },
});
new LiveControl({ position: "bottomleft" }).addTo(map);

map.on("pm:create", ({ layer }) => {
  addSegment(layer);
  scheduleEstimate(0);
});
map.on("pm:remove", ({ layer }) => {
  const segment = state.segments.find((s) => s.layer === layer);
  if (segment) removeSegment(segment.id);
});
map.on("pm:drawstart", ({ workingLayer, shape }) => watchDrawing(workingLayer, shape));
map.on("pm:drawend", () => {
  $("live").hidden = true;
});
map.on("zoomend", () => state.segments.forEach(styleSegment));

/** Corners are placed where clicked: earlier corners let clicks through, and the first one
 *  (drawn small) closes the outline only when the click is on it, not merely near it. */
function watchDrawing(workingLayer, shape) {
  const draw = map.pm.Draw[shape];
  const live = $("live");
  live.hidden = shape === "Rectangle";
  live.textContent = `${t(state.lang, "live")}…`;
  workingLayer.on("pm:vertexadded", ({ marker }) => {
    const first = shape === "Polygon" && workingLayer.getLatLngs().flat().length === 1;
    if (first) {
      L.DomUtil.addClass(marker.getElement(), "first-vertex");
      // Geoman snaps the cursor to the first corner even with snapping off; it must not.
      draw._otherSnapLayers = draw._otherSnapLayers.filter((layer) => layer !== marker);
    } else {
      marker.off("click");
      L.DomUtil.addClass(marker.getElement(), "pass-through");
    }
  });
  const update = (event) => {
    if (!map.pm.globalDrawModeEnabled()) return;
    const points = workingLayer.getLatLngs().flat();
    if (event?.latlng) points.push(event.latlng);
    live.textContent = liveText(points, shape === "Polygon");
  };
  map.on("mousemove", update);
  map.once("pm:drawend", () => map.off("mousemove", update));
}

function metresPerPixel(lat, zoom) {
  return (40075016.686 * Math.cos((lat * Math.PI) / 180)) / 2 ** (zoom + 8);
}

function pathLength(points, closed) {
  let length = 0;
  for (let i = 1; i < points.length; i += 1) length += map.distance(points[i - 1], points[i]);
  if (closed && points.length > 2) length += map.distance(points.at(-1), points[0]);
  return length;
}

/** Area on the sphere (m²) of a ring of lat/lngs; display only, the API measures properly. */
function ringArea(points) {
  let area = 0;
  const rad = Math.PI / 180;
  for (let i = 0; i < points.length; i += 1) {
    const [a, b] = [points[i], points[(i + 1) % points.length]];
    area += (b.lng - a.lng) * rad * (2 + Math.sin(a.lat * rad) + Math.sin(b.lat * rad));
  }
  return Math.abs((area * EARTH_RADIUS_M * EARTH_RADIUS_M) / 2);
}

function liveText(points, polygon) {
  const lang = state.lang;
  const metres = (value) => `${formatNumber(lang, value, 1)} m`;
  if (!polygon) {
    const width = widthOf(selectedOrDefault().widthText) ?? templateWidth(selectedOrDefault().template);
    const length = pathLength(points, false);
    const parts = [`${t(lang, "length")} ${metres(length)}`];
    if (width) parts.push(`${t(lang, "area")} ${formatNumber(lang, length * width, 0)} m²`);
    return parts.join(" · ");
  }
  const perimeter = pathLength(points, true);
  const area = points.length > 2 ? ringArea(points) : 0;
  // A strip of constant width: perimeter P = 2 (L + W), area A = L W.
  const length = (perimeter + Math.sqrt(Math.max(perimeter ** 2 - 16 * area, 0))) / 4;
  const width = length > 0 ? area / length : 0;
  return [
    `${t(lang, "length")} ${metres(length)}`,
    `${t(lang, "area")} ${formatNumber(lang, area, 0)} m²`,
    `${t(lang, "meanWidth")} ${metres(width)}`,
  ].join(" · ");
}

// ----------------------------------------------------------------------------- segments

function isLine(layer) {
  return layer instanceof L.Polyline && !(layer instanceof L.Polygon);
}

function selectedOrDefault() {
  return (
    state.segments.find((s) => s.id === state.selected) ?? {
      template: $("template").value,
      widthText: $("width").value,
    }
  );
}

/** A drawn or opened shape becomes a segment with the template and width of the form. */
function addSegment(layer, options = {}) {
  const segment = {
    id: state.nextId++,
    layer,
    template: options.template ?? $("template").value,
    widthText: options.widthText ?? (state.inputError ? "" : $("width").value),
    name: options.name ?? null,
  };
  state.segments.push(segment);
  layer.addTo(map);
  layer.on("pm:edit pm:dragend", changed);
  layer.on("click", (event) => {
    if (map.pm.globalDrawModeEnabled() || map.pm.globalRemovalModeEnabled()) return;
    L.DomEvent.stopPropagation(event);
    selectSegment(segment.id);
  });
  layer.pm?.enable({ allowSelfIntersection: true, snappable: false });
  layer.on("pm:edit pm:vertexadded pm:vertexremoved pm:markerdragend", () => nameCorners(segment));
  selectSegment(segment.id);
  state.savedId = null;
  return segment;
}

/** The corners one drags to edit a segment, named for a screen reader. */
function nameCorners(segment) {
  const number = state.segments.indexOf(segment) + 1;
  let corner = 0;
  segment.layer.pm?._markerGroup?.eachLayer((marker) => {
    const element = marker.getElement?.();
    if (!element) return;
    const middle = element.classList.contains("marker-icon-middle");
    if (!middle) corner += 1;
    const key = middle ? "addCorner" : "corner";
    element.setAttribute("aria-label", t(state.lang, key, { n: corner, segment: number }));
  });
}

function removeSegment(id) {
  const segment = state.segments.find((s) => s.id === id);
  if (!segment) return;
  segment.layer.remove();
  state.segments = state.segments.filter((s) => s.id !== id);
  if (state.selected === id) state.selected = state.segments.at(-1)?.id ?? null;
  fillFormFromSelection();
  if (!state.segments.length) {
    state.result = null;
    showError(null);
    render();
  } else {
    changed();
  }
}

function selectSegment(id) {
  state.selected = id;
  fillFormFromSelection();
  state.segments.forEach(styleSegment);
  state.segments.forEach(nameCorners);
  renderSegments();
}

function fillFormFromSelection() {
  const segment = state.segments.find((s) => s.id === state.selected);
  if (segment) {
    selectIfPresent("template", segment.template);
    $("width").value = segment.widthText;
    loadTemplate(segment.template).then(showTemplateWidth);
  }
  setInputError(null);
}

/** Outlines as drawn; a line as the road surface at its width (at least a few pixels). */
function styleSegment(segment) {
  const selected = segment.id === state.selected && state.segments.length > 1;
  const style = { ...SHAPE_STYLE, color: selected ? SELECTED_COLOR : SHAPE_STYLE.color };
  if (state.error?.segment === segment.id) Object.assign(style, ERROR_STYLE);
  if (isLine(segment.layer)) {
    const width = widthOf(segment.widthText) ?? templateWidth(segment.template) ?? 0;
    const center = segment.layer.getBounds().getCenter();
    const pixels = width / metresPerPixel(center.lat, map.getZoom());
    Object.assign(style, { weight: Math.max(3, pixels), opacity: 0.65, lineCap: "butt" });
  }
  segment.layer.setStyle?.(style);
}

function changed() {
  state.savedId = null;
  updateButtons();
  scheduleEstimate();
}

// ----------------------------------------------------------------------------- the width typed

function templateWidth(slug) {
  return state.templateDetails.get(slug)?.default_width_m ?? null;
}

/** The width a text means in the page's language (null: blank, NaN: unreadable). */
function widthOf(text) {
  if (!String(text ?? "").trim()) return null;
  const value = parseNumber(state.lang, text);
  return Number.isFinite(value) && value >= WIDTH_RANGE.min && value <= WIDTH_RANGE.max
    ? value
    : Number.NaN;
}

function widthProblem(text) {
  if (!String(text ?? "").trim()) return null;
  const value = parseNumber(state.lang, text);
  if (Number.isNaN(value)) {
    return t(state.lang, "widthUnreadable", {
      text: String(text).trim(),
      example: formatNumber(state.lang, 3.5, 1),
    });
  }
  if (value < WIDTH_RANGE.min || value > WIDTH_RANGE.max) {
    return t(state.lang, "widthRange", {
      min: formatNumber(state.lang, WIDTH_RANGE.min, 1, true),
      max: formatNumber(state.lang, WIDTH_RANGE.max, 0),
    });
  }
  return null;
}

function setInputError(message) {
  state.inputError = message;
  const field = $("width");
  field.setAttribute("aria-invalid", String(Boolean(message)));
  $("width-error").textContent = message ?? "";
  $("width-error").hidden = !message;
}

function widthTyped() {
  const text = $("width").value;
  const problem = widthProblem(text);
  setInputError(problem);
  const segment = state.segments.find((s) => s.id === state.selected);
  if (problem) {
    // Nothing is priced with a width that can't be read: no bill until it is fixed.
    clearTimeout(state.timer);
    state.inFlight?.abort();
    state.sequence += 1;
    state.result = null;
    setBusy(false);
    render();
    setStatus("fixInput");
    return;
  }
  if (segment) {
    segment.widthText = text;
    styleSegment(segment);
  }
  changed();
}

// ----------------------------------------------------------------------------- requests

function featureOf(segment) {
  const geometry = segment.layer.toGeoJSON(7).geometry;
  const properties = { template: segment.template };
  const name = segment.name ?? $("name").value.trim();
  if (name) properties.name = name;
  const width = widthOf(segment.widthText);
  if (geometry.type.endsWith("LineString") && width) properties.width_m = width;
  return { type: "Feature", properties, geometry };
}

/** The segments as GeoJSON: one Feature, or a FeatureCollection of them. */
function requestBody() {
  const features = state.segments.map(featureOf);
  return features.length === 1 ? features[0] : { type: "FeatureCollection", features };
}

function estimateUrl(extra = {}) {
  const url = api("estimates");
  url.searchParams.set("template", state.segments[0]?.template ?? $("template").value);
  url.searchParams.set("catalog", $("catalog").value);
  for (const [key, value] of Object.entries(extra)) url.searchParams.set(key, value);
  return url;
}

/** Request headers, with the API key typed for this session (if any). */
function headers(extra = {}) {
  const key = sessionStorage.getItem("takeoff.apiKey");
  return key ? { ...extra, "X-API-Key": key } : extra;
}

async function postEstimate(extra, signal) {
  return fetch(estimateUrl(extra), {
    method: "POST",
    headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
    body: JSON.stringify(requestBody()),
    signal,
  });
}

/** An `application/problem+json` answer, kept whole so it can be said in either language. */
async function problemOf(response) {
  try {
    const problem = await response.json();
    return { title: `${response.status} ${response.statusText}`, ...problem };
  } catch {
    return { title: `${response.status} ${response.statusText}` };
  }
}

function scheduleEstimate(delay = DEBOUNCE_MS) {
  clearTimeout(state.timer);
  if (state.inputError) return;
  state.timer = setTimeout(estimate, delay);
}

async function estimate() {
  if (!state.segments.length || !$("template").value || !$("catalog").value) return;
  if (state.inputError) return;
  state.inFlight?.abort();
  const controller = new AbortController();
  state.inFlight = controller;
  const sequence = ++state.sequence;
  setBusy(true);
  setStatus("estimating");
  try {
    const response = await postEstimate({}, controller.signal);
    if (sequence !== state.sequence) return;
    if (!response.ok) {
      state.result = null;
      showError({ problem: await problemOf(response) });
    } else {
      state.result = await response.json();
      showError(null);
      setStatus("estimated");
    }
  } catch (error) {
    if (error.name === "AbortError") return;
    state.result = null;
    showError({ key: "serverDown" });
  } finally {
    if (sequence === state.sequence) {
      setBusy(false);
      render();
    }
  }
}

async function getJSON(path) {
  const response = await fetch(api(path), { headers: { Accept: "application/json" } });
  if (!response.ok) {
    const problem = await problemOf(response);
    throw new Error(problem.detail || problem.title);
  }
  return response.json();
}

// ----------------------------------------------------------------------------- showing results

function setBusy(busy) {
  document.body.classList.toggle("busy", busy);
  $("bom").setAttribute("aria-busy", String(busy));
}

/** A status line by word key, kept so that it can be said again in another language. */
function setStatus(key, values = {}) {
  state.status = key ? { key, values } : null;
  $("status").textContent = key ? t(state.lang, key, values) : "";
}

function showTilesNote() {
  $("tiles-note").textContent = t(state.lang, "tilesOffline");
  $("tiles-note").hidden = false;
}

function errorText(error) {
  if (!error) return "";
  if (error.key) return t(state.lang, error.key, error.values);
  return explainProblem(state.lang, error.problem);
}

/** Which segment an API problem is about (the feature it names), if any. */
function segmentOfProblem(problem) {
  const where = problem?.feature ?? problem?.errors?.[0]?.feature;
  const named = /feature (\d+)/.exec(problem?.detail ?? "");
  const index = Number.isInteger(where) ? where : named ? Number(named[1]) : 0;
  return state.segments[index] ?? state.segments[0];
}

/** An error in words, in the panel and on the drawing itself. */
function showError(error) {
  const segment = error?.problem ? segmentOfProblem(error.problem) : null;
  state.error = error ? { ...error, segment: segment?.id } : null;
  const box = $("error");
  box.hidden = !error;
  box.replaceChildren();
  for (const s of state.segments) s.layer.unbindTooltip();
  state.segments.forEach(styleSegment);
  if (!error) return;
  const message = errorText(error);
  const title = document.createElement("strong");
  title.textContent = t(state.lang, "errorTitle");
  const text = document.createElement("p");
  text.textContent = message;
  box.append(title, text);
  setStatus(null);
  if (!segment) return;
  const options = { permanent: true, direction: "top", className: "error-tooltip" };
  const place = PLACE_IN_MESSAGE.exec(error.problem?.detail ?? "");
  if (place) {
    // The API names the point at fault (a self-intersection): point at it.
    options.direction = "right";
    options.offset = [8, 0];
    const at = L.latLng(Number(place[2]), Number(place[1]));
    segment.layer.bindTooltip(message, options).openTooltip(at);
  } else {
    segment.layer.bindTooltip(message, options).openTooltip();
  }
}

function cell(text, className, value) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  if (value !== undefined) td.dataset.value = String(value);
  return td;
}

function money(amount) {
  const result = state.result;
  const exponent = state.catalogDetails.get(result?.catalog?.slug)?.currency_exponent;
  return formatMoney(state.lang, amount, result?.currency ?? "IDR", exponent);
}

function setMoney(id, amount) {
  $(id).textContent = money(amount);
  $(id).dataset.value = amount ?? "";
}

function measuresOf(result) {
  const features = result.features ?? [];
  const { length_m: length, area_m2: area } = result.totals;
  const meanWidth =
    features.length === 1 ? features[0].mean_width_m : length > 0 ? area / length : null;
  const methods = [...new Set(features.map((feature) => feature.length_method))];
  return { length, area, meanWidth, methods };
}

function segmentName(index) {
  return state.segments.length > 1 ? t(state.lang, "segment", { n: index + 1 }) : "";
}

function updateButtons() {
  const { result, saving, savedId } = state;
  $("save").disabled = !result || saving || savedId != null;
  $("save-copy").hidden = savedId == null || !state.segments.length;
  $("save-copy").disabled = saving;
  $("xlsx").disabled = !result;
  $("geojson").disabled = !result;
  updateVersionButton();
}

/** Which line segments were priced with their template's default width, said in words. */
function widthNote() {
  const notes = [];
  state.segments.forEach((segment, index) => {
    if (!isLine(segment.layer) || widthOf(segment.widthText) != null) return;
    const width = templateWidth(segment.template);
    if (width == null) return;
    const text = t(state.lang, "widthDefaultUsed", {
      width: `${formatNumber(state.lang, width, 2, true)} m`,
    });
    const name = segmentName(index);
    notes.push(name ? `${name}: ${text}` : text);
  });
  return notes.join("; ");
}

function render() {
  const { lang, result } = state;
  const body = $("bom").tBodies[0];
  body.replaceChildren();
  $("warnings").replaceChildren();
  updateButtons();
  renderSegments();
  renderMaterials();
  if (!result) {
    for (const id of ["length", "area", "mean-width", "method"]) $(id).textContent = "–";
    for (const id of ["subtotal", "overhead-profit", "tax", "total"]) setMoney(id, null);
    $("op-pct").textContent = "";
    $("vat-pct").textContent = "";
    $("width-note").textContent = "";
    if (!state.segments.length && !state.error && !state.inputError) setStatus("drawFirst");
    return;
  }
  const measures = measuresOf(result);
  $("length").textContent = `${formatNumber(lang, measures.length, 2)} m`;
  $("length").dataset.value = measures.length;
  $("area").textContent = `${formatNumber(lang, measures.area, 2)} m²`;
  $("area").dataset.value = measures.area;
  $("mean-width").textContent =
    measures.meanWidth == null ? "–" : `${formatNumber(lang, measures.meanWidth, 2)} m`;
  $("method").textContent = measures.methods
    .map((method) => WORDS[lang].methods[method] ?? method)
    .join(", ");
  $("method").dataset.value = measures.methods.join(",");
  $("width-note").textContent = widthNote();

  for (const item of result.items) {
    const row = document.createElement("tr");
    const what = document.createElement("th");
    what.scope = "row";
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = item.code;
    what.append(item.description?.[lang] ?? item.description?.en ?? item.code, " ", code);
    row.append(
      what,
      cell(formatNumber(lang, item.quantity, 3), "num", item.quantity),
      cell(item.unit, "unit"),
      cell(money(item.unit_rate), "num", item.unit_rate),
      cell(money(item.amount), "num", item.amount),
    );
    for (const [n, key] of ["quantity", "unit", "rate", "amount"].entries()) {
      row.cells[n + 1].dataset.label = t(lang, key);
    }
    body.append(row);
  }
  setMoney("subtotal", result.totals.subtotal);
  setMoney("overhead-profit", result.totals.overhead_profit);
  setMoney("tax", result.totals.tax);
  setMoney("total", result.totals.total);
  $("op-pct").textContent = `(${formatPercent(lang, result.overhead_profit_pct)})`;
  $("vat-pct").textContent = `(${formatPercent(lang, result.vat_pct)})`;
  for (const warning of result.warnings ?? []) {
    const li = document.createElement("li");
    li.textContent = explainWarning(lang, warning, segmentName);
    li.dataset.api = warning;
    $("warnings").append(li);
  }
}

/** The segments of the estimate: select one to edit its template and width, or remove it. */
function renderSegments() {
  const list = $("segments");
  list.replaceChildren();
  const features = state.result?.features ?? [];
  if (!state.segments.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = t(state.lang, "noSegments");
    list.append(li);
    return;
  }
  state.segments.forEach((segment, index) => {
    const li = document.createElement("li");
    li.dataset.segment = String(index + 1);
    li.classList.toggle("selected", segment.id === state.selected);
    const label = document.createElement("span");
    label.className = "segment-label";
    const template = state.templates.find((d) => d.id === segment.template);
    const width = widthOf(segment.widthText);
    const parts = [
      t(state.lang, "segment", { n: index + 1 }),
      segment.name,
      template?.name?.[state.lang] ?? segment.template,
      isLine(segment.layer) && width ? `${formatNumber(state.lang, width, 2, true)} m` : null,
    ].filter(Boolean);
    label.textContent = parts.join(" · ");
    const total = document.createElement("span");
    total.className = "segment-total num";
    const feature = features[index];
    total.textContent = feature ? money(feature.total) : "–";
    total.dataset.value = feature?.total ?? "";
    const select = document.createElement("button");
    select.type = "button";
    select.textContent = t(state.lang, "select");
    select.setAttribute("aria-pressed", String(segment.id === state.selected));
    select.setAttribute("aria-label", `${t(state.lang, "select")} ${parts[0]}`);
    select.addEventListener("click", () => {
      selectSegment(segment.id);
      map.fitBounds(segment.layer.getBounds(), { padding: [40, 40], maxZoom: 18 });
    });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = t(state.lang, "remove");
    remove.setAttribute("aria-label", `${t(state.lang, "remove")} ${parts[0]}`);
    remove.addEventListener("click", () => removeSegment(segment.id));
    li.append(label, total, select, remove);
    list.append(li);
  });
}

// ----------------------------------------------------------------------------- save, export

/** Save the estimate as it is: `new` only when something changed since the last save, a
 *  `copy` of the estimate shown, or the next `version` of the opened one (which stays). */
async function save(mode = "new") {
  if (!state.segments.length || state.saving || (state.savedId != null && mode === "new")) return;
  if (mode === "version" && !canSaveVersion()) return;
  const previous = state.opened?.id;
  state.saving = true;
  updateButtons();
  setBusy(true);
  setStatus("saving");
  try {
    const extra = mode === "version" ? { save: "true", supersedes: previous } : { save: "true" };
    const response = await postEstimate(extra);
    if (response.status === 401 && mode === "version") {
      showError({ key: "needsKeyVersion" });
      return;
    }
    if (response.status === 409 && mode === "version") {
      supersededMeanwhile(await problemOf(response));
      return;
    }
    if (!response.ok) {
      showError({ problem: await problemOf(response) });
      return;
    }
    state.result = await response.json();
    state.savedId = state.result.id;
    setOpened(state.result);
    showError(null);
    render();
    if (mode === "version") {
      setStatus("savedVersion", { id: state.savedId, version: state.result.version, previous });
    } else {
      setStatus("savedAs", { id: state.savedId });
    }
    await loadSaved();
  } catch {
    showError({ key: "serverDown" });
  } finally {
    state.saving = false;
    setBusy(false);
    updateButtons();
  }
}

/** `jl-contoh-2026-12-01.xlsx`: the estimate's name (or "estimate") and today's date. */
function downloadName(format) {
  const slug = $("name")
    .value.normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 60);
  const day = new Date().toISOString().slice(0, 10);
  return `${slug || "estimate"}-${day}.${format}`;
}

/** The saved estimate when nothing changed since saving, else the drawing as it is now. */
async function download(format) {
  if (!state.segments.length && state.savedId == null) return;
  try {
    const response =
      state.savedId != null
        ? await fetch(api(`estimates/${state.savedId}?f=${format}`))
        : await postEstimate({ f: format });
    if (!response.ok) {
      showError({ problem: await problemOf(response) });
      return;
    }
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = downloadName(format);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  } catch {
    showError({ key: "serverDown" });
  }
}

// ----------------------------------------------------------------------------- layers

/** Leaflet's tooltips make a shape focusable; roads, saved outlines and sources are found by
 *  name in the panel instead, so they stay out of the Tab order (not one stop each). */
function outOfTabOrder(layer) {
  const untab = () => layer.getElement?.()?.setAttribute("tabindex", "-1");
  layer.on("add", untab);
  if (layer._map) untab();
  return layer;
}

function bindRoad(feature, layer) {
  const name = feature.properties?.name ?? feature.id;
  outOfTabOrder(layer).bindTooltip(name, { sticky: true });
  layer.on("click", (event) => {
    if (map.pm.globalDrawModeEnabled()) return; // a vertex is being placed here
    L.DomEvent.stopPropagation(event);
    useRoad(ROADS, feature.id);
  });
}

/** A published road becomes a segment, priced with the template and width its attributes
 *  give (the `osm-highway` map), and the map zooms to it. */
async function useRoad(collection, featureId) {
  try {
    const road = await getJSON(
      `roads/${encodeURIComponent(collection)}/${encodeURIComponent(featureId)}`,
    );
    const line = L.geoJSON(road.geometry, { style: SHAPE_STYLE }).getLayers()[0];
    const plan = road.plan ?? {};
    const known = state.templates.some((d) => d.id === plan.template);
    const template = known ? plan.template : $("template").value;
    await loadTemplate(template);
    const name = road.properties?.name ?? null;
    if (!$("name").value.trim() && name) $("name").value = name;
    addSegment(line, {
      template,
      widthText: plan.width_m ? formatNumber(state.lang, plan.width_m, 2, true) : "",
      name,
    });
    map.fitBounds(line.getBounds(), { padding: [40, 40], maxZoom: 18 });
    scheduleEstimate(0);
  } catch (error) {
    showError({ problem: { detail: error.message } });
  }
}

async function searchRoads(event) {
  event.preventDefault();
  const query = $("road-query").value.trim();
  const list = $("road-results");
  list.replaceChildren();
  if (!query) return;
  try {
    const found = await getJSON(`roads/search?q=${encodeURIComponent(query)}&limit=20`);
    $("road-search-status").textContent = found.features.length
      ? t(state.lang, "searchFound", { count: found.features.length })
      : t(state.lang, "searchNone", { q: query });
    for (const road of found.features) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      const where = road.properties?.highway ? ` (${road.properties.highway})` : "";
      button.textContent = `${road.properties?.name ?? road.id}${where}`;
      button.addEventListener("click", () => useRoad(road.collection, road.id));
      li.append(button);
      list.append(li);
    }
  } catch {
    $("road-search-status").textContent = t(state.lang, "serverDown");
  }
}

function bindSaved(feature, layer) {
  state.savedFeatures.set(String(feature.id), feature);
  outOfTabOrder(layer).bindTooltip(savedLabel(feature), { sticky: true });
  layer.on("click", (event) => {
    if (map.pm.globalDrawModeEnabled()) return;
    L.DomEvent.stopPropagation(event);
    openSaved(feature.id);
  });
}

function savedLabel(feature) {
  const p = feature.properties;
  const exponent = state.catalogDetails.get(p.catalog)?.currency_exponent;
  const total = formatMoney(state.lang, p.total, p.currency, exponent);
  const length = `${formatNumber(state.lang, p.length_m, 1)} m`;
  const version = p.version > 1 ? ` ${t(state.lang, "versionTag", { n: p.version })}` : "";
  return `#${feature.id} ${p.name || p.templates || ""}${version} · ${length} · ${total}`;
}

/** A road layer too large for GeoJSON, drawn from its vector tiles. A click on a road
 *  prices it as a click on a GeoJSON road does: the tile gives the road's id and name. */
function roadTiles(collection) {
  // leaflet.vectorgrid 1.3.0 was written for Leaflet 1.7, whose canvas click used a helper
  // Leaflet 1.8 removed: its tiles answer clicks as Leaflet's own canvas now does, in tile
  // coordinates, so a click on no road still reaches the map (and the drawing tools).
  L.Canvas.Tile.include({
    _onClick(event) {
      const point = this._map.mouseEventToLayerPoint(event).subtract(this.getOffset());
      const hit = Object.values(this._layers).filter(
        (road) => road.options.interactive && road._containsPoint(point),
      );
      const clicked = hit.length && !this._map._draggableMoved(hit.at(-1)) ? [hit.at(-1)] : false;
      this._fireEvent(clicked, event);
    },
  });
  const RoadTiles = L.VectorGrid.Protobuf.extend({
    _createLayer(feature, pxPerExtent) {
      const road = L.VectorGrid.Protobuf.prototype._createLayer.call(this, feature, pxPerExtent);
      road.featureId = feature.id;
      return road;
    },
  });
  const url = `${api(`collections/${ROADS}/tiles/WebMercatorQuad/`).href}{z}/{y}/{x}`;
  const tiles = new RoadTiles(url, {
    rendererFactory: L.canvas.tile, // one canvas a tile: thousands of roads draw quickly
    interactive: true,
    vectorTileLayerStyles: { [collection.id]: ROAD_STYLE },
  });
  const tooltip = L.tooltip({ direction: "top" });
  tiles.on("mouseover", ({ layer, latlng }) => {
    tooltip.setLatLng(latlng).setContent(layer.properties?.name ?? String(layer.featureId));
    tooltip.openOn(map);
  });
  tiles.on("mouseout", () => tooltip.close());
  tiles.on("click", (event) => {
    if (map.pm.globalDrawModeEnabled()) return; // a vertex is being placed here
    L.DomEvent.stopPropagation(event);
    useRoad(ROADS, event.layer.featureId);
  });
  return tiles;
}

async function loadRoads() {
  try {
    const collection = await getJSON(`collections/${ROADS}`);
    let bounds;
    if (collection.itemCount > TILES_ABOVE) {
      roadsLayer.remove();
      roadsOverlay = roadTiles(collection).addTo(map);
      const [west, south, east, north] = collection.extent.spatial.bbox[0];
      bounds = L.latLngBounds([south, west], [north, east]);
    } else {
      let page = `collections/${ROADS}/items?limit=1000`;
      while (page) {
        const items = await getJSON(page);
        roadsLayer.addData(items);
        page = items.links.find((link) => link.rel === "next")?.href;
      }
      bounds = roadsLayer.getBounds();
    }
    roadsOverlay.options.attribution = collection.attribution;
    map.attributionControl.addAttribution(collection.attribution);
    nameOverlays();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [10, 10], animate: false });
  } catch {
    // A server without the sample layer simply shows no roads.
  }
}

async function loadSaved() {
  const items = await getJSON("collections/estimates/items?limit=1000");
  state.savedFeatures.clear();
  savedLayer.clearLayers();
  savedLayer.addData(items);
  renderSaved(items.features);
}

function renderSaved(features) {
  const list = $("saved");
  list.replaceChildren();
  if (!features.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = t(state.lang, "noSaved");
    list.append(li);
    return;
  }
  for (const feature of [...features].reverse()) {
    const li = document.createElement("li");
    li.dataset.id = feature.id;
    const label = document.createElement("span");
    label.textContent = savedLabel(feature);
    const open = document.createElement("button");
    open.type = "button";
    open.textContent = t(state.lang, "open");
    open.setAttribute("aria-label", `${t(state.lang, "open")} #${feature.id}`);
    open.addEventListener("click", () => openSaved(feature.id));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = t(state.lang, "delete");
    remove.setAttribute("aria-label", `${t(state.lang, "delete")} #${feature.id}`);
    remove.addEventListener("click", () => deleteSaved(feature.id));
    const rename = document.createElement("button");
    rename.type = "button";
    rename.textContent = t(state.lang, "rename");
    rename.setAttribute("aria-label", `${t(state.lang, "rename")} #${feature.id}`);
    rename.addEventListener("click", () => startRename(li, feature));
    li.append(label, open, rename, remove);
    list.append(li);
  }
}

/** Delete a saved estimate, once confirmed; without a key the page says where to give one. */
async function deleteSaved(id) {
  if (!window.confirm(t(state.lang, "confirmDelete", { id }))) return;
  try {
    const response = await fetch(api(`estimates/${id}`), { method: "DELETE", headers: headers() });
    if (response.status === 401) {
      showError({ key: "needsKey" });
      return;
    }
    if (!response.ok) {
      showError({ problem: await problemOf(response) });
      return;
    }
    if (state.savedId === id) state.savedId = null;
    if (state.opened?.id === id) state.opened = null;
    showError(null);
    setStatus("deleted", { id });
    updateButtons();
    await loadSaved();
  } catch {
    showError({ key: "serverDown" });
  }
}

/** The features the planner drew for a saved estimate (a line stays a line), if known. */
function drawnFeatures(request) {
  const body = request?.body;
  if (body?.type === "FeatureCollection") return body.features ?? [];
  if (body?.type === "Feature") return [body];
  if (body?.type) return [{ type: "Feature", properties: {}, geometry: body }];
  return [];
}

function clearSegments() {
  for (const segment of state.segments) segment.layer.remove();
  state.segments = [];
  state.selected = null;
}

/** Show a saved estimate: its segments (editable) and its answer as it was saved. */
async function openSaved(id) {
  const saved = state.savedFeatures.get(String(id));
  try {
    const result = await getJSON(`estimates/${id}`);
    let features = drawnFeatures(result.request);
    if (!features.length && saved?.geometry) {
      features = [{ type: "Feature", properties: {}, geometry: saved.geometry }];
    }
    clearSegments();
    const fallback = result.template?.slug ?? result.templates?.[0]?.slug;
    for (const feature of features) {
      const props = feature.properties ?? {};
      const template = props.template ?? fallback ?? $("template").value;
      await loadTemplate(template);
      for (const layer of L.geoJSON(feature.geometry, { style: SHAPE_STYLE }).getLayers()) {
        addSegment(layer, {
          template,
          widthText: props.width_m ? formatNumber(state.lang, props.width_m, 3, true) : "",
          name: features.length > 1 ? (props.name ?? null) : null,
        });
      }
    }
    if (state.segments.length) {
      const bounds = L.featureGroup(state.segments.map((s) => s.layer)).getBounds();
      map.fitBounds(bounds, { padding: [40, 40], maxZoom: 18 });
    }
    selectIfPresent("catalog", result.catalog?.slug);
    await loadCatalog(result.catalog?.slug);
    showCatalogLabel();
    $("name").value = result.name ?? saved?.properties?.name ?? "";
    state.result = result;
    state.savedId = id;
    setOpened(result);
    showError(null);
    render();
    setStatus("opened", { id });
  } catch (error) {
    showError({ problem: { detail: error.message } });
  }
}

function selectIfPresent(id, value) {
  if (value && [...$(id).options].some((option) => option.value === value)) $(id).value = value;
}

// ----------------------------------------------------------------------------- templates, catalogs

async function loadTemplate(slug) {
  if (!slug || state.templateDetails.has(slug)) return;
  state.templateDetails.set(slug, await getJSON(`templates/${encodeURIComponent(slug)}`));
}

async function loadCatalog(slug) {
  if (!slug || state.catalogDetails.has(slug)) return;
  state.catalogDetails.set(slug, await getJSON(`catalogs/${encodeURIComponent(slug)}`));
}

function fillSelect(id, documents) {
  const select = $(id);
  const chosen = select.value;
  select.replaceChildren(
    ...documents.map((document_) => {
      const option = new Option(document_.name?.[state.lang] ?? document_.id, document_.id);
      option.title = `${document_.id} v${document_.version}`;
      return option;
    }),
  );
  if (chosen) select.value = chosen;
}

function showTemplateWidth() {
  const width = templateWidth($("template").value);
  $("width").placeholder =
    width == null
      ? ""
      : t(state.lang, "widthDefault", { width: `${formatNumber(state.lang, width, 2, true)} m` });
}

function showCatalogLabel() {
  const catalog = state.catalogDetails.get($("catalog").value);
  const label = catalog
    ? [catalog.label, catalog.region, catalog.currency].filter(Boolean).join(" · ")
    : "";
  $("catalog-label").textContent = label ? t(state.lang, "catalogNote", { label }) : "";
}

async function loadDocuments() {
  const [templates, catalogs] = await Promise.all([getJSON("templates"), getJSON("catalogs")]);
  state.templates = templates;
  state.catalogs = catalogs;
  fillSelect("template", templates);
  fillSelect("catalog", catalogs);
  selectIfPresent("template", "local-flexible");
  selectIfPresent("catalog", "tangerang-sample");
  await Promise.all([
    loadTemplate($("template").value),
    ...catalogs.map((catalog) => loadCatalog(catalog.id)),
  ]);
  showTemplateWidth();
  showCatalogLabel();
}

// ----------------------------------------------------------------------------- language

/** The layer switcher's entries, in the page's language (the roads once they are loaded). */
function nameOverlays() {
  const overlays = [[savedLayer, "savedLayer"], [sourcesLayer, "sourcesLayer"]];
  if (roadsOverlay !== roadsLayer || roadsLayer.getLayers().length) {
    overlays.unshift([roadsOverlay, "sampleRoads"]);
  }
  for (const [layer, key] of overlays) {
    layersControl.removeLayer(layer);
    layersControl.addOverlay(layer, t(state.lang, key));
  }
}

/** The drawing tools in the page's words, each button with an accessible name. */
function nameDrawingTools(lang) {
  const say = (key) => t(lang, key);
  map.pm.setLang(
    lang,
    {
      tooltips: {
        firstVertex: say("hintFirst"),
        continueLine: say("hintContinue"),
        finishLine: say("hintFinishLine"),
        finishPoly: say("hintFinishPolygon"),
        finishRect: say("hintRectangle"),
      },
      actions: {
        finish: say("finish"),
        cancel: say("cancel"),
        removeLastVertex: say("removeLastVertex"),
      },
      buttonTitles: {
        drawPolyButton: say("drawPolygon"),
        drawLineButton: say("drawLine"),
        drawRectButton: say("drawRectangle"),
        editButton: say("editShapes"),
        dragButton: say("dragShapes"),
        deleteButton: say("removeShapes"),
      },
    },
    "en",
  );
  for (const [button, key] of [
    [map.zoomControl._zoomInButton, "zoomIn"],
    [map.zoomControl._zoomOutButton, "zoomOut"],
  ]) {
    button.title = say(key);
    button.setAttribute("aria-label", say(key));
  }
  for (const container of document.querySelectorAll(".leaflet-pm-toolbar .button-container")) {
    const button = container.querySelector(".leaflet-buttons-control-button");
    if (button && container.title) button.setAttribute("aria-label", container.title);
  }
}

function initialLanguage() {
  const stored = localStorage.getItem("takeoff.lang");
  if (stored && stored in WORDS) return stored;
  return navigator.language?.toLowerCase().startsWith("id") ? "id" : "en";
}

function applyLanguage(lang) {
  // A width typed in one language keeps its value in the other.
  const widths = state.segments.map((s) => widthOf(s.widthText));
  const typed = widthOf($("width").value);
  state.lang = lang;
  localStorage.setItem("takeoff.lang", lang);
  document.documentElement.lang = lang;
  document.title = t(lang, "title");
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(lang, element.dataset.i18n);
  }
  for (const element of document.querySelectorAll("[data-i18n-label]")) {
    element.setAttribute("aria-label", t(lang, element.dataset.i18nLabel));
  }
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(lang, element.dataset.i18nPlaceholder);
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  state.segments.forEach((segment, index) => {
    if (Number.isFinite(widths[index])) {
      segment.widthText = formatNumber(lang, widths[index], 3, true);
    }
  });
  if (Number.isFinite(typed)) $("width").value = formatNumber(lang, typed, 3, true);
  nameOverlays();
  nameDrawingTools(lang);
  state.segments.forEach(nameCorners);
  fillSelect("template", state.templates);
  fillSelect("catalog", state.catalogs);
  showTemplateWidth();
  showCatalogLabel();
  if (state.inputError) setInputError(widthProblem($("width").value));
  if (state.error) showError(state.error);
  if (state.tilesFailed) showTilesNote();
  render();
  if (state.status) setStatus(state.status.key, state.status.values);
  renderSaved([...state.savedFeatures.values()]);
  for (const layer of savedLayer.getLayers()) layer.setTooltipContent(savedLabel(layer.feature));
}

// ----------------------------------------------------------------------------- saved: names, versions

/** The saved estimate the drawing came from (opened or last saved): {id, version, supersededBy}. */
function setOpened(answer) {
  state.opened = answer?.id == null
    ? null
    : { id: answer.id, version: answer.version ?? 1, supersededBy: answer.superseded_by ?? null };
}

/** A new version is saved only of an opened estimate that has none yet, once it changed. */
function canSaveVersion() {
  const { opened, result, saving, savedId } = state;
  return Boolean(opened && opened.supersededBy == null && result && !saving && savedId == null);
}

function updateVersionButton() {
  const { opened } = state;
  const button = $("save-version");
  button.hidden = !opened;
  button.disabled = !canSaveVersion();
  const note = $("opened-note");
  if (!opened) note.textContent = "";
  else if (opened.supersededBy != null) {
    note.textContent = t(state.lang, "hasNewer", { id: opened.id, later: opened.supersededBy });
  } else {
    note.textContent = t(state.lang, "openedVersion", {
      id: opened.id,
      version: opened.version,
      next: opened.version + 1,
    });
  }
  note.hidden = !note.textContent;
}

/** Someone saved a version of the opened estimate since it was opened: say which. */
function supersededMeanwhile(problem) {
  const later = /superseded by estimate (\d+)/.exec(problem.detail ?? "");
  if (!later) {
    showError({ problem });
    return;
  }
  state.opened.supersededBy = Number(later[1]);
  showError({ key: "hasNewer", values: { id: state.opened.id, later: later[1] } });
}

/** The saved list's rename form for one estimate, in place of its label. */
function startRename(item, feature) {
  const form = document.createElement("form");
  form.className = "rename";
  const input = document.createElement("input");
  input.type = "text";
  input.maxLength = 200;
  input.value = feature.properties?.name ?? "";
  input.setAttribute("aria-label", t(state.lang, "renameTo", { id: feature.id }));
  const ok = document.createElement("button");
  ok.type = "submit";
  ok.textContent = t(state.lang, "renameSave");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.textContent = t(state.lang, "cancel");
  const close = () => renderSaved([...state.savedFeatures.values()]);
  cancel.addEventListener("click", close);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    ok.disabled = true;
    await renameSaved(feature.id, input.value);
    ok.disabled = false;
  });
  form.append(input, ok, cancel);
  item.replaceChildren(form);
  input.focus();
  input.select();
}

/** PATCH the name; the opened estimate's name field follows. */
async function renameSaved(id, name) {
  try {
    const response = await fetch(api(`estimates/${id}`), {
      method: "PATCH",
      headers: headers({ "Content-Type": "application/json", Accept: "application/json" }),
      body: JSON.stringify({ name }),
    });
    if (response.status === 401) {
      showError({ key: "needsKeyRename" });
      return;
    }
    if (!response.ok) {
      showError({ problem: await problemOf(response) });
      return;
    }
    const renamed = await response.json();
    if (state.opened?.id === id) $("name").value = renamed.name ?? "";
    await loadSaved();
    showError(null);
    setStatus("renamed", { id });
  } catch {
    showError({ key: "serverDown" });
  }
}

// ----------------------------------------------------------------------------- drawing from the keyboard

/** A crosshair moved with the arrow keys places corners with Space: a road can be drawn
 *  without a mouse. Geoman draws the shape, so it ends as a mouse-drawn one does. */
const KEY_SHAPES = { Polygon: "shapeOutline", Line: "shapeLine" };
const keyDraw = { shape: null, at: null, crosshair: null, requested: false, created: false };

/** Metres per arrow key: about one pixel at this zoom, rounded up to 1, 2 or 5 x 10^n. */
function keyStep() {
  const perPixel = metresPerPixel(map.getCenter().lat, map.getZoom());
  const power = 10 ** Math.floor(Math.log10(perPixel));
  return [1, 2, 5, 10].map((m) => m * power).find((m) => m >= perPixel);
}

/** `at` moved `east` and `north` metres on the WGS84 ellipsoid (degree lengths at its latitude). */
function movedBy(at, east, north) {
  const phi = (at.lat * Math.PI) / 180;
  const perLat = 111132.954 - 559.822 * Math.cos(2 * phi) + 1.175 * Math.cos(4 * phi);
  const perLng = 111412.84 * Math.cos(phi) - 93.5 * Math.cos(3 * phi) + 0.118 * Math.cos(5 * phi);
  return L.latLng(at.lat + north / perLat, at.lng + east / perLng);
}

function announce(key, values = {}) {
  $("key-draw-status").textContent = t(state.lang, key, values);
}

function metresText(value) {
  return `${formatNumber(state.lang, value, value < 10 ? 1 : 0, true)} m`;
}

function startKeyDrawing(shape) {
  const draw = map.pm.Draw[shape];
  const corners = draw._layer?.getLatLngs().flat() ?? [];
  keyDraw.shape = shape;
  keyDraw.created = false;
  keyDraw.at = corners.at(-1) ?? map.getCenter();
  keyDraw.crosshair?.remove();
  keyDraw.crosshair = L.marker(keyDraw.at, {
    icon: L.divIcon({ className: "key-crosshair", iconSize: [25, 25] }),
    interactive: false,
    keyboard: false,
    pmIgnore: true,
  }).addTo(map);
  keyDraw.crosshair.getElement()?.setAttribute("aria-hidden", "true");
  const step = keyStep();
  announce("keyStart", {
    shape: t(state.lang, KEY_SHAPES[shape]),
    step: metresText(step),
    big: metresText(step * 10),
  });
}

function stopKeyDrawing() {
  keyDraw.crosshair?.remove();
  Object.assign(keyDraw, { shape: null, at: null, crosshair: null });
}

/** Move the crosshair: the hint line and the live size follow it, as they follow a mouse. */
function moveCrosshair(draw, east, north) {
  keyDraw.at = movedBy(keyDraw.at, east, north);
  keyDraw.crosshair.setLatLng(keyDraw.at);
  map.panInside(keyDraw.at, { padding: [40, 40], animate: false });
  draw._hintMarker?.setLatLng(keyDraw.at);
  draw._syncHintLine?.();
  const corners = draw._layer.getLatLngs().flat();
  $("live").textContent = liveText([...corners, keyDraw.at], keyDraw.shape === "Polygon");
  if (corners.length) {
    const distance = metresText(map.distance(corners.at(-1), keyDraw.at));
    announce("keyMoved", { distance, n: corners.length });
  }
}

function placeCorner(draw) {
  const corners = draw._layer.getLatLngs().flat();
  draw._hintMarker?.setLatLng(keyDraw.at);
  draw._createVertex({ latlng: keyDraw.at });
  const now = draw._layer?.getLatLngs().flat() ?? [];
  if (now.length > corners.length) {
    const measure = now.length > 1 ? liveText(now, keyDraw.shape === "Polygon") : "";
    announce("keyCorner", { n: now.length, measure });
  }
}

function finishShape(draw) {
  const corners = draw._layer.getLatLngs().flat();
  if (corners.length < (keyDraw.shape === "Polygon" ? 3 : 2)) {
    announce("keyTooFew");
    return;
  }
  draw._finishShape();
}

/** Keys on the map while a line or outline is drawn (capture: before Leaflet pans the map). */
function onDrawingKey(event) {
  const shape = map.pm.Draw.getActiveShape();
  if (!(shape in KEY_SHAPES) || event.target !== map.getContainer()) return;
  const moves = { ArrowUp: [0, 1], ArrowDown: [0, -1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
  const handled = event.key in moves || [" ", "Backspace"].includes(event.key);
  if (!handled && !(event.key === "Enter" && keyDraw.shape)) return;
  event.preventDefault();
  event.stopPropagation();
  if (keyDraw.shape !== shape) startKeyDrawing(shape);
  const draw = map.pm.Draw[shape];
  const corners = draw._layer.getLatLngs().flat();
  const atLast = corners.length > 0 && corners.at(-1).equals(keyDraw.at);
  if (event.key in moves) {
    const step = keyStep() * (event.shiftKey ? 10 : 1);
    const [east, north] = moves[event.key];
    moveCrosshair(draw, east * step, north * step);
  } else if (event.key === "Backspace") {
    draw._removeLastVertex();
    if (map.pm.globalDrawModeEnabled()) announce("keyRemoved", { n: corners.length - 1 });
  } else if (event.key === "Enter" && atLast) {
    finishShape(draw);
  } else if (!atLast) {
    placeCorner(draw);
  }
}

/** A drawing tool chosen from the keyboard hands the keys to the map's crosshair. */
function onToolbarKey(event) {
  const button = event.target.closest?.(".leaflet-pm-toolbar .leaflet-buttons-control-button");
  if (!button || !["Enter", " "].includes(event.key)) return;
  keyDraw.requested = true;
  if (event.key === " ") {
    event.preventDefault();
    button.click();
  }
}

function watchKeyboardDrawing() {
  const container = map.getContainer();
  container.parentElement.addEventListener("keydown", onDrawingKey, true);
  container.addEventListener("keydown", onToolbarKey);
  container.addEventListener("pointerdown", () => {
    keyDraw.requested = false;
  });
  map.on("pm:drawstart", ({ shape }) => {
    if (!keyDraw.requested || !(shape in KEY_SHAPES)) return;
    keyDraw.requested = false;
    // Leaflet would focus the toolbar again after this click: hand the keys over after it.
    setTimeout(() => {
      container.focus({ preventScroll: true });
      startKeyDrawing(shape);
    });
  });
  map.on("pm:create", () => {
    if (keyDraw.shape) keyDraw.created = true;
  });
  map.on("pm:drawend", () => {
    if (!keyDraw.shape) return;
    if (keyDraw.created) announce("keyFinished", { n: state.segments.length });
    else announce("keyCancelled");
    stopKeyDrawing();
  });
}

// ----------------------------------------------------------------------------- materials and sources

const SOURCE_STYLE = {
  radius: 7,
  color: "#1b7a3d",
  weight: 2,
  fillColor: "#4caf50",
  fillOpacity: 0.9,
  className: "material-source",
};
const ROUTE_STYLE = { color: "#1b7a3d", weight: 4, opacity: 0.8, className: "haul-route" };
const HAUL_STYLE = {
  color: "#1b7a3d",
  weight: 2,
  dashArray: "6 6",
  opacity: 0.8,
  className: "haul-line",
};

/** What must be ordered and delivered, beside the bill: quantities, trucks and hauls. */
function renderMaterials() {
  const { lang, result } = state;
  const body = $("materials").tBodies[0];
  body.replaceChildren();
  const materials = result?.materials ?? [];
  $("materials-note").textContent = materials.length ? t(lang, "materialsNote") : "";
  for (const line of materials) {
    const row = document.createElement("tr");
    row.dataset.material = line.material;
    const what = document.createElement("th");
    what.scope = "row";
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = line.material;
    what.append(line.name?.[lang] ?? line.name?.en ?? line.material, " ", code);
    const vehicle = line.vehicle.name?.[lang] ?? line.vehicle.id;
    const method = { network: "haulNetwork", "straight-line": "haulStraight" }[line.haul_method];
    const source = line.source?.name ?? (line.source === null ? t(lang, "noSource") : "–");
    // one child beside the label a phone shows: the distance, and under it how it was measured
    const haul = cell("", "num", line.haul_km ?? "");
    const figure = document.createElement("span");
    figure.textContent = line.haul_km == null ? "–" : `${formatNumber(lang, line.haul_km, 1)} km`;
    if (method) {
      const how = document.createElement("span");
      how.className = "code";
      how.textContent = t(lang, method);
      figure.append(how);
    }
    haul.append(figure);
    row.append(
      what,
      cell(`${formatNumber(lang, line.order_quantity, 2)} ${line.unit}`, "num", line.order_quantity),
      cell(`${formatNumber(lang, line.loads, 0)} × ${vehicle}`, "loads", line.loads),
      cell(source, "source", line.source?.id ?? ""),
      haul,
    );
    ["orderQuantity", "loads", "source", "haul"].forEach((key, n) => {
      row.cells[n + 1].dataset.label = t(lang, key);
    });
    if (line.haul_warning) row.title = line.haul_warning;
    body.append(row);
  }
  showSources(materials);
}

/** The nearest sources of the materials shown, as points on the map. */
async function showSources(materials) {
  const ids = [...new Set(materials.map((line) => line.source?.id).filter((id) => id != null))];
  const wanted = state.result;
  try {
    await Promise.all(
      ids
        .filter((id) => !state.sources.has(id))
        .map(async (id) => state.sources.set(id, await getJSON(`collections/sources/items/${id}`))),
    );
  } catch {
    return; // the haul figures are in the table; a missing point only leaves the map plainer
  }
  if (wanted !== state.result) return;
  sourcesLayer.clearLayers();
  const site = state.segments.length
    ? L.featureGroup(state.segments.map((segment) => segment.layer)).getBounds().getCenter()
    : null;
  for (const id of ids) {
    const source = state.sources.get(id);
    const [lng, lat] = source.geometry.coordinates;
    const lines = materials.filter((line) => line.source?.id === id);
    const haul = `${formatNumber(state.lang, lines[0].haul_km, 1)} km`;
    const label = `${source.properties.name}: ${lines.map((l) => l.material).join(", ")} · ${haul}`;
    const route = lines.find((line) => line.route)?.route;
    if (route) {
      const way = route.coordinates.map(([x, y]) => [y, x]);
      L.polyline(way, { ...ROUTE_STYLE, pmIgnore: true, interactive: false }).addTo(sourcesLayer);
    } else if (site) {
      L.polyline([site, [lat, lng]], { ...HAUL_STYLE, pmIgnore: true, interactive: false })
        .addTo(sourcesLayer);
    }
    outOfTabOrder(L.circleMarker([lat, lng], { ...SOURCE_STYLE, pmIgnore: true }))
      .bindTooltip(label)
      .addTo(sourcesLayer);
  }
}

// ----------------------------------------------------------------------------- start

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => applyLanguage(button.dataset.lang));
}
$("template").addEventListener("change", async () => {
  const slug = $("template").value;
  const segment = state.segments.find((s) => s.id === state.selected);
  if (segment) segment.template = slug;
  await loadTemplate(slug);
  showTemplateWidth();
  if (segment) styleSegment(segment);
  changed();
  scheduleEstimate(0);
});
$("catalog").addEventListener("change", async () => {
  await loadCatalog($("catalog").value);
  showCatalogLabel();
  changed();
  scheduleEstimate(0);
});
$("width").addEventListener("input", widthTyped);
$("api-key").value = sessionStorage.getItem("takeoff.apiKey") ?? "";
$("api-key").addEventListener("change", () => {
  const key = $("api-key").value.trim();
  if (key) sessionStorage.setItem("takeoff.apiKey", key);
  else sessionStorage.removeItem("takeoff.apiKey");
});
$("name").addEventListener("input", changed);
$("options").addEventListener("submit", (event) => event.preventDefault());
$("road-search").addEventListener("submit", searchRoads);
$("save").addEventListener("click", () => save());
$("save-copy").addEventListener("click", () => save("copy"));
$("save-version").addEventListener("click", () => save("version"));
$("xlsx").addEventListener("click", () => download("xlsx"));
$("geojson").addEventListener("click", () => download("geojson"));

watchKeyboardDrawing();
applyLanguage(state.lang);
const roadsLoaded = loadRoads();
loadDocuments()
  .then(() => Promise.all([roadsLoaded, loadSaved()]))
  .catch(() => showError({ key: "serverDown" }))
  .finally(() => {
    document.body.dataset.ready = "true";
  });
