/* The desk: sign-in, the owner's and delegate's candidacies and upload, the staff inbox,
   and the router that shows each page. Pages for one candidacy, the site report, brownfield
   review, stale sites, the audit log and administration live in desk-pages.js. */

import { choices, csrfToken } from "./client.js";
import { $, $$, act, api, badge, day, download, esc, isStaff, label, notify, params, state, t } from "./desk-core.js";
import { PAGES } from "./desk-pages.js";

const PAGE_SIZE = 50;

/* -- frame: language, navigation, routing ------------------------------------------------ */

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.title = `Opportunity Lombardy · ${state.lang === "it" ? "sportello" : "desk"}`;
  $("#lang").textContent = state.lang === "it" ? "EN" : "IT";
  $("#lang").setAttribute("aria-label", state.lang === "it" ? "EN: English version" : "IT: versione italiana");
  $("#skip").textContent = t("skip");
  $("#map-link").textContent = t("map");
  $("#map-link").href = `/map?lang=${state.lang}`;
  $("#signout").textContent = t("signout");
  $("#nav").setAttribute("aria-label", t("menu"));
}

function navigation() {
  const me = state.me;
  $("#who").textContent = me ? `· ${me.email} (${me.role})` : "";
  $("#signout").hidden = !me;
  const links = !me ? [["#/signin", "signin"]]
    : isStaff() ? [["#/candidacies", "inbox"], ["#/detection", "detection"], ["#/enquiries", "enquiries"], ["#/demand", "demand"], ["#/stale", "stale"],
      ["#/audit", "audit"],
      ...(me.role === "admin" ? [["#/admin", "admin"]] : []), ["#/account", "account"]]
      : [["#/candidacies", "mine"], ["#/new", "new"], ["#/account", "account"]];
  $("#nav").innerHTML = links.map(([href, key]) => `<a href="${href}">${esc(t(key))}</a>`).join("");
  const current = location.hash.split("?")[0] || "#/";
  $$("#nav a").forEach((a) => { if (current.startsWith(a.getAttribute("href"))) a.setAttribute("aria-current", "page"); });
}

const ROUTES = [
  [/^#\/signin$/, () => signIn()],
  [/^#\/account$/, () => account()],
  [/^#\/new$/, () => newCandidacy()],
  [/^#\/candidacies$/, () => candidacies()],
  [/^#\/candidacies\/(\d+)$/, (id) => PAGES.candidacy(+id)],
  [/^#\/sites\/(\d+)\/report$/, (id) => PAGES.report(+id)],
  [/^#\/detection$/, () => PAGES.runs()],
  [/^#\/detection\/(\d+)$/, (id) => PAGES.run(+id)],
  [/^#\/stale$/, () => PAGES.stale()],
  [/^#\/demand$/, () => PAGES.demand()],
  [/^#\/enquiries$/, () => PAGES.enquiries()],
  [/^#\/enquiries\/(\d+)$/, (id) => PAGES.enquiry(+id)],
  [/^#\/audit$/, () => PAGES.audit()],
  [/^#\/admin$/, () => PAGES.admin()],
];

export async function route() {
  const hash = location.hash.split("?")[0];
  if (!state.me && hash !== "#/signin") { location.hash = "#/signin"; return; }
  if (state.me && (hash === "" || hash === "#/" || hash === "#/signin")) { location.hash = "#/candidacies"; return; }
  navigation();
  const main = $("#main");
  main.setAttribute("aria-busy", "true");
  try {
    const match = ROUTES.map(([re, view]) => [hash.match(re), view]).find(([m]) => m);
    if (match) await match[1](...match[0].slice(1));
    else main.innerHTML = `<h1>${esc(t("not_found"))}</h1>`;
  } catch (error) {
    main.innerHTML = `<h1>${esc(t("error"))}</h1><p role="alert">${esc(error.message)}</p>`;
  } finally {
    main.removeAttribute("aria-busy");
    document.body.dataset.page = hash.replace(/\d+/g, "N");
    (main.querySelector("h1") || main).setAttribute("tabindex", "-1");
    (main.querySelector("h1") || main).focus({ preventScroll: false });
  }
}


/* -- sign-in and account ------------------------------------------------------------------ */

function signIn() {
  $("#main").innerHTML = `<h1>${esc(t("signin"))}</h1><p>${esc(t("signin_intro"))}</p>
    <form id="signin-form" class="card">
      <label>${esc(t("email"))}<input name="email" type="email" autocomplete="username" required></label>
      <label>${esc(t("password"))}<input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">${esc(t("signin_go"))}</button>
    </form>`;
  $("#signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(event.target));
    act(event.submitter, async () => {
      await api("/auth/session", { method: "POST", json: data });
      state.me = await api("/auth/me");
      location.hash = "#/candidacies";
    });
  });
}

async function account() {
  const me = state.me = await api("/auth/me");
  const r = me.registry;
  const natures = Object.entries(state.vocabulary.legal_nature || {});
  $("#main").innerHTML = `<h1>${esc(t("account"))}</h1>
    <div class="card"><dl class="facts">
      <dt>${esc(t("email"))}</dt><dd>${esc(me.email)}</dd><dt>${esc(t("role"))}</dt><dd>${esc(me.role)}</dd>
      ${me.tax_id ? `<dt>${esc(t("tax_id"))}</dt><dd>${esc(me.tax_id)}</dd>` : ""}</dl></div>
    ${me.role === "proponent" ? `<h2>${esc(t("registry"))}</h2>${r ? `<form id="registry-form" class="card">
      <label>${esc(t("name"))}<input name="name" value="${esc(r.proponent_name)}" required maxlength="300"></label>
      <label>${esc(t("legal_nature"))}<select name="legal_nature">${natures.map(([code, l]) =>
        `<option value="${esc(code)}" ${code === r.proponent_legal_nature ? "selected" : ""}>${esc(l[state.lang])}</option>`).join("")}</select></label>
      <label>${esc(t("email"))}<input name="email" type="email" value="${esc(r.proponent_email)}"></label>
      <label>${esc(t("phone"))}<input name="phone" type="tel" value="${esc(r.proponent_phone)}"></label>
      <button type="submit">${esc(t("save"))}</button></form>` : `<p class="card">${esc(t("registry_none"))}</p>`}` : ""}
    <h2>${esc(t("change_password"))}</h2>
    <form id="password-form" class="card">
      <label>${esc(t("current_password"))}<input name="current_password" type="password" autocomplete="current-password" required></label>
      <label>${esc(t("new_password"))}<input name="new_password" type="password" autocomplete="new-password" minlength="12" required></label>
      <button type="submit">${esc(t("change_password"))}</button></form>`;
  $("#registry-form")?.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = Object.fromEntries([...new FormData(event.target)].filter(([, v]) => v !== ""));
    act(event.submitter, async () => { await api("/auth/me/registry", { method: "PATCH", json: data }); notify(t("done")); });
  });
  $("#password-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(event.submitter, async () => {
      await api("/auth/password", { method: "POST", json: Object.fromEntries(new FormData(event.target)) });
      event.target.reset();
      notify(t("password_changed"));
    });
  });
}

/* -- candidacies: the proponent's own list, the staff inbox --------------------------------- */

function nextStep(c) {
  if (c.status === "validated" && c.publication_consent) return t("step.validated_consent");
  return t(`step.${c.status}`);
}

async function candidacies() {
  const query = params();
  const staff = isStaff();
  const sort = query.get("sort") || (staff ? "submitted_at" : "id");
  const order = query.get("order") || "desc";
  const offset = +(query.get("offset") || 0);
  const search = new URLSearchParams({ current: "true", sort, order, limit: PAGE_SIZE, offset });
  for (const key of ["status", "province", "kind", "site_type", "delegated", "submitted_from", "submitted_to", "stale", "possible_duplicates"]) {
    if (query.get(key)) search.set(key, query.get(key));
  }
  const [response, counts] = await Promise.all([
    api(`/candidacies?${search}`, { as: "response" }), api("/candidacies/counts")]);
  const rows = await response.json();
  const total = +response.headers.get("X-Total-Count");
  const main = $("#main");
  const tab = (key, value, text, n) => `<button type="button" data-tab="${key}=${value}"
      aria-pressed="${(key ? query.get(key) === value : !["status", "stale", "possible_duplicates"].some((k) => query.get(k)))}">
      ${esc(text)} (${n ?? 0})</button>`;
  const all = Object.entries(counts).filter(([k]) => k in (state.vocabulary.status || {})).reduce((s, [, n]) => s + n, 0);
  const tabs = [tab("", "", t("all"), all),
    ...Object.keys(state.vocabulary.status || {}).filter((s) => counts[s]).map((s) => tab("status", s, label("status", s), counts[s])),
    ...(staff ? [tab("stale", "true", t("stale_tab"), counts.stale), tab("possible_duplicates", "true", t("duplicates_tab"), counts.possible_duplicates)] : [])];
  const head = (key, text) => key ? `<th scope="col" aria-sort="${sort === key ? (order === "asc" ? "ascending" : "descending") : "none"}">
      <button type="button" data-sort="${key}">${esc(text)}</button></th>` : `<th scope="col">${esc(text)}</th>`;
  main.innerHTML = `<h1>${esc(t(staff ? "inbox" : "mine"))}</h1>
    ${staff ? "" : `<p><a class="button" href="#/new">${esc(t("new"))}</a></p>`}
    <div class="tabs" role="group" aria-label="${esc(t("status"))}">${tabs.join("")}</div>
    ${staff ? `<form id="inbox-filters" class="inline card">
      <label>${esc(t("province"))}<select name="province"><option value="">${esc(t("any"))}</option>
        ${choices(state.vocabulary, state.lang, "province").map(([code, name]) =>
          `<option value="${esc(code)}" ${query.get("province") === code ? "selected" : ""}>${esc(name)}</option>`).join("")}</select></label>
      <label>${esc(t("kind"))}<select name="kind"><option value="">${esc(t("any"))}</option>
        ${["A", "B"].map((k) => `<option value="${k}" ${query.get("kind") === k ? "selected" : ""}>${esc(t(`kind_${k}`))}</option>`).join("")}</select></label>
      <label>${esc(t("site_type"))}<select name="site_type"><option value="">${esc(t("any"))}</option>
        ${Object.entries(state.vocabulary.site_type || {}).map(([code, l]) => `<option value="${esc(code)}" ${query.get("site_type") === code ? "selected" : ""}>${esc(l[state.lang])}</option>`).join("")}</select></label>
      <label>${esc(t("delegate"))}<select name="delegated"><option value="">${esc(t("any"))}</option>
        <option value="true" ${query.get("delegated") === "true" ? "selected" : ""}>${esc(t("yes"))}</option>
        <option value="false" ${query.get("delegated") === "false" ? "selected" : ""}>${esc(t("no"))}</option></select></label>
      <label>${esc(t("submitted"))} · ${esc(t("from"))}<input type="date" name="submitted_from" value="${esc(query.get("submitted_from"))}"></label>
      <label>${esc(t("to"))}<input type="date" name="submitted_to" value="${esc(query.get("submitted_to"))}"></label>
      <button type="submit">${esc(t("filter"))}</button><button type="reset" class="secondary">${esc(t("clear"))}</button>
    </form>` : ""}
    ${rows.length ? `<table id="candidacy-table"><caption class="muted">${offset + 1}–${offset + rows.length} ${esc(t("of"))} ${total}</caption>
      <thead><tr>${head("site_name", t("site"))}${head("province", t("province"))}${head("", t("kind"))}${head("status", t("status"))}
        ${head("", t("version"))}${head("submitted_at", t("submitted"))}${head("", t("last_confirmed"))}
        ${staff ? head("", t("delegate")) : head("", t("next_step"))}</tr></thead>
      <tbody>${rows.map((c) => `<tr data-id="${c.id}">
        <td><a href="#/candidacies/${c.id}">${esc(c.site_name || `#${c.id}`)}</a>${c.possible_duplicate_of ? ` <span class="badge warning">${esc(t("duplicates_tab"))}</span>` : ""}</td>
        <td>${esc(c.comune || "")} ${c.province ? `(${esc(c.province)})` : ""}</td><td>${esc(c.kind)}</td><td>${badge(c.status)}</td>
        <td>${c.version}</td><td>${day(c.submitted_at)}</td><td>${day(c.last_confirmed_at)}</td>
        <td>${staff ? esc(c.proponent_role === "delegato" ? t("yes") : "") : esc(nextStep(c))}</td></tr>`).join("")}</tbody></table>
      <nav class="pager" aria-label="${esc(t("next"))}">
        <button type="button" data-offset="${Math.max(offset - PAGE_SIZE, 0)}" ${offset ? "" : "disabled"}>${esc(t("previous"))}</button>
        <button type="button" data-offset="${offset + PAGE_SIZE}" ${offset + rows.length < total ? "" : "disabled"}>${esc(t("next"))}</button>
      </nav>` : `<p class="card">${esc(t("none"))}</p>`}`;
  const go = (changes) => {
    const next = params();
    for (const [k, v] of Object.entries(changes)) { if (v === "" || v == null) next.delete(k); else next.set(k, v); }
    location.hash = `#/candidacies?${next}`;
  };
  $$("[data-tab]", main).forEach((b) => b.addEventListener("click", () => {
    const [key, value] = b.dataset.tab.split("=");
    go({ status: "", stale: "", possible_duplicates: "", offset: "", ...(key ? { [key]: value } : {}) });
  }));
  $$("[data-sort]", main).forEach((b) => b.addEventListener("click", () =>
    go({ sort: b.dataset.sort, order: sort === b.dataset.sort && order === "desc" ? "asc" : "desc", offset: "" })));
  $$("[data-offset]", main).forEach((b) => b.addEventListener("click", () => go({ offset: b.dataset.offset })));
  $("#inbox-filters")?.addEventListener("submit", (event) => {
    event.preventDefault();
    go({ ...Object.fromEntries(new FormData(event.target)), offset: "" });
  });
  $("#inbox-filters")?.addEventListener("reset", () => setTimeout(() => go(
    { province: "", kind: "", site_type: "", delegated: "", submitted_from: "", submitted_to: "", offset: "" })));
  document.body.dataset.inboxRows = rows.length;
}

/* -- a new candidacy or a new version: template, upload, report, submit -------------------- */

function problemList(report) {
  const groups = new Map();
  for (const p of report.problems) {
    const section = state.lang === "it" ? p.section : p.section_en;
    const key = `${p.sheet || "–"} · ${section || (state.lang === "it" ? "Generale" : "General")}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(p);
  }
  return [...groups].map(([group, problems]) => `<h3>${esc(group)}</h3><ul class="problems">${problems.map((p) => `<li data-cell="${esc(p.cell || "")}">
      <span class="badge ${esc(p.severity)}">${esc(t(p.severity))}</span>
      ${p.cell ? `<span class="cell">${esc(t("cell"))} ${esc(p.cell)}</span>` : ""} ${p.label ? `<strong>${esc(p.label)}</strong>` : ""}:
      ${esc(state.lang === "it" ? p.message_it : p.message_en)}
      ${p.found != null ? `<br><span class="muted">${esc(t("found"))}: «${esc(p.found)}»</span>` : ""}
      ${p.expected ? ` <span class="muted">${esc(t("expected"))}: ${esc(state.lang === "it" ? p.expected_it ?? p.expected : p.expected)}</span>` : ""}</li>`).join("")}</ul>`).join("");
}

function reportSummary(report) {
  if (report.errors) return t("report_errors", report.errors, report.warnings);
  return report.warnings ? t("report_warnings", report.warnings) : t("report_ok");
}

function newCandidacy() {
  const main = $("#main");
  main.innerHTML = `<h1>${esc(t("new"))}</h1><p>${esc(t("new_intro"))}</p>
    <div class="card"><form class="inline" id="template-form">
      <label>${esc(t("template_kind"))}<select name="kind"><option value="A">${esc(t("kind_A"))}</option><option value="B">${esc(t("kind_B"))}</option></select></label>
      <a class="button" id="template-link" href="/intake/template?kind=A" download>${esc(t("download_template"))}</a></form></div>
    <div class="card drop" id="drop"><p>${esc(t("drop"))}</p>
      <label>${esc(t("choose_file"))}<input type="file" id="file" accept=".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"></label></div>
    <section id="result" aria-live="polite"></section>`;
  $("#template-form [name=kind]").addEventListener("change", (e) => { $("#template-link").href = `/intake/template?kind=${e.target.value}`; });
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files[0]) check(e.dataTransfer.files[0]); });
  $("#file").addEventListener("change", (e) => { if (e.target.files[0]) check(e.target.files[0]); });
}

async function check(file) {
  const result = $("#result");
  result.innerHTML = `<p>${esc(t("checking"))}</p>`;
  const form = () => { const f = new FormData(); f.append("file", file, file.name); return f; };
  let report;
  try {
    report = await api("/intake/validate", { method: "POST", form: form() });
  } catch (error) {
    result.innerHTML = `<p role="alert" class="card">${esc(error.message)}</p>`;
    return;
  }
  result.innerHTML = `<h2>${esc(file.name)}</h2><p id="report-summary" class="message">${esc(reportSummary(report))}</p>
    ${problemList(report)}
    <p>${report.problems.length ? `<button type="button" class="secondary" id="annotated">${esc(t("annotated"))}</button>` : ""}
      ${report.ok ? `<button type="button" class="secondary" id="save-draft">${esc(t("save_draft"))}</button>
      <button type="button" id="submit">${esc(t("submit"))}</button>` : ""}</p>`;
  $("#annotated")?.addEventListener("click", (e) => act(e.target, async () =>
    download(await api("/intake/validate/annotated", { method: "POST", form: form(), as: "blob" }),
      file.name.replace(/\.xlsx$/i, "") + "-verificato.xlsx")));
  const store = (draft) => async (e) => act(e.target, async () => {
    const outcome = await api(`/intake/candidacies${draft ? "?draft=true" : ""}`, { method: "POST", form: form() });
    notify(outcome.duplicate ? t("duplicate_file") : t("stored", outcome.version));
    location.hash = `#/candidacies/${outcome.candidacy_id}`;
  });
  $("#save-draft")?.addEventListener("click", store(true));
  $("#submit")?.addEventListener("click", store(false));
}

/* -- start -------------------------------------------------------------------------------- */

async function start() {
  const wanted = new URLSearchParams(location.search).get("lang");
  state.lang = wanted === "en" || wanted === "it" ? wanted : (navigator.language || "it").startsWith("it") ? "it" : "en";
  applyLanguage();
  $("#lang").addEventListener("click", () => { state.lang = state.lang === "it" ? "en" : "it"; applyLanguage(); route(); });
  $("#signout").addEventListener("click", (e) => act(e.target, async () => {
    await api("/auth/session", { method: "DELETE" });
    state.me = null;
    notify(t("signed_out"));
    location.hash = "#/signin";
    navigation();
  }));
  const session = csrfToken() !== null;
  const [vocabulary, me] = await Promise.all([
    api("/vocabulary"), session ? api("/auth/me", { quiet401: true }).catch(() => null) : null]);
  state.vocabulary = vocabulary;
  state.me = me;
  window.addEventListener("hashchange", route);
  window.deskRoute = route;  // the browser tests reopen the current page with it
  await route();
  document.body.dataset.ready = "true";
}

start();
