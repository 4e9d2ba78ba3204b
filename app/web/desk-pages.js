/* The desk's pages for one thing at a time: a candidacy (values, map, timeline, versions,
   messages, the moves the caller may make), the printable site report, brownfield review,
   stale sites, the audit log and administration. */

import { $, $$, act, api, badge, boundsOf, day, esc, isStaff, label, miniMap, notify, num, params, state, t, when }
  from "./desk-core.js";

const REASON_NEEDED = ["changes_requested", "withdrawn", "expired"];
const STAFF_ROLES = ["staff", "admin", "system"];

// record fields whose values are codes of a vocabulary the service publishes (/vocabulary)
const VOCABULARY_OF = { kind: "kind", site_type: "site_type", condition: "condition", zoning: "zoning",
  availability: "availability", remediation: "remediation", energy_class: "energy_class", planning_stage: "planning_stage",
  location_precision: "location_precision", sectors: "sector", constraints: "constraint", tenure_title: "tenure_title",
  proponent_legal_nature: "legal_nature", owner_legal_nature: "legal_nature", status: "status" };

function value(v, key) {
  if (v == null || v === "") return "–";
  const vocab = VOCABULARY_OF[key];
  if (vocab && state.vocabulary[vocab]) {
    const labels = (Array.isArray(v) ? v : [v]).map((code) => state.vocabulary[vocab][code]?.[state.lang] ?? code);
    return esc(labels.join(", "));
  }
  if (Array.isArray(v)) return v.map((x) => value(x)).join(", ");
  if (typeof v === "boolean") return t(v ? "yes" : "no");
  if (typeof v === "number") return num(v, ["latitude", "longitude", "lat", "lon"].includes(key) ? 6 : 2);
  if (typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v)) return esc(day(`${v}T00:00:00`));  // a day, not an instant
  if (typeof v === "object") return esc(JSON.stringify(v));
  return esc(v);
}

function facts(record, labels = {}) {
  return `<dl class="facts">${Object.entries(record).filter(([, v]) => v != null && v !== "" && !(Array.isArray(v) && !v.length))
    .map(([k, v]) => `<dt>${esc(labels[k]?.label || k)}</dt><dd>${value(v, k)}</dd>`).join("")}</dl>`;
}

/** The declared values as the workbook holds them: its sections in order, labels and coded
    values in the page's language (the service sends both). */
function declared(sections) {
  const it = state.lang === "it";
  return sections.map((s) => `<h3>${esc(it ? s.section : s.section_en)}</h3><dl class="facts">${s.fields.map((f) =>
    `<dt>${esc(it ? f.label : f.label_en)}</dt><dd>${f.labels ? esc(f.labels[state.lang]) : value(f.value, f.key)}</dd>`)
    .join("")}</dl>`).join("");
}

const zoneNames = (zones) => (zones || []).map((z) => esc(label("zone", z))).join(", ");

function nearestList(nearest) {
  return `<ul>${nearest.map((n) => `<li>${esc(t(n.layer))}: ${esc(n.name || "–")}, ${num(n.km, 1)} ${esc(t("km"))}</li>`).join("")}</ul>`;
}

function placeMap(container, location) {
  const colors = { airport: "#7a3db8", railway_station: "#444", motorway_exit: "#d9822b" };
  const overlays = [
    ...(location.perimeter ? [{ type: "Feature", geometry: location.perimeter, properties: { color: "#1f6fd1" } }] : []),
    ...(location.point ? [{ type: "Feature", geometry: location.point, properties: { color: "#1f6fd1", radius: 8 } }] : []),
    ...location.nearest.map((n) => ({ type: "Feature", geometry: n.point, properties: { color: colors[n.layer], radius: 5 } })),
  ];
  const near = [location.point, location.perimeter, ...location.nearest.filter((n) => n.km < 15).map((n) => n.point)];
  miniMap(container, overlays, boundsOf(near));
}

/* -- one candidacy -------------------------------------------------------------------------- */

async function candidacy(id) {
  const c = await api(`/candidacies/${id}`);
  const staff = isStaff();
  const moves = c.allowed_transitions.filter((to) => c.is_current);
  const messages = c.history.filter((h) => h.reason && STAFF_ROLES.includes(h.by_role)).reverse();
  const owner = c.relation === "owner";
  const delegated = c.proponent_role === "delegato";
  const confirmable = ["submitted", "changes_requested", "validated", "published"].includes(c.status) && c.is_current;
  const main = $("#main");
  main.innerHTML = `<h1>${esc(c.site_name || `#${c.id}`)} ${badge(c.status)}</h1>
    <p class="muted">${esc(t("version"))} ${c.version} · ${esc(t(`kind_${c.kind}`))} · ${esc(c.comune || "")} ${c.province ? `(${esc(c.province)})` : ""}
      · ${esc(t(`relation.${c.relation}`))}</p>
    ${messages.length ? `<section aria-labelledby="messages-title"><h2 id="messages-title">${esc(t("messages"))}</h2>
      ${messages.map((m) => `<div class="message" data-message><strong>${badge(m.to || c.status)} ${when(m.at)}</strong><br>${esc(m.reason)}</div>`).join("")}</section>` : ""}
    <section class="card" aria-labelledby="actions-title"><h2 id="actions-title">${esc(t("actions"))}</h2>
      <p>${esc(t(c.publication_consent ? "consent_yes" : "consent_no"))}
        ${delegated ? `<br>${esc(t(c.owner_confirmed ? "owner_confirmed" : "owner_unconfirmed"))}` : ""}</p>
      ${moves.length ? `<form id="move-form">${staff || moves.some((m) => REASON_NEEDED.includes(m)) ? `<label>${esc(t("reason"))}
        <textarea name="reason" maxlength="2000"></textarea></label>` : ""}
        ${moves.map((to) => {
          const blocked = to === "published" && !c.publication_consent;
          return `<button type="button" data-move="${to}" ${blocked ? `disabled aria-describedby="publish-blocked"` : ""}
            class="${["withdrawn", "expired"].includes(to) ? "danger" : ""}">${esc(t(`move.${to}`))}</button>`;
        }).join("")}
        ${moves.includes("published") && !c.publication_consent ? `<p id="publish-blocked" class="message">${esc(t("publish_blocked"))}</p>` : ""}
      </form>` : ""}
      ${owner ? `<button type="button" id="consent" data-consent="${!c.publication_consent}">${esc(t(c.publication_consent ? "consent_withdraw" : "consent_grant"))}</button>` : ""}
      ${c.relation === "delegate" && !c.publication_consent ? `<p class="muted">${esc(t("consent_owner_only"))}</p>` : ""}
      ${owner && delegated && !c.owner_confirmed ? `<button type="button" id="owner-confirm">${esc(t("owner_confirm"))}</button>` : ""}
      ${!staff && confirmable ? `<button type="button" class="secondary" id="confirm-data">${esc(t("confirm_data"))}</button>` : ""}
      ${!staff ? `<a class="button secondary" href="#/new">${esc(t("upload_new"))}</a>` : ""}
      ${staff && c.site_id ? `<a class="button secondary" href="#/sites/${c.site_id}/report">${esc(t("report"))}</a>` : ""}
      ${c.status === "published" && c.site_id ? `<a class="button secondary" href="/map?lang=${state.lang}&site=${c.site_id}">${esc(t("on_map"))}</a>` : ""}
    </section>
    <div class="grid2">
      <section class="card"><h2>${esc(t("location"))}</h2>${c.location ? `<div id="minimap" class="minimap" aria-label="${esc(t("location"))}"></div>
        <h3>${esc(t("nearest"))}</h3>${nearestList(c.location.nearest)}
        ${c.location.zones.length ? `<p>${esc(t("zones"))}: ${zoneNames(c.location.zones)}</p>` : ""}` : "–"}</section>
      <section class="card"><h2>${esc(t("timeline"))}</h2><ol class="timeline">${c.history.map((h) => `<li>
        <strong>${when(h.at)}</strong> · v${h.version} · ${esc(h.action.replace("candidacy.", ""))}
        ${h.to ? `→ ${badge(h.to)}` : ""} ${h.by ? `<span class="muted">${esc(t("by"))} ${esc(h.by)}</span>` : ""}
        ${h.reason ? `<br><q>${esc(h.reason)}</q>` : ""}</li>`).join("")}</ol></section>
    </div>
    ${c.warnings.length ? `<section class="card"><h2>${esc(t("warnings"))}</h2><ul class="problems">${c.warnings.map((p) =>
      `<li><span class="badge ${esc(p.severity)}">${esc(t(p.severity))}</span> ${p.cell ? `<span class="cell">${esc(p.cell)}</span>` : ""}
       ${esc(state.lang === "it" ? p.message_it : p.message_en)}</li>`).join("")}</ul></section>` : ""}
    <section class="card"><h2>${esc(t("versions"))}</h2>${c.versions.map((v) => `<h3>${esc(t("version"))} ${v.version} · ${when(v.created_at)} ${badge(v.status)}</h3>
      ${v.version > 1 ? (v.changes.length ? `<table><caption class="muted">${esc(t("changes"))}</caption><tbody>${v.changes.map((ch) => `<tr>
        <th scope="row">${esc(c.labels[ch.field]?.label || ch.field)}</th><td><del>${value(ch.before, ch.field)}</del></td><td><ins>${value(ch.after, ch.field)}</ins></td></tr>`).join("")}</tbody></table>`
        : `<p class="muted">${esc(t("no_changes"))}</p>`) : ""}`).join("")}</section>
    <section class="card" id="declared"><h2>${esc(t("values"))}</h2>${declared(c.declared)}</section>`;
  if (c.location) placeMap($("#minimap"), c.location);
  $$("[data-move]", main).forEach((b) => b.addEventListener("click", () => act(b, async () => {
    const reason = $("#move-form [name=reason]")?.value || null;
    await api(`/candidacies/${id}/transitions`, { method: "POST", json: { to: b.dataset.move, reason } });
    notify(t("done"));
    await candidacy(id);
  })));
  const post = (selector, path, json) => $(selector)?.addEventListener("click", (e) => act(e.target, async () => {
    await api(path, { method: "POST", json });
    notify(t("done"));
    await candidacy(id);
  }));
  post("#consent", `/candidacies/${id}/consent`, { consent: !c.publication_consent });
  post("#owner-confirm", `/candidacies/${id}/owner-confirmation`);
  post("#confirm-data", `/candidacies/${id}/confirm`);
}

/* -- the printable site report ------------------------------------------------------------ */

async function report(id) {
  const r = await api(`/sites/${id}/report`);
  const s = r.site;
  const nearest = Object.entries(s.nearest || {}).map(([layer, n]) => ({ layer, ...n }));
  const shown = ["name", "kind", "status", "address", "site_type", "condition", "land_area_m2", "covered_area_m2", "gross_floor_area_m2",
    "useful_height_m", "floors", "year_built", "energy_class", "zoning", "remediation", "availability", "price_eur", "annual_rent_eur",
    "available_from", "rail_siding", "power_kw", "substation", "gas", "industrial_water", "sewer", "fibre", "sectors", "constraints",
    "cadastral_foglio", "cadastral_mappali"];
  const labels = r.labels;
  const site = Object.fromEntries(shown.filter((k) => k in s).map((k) => [k, s[k]]));
  $("#main").innerHTML = `<h1>${esc(t("report"))}: ${esc(s.name)}</h1>
    <p class="noprint"><button type="button" id="print">${esc(t("print"))}</button>
      ${["csv", "xlsx", "geojson"].map((f) => `<a class="button secondary" href="/sites/export?ids=${id}&format=${f}">${esc(t("exports"))} ${f.toUpperCase()}</a>`).join("")}
      ${s.status === "published" ? `<a class="button secondary" href="/sites/${id}/expose.pdf?lang=${state.lang}">${esc(t("expose_pdf"))}</a>` : ""}</p>
    <div class="grid2">
      <section class="card"><h2>${esc(t("facts"))}</h2>${facts(site, labels)}</section>
      <section class="card"><h2>${esc(t("enrichment"))}</h2>
        <dl class="facts"><dt>${esc(t("comune"))}</dt><dd>${esc(s.comune_istat)} · ${esc(t("province"))} ${esc(s.province_code)}</dd>
        ${nearest.map((n) => `<dt>${esc(t(n.layer))}</dt><dd>${esc(n.name || "–")}: ${num(n.km, 1)} ${esc(t("km"))}</dd>`).join("")}
        <dt>${esc(t("zones"))}</dt><dd>${zoneNames(s.zones) || "–"}</dd>
        ${[10, 20, 30].map((k) => `<dt>${esc(t("catchment"))} ${k} km</dt><dd>${num(s[`pop_${k}km`])}</dd>`).join("")}
        <dt>${esc(t("completeness"))}</dt><dd>${num((s.completeness ?? 0) * 100)}%</dd></dl>
        ${r.completeness_missing.length ? `<h3>${esc(t("missing"))}</h3><ul>${r.completeness_missing.map((m) =>
          `<li>${esc(state.lang === "it" ? m.label_it : m.label_en)}</li>`).join("")}</ul>` : ""}
      </section>
    </div>
    ${s.geometry ? `<section class="card"><h2>${esc(t("location"))}</h2><div id="minimap" class="minimap"></div></section>` : ""}
    ${r.audit ? `<section class="card"><h2>${esc(t("history"))}</h2><ol class="timeline">${r.audit.map((e) => `<li><strong>${when(e.occurred_at)}</strong>
      ${esc(e.action)} ${e.to_status ? `→ ${badge(e.to_status)}` : ""} <span class="muted">${esc(t("by"))} ${esc(e.actor)}</span>
      ${e.reason ? `<br><q>${esc(e.reason)}</q>` : ""}</li>`).join("")}</ol></section>` : ""}`;
  if (s.geometry) {
    placeMap($("#minimap"), { point: s.geometry, perimeter: s.perimeter, nearest: [] });
  }
  $("#print").addEventListener("click", () => window.print());
}

/* -- brownfield review ---------------------------------------------------------------------- */

async function runs() {
  const list = await api("/detection/runs");
  $("#main").innerHTML = `<h1>${esc(t("detection"))}</h1>${list.length ? `<table><thead><tr><th scope="col">${esc(t("run"))}</th>
    <th scope="col">${esc(t("started"))}</th><th scope="col">${esc(t("status"))}</th><th scope="col">${esc(t("candidates"))}</th></tr></thead>
    <tbody>${list.map((r) => `<tr><td><a href="#/detection/${r.id}">${esc(t("run"))} ${r.id}</a></td><td>${when(r.started_at)}</td>
      <td>${esc(r.status)}</td><td>${num(r.candidate_count)}</td></tr>`).join("")}</tbody></table>` : `<p class="card">–</p>`}`;
}

const SHARES = new Set(["share_with_signal", "share_in_productive_land", "known_overlap", "persistence"]);

/* The measures staff read first, in words; shares as percentages (docs/detection.md says how to read them). */
function evidence(e) {
  return Object.entries(e || {}).filter(([k, v]) => v != null && typeof v !== "object" && t(`ev.${k}`) !== `ev.${k}`)
    .map(([k, v]) => `${esc(t(`ev.${k}`))}: ${k === "confidence" ? esc(t(`conf.${v}`)) : typeof v === "boolean" ? esc(t(v ? "yes" : "no"))
      : SHARES.has(k) ? `${num(100 * v, 0)}%` : typeof v === "number" ? num(v, 3) : esc(v)}`).join(" · ");
}

async function run(id) {
  const collection = await api(`/detection/runs/${id}/candidates`);
  const features = collection.features;
  const colors = { pending: "#b8541b", confirmed: "#17653f", rejected: "#777" };
  $("#main").innerHTML = `<h1>${esc(t("run"))} ${id}: ${esc(t("candidates"))}</h1>
    <div id="minimap" class="minimap" aria-label="${esc(t("candidates"))}"></div>
    <ol class="candidates">${features.map((f) => {
      const p = f.properties;
      return `<li class="card" data-candidate="${f.id}"><h2>#${f.id} · ${esc(t("score"))} ${num(p.score, 2)} · ${num(p.area_m2)} m²
        <span class="badge ${esc(p.review_status)}">${esc(t(p.review_status))}</span></h2>
        <p><strong>${esc(t("evidence"))}</strong>: ${evidence(p.evidence)}${p.known_site_nearby ? ` · <em>${esc(t("known_site"))}</em>` : ""}</p>
        ${p.review_status === "pending" ? `<form class="inline review">
          <button type="button" data-decision="confirm">${esc(t("confirm"))}</button>
          <label>${esc(t("reject_reason"))}<input name="reason" maxlength="2000"></label>
          <button type="button" class="danger" data-decision="reject">${esc(t("reject"))}</button></form>`
          : `<p class="muted">${esc(t(p.review_status))} ${esc(t("by"))} ${esc(p.reviewed_by || "–")} · ${when(p.reviewed_at)}
            ${p.review_reason ? `: <q>${esc(p.review_reason)}</q>` : ""} ${p.site_id ? `· ${esc(t("site"))} ${p.site_id}` : ""}</p>`}</li>`;
    }).join("")}</ol>`;
  miniMap($("#minimap"), features.map((f) => ({ ...f, properties: { color: colors[f.properties.review_status] } })),
    boundsOf(features.map((f) => f.geometry)));
  $$("[data-decision]").forEach((b) => b.addEventListener("click", () => act(b, async () => {
    const item = b.closest("[data-candidate]");
    const reason = $("[name=reason]", item).value || null;
    await api(`/detection/candidates/${item.dataset.candidate}/review`, { method: "POST", json: { decision: b.dataset.decision, reason } });
    notify(t("done"));
    await run(id);
  })));
}

/* -- stale sites, audit log, administration ------------------------------------------------ */

async function stale() {
  const rows = await api("/freshness/stale");
  $("#main").innerHTML = `<h1>${esc(t("stale"))}</h1><p>${esc(t("stale_intro"))}</p>${rows.length ? `<table><thead><tr>
    <th scope="col">${esc(t("site"))}</th><th scope="col">${esc(t("last_confirmed"))}</th><th scope="col">${esc(t("days"))}</th>
    <th scope="col">${esc(t("remind"))}</th></tr></thead><tbody>${rows.map((r) => `<tr><td><a href="#/candidacies/${r.candidacy_id}">${esc(r.site_name)}</a>
    ${r.due_to_expire ? `<span class="badge expired">${esc(t("due_to_expire"))}</span>` : ""}</td><td>${day(r.last_confirmed_at)}</td>
    <td>${num(r.days_since_confirmed)}</td><td>${esc(r.recipient || "–")}</td></tr>`).join("")}</tbody></table>` : `<p class="card">–</p>`}`;
}

async function audit() {
  const query = params();
  const search = new URLSearchParams({ limit: 100 });
  if (query.get("candidacy")) { search.set("entity_type", "candidacy"); search.set("entity_id", query.get("candidacy")); }
  for (const k of ["actor", "action", "since", "until", "before_id"]) if (query.get(k)) search.set(k, query.get(k));
  const rows = await api(`/audit?${search}`);
  const field = (name, key, type = "text") => `<label>${esc(t(key))}<input name="${name}" type="${type}" value="${esc(query.get(name))}"></label>`;
  $("#main").innerHTML = `<h1>${esc(t("audit"))}</h1><p>${esc(t("audit_intro"))}</p>
    <form id="audit-form" class="inline card">${field("candidacy", "candidacy", "number")}${field("actor", "actor")}${field("action", "action")}
      ${field("since", "from", "date")}${field("until", "to", "date")}<button type="submit">${esc(t("search"))}</button></form>
    <table><thead><tr><th scope="col">${esc(t("when"))}</th><th scope="col">${esc(t("actor"))}</th><th scope="col">${esc(t("action"))}</th>
      <th scope="col">${esc(t("candidacy"))}</th><th scope="col">${esc(t("reason"))}</th></tr></thead>
    <tbody>${rows.map((e) => `<tr><td>${when(e.at)}</td><td>${esc(e.actor)} <span class="muted">${esc(e.actor_role || "")}</span></td>
      <td>${esc(e.action)} ${e.to ? `→ ${esc(e.to)}` : ""}</td><td>${esc(e.entity_type || "")} ${esc(e.entity_id || "")}</td>
      <td>${esc(e.reason || "")}</td></tr>`).join("")}</tbody></table>
    ${rows.length === 100 ? `<p><button type="button" id="more">${esc(t("more"))}</button></p>` : ""}`;
  $("#audit-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const next = new URLSearchParams([...new FormData(event.target)].filter(([, v]) => v));
    location.hash = `#/audit?${next}`;
  });
  $("#more")?.addEventListener("click", () => {
    const next = params();
    next.set("before_id", rows[rows.length - 1].id);
    location.hash = `#/audit?${next}`;
  });
}

async function admin() {
  const [users, keys] = await Promise.all([api("/admin/users"), api("/admin/api-keys")]);
  $("#main").innerHTML = `<h1>${esc(t("admin"))}</h1>
    <h2>${esc(t("users"))}</h2><table><thead><tr><th scope="col">${esc(t("email"))}</th><th scope="col">${esc(t("full_name"))}</th>
      <th scope="col">${esc(t("role"))}</th><th scope="col">${esc(t("tax_id"))}</th><th scope="col">${esc(t("active"))}</th></tr></thead>
    <tbody>${users.map((u) => `<tr><td>${esc(u.email)}</td><td>${esc(u.full_name || "")}</td><td>${esc(u.role)}</td>
      <td>${esc(u.tax_id || "")}</td><td>${t(u.is_active ? "yes" : "no")}</td></tr>`).join("")}</tbody></table>
    <form id="user-form" class="inline card">
      <label>${esc(t("email"))}<input name="email" type="email" required></label>
      <label>${esc(t("password"))}<input name="password" type="password" minlength="12" autocomplete="new-password" required></label>
      <label>${esc(t("role"))}<select name="role"><option>proponent</option><option>staff</option><option>admin</option></select></label>
      <label>${esc(t("full_name"))}<input name="full_name"></label><label>${esc(t("tax_id"))}<input name="tax_id"></label>
      <button type="submit">${esc(t("create"))}</button></form>
    <h2>${esc(t("api_keys"))}</h2><table><thead><tr><th scope="col">${esc(t("name_key"))}</th><th scope="col">prefix</th>
      <th scope="col">${esc(t("when"))}</th><th scope="col">${esc(t("revoke"))}</th></tr></thead>
    <tbody>${keys.map((k) => `<tr><td>${esc(k.name)}</td><td>${esc(k.prefix)}</td><td>${day(k.created_at)}</td>
      <td>${k.revoked_at ? day(k.revoked_at) : `<button type="button" class="danger" data-revoke="${esc(k.prefix)}">${esc(t("revoke"))}</button>`}</td></tr>`).join("")}</tbody></table>
    <form id="key-form" class="inline card"><label>${esc(t("name_key"))}<input name="name" required maxlength="100"></label>
      <button type="submit">${esc(t("create"))}</button></form><p id="new-key" aria-live="polite"></p>`;
  $("#user-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = Object.fromEntries([...new FormData(event.target)].filter(([, v]) => v));
    act(event.submitter, async () => { await api("/admin/users", { method: "POST", json: body }); notify(t("done")); await admin(); });
  });
  $("#key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(event.submitter, async () => {
      const created = await api("/admin/api-keys", { method: "POST", json: Object.fromEntries(new FormData(event.target)) });
      await admin();
      $("#new-key").innerHTML = `${esc(t("key_once"))} <code>${esc(created.key)}</code>`;
    });
  });
  $$("[data-revoke]").forEach((b) => b.addEventListener("click", () => act(b, async () => {
    await api(`/admin/api-keys/${b.dataset.revoke}`, { method: "DELETE" });
    await admin();
  })));
}

/* -- unmet demand ---------------------------------------------------------------------------- */

async function demand() {
  const query = params();
  const search = new URLSearchParams([...query].filter(([k, v]) => v && ["since", "until", "activity", "province"].includes(k)));
  const r = await api(`/analytics/demand?${search}`);
  const field = (name, key, type = "text", extra = "") => `<label>${esc(t(key))}<input name="${name}" type="${type}" ${extra}
    value="${esc(query.get(name))}"></label>`;
  const table = (rows, columns) => rows.length ? `<table><thead><tr>${columns.map(([, key]) => `<th scope="col">${esc(t(key))}</th>`).join("")}</tr></thead>
    <tbody>${rows.map((row) => `<tr>${columns.map(([name, , show]) => `<td>${show ? show(row[name]) : esc(row[name])}</td>`).join("")}</tr>`).join("")}</tbody></table>`
    : `<p class="muted">–</p>`;
  $("#main").innerHTML = `<h1>${esc(t("demand"))}</h1><p>${esc(t("demand_intro"))}</p>
    <form id="demand-form" class="inline card">${field("since", "from", "date")}${field("until", "to", "date")}
      ${field("activity", "activity", "text", 'maxlength="64"')}${field("province", "province", "text", 'maxlength="2" pattern="[A-Za-z]{2}"')}
      <button type="submit">${esc(t("search"))}</button>
      <a class="button secondary" href="/analytics/demand.csv?${search}">${esc(t("export_csv"))}</a></form>
    <section class="card"><h2>${esc(t("searches"))}</h2>${table(r.groups, [["month", "month"], ["activity", "activity"],
      ["province", "province", (p) => esc(p === "*" ? t("all_provinces") : p)], ["searches", "searches", num],
      ["no_result", "no_result", num], ["few_results", "few_results", num]])}</section>
    <section class="card"><h2>${esc(t("blocking"))}</h2>${table(r.blocking, [["activity", "activity"], ["failed", "failed"],
      ["searches", "searches", num], ["share", "share", (v) => `${num(v * 100)}%`]])}</section>
    <section class="card"><h2>${esc(t("nearest_misses"))}</h2>${table(r.nearest, [["activity", "activity"], ["criterion", "criterion"],
      ["searches", "searches", num], ["median_found", "median_found", (v) => num(v, 1)], ["median_asked", "median_asked", (v) => num(v, 1)]])}</section>`;
  $("#demand-form").addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = `#/demand?${new URLSearchParams([...new FormData(event.target)].filter(([, v]) => v))}`;
  });
}

/* -- standing enquiries ------------------------------------------------------------------------ */

async function enquiries() {
  const [list, presets] = await Promise.all([api("/enquiries"), api("/match/presets")]);
  $("#main").innerHTML = `<h1>${esc(t("enquiries"))}</h1>
    ${list.length ? `<table><thead><tr><th scope="col">${esc(t("enquiry"))}</th><th scope="col">${esc(t("investor_ref"))}</th>
      <th scope="col">${esc(t("status"))}</th><th scope="col">${esc(t("alerts"))}</th><th scope="col">${esc(t("when"))}</th></tr></thead>
      <tbody>${list.map((e) => `<tr><td><a href="#/enquiries/${e.id}">${esc(e.name)}</a></td><td>${esc(e.investor_ref || "")}</td>
        <td>${esc(t(e.status))}${e.outcome ? ` · ${esc(t(`outcomes.${e.outcome}`))}` : ""}</td><td>${num(e.alerts)}</td>
        <td>${day(e.created_at)}</td></tr>`).join("")}</tbody></table>` : `<p class="card">–</p>`}
    <h2>${esc(t("create"))}</h2>
    <form id="enquiry-form" class="card">
      <label>${esc(t("name"))}<input name="name" required maxlength="200"></label>
      <label>${esc(t("investor_ref"))}<input name="investor_ref" maxlength="200"></label>
      <label>${esc(t("contact"))}<input name="contact" maxlength="500"></label>
      <label>${esc(t("activity"))}<select name="activity"><option value="">–</option>${presets.map((p) =>
        `<option value="${esc(p.name)}">${esc(state.lang === "it" ? p.label_it : p.label_en)}</option>`).join("")}</select></label>
      <label>${esc(t("criteria_json"))}<textarea name="criteria">{}</textarea></label>
      <button type="submit">${esc(t("create"))}</button></form>`;
  $("#enquiry-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(event.target));
    act(event.submitter, async () => {
      let criteria;
      try { criteria = JSON.parse(data.criteria || "{}"); } catch (e) { throw new Error(`${t("criteria_json")}: ${e.message}`); }
      const requirement = { ...criteria, ...(data.activity ? { activity: data.activity } : {}) };
      const created = await api("/enquiries", { method: "POST", json: { name: data.name, investor_ref: data.investor_ref || null,
        contact: data.contact || null, requirement } });
      location.hash = `#/enquiries/${created.id}`;
    });
  });
}

async function enquiry(id) {
  const e = await api(`/enquiries/${id}`);
  $("#main").innerHTML = `<h1>${esc(t("enquiry"))}: ${esc(e.name)}</h1>
    <div class="card"><dl class="facts"><dt>${esc(t("investor_ref"))}</dt><dd>${esc(e.investor_ref || "–")}</dd>
      <dt>${esc(t("contact"))}</dt><dd>${esc(e.contact || "–")}</dd><dt>${esc(t("status"))}</dt>
      <dd>${esc(t(e.status))}${e.outcome ? ` · ${esc(t(`outcomes.${e.outcome}`))}` : ""}</dd></dl>
      <pre>${esc(JSON.stringify(e.requirement, null, 2))}</pre></div>
    <h2>${esc(t("alerts"))}</h2>${e.alert_list.length ? `<p class="noprint"><a id="compare" class="button secondary" aria-disabled="true">${esc(t("compare_pdf"))}</a>
      <span class="muted" id="compare-hint">${esc(t("pick_sites"))}</span></p>
      <ol class="candidates">${e.alert_list.map((a) => `<li class="card" data-alert="${a.id}">
      <h3><label class="inline"><input type="checkbox" name="compare" value="${a.site_id}"> ${esc(t("compare_site"))}</label>
        <a href="#/sites/${a.site_id}/report">${esc(t("site"))} ${a.site_id}</a> · ${esc(t(`states.${a.state}`))} · ${esc(t("score"))} ${num(a.score, 1)}
        <span class="muted">${when(a.created_at)}</span></h3>
      <ul>${a.reasons.map((c) => `<li>${c.passed ? "✓" : "✗"} ${esc(state.lang === "it" ? c.reason_it : c.reason)}</li>`).join("")}</ul></li>`).join("")}</ol>`
      : `<p class="card">${esc(t("no_alerts"))}</p>`}
    ${e.status === "open" ? `<form id="close-form" class="inline card"><label>${esc(t("outcome"))}<select name="outcome">
      ${["site_proposed", "visited", "chosen", "lost"].map((o) => `<option value="${o}">${esc(t(`outcomes.${o}`))}</option>`).join("")}</select></label>
      <button type="submit">${esc(t("close_with"))}</button></form>` : ""}`;
  const picked = () => [...new Set([...document.querySelectorAll("[name=compare]:checked")].map((c) => c.value))];
  document.querySelectorAll("[name=compare]").forEach((box) => box.addEventListener("change", () => {
    const ids = picked();
    const link = $("#compare");
    const ready = ids.length >= 2 && ids.length <= 5;
    link.setAttribute("aria-disabled", String(!ready));
    if (ready) link.href = `/enquiries/${id}/comparison.pdf?ids=${ids.join(",")}&lang=${state.lang}`;
    else link.removeAttribute("href");
  }));
  $("#close-form")?.addEventListener("submit", (event) => {
    event.preventDefault();
    act(event.submitter, async () => {
      await api(`/enquiries/${id}/close`, { method: "POST", json: Object.fromEntries(new FormData(event.target)) });
      notify(t("done"));
      await enquiry(id);
    });
  });
}

export const PAGES = { candidacy, report, runs, run, stale, audit, admin, demand, enquiries, enquiry };
