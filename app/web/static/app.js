// The planner's page: draw a road, read its bill of materials, save it, export it.
// Leaflet and Leaflet-Geoman are loaded as plain scripts (window.L); this module holds the rest.

import { formatMoney, formatNumber, formatPercent, t, WORDS } from "./i18n.js";

const L = window.L;
const DEBOUNCE_MS = 250;
const ROADS = "roads";
const START_VIEW = { center: [-6.17, 106.63], zoom: 14 };
const SHAPE_STYLE = { color: "#0b5cad", weight: 4, fillOpacity: 0.25 };
const ERROR_STYLE = { color: "#b00020", weight: 4, fillOpacity: 0.15 };
const ROAD_STYLE = { color: "#8a6d00", weight: 5, opacity: 0.75 };
const SAVED_STYLE = { color: "#6b3fa0", weight: 3, dashArray: "6 4", fillOpacity: 0.1 };

const PLACE_IN_MESSAGE = /lon (-?\d+(?:\.\d+)?), lat (-?\d+(?:\.\d+)?)/;

const $ = (id) => document.getElementById(id);
const api = (path) => new URL(path, document.baseURI);

const state = {
  lang: initialLanguage(),
  templates: [],
  catalogs: [],
  templateDetails: new Map(),
  catalogDetails: new Map(),
  shape: null, // the Leaflet layer being estimated (a polygon, a line, or a group of them)
  result: null, // the last JSON answer of POST /estimates (or a saved one)
  savedId: null, // id of the saved estimate shown, while the shape is unchanged
  error: null,
  status: null,
  timer: null,
  inFlight: null,
  sequence: 0,
  savedFeatures: new Map(),
};

// ----------------------------------------------------------------------------- the map

const map = L.map("map", { zoomControl: true }).setView(START_VIEW.center, START_VIEW.zoom);
window.takeoffMap = map; // for scripted checks of pixel <-> lon/lat

const tileUrl = document.body.dataset.tileUrl;
if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 20 }).addTo(map);
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
map.pm.setGlobalOptions({ allowSelfIntersection: true, pathOptions: SHAPE_STYLE });

const roadsLayer = L.geoJSON(null, { style: ROAD_STYLE, pmIgnore: true, onEachFeature: bindRoad });
const savedLayer = L.geoJSON(null, { style: SAVED_STYLE, pmIgnore: true, onEachFeature: bindSaved });
roadsLayer.addTo(map);
savedLayer.addTo(map);
const layersControl = L.control.layers(null, {}, { collapsed: false }).addTo(map);

map.on("pm:create", ({ layer }) => {
  setShape(layer);
  scheduleEstimate(0);
});
map.on("pm:remove", ({ layer }) => {
  if (layer === state.shape || state.shape?.hasLayer?.(layer)) clearShape();
});

function setShape(layer) {
  if (state.shape && state.shape !== layer) state.shape.remove();
  state.shape = layer;
  state.savedId = null;
  layer.addTo(map);
  const parts = layer instanceof L.FeatureGroup ? layer.getLayers() : [layer];
  for (const part of parts) {
    part.setStyle?.(SHAPE_STYLE);
    part.on("pm:edit pm:dragend", () => {
      state.savedId = null;
      scheduleEstimate();
    });
    part.pm?.enable({ allowSelfIntersection: true });
  }
}

function clearShape() {
  state.shape?.remove();
  state.shape = null;
  state.result = null;
  state.savedId = null;
  showError(null);
  render();
}

function shapeParts() {
  if (!state.shape) return [];
  return state.shape instanceof L.FeatureGroup ? state.shape.getLayers() : [state.shape];
}

// ----------------------------------------------------------------------------- requests

function widthOfLines() {
  const typed = Number.parseFloat($("width").value);
  if (Number.isFinite(typed) && typed > 0) return typed;
  return state.templateDetails.get($("template").value)?.default_width_m ?? null;
}

/** The drawn shape as GeoJSON: lines carry their width, every part the name typed. */
function requestBody() {
  const name = $("name").value.trim();
  const width = widthOfLines();
  const features = shapeParts().map((part) => {
    const feature = part.toGeoJSON(7);
    const properties = {};
    if (name) properties.name = name;
    if (feature.geometry.type.endsWith("LineString") && width) properties.width_m = width;
    return { type: "Feature", properties, geometry: feature.geometry };
  });
  return features.length === 1 ? features[0] : { type: "FeatureCollection", features };
}

function estimateUrl(extra = {}) {
  const url = api("estimates");
  url.searchParams.set("template", $("template").value);
  url.searchParams.set("catalog", $("catalog").value);
  for (const [key, value] of Object.entries(extra)) url.searchParams.set(key, value);
  return url;
}

async function postEstimate(extra, signal) {
  return fetch(estimateUrl(extra), {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(requestBody()),
    signal,
  });
}

/** An `application/problem+json` answer in words: title, detail, and where. */
async function problemText(response) {
  let problem = {};
  try {
    problem = await response.json();
  } catch {
    return `${response.status} ${response.statusText}`;
  }
  const lines = [problem.title || `${response.status} ${response.statusText}`];
  if (problem.detail) lines.push(problem.detail);
  for (const error of problem.errors ?? []) {
    if (!problem.detail) lines.push(`${error.field}: ${error.message}`);
  }
  return lines.join(": ");
}

function scheduleEstimate(delay = DEBOUNCE_MS) {
  clearTimeout(state.timer);
  state.timer = setTimeout(estimate, delay);
}

async function estimate() {
  if (!state.shape || !$("template").value || !$("catalog").value) return;
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
      showError(await problemText(response));
    } else {
      state.result = await response.json();
      showError(null);
      setStatus("estimated");
    }
  } catch (error) {
    if (error.name === "AbortError") return;
    state.result = null;
    showError(t(state.lang, "networkError", { detail: error.message }));
  } finally {
    if (sequence === state.sequence) {
      setBusy(false);
      render();
    }
  }
}

async function getJSON(path) {
  const response = await fetch(api(path), { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(await problemText(response));
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

/** An error in words, in the panel and on the drawing itself. */
function showError(message) {
  state.error = message;
  const box = $("error");
  box.hidden = !message;
  box.replaceChildren();
  for (const part of shapeParts()) {
    part.unbindTooltip();
    part.setStyle?.(message ? ERROR_STYLE : SHAPE_STYLE);
  }
  if (!message) return;
  const title = document.createElement("strong");
  title.textContent = t(state.lang, "errorTitle");
  const text = document.createElement("p");
  text.textContent = message;
  box.append(title, text);
  setStatus(null);
  const first = shapeParts()[0];
  if (!first) return;
  const options = { permanent: true, direction: "top", className: "error-tooltip" };
  const place = PLACE_IN_MESSAGE.exec(message);
  if (place) {
    // The API names the point at fault (a self-intersection): point at it.
    options.direction = "right";
    options.offset = [8, 0];
    first.bindTooltip(message, options).openTooltip(L.latLng(Number(place[2]), Number(place[1])));
  } else {
    first.bindTooltip(message, options).openTooltip();
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

function render() {
  const { lang, result } = state;
  const body = $("bom").tBodies[0];
  body.replaceChildren();
  $("warnings").replaceChildren();
  for (const button of ["save", "xlsx", "geojson"]) $(button).disabled = !result;
  if (!result) {
    for (const id of ["length", "area", "mean-width", "method"]) $(id).textContent = "–";
    for (const id of ["subtotal", "overhead-profit", "tax", "total"]) setMoney(id, null);
    $("op-pct").textContent = "";
    $("vat-pct").textContent = "";
    if (!state.shape && !state.error) setStatus("drawFirst");
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
    li.textContent = warning;
    $("warnings").append(li);
  }
}

// ----------------------------------------------------------------------------- save, export

async function save() {
  if (!state.shape) return;
  setBusy(true);
  try {
    const response = await postEstimate({ save: "true" });
    if (!response.ok) {
      showError(await problemText(response));
      return;
    }
    state.result = await response.json();
    state.savedId = state.result.id;
    showError(null);
    render();
    setStatus("savedAs", { id: state.savedId });
    await loadSaved();
  } catch (error) {
    showError(t(state.lang, "networkError", { detail: error.message }));
  } finally {
    setBusy(false);
  }
}

function filenameOf(response, fallback) {
  const header = response.headers.get("Content-Disposition") ?? "";
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  return match ? decodeURIComponent(match[1]) : fallback;
}

/** The saved estimate when nothing changed since saving, else the drawing as it is now. */
async function download(format) {
  if (!state.shape && state.savedId == null) return;
  try {
    const response =
      state.savedId != null
        ? await fetch(api(`estimates/${state.savedId}?f=${format}`))
        : await postEstimate({ f: format });
    if (!response.ok) {
      showError(await problemText(response));
      return;
    }
    const blob = await response.blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filenameOf(response, `estimate.${format}`);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  } catch (error) {
    showError(t(state.lang, "networkError", { detail: error.message }));
  }
}

// ----------------------------------------------------------------------------- layers

function bindRoad(feature, layer) {
  const name = feature.properties?.name ?? feature.id;
  layer.bindTooltip(name, { sticky: true });
  layer.on("click", (event) => {
    if (map.pm.globalDrawModeEnabled()) return; // a vertex is being placed here
    L.DomEvent.stopPropagation(event);
    useRoad(feature);
  });
}

/** A sample road's centerline becomes the shape, estimated with the width of the form. */
function useRoad(feature) {
  const line = L.geoJSON(feature.geometry, { style: SHAPE_STYLE }).getLayers()[0];
  $("name").value = feature.properties?.name ?? "";
  setShape(line);
  scheduleEstimate(0);
}

function bindSaved(feature, layer) {
  state.savedFeatures.set(String(feature.id), feature);
  layer.bindTooltip(savedLabel(feature), { sticky: true });
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
  return `#${feature.id} ${p.name || p.templates || ""} · ${length} · ${total}`;
}

async function loadRoads() {
  try {
    const [collection, items] = await Promise.all([
      getJSON(`collections/${ROADS}`),
      getJSON(`collections/${ROADS}/items?limit=1000`),
    ]);
    roadsLayer.options.attribution = collection.attribution;
    roadsLayer.addData(items);
    map.attributionControl.addAttribution(collection.attribution);
    nameOverlays();
    const bounds = roadsLayer.getBounds();
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
    li.append(label, open);
    list.append(li);
  }
}

/** The geometry the planner drew for a saved estimate (a line stays a line), if one. */
function drawnGeometry(request) {
  const body = request?.body;
  if (body?.type === "Feature") return body.geometry;
  if (body?.type && body.type !== "FeatureCollection") return body;
  return null;
}

/** Show a saved estimate: its drawing (editable) and its answer as it was saved. */
async function openSaved(id) {
  const feature = state.savedFeatures.get(String(id));
  try {
    const result = await getJSON(`estimates/${id}`);
    const geometry = drawnGeometry(result.request) ?? feature?.geometry;
    if (geometry) {
      const group = L.geoJSON(geometry, { style: SHAPE_STYLE });
      const parts = group.getLayers();
      setShape(parts.length === 1 ? parts[0] : L.featureGroup(parts));
      map.fitBounds(state.shape.getBounds(), { padding: [40, 40], maxZoom: 18 });
    }
    selectIfPresent("template", result.template?.slug);
    selectIfPresent("catalog", result.catalog?.slug);
    await loadCatalog(result.catalog?.slug);
    $("name").value = feature?.properties?.name ?? "";
    $("width").value = result.request?.body?.properties?.width_m ?? "";
    state.result = result;
    state.savedId = id;
    showError(null);
    render();
    setStatus("opened", { id });
  } catch (error) {
    showError(error.message);
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
  const width = state.templateDetails.get($("template").value)?.default_width_m;
  $("width").placeholder =
    width == null
      ? ""
      : t(state.lang, "widthDefault", { width: `${formatNumber(state.lang, width, 2, true)} m` });
}

function showCatalogLabel() {
  const catalog = state.catalogDetails.get($("catalog").value);
  $("catalog-label").textContent = catalog
    ? [catalog.label, catalog.region, catalog.currency].filter(Boolean).join(" · ")
    : "";
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
  const overlays = [[savedLayer, "savedLayer"]];
  if (roadsLayer.getLayers().length) overlays.unshift([roadsLayer, "sampleRoads"]);
  for (const [layer, key] of overlays) {
    layersControl.removeLayer(layer);
    layersControl.addOverlay(layer, t(state.lang, key));
  }
}

function initialLanguage() {
  const stored = localStorage.getItem("takeoff.lang");
  if (stored && stored in WORDS) return stored;
  return navigator.language?.toLowerCase().startsWith("id") ? "id" : "en";
}

function applyLanguage(lang) {
  state.lang = lang;
  localStorage.setItem("takeoff.lang", lang);
  document.documentElement.lang = lang;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(lang, element.dataset.i18n);
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === lang));
  }
  $("warnings").setAttribute("aria-label", t(lang, "warnings"));
  nameOverlays();
  map.pm.setLang(lang === "id" ? "id" : "en");
  fillSelect("template", state.templates);
  fillSelect("catalog", state.catalogs);
  showTemplateWidth();
  if (state.error) showError(state.error);
  render();
  if (state.status) setStatus(state.status.key, state.status.values);
  renderSaved([...state.savedFeatures.values()]);
  for (const layer of savedLayer.getLayers()) layer.setTooltipContent(savedLabel(layer.feature));
}

// ----------------------------------------------------------------------------- start

for (const button of document.querySelectorAll("[data-lang]")) {
  button.addEventListener("click", () => applyLanguage(button.dataset.lang));
}
$("template").addEventListener("change", async () => {
  await loadTemplate($("template").value);
  showTemplateWidth();
  state.savedId = null;
  scheduleEstimate(0);
});
$("catalog").addEventListener("change", async () => {
  await loadCatalog($("catalog").value);
  showCatalogLabel();
  state.savedId = null;
  scheduleEstimate(0);
});
for (const id of ["width", "name"]) {
  $(id).addEventListener("input", () => {
    state.savedId = null;
    scheduleEstimate();
  });
}
$("options").addEventListener("submit", (event) => event.preventDefault());
$("save").addEventListener("click", save);
$("xlsx").addEventListener("click", () => download("xlsx"));
$("geojson").addEventListener("click", () => download("geojson"));

applyLanguage(state.lang);
const roadsLoaded = loadRoads();
loadDocuments()
  .then(() => Promise.all([roadsLoaded, loadSaved()]))
  .catch((error) => showError(error.message))
  .finally(() => {
    document.body.dataset.ready = "true";
  });
