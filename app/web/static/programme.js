// A saved maintenance programme on the map: segments coloured by treatment, funded ones
// solid, the rest dashed; the budget slider moves the budget line the way the programme
// draws it (highest priority first while the running total fits).

const $ = (id) => document.getElementById(id);
const PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
  "#1f78b4", "#b2182b", "#4d4d4d", "#8c510a"];
const NO_WORKS = "#9e9e9e";
const money = new Intl.NumberFormat("id-ID", { maximumFractionDigits: 0 });

const map = L.map("map").setView([-6.178, 106.63], 13);
window.takeoffMap = map;
L.control.scale({ imperial: false }).addTo(map);
const layer = L.geoJSON(null).addTo(map);
const state = { features: [], colours: new Map(), needed: 0 };

async function json(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return response.json();
}

async function allFeatures(url) {
  const features = [];
  let next = url;
  while (next) {
    const page = await json(next);
    features.push(...page.features);
    const link = (page.links || []).find((item) => item.rel === "next");
    next = link ? link.href : null;
  }
  return features;
}

function funding(budget) {
  // rank order, running total within the budget: the line is where it first does not fit
  const ranked = state.features
    .filter((feature) => feature.properties.rank)
    .sort((a, b) => a.properties.rank - b.properties.rank);
  const funded = new Set();
  let total = 0;
  for (const feature of ranked) {
    const cost = Number(feature.properties.cost);
    if (total + cost > budget) break;
    total += cost;
    funded.add(feature.id);
  }
  return { funded, total };
}

function style(feature, funded) {
  const colour = state.colours.get(feature.properties.treatment) || NO_WORKS;
  const on = funded.has(feature.id);
  return { color: colour, weight: on ? 6 : 4, opacity: on ? 0.95 : 0.6, dashArray: on ? null : "6 6" };
}

function redraw() {
  const budget = Number($("budget").value);
  const { funded, total } = funding(budget);
  layer.eachLayer((item) => item.setStyle(style(item.feature, funded)));
  $("budget-value").textContent = money.format(budget);
  $("funded").textContent = money.format(total);
  $("gap").textContent = money.format(state.needed - total);
  $("count").textContent = `${funded.size} / ${state.features.filter((f) => f.properties.rank).length}`;
  document.body.dataset.funded = String(funded.size);
}

function legend() {
  const list = $("legend");
  list.replaceChildren();
  for (const [treatment, colour] of state.colours) {
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    item.append(swatch, ` ${treatment}`);
    list.append(item);
  }
}

async function show(id) {
  document.body.dataset.ready = "false";
  $("status").textContent = "…";
  const programme = await json(`../../programmes/${id}`);
  const items = programme.links.find((item) => item.rel === "items").href;
  state.features = await allFeatures(`${items}?limit=1000`);
  const treatments = [...new Set(state.features.map((f) => f.properties.treatment))]
    .filter((name) => name && name !== "none")
    .sort();
  state.colours = new Map(treatments.map((name, i) => [name, PALETTE[i % PALETTE.length]]));
  state.colours.set("none", NO_WORKS);
  state.needed = Number(programme.totals.needed);
  const slider = $("budget");
  slider.max = String(state.needed);
  slider.step = "1"; // any step but 1 would snap the top of the range below the need
  slider.value = String(programme.budget === null ? state.needed : Number(programme.budget));
  layer.clearLayers();
  const drawn = state.features.filter((feature) => feature.geometry);
  layer.addData({ type: "FeatureCollection", features: drawn });
  layer.eachLayer((item) => {
    const p = item.feature.properties;
    item.bindTooltip(`${p.nama_ruas ?? ""}: ${p.treatment ?? "-"} (${p.status})`);
  });
  $("no-geometry").textContent = String(state.features.length - drawn.length);
  if (drawn.length) map.fitBounds(layer.getBounds(), { padding: [20, 20] });
  legend();
  redraw();
  $("status").textContent = `${programme.name ?? `Programme ${id}`}: ${state.features.length} segments`;
  document.body.dataset.ready = "true";
}

async function start() {
  const listed = (await json("../../programmes")).programmes;
  const select = $("programme");
  for (const programme of listed) {
    const option = document.createElement("option");
    option.value = String(programme.id);
    option.textContent = `${programme.id}: ${programme.name ?? ""}`;
    select.append(option);
  }
  select.addEventListener("change", () => show(select.value));
  $("budget").addEventListener("input", redraw);
  const wanted = new URLSearchParams(location.search).get("id");
  if (wanted) select.value = wanted;
  if (select.value) await show(select.value);
  else document.body.dataset.ready = "true";
}

start().catch((error) => {
  $("status").textContent = String(error);
  document.body.dataset.ready = "true";
});
