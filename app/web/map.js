/* Opportunity Lombardy reference map: the catalogue's own API and tiles on a MapLibre map.
   Everything comes from this service: basemap tiles, site tiles, OGC items, matching,
   and the codes with their labels (/vocabulary), through the client the desk uses too. */
import { choices, csrfToken, escape, formatNumber, request, serviceSources, vocabularyLabel } from "./client.js";

const LOMBARDY = [[8.45, 44.65], [11.45, 46.65]];
const FILTERS = ["kind", "site_type", "province", "min_land_area_m2", "max_land_area_m2", "min_covered_area_m2",
  "max_covered_area_m2", "tenure", "max_price_eur", "max_motorway_km", "max_airport_km", "max_station_km"];
const COLORS = { area: "#1f6fd1", brownfield: "#b8541b", project: "#7a3db8", cluster: "#0f8a6a", focus: "#ffbf00" };
const TEXT = {
  it: {
    title: "Opportunity Lombardy · siti per investire", signin: "Accesso (proprietari e personale)", desk: "Sportello", signout: "Esci", panel: "Ricerca",
    filters: "Filtri", matching: "Ricerca per requisiti", kind: "Tipo", site_type: "Tipologia", province: "Provincia",
    any: "Tutti", none: "Nessuna preimpostazione", land_area: "Superficie territoriale (m²)", covered_area: "Superficie coperta (m²)",
    from: "da", to: "a", tenure: "Disponibilità", buy: "Vendita", lease: "Locazione", max_price: "Prezzo massimo (€)",
    max_distance: "Distanza massima (km, in linea d'aria)", motorway: "casello", airport: "aeroporto", station: "stazione",
    clear: "Azzera filtri", activity: "Attività", min_land: "Superficie minima (m²)", min_floor: "Superficie coperta/SLP minima (m²)",
    search: "Cerca", near_misses: "Quasi idonei", export: "Esporta la lista", legend: "Legenda",
    legend_area: "Area o edificio", legend_brownfield: "Dismesso (brownfield)", legend_project: "Progetto di investimento",
    legend_cluster: "Gruppo di siti (numero)", layers: "Strati", zls: "ZLS (Zona logistica semplificata)",
    regional_aid: "Comuni con aiuti a finalità regionale (elenco parziale)", motorways: "Autostrade e caselli",
    railways: "Ferrovie", signin_go: "Entra", cancel: "Annulla", map: "Mappa dei siti",
    all_sites: "Tutti i siti pubblicati; usare i filtri per restringere.", loading: "Caricamento…",
    in_view: (n, shown) => `${n} siti corrispondono nell'area visibile` + (shown < n ? ` (mostrati ${shown}: avvicinarsi)` : ""),
    none_found: "Nessun sito corrisponde: allentare i filtri o spostare la mappa.",
    matched: (n, total) => `${n} siti mostrati su ${total} idonei`, no_match: "Nessun sito soddisfa tutti i requisiti; vedere i quasi idonei.",
    score: "punteggio", completeness: "completezza dati", stale: "dati non confermati da oltre un anno", fails: "non soddisfa",
    close: "Chiudi", report: "Scheda completa (personale)", expose: "Scheda per investitori (PDF)",
    compare: "Confronta i primi in PDF", unreachable: "Il servizio non risponde; riprovare.",
    fields: { land_area_m2: "Superficie territoriale", covered_area_m2: "Superficie coperta", gross_floor_area_m2: "SLP",
      price_eur: "Prezzo", annual_rent_eur: "Canone annuo", availability: "Disponibilità", available_from: "Disponibile dal",
      zoning: "Destinazione PGT", comune: "Comune", dist_motorway_exit_km: "Casello", dist_airport_km: "Aeroporto",
      dist_station_km: "Stazione", zones: "Zone", pop: "Popolazione entro 10/20/30 km", completeness: "Completezza dati",
      last_confirmed_at: "Ultima conferma", power_kw: "Potenza elettrica", condition: "Stato" },
  },
  en: {
    title: "Opportunity Lombardy · sites to invest in", signin: "Sign in (owners and staff)", desk: "Desk", signout: "Sign out", panel: "Search",
    filters: "Filters", matching: "Match requirements", kind: "Kind", site_type: "Type", province: "Province",
    any: "Any", none: "No preset", land_area: "Land area (m²)", covered_area: "Covered area (m²)", from: "from", to: "to",
    tenure: "Tenure", buy: "Sale", lease: "Lease", max_price: "Maximum price (€)", max_distance: "Maximum distance (km, straight line)",
    motorway: "motorway exit", airport: "airport", station: "station", clear: "Clear filters", activity: "Activity",
    min_land: "Minimum land area (m²)", min_floor: "Minimum covered/floor area (m²)", search: "Search",
    near_misses: "Near misses", export: "Export the list", legend: "Legend", legend_area: "Land or building",
    legend_brownfield: "Disused (brownfield)", legend_project: "Investment project", legend_cluster: "Group of sites (count)",
    layers: "Layers", zls: "ZLS (simplified logistics zone)", regional_aid: "Regional-aid comuni (partial list)",
    motorways: "Motorways and exits", railways: "Railways", signin_go: "Sign in",
    cancel: "Cancel", map: "Map of sites", all_sites: "All published sites; use the filters to narrow them down.",
    loading: "Loading…",
    in_view: (n, shown) => `${n} sites match in the visible area` + (shown < n ? ` (${shown} shown: zoom in)` : ""),
    none_found: "No site matches: relax the filters or move the map.",
    matched: (n, total) => `${n} sites shown of ${total} matching`, no_match: "No site meets every requirement; see the near misses.",
    score: "score", completeness: "data completeness", stale: "data not confirmed for over a year", fails: "fails",
    close: "Close", report: "Full report (staff)", expose: "Investor profile (PDF)",
    compare: "Compare the first ones (PDF)", unreachable: "The service does not answer; try again.",
    fields: { land_area_m2: "Land area", covered_area_m2: "Covered area", gross_floor_area_m2: "Floor area (SLP)",
      price_eur: "Price", annual_rent_eur: "Annual rent", availability: "Availability", available_from: "Available from",
      zoning: "Zoning", comune: "Comune", dist_motorway_exit_km: "Motorway exit", dist_airport_km: "Airport",
      dist_station_km: "Railway station", zones: "Zones", pop: "Population within 10/20/30 km",
      completeness: "Data completeness", last_confirmed_at: "Last confirmed", power_kw: "Electrical power", condition: "Condition" },
  },
};

const state = { lang: "it", vocabulary: {}, presets: [], role: null, results: [] };
const $ = (selector) => document.querySelector(selector);
const t = (key, ...args) => { const v = TEXT[state.lang][key]; return typeof v === "function" ? v(...args) : v ?? key; };
const fmt = (n, digits = 0) => n == null ? "–" : formatNumber(state.lang, n, digits);
const label = (vocab, code) => vocabularyLabel(state.vocabulary, state.lang, vocab, code);

/* -- API ---------------------------------------------------------------------------------- */

const api = (path, options = {}) => request(path, { ...options, lang: state.lang, unreachable: t("unreachable") });

function showError(error) {
  const box = $("#error");
  box.textContent = error.message;
  box.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => { box.hidden = true; }, 8000);
}

/* -- language ----------------------------------------------------------------------------- */

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang").textContent = state.lang === "it" ? "EN" : "IT";
  $("#map").setAttribute("aria-label", t("map"));
  document.title = t("title");
  fillChoices();
  updateSignIn();
  renderMatch(state.lastMatch);
  refreshFilters();
}

function fillChoices() {
  const fill = (select, options) => {
    const current = select.value;
    select.querySelectorAll("option:not([value=''])").forEach((o) => o.remove());
    for (const [value, text] of options) select.add(new Option(text, value));
    select.value = current;
  };
  const vocab = (name) => choices(state.vocabulary, state.lang, name);
  fill($("#filter-form [name=kind]"), vocab("kind"));
  fill($("#filter-form [name=site_type]"), vocab("site_type"));
  for (const form of ["#filter-form", "#match-form"]) fill($(`${form} [name=province]`), vocab("province"));
  fill($("#match-form [name=activity]"), state.presets.map((p) => [p.name, state.lang === "it" ? p.label_it : p.label_en]));
  readUrl();
}

/* -- URL state ---------------------------------------------------------------------------- */

function readUrl() {
  const params = new URLSearchParams(location.search);
  const form = $("#filter-form");
  for (const name of FILTERS) if (params.has(name)) form.elements[name].value = params.get(name);
}

function writeUrl() {
  const params = activeFilters();
  params.set("lang", state.lang);
  history.replaceState(null, "", `${location.pathname}?${params}${location.hash}`);
}

function activeFilters() {
  const params = new URLSearchParams();
  const form = $("#filter-form");
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value !== "") params.set(name, value);
  }
  return params;
}

/* -- map ---------------------------------------------------------------------------------- */

const brownfield = ["any", ["==", ["get", "site_type"], "area_dismessa"], ["==", ["get", "condition"], "dismesso"]];
const siteColor = ["case", ["==", ["get", "kind"], "B"], COLORS.project, brownfield, COLORS.brownfield, COLORS.area];
const building = ["match", ["get", "site_type"], ["edificio", "area_con_edifici"], true, false];

function buildStyle() {
  return {
    version: 8,
    sources: {
      ...serviceSources(),
      filtered: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
      highlight: { type: "geojson", data: { type: "FeatureCollection", features: [] } },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#e9eef2" } },
      { id: "provinces-fill", type: "fill", source: "base", "source-layer": "provinces", paint: { "fill-color": "#fbfaf6" } },
      { id: "zls-fill", type: "fill", source: "base", "source-layer": "comuni", filter: ["==", ["get", "zls"], true],
        layout: { visibility: "none" }, paint: { "fill-color": "#f2c14e", "fill-opacity": 0.45 } },
      { id: "aid-fill", type: "fill", source: "base", "source-layer": "comuni", filter: ["==", ["get", "regional_aid"], true],
        layout: { visibility: "none" }, paint: { "fill-color": "#8fc98a", "fill-opacity": 0.45 } },
      { id: "comuni-line", type: "line", source: "base", "source-layer": "comuni", minzoom: 8,
        paint: { "line-color": "#b9c2cc", "line-width": 0.6 } },
      { id: "provinces-line", type: "line", source: "base", "source-layer": "provinces",
        paint: { "line-color": "#7d8896", "line-width": 1.4 } },
      { id: "railways", type: "line", source: "base", "source-layer": "transport", filter: ["==", ["get", "kind"], "railway_line"],
        paint: { "line-color": "#5b4a7a", "line-width": ["interpolate", ["linear"], ["zoom"], 6, 0.6, 12, 2], "line-dasharray": [3, 2] } },
      { id: "motorways", type: "line", source: "base", "source-layer": "transport", filter: ["==", ["get", "kind"], "motorway"],
        paint: { "line-color": "#d9822b", "line-width": ["interpolate", ["linear"], ["zoom"], 6, 1, 12, 3.5] } },
      { id: "exits", type: "circle", source: "base", "source-layer": "exits",
        paint: { "circle-radius": 4, "circle-color": "#fff", "circle-stroke-color": "#d9822b", "circle-stroke-width": 2 } },
      { id: "labels-anchor", type: "circle", source: "base", "source-layer": "labels", paint: { "circle-radius": 1, "circle-opacity": 0 } },
      { id: "clusters", type: "circle", source: "sites", "source-layer": "sites", filter: ["==", ["get", "cluster"], true],
        paint: { "circle-color": COLORS.cluster, "circle-opacity": 0.8, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5,
                 "circle-radius": ["interpolate", ["linear"], ["get", "count"], 1, 6, 10, 11, 100, 18, 1000, 26] } },
      { id: "sites-points", type: "circle", source: "sites", "source-layer": "sites", filter: ["!=", ["get", "cluster"], true],
        paint: { "circle-color": siteColor, "circle-radius": 6, "circle-stroke-color": ["case", building, "#1d2430", "#fff"],
                 "circle-stroke-width": ["case", building, 2.5, 1.5] } },
      { id: "filtered-points", type: "circle", source: "filtered", layout: { visibility: "none" },
        paint: { "circle-color": siteColor, "circle-radius": 6, "circle-stroke-color": ["case", building, "#1d2430", "#fff"],
                 "circle-stroke-width": ["case", building, 2.5, 1.5] } },
      { id: "highlight", type: "circle", source: "highlight",
        paint: { "circle-radius": ["case", ["get", "active"], 14, 9], "circle-color": "rgba(0,0,0,0)",
                 "circle-stroke-color": COLORS.focus, "circle-stroke-width": ["case", ["get", "active"], 5, 2.5] } },
    ],
  };
}

let map;

function createMap() {
  map = new maplibregl.Map({ container: "map", style: buildStyle(), bounds: LOMBARDY, hash: true,
    attributionControl: { compact: true }, maxZoom: 18, minZoom: 5 });
  window.olMap = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  map.on("error", (event) => {
    if (event.error && event.error.status !== 204) console.warn("map:", event.error.message || event.error);
  });
  for (const layer of ["sites-points", "filtered-points", "highlight"]) {
    map.on("click", layer, (event) => openCard(event.features[0].properties.id ?? event.features[0].id));
    map.on("mouseenter", layer, () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", layer, () => { map.getCanvas().style.cursor = ""; });
  }
  map.on("click", "clusters", (event) => map.easeTo({ center: event.lngLat, zoom: map.getZoom() + 2 }));
  map.on("moveend", () => { if (activeFilters().toString()) scheduleFilter(); });
  map.on("idle", onIdle);
  map.on("render", firstScreen);
}

function visibleSites() {
  const rendered = map.queryRenderedFeatures({ layers: ["clusters", "sites-points", "filtered-points"] });
  return rendered.reduce((n, f) => n + (f.properties.cluster ? f.properties.count : 1), 0);
}

/* The first frame with sites on screen, the filter panel and the legend: the figure the
   browser test and bench/map_first_screen.py report (ms since navigation start). */
function firstScreen() {
  if (!map.isSourceLoaded("sites") || visibleSites() === 0 || !$("#legend") || !$("#filter-form")) return;
  map.off("render", firstScreen);
  window.olFirstScreenMs = performance.now();
  document.body.dataset.firstScreenMs = String(Math.round(window.olFirstScreenMs));
}

function onIdle() {
  document.body.dataset.sitesVisible = String(visibleSites());
  document.body.dataset.idle = "true";
  updateLabels();
}

/* Place names as HTML labels: the page ships no font glyphs (nothing from outside). */
const labelMarkers = [];
function updateLabels() {
  labelMarkers.splice(0).forEach((m) => m.remove());
  const seen = new Set();
  const places = map.queryRenderedFeatures({ layers: ["labels-anchor"] })
    .sort((a, b) => (a.properties.level === "province" ? -1 : 0) - (b.properties.level === "province" ? -1 : 0)
                    || (b.properties.population || 0) - (a.properties.population || 0));
  for (const f of places.slice(0, 80)) {
    if (seen.has(f.properties.name)) continue;
    seen.add(f.properties.name);
    labelMarkers.push(marker(f.geometry.coordinates, f.properties.name, `place-label ${f.properties.level}`));
  }
  for (const f of map.queryRenderedFeatures({ layers: ["clusters"] }).slice(0, 150)) {
    if (f.properties.count > 1) labelMarkers.push(marker(f.geometry.coordinates, fmt(f.properties.count), "place-label count"));
  }
}

function marker(coordinates, text, className) {
  const el = document.createElement("span");
  el.className = className;
  el.textContent = text;
  el.setAttribute("aria-hidden", "true");
  return new maplibregl.Marker({ element: el }).setLngLat(coordinates).addTo(map);
}

/* -- filters ------------------------------------------------------------------------------ */

function scheduleFilter() {
  clearTimeout(scheduleFilter.timer);
  scheduleFilter.timer = setTimeout(refreshFilters, 250);
}

async function refreshFilters() {
  if (!map || !map.isStyleLoaded()) return;
  writeUrl();
  const params = activeFilters();
  const filtering = params.toString() !== "";
  for (const layer of ["clusters", "sites-points"]) map.setLayoutProperty(layer, "visibility", filtering ? "none" : "visible");
  map.setLayoutProperty("filtered-points", "visibility", filtering ? "visible" : "none");
  const status = $("#filter-status");
  const list = $("#filter-list");
  if (!filtering) {
    status.textContent = t("all_sites");
    list.replaceChildren();
    map.getSource("filtered").setData({ type: "FeatureCollection", features: [] });
    return;
  }
  const bounds = map.getBounds();
  params.set("bbox", [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map((n) => n.toFixed(5)).join(","));
  params.set("limit", "1000");
  status.textContent = t("loading");
  status.classList.add("loading");
  const request = (refreshFilters.seq = (refreshFilters.seq || 0) + 1);
  try {
    const body = await api(`/collections/sites/items?${params}`);
    if (request !== refreshFilters.seq) return;
    map.getSource("filtered").setData(body);
    status.textContent = body.numberMatched ? t("in_view", body.numberMatched, body.features.length) : t("none_found");
    list.replaceChildren(...body.features.slice(0, 50).map((f) => {
      const li = document.createElement("li");
      li.dataset.siteId = f.id;
      li.tabIndex = 0;
      const p = f.properties;
      li.innerHTML = `<strong>${escape(p.name)}</strong><br>${escape(label("site_type", p.site_type))} · ${fmt(p.land_area_m2)} m²`
        + (p.price_eur ? ` · € ${fmt(p.price_eur)}` : "");
      li.addEventListener("click", () => { map.flyTo({ center: f.geometry.coordinates, zoom: Math.max(map.getZoom(), 13) }); openCard(f.id); });
      li.addEventListener("keydown", (e) => { if (e.key === "Enter") li.click(); });
      return li;
    }));
  } catch (error) {
    showError(error);
    status.textContent = "";
  } finally {
    status.classList.remove("loading");
  }
}

/* -- matching ----------------------------------------------------------------------------- */

function requirement() {
  const form = $("#match-form").elements;
  const number = (name) => (form[name].value.trim() === "" ? undefined : Number(form[name].value));
  const r = { limit: 20, near_misses: 5 };
  if (form.activity.value) r.activity = form.activity.value;
  if (number("min_land") !== undefined) r.land_area_m2 = { min: number("min_land") };
  if (number("min_floor") !== undefined) r.floor_area_m2 = { min: number("min_floor") };
  if (form.tenure.value) r.tenure = form.tenure.value;
  if (form.province.value) r.provinces = [form.province.value];
  for (const name of ["max_price_eur", "max_motorway_km", "max_airport_km", "max_station_km"]) {
    if (number(name) !== undefined) r[name] = number(name);
  }
  return r;
}

async function runMatch(event) {
  event.preventDefault();
  const status = $("#match-status");
  status.textContent = t("loading");
  status.classList.add("loading");
  try {
    state.lastMatch = await api("/match", { method: "POST", json: requirement() });
    renderMatch(state.lastMatch);
    if (state.results.length) {
      const bounds = new maplibregl.LngLatBounds();
      state.results.forEach((r) => bounds.extend([r.site.lon, r.site.lat]));
      map.fitBounds(bounds, { padding: 80, maxZoom: 12, duration: 0 });
    }
  } catch (error) {
    showError(error);
    status.textContent = "";
  } finally {
    status.classList.remove("loading");
  }
}

function reasonList(criteria) {
  return `<ul class="reasons">${criteria.map((c) => `<li class="${c.passed ? "" : "fail"}">`
    + `${escape(state.lang === "it" ? c.reason_it : c.reason)}</li>`).join("")}</ul>`;
}

function renderMatch(answer) {
  if (!answer) return;
  state.results = answer.results;
  $("#match-status").textContent = answer.results.length ? t("matched", answer.results.length, answer.matching) : t("no_match");
  const item = (r, ranked) => {
    const li = document.createElement("li");
    li.dataset.siteId = r.site.id;
    li.tabIndex = 0;
    const summary = ranked ? "" : `<div class="reasons fail">${escape(state.lang === "it" ? r.summary_it : r.summary)}</div>`;
    li.innerHTML = `<span class="score" title="${t("score")}">${fmt(r.score, 1)}</span>`
      + `<strong>${ranked ? `${r.rank}. ` : ""}${escape(r.site.name)}</strong><br>`
      + `${escape(r.site.comune || "")} · ${t("completeness")} ${fmt(100 * (r.completeness || 0))}%`
      + (r.stale ? `<div class="stale">${t("stale")}</div>` : "") + summary + (ranked ? reasonList(r.criteria) : "");
    li.addEventListener("mouseenter", () => setActive(r.site.id));
    li.addEventListener("focus", () => setActive(r.site.id));
    li.addEventListener("click", () => { setActive(r.site.id); map.flyTo({ center: [r.site.lon, r.site.lat], zoom: 14 }); openCard(r.site.id); });
    li.addEventListener("keydown", (e) => { if (e.key === "Enter") li.click(); });
    return li;
  };
  $("#match-results").replaceChildren(...answer.results.map((r) => item(r, true)));
  $("#match-misses").replaceChildren(...answer.near_misses.map((r) => item(r, false)));
  $("#misses-title").hidden = answer.near_misses.length === 0;
  const ids = answer.results.map((r) => r.site.id).join(",");
  $("#export").hidden = !ids;
  document.querySelectorAll("#export a[data-format]").forEach((a) => { a.href = `/sites/export?ids=${ids}&format=${a.dataset.format}`; });
  const first = answer.results.slice(0, 5).map((r) => r.site.id);
  $("#compare").hidden = first.length < 2;
  $("#compare").href = `/sites/compare.pdf?ids=${first.join(",")}&lang=${state.lang}`;
  setActive(answer.results[0]?.site.id ?? null);
}

function setActive(id) {
  document.querySelectorAll("#match-results li, #match-misses li").forEach((li) => {
    li.setAttribute("aria-current", String(Number(li.dataset.siteId) === id));
  });
  const features = [...state.results, ...(state.lastMatch?.near_misses || [])].map((r) => ({
    type: "Feature", geometry: { type: "Point", coordinates: [r.site.lon, r.site.lat] },
    properties: { id: r.site.id, rank: r.rank ?? null, active: r.site.id === id, kind: r.site.kind, site_type: r.site.site_type },
  }));
  map.getSource("highlight")?.setData({ type: "FeatureCollection", features });
  document.body.dataset.activeSite = id == null ? "" : String(id);
}

/* -- site card ---------------------------------------------------------------------------- */

async function openCard(id) {
  const card = $("#card");
  try {
    const feature = await api(`/collections/sites/items/${id}`);
    const p = feature.properties;
    const F = TEXT[state.lang].fields;
    const km = (key, nearest) => p[key] == null ? "–" : `${fmt(p[key], 1)} km` + (nearest ? ` (${nearest.name})` : "");
    const rows = [
      [F.comune, await comuneName(p.comune_istat)],
      [t("site_type"), label("site_type", p.site_type)], [F.condition, label("condition", p.condition)],
      [F.land_area_m2, p.land_area_m2 == null ? "–" : `${fmt(p.land_area_m2)} m²`],
      [F.covered_area_m2, p.covered_area_m2 == null ? "–" : `${fmt(p.covered_area_m2)} m²`],
      [F.gross_floor_area_m2, p.gross_floor_area_m2 == null ? "–" : `${fmt(p.gross_floor_area_m2)} m²`],
      [F.availability, label("availability", p.availability)],
      [F.price_eur, p.price_eur == null ? "–" : `€ ${fmt(p.price_eur)}`],
      [F.annual_rent_eur, p.annual_rent_eur == null ? "–" : `€ ${fmt(p.annual_rent_eur)}`],
      [F.available_from, p.available_from || "–"], [F.zoning, label("zoning", p.zoning)],
      [F.power_kw, p.power_kw == null ? "–" : `${fmt(p.power_kw)} kW`],
      [F.dist_motorway_exit_km, km("dist_motorway_exit_km", p.nearest?.motorway_exit)],
      [F.dist_airport_km, km("dist_airport_km", p.nearest?.airport)],
      [F.dist_station_km, km("dist_station_km", p.nearest?.railway_station)],
      [F.zones, (p.zones || []).map((z) => label("zone", z)).join(", ") || "–"],
      [F.pop, [p.pop_10km, p.pop_20km, p.pop_30km].map((n) => fmt(n)).join(" / ")],
      [F.completeness, `${fmt(100 * (p.completeness || 0))}%`],
      [F.last_confirmed_at, (p.last_confirmed_at || "").slice(0, 10) || "–"],
    ];
    const description = state.lang === "it" ? p.description_it || p.description_en : p.description_en || p.description_it;
    card.innerHTML = `<button class="close" type="button" aria-label="${t("close")}">×</button>`
      + `<h2>${escape(p.name)}</h2>` + (description ? `<p>${escape(description)}</p>` : "")
      + `<dl>${rows.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join("")}</dl>`
      + `<p><a href="/sites/${id}/expose.pdf?lang=${state.lang}">${t("expose")}</a></p>`
      + (["staff", "admin"].includes(state.role) ? `<p><a href="/desk?lang=${state.lang}#/sites/${id}/report">${t("report")}</a></p>` : "");
    card.hidden = false;
    card.dataset.siteId = id;
    card.querySelector(".close").addEventListener("click", () => { card.hidden = true; });
    card.focus();
  } catch (error) {
    showError(error);
  }
}

const comuni = new Map();
async function comuneName(istat) {
  if (!istat) return "–";
  if (!comuni.has(istat)) {
    comuni.set(istat, api(`/collections/comuni/items/${istat}`).then((f) => f.properties.name).catch(() => istat));
  }
  return comuni.get(istat);
}

/* -- the desk: signed-in users (a session cookie) get a link to it ------------------------- */

function updateSignIn() {
  const link = $("#signin");
  link.textContent = state.role ? `${t("desk")} (${state.role})` : t("signin");
  link.href = `/desk?lang=${state.lang}#/${state.role ? "candidacies" : "signin"}`;
}

async function whoAmI() {
  // the desk's readable CSRF cookie says whether a session may exist: no request otherwise
  if (csrfToken() === null) return updateSignIn();
  state.role = await api("/auth/me").then((me) => me.role, () => null);
  updateSignIn();
}

async function toggleInfrastructure(collection, on) {
  const id = `layer-${collection}`;
  if (!map.getSource(id)) {
    if (!on) return;
    const data = await api(`/collections/${collection}/items?limit=1000`);
    map.addSource(id, { type: "geojson", data });
    map.addLayer({ id, type: "circle", source: id, paint: { "circle-radius": collection.endsWith("airport") ? 7 : 4,
      "circle-color": "#2b2d42", "circle-stroke-color": "#fff", "circle-stroke-width": 1 } }, "clusters");
  }
  map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
}

async function addLayerToggles() {
  const body = await api("/collections");
  const box = $("#layers");
  for (const c of body.collections.filter((c) => c.id.startsWith("infrastructure."))) {
    const lbl = document.createElement("label");
    lbl.innerHTML = `<input type="checkbox" name="${escape(c.id)}"> <span>${escape(c.title)}</span>`;
    lbl.querySelector("input").addEventListener("change", (e) => toggleInfrastructure(c.id, e.target.checked).catch(showError));
    box.append(lbl);
  }
}

/* -- start -------------------------------------------------------------------------------- */

function wire() {
  $("#lang").addEventListener("click", () => { state.lang = state.lang === "it" ? "en" : "it"; applyLanguage(); });
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll("[role=tab]")) {
        other.setAttribute("aria-selected", String(other === tab));
        document.getElementById(other.getAttribute("aria-controls")).hidden = other !== tab;
      }
    });
  }
  const filters = $("#filter-form");
  filters.addEventListener("input", scheduleFilter);
  filters.addEventListener("change", scheduleFilter);
  filters.addEventListener("reset", () => setTimeout(refreshFilters, 0));
  $("#match-form").addEventListener("submit", runMatch);
  $("#layers [name=zls]").addEventListener("change", (e) => map.setLayoutProperty("zls-fill", "visibility", e.target.checked ? "visible" : "none"));
  $("#layers [name=regional_aid]").addEventListener("change", (e) => map.setLayoutProperty("aid-fill", "visibility", e.target.checked ? "visible" : "none"));
  for (const [name, ids] of [["motorways", ["motorways", "exits"]], ["railways", ["railways"]]]) {
    $(`#layers [name=${name}]`).addEventListener("change", (e) =>
      ids.forEach((id) => map.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none")));
  }
}

async function start() {
  const params = new URLSearchParams(location.search);
  state.lang = params.get("lang") === "en" ? "en" : params.get("lang") === "it" ? "it" : (navigator.language || "it").startsWith("it") ? "it" : "en";
  wire();
  createMap();
  try {
    [state.vocabulary, state.presets] = await Promise.all([api("/vocabulary"), api("/match/presets")]);
  } catch (error) {
    showError(error);
  }
  applyLanguage();
  whoAmI().catch(() => {});
  map.on("load", () => {
    refreshFilters();
    addLayerToggles().catch(showError);
    const site = params.get("site");
    if (/^\d+$/.test(site || "")) focusSite(+site);
  });
}

/** Opened from the desk with ?site=ID: centre the site and show its card. */
async function focusSite(id) {
  try {
    const feature = await api(`/collections/sites/items/${id}`);
    map.jumpTo({ center: feature.geometry.coordinates, zoom: 13 });
    setActive(id);
    openCard(id);
  } catch (error) {
    showError(error);
  }
}

start();
