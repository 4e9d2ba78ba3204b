/* The desk's foundations: texts in Italian and English, the shared API client (client.js)
   with the desk's handling of an ended session, formatting, and small DOM helpers. Every
   rule (who may do what, what a workbook must hold) stays in the service: pages only show
   what the API answers. */
import { escape, formatNumber, request, serviceSources, vocabularyLabel } from "./client.js";


export const TEXT = {
  it: {
    skip: "Vai al contenuto", map: "Mappa", signout: "Esci", menu: "Menu",
    signin: "Accesso", email: "E-mail", password: "Password", signin_go: "Entra",
    signin_intro: "Proprietari, delegati e personale di Invest in Lombardy accedono con l'account ricevuto dall'agenzia.",
    mine: "Le mie candidature", new: "Nuova candidatura", account: "Account", inbox: "Candidature",
    detection: "Aree dismesse rilevate", stale: "Siti da confermare", audit: "Registro attività", admin: "Account e chiavi API",
    status: "Stato", version: "Versione", site: "Sito", comune: "Comune", province: "Provincia", kind: "Tipo",
    site_type: "Tipologia", submitted: "Inviata il", last_confirmed: "Ultima conferma", next_step: "Prossimo passo",
    delegate: "Delegato", any: "Tutti", yes: "Sì", no: "No", filter: "Filtra", clear: "Azzera",
    from: "Dal", to: "Al", previous: "Precedenti", next: "Successive", of: "di", none: "Nessuna candidatura.",
    all: "Tutte", stale_tab: "Da confermare", duplicates_tab: "Possibili duplicati", loading: "Caricamento…",
    kind_A: "A · area e/o immobile", kind_B: "B · progetto di investimento",
    step: {
      draft: "Inviare la candidatura (o caricare una versione corretta).",
      submitted: "In attesa della verifica dell'agenzia.",
      changes_requested: "Correggere come richiesto e caricare una nuova versione.",
      validated: "Validata: serve il nulla osta del proprietario per la pubblicazione.",
      validated_consent: "Validata: l'agenzia può pubblicarla.",
      published: "Pubblicata: confermare ogni anno che i dati sono ancora validi.",
      withdrawn: "Ritirata: caricare una nuova versione per riproporla.",
      expired: "Scaduta: confermare i dati o caricare una nuova versione.",
    },
    new_intro: "1. Scaricare il modello (già compilato con i dati anagrafici noti). 2. Compilarlo. 3. Caricarlo qui: il controllo è immediato.",
    download_template: "Scarica il modello", template_kind: "Tipo di candidatura",
    drop: "Trascinare qui il file Excel compilato, oppure sceglierlo:", choose_file: "File della candidatura (.xlsx)",
    checking: "Controllo in corso…", report_ok: "Nessun errore: la candidatura può essere inviata.",
    report_errors: (e, w) => `${e} errori bloccanti, ${w} avvisi: correggere il file e caricarlo di nuovo.`,
    report_warnings: (w) => `Nessun errore bloccante, ${w} avvisi da leggere.`,
    annotated: "Scarica il file con i problemi evidenziati", save_draft: "Salva come bozza", submit: "Invia la candidatura",
    error: "Errore", warning: "Avviso", cell: "Cella", found: "Trovato", expected: "Atteso", sheet: "Foglio",
    stored: (v) => `Candidatura registrata (versione ${v}).`, duplicate_file: "Questo file era già stato caricato: nulla è cambiato.",
    values: "Dati dichiarati", warnings: "Avvisi", location: "Posizione", timeline: "Cronologia", versions: "Versioni",
    changes: "Modifiche rispetto alla versione precedente", no_changes: "Nessuna modifica ai dati.",
    messages: "Messaggi dell'agenzia", actions: "Azioni", reason: "Motivazione (la leggerà il proponente)",
    move: { submitted: "Invia", validated: "Valida", changes_requested: "Richiedi modifiche", published: "Pubblica",
      withdrawn: "Ritira", expired: "Fai scadere", draft: "Riporta in bozza" },
    consent_grant: "Concedi il nulla osta alla pubblicazione", consent_withdraw: "Revoca il nulla osta",
    consent_yes: "Il proprietario ha concesso il nulla osta alla pubblicazione.",
    consent_no: "Il proprietario non ha concesso il nulla osta alla pubblicazione.",
    consent_owner_only: "Il nulla osta può darlo solo il proprietario, dal proprio account.",
    publish_blocked: "Pubblicazione non possibile: manca il nulla osta del proprietario.",
    owner_confirm: "Confermo i dati dichiarati dal delegato", owner_confirmed: "Il proprietario ha confermato i dati dichiarati dal delegato.",
    owner_unconfirmed: "Il proprietario non ha ancora confermato i dati dichiarati dal delegato.",
    confirm_data: "Confermo che i dati sono ancora validi", upload_new: "Carica una versione corretta",
    report: "Scheda del sito", on_map: "Vedi sulla mappa", done: "Fatto.",
    relation: { owner: "Lei è il proprietario.", delegate: "Lei è il delegato.", staff: "Personale" },
    nearest: "Più vicini (in linea d'aria)", zones: "Zone", airport: "Aeroporto", railway_station: "Stazione",
    motorway_exit: "Casello autostradale", km: "km",
    account_intro: "Dati del suo account.", role: "Ruolo", tax_id: "Codice fiscale / P. IVA",
    registry: "Dati anagrafici (precompilano il prossimo modello)", registry_none: "Saranno registrati con il primo caricamento.",
    name: "Denominazione o nome e cognome", legal_nature: "Natura giuridica", pec: "PEC", phone: "Telefono", save: "Salva",
    change_password: "Cambia password", current_password: "Password attuale", new_password: "Nuova password (almeno 12 caratteri)",
    password_changed: "Password cambiata: le altre sessioni sono state chiuse.",
    facts: "Caratteristiche", enrichment: "Calcolato dal servizio", catchment: "Popolazione entro",
    completeness: "Completezza dei dati", missing: "Manca", history: "Storia della candidatura", print: "Stampa / PDF",
    exports: "Esporta", area: "Superficie (m²)", score: "Punteggio", evidence: "Indizi", review: "Esame",
    confirm: "Conferma (diventa bozza di sito)", reject: "Respingi", reject_reason: "Perché si respinge",
    pending: "da esaminare", confirmed: "confermato", rejected: "respinto", by: "da", runs: "Elaborazioni",
    candidates: "Candidati", run: "Elaborazione", started: "Avviata", known_site: "vicino a un sito già noto",
    stale_intro: "Siti pubblicati non confermati da oltre un anno: i proponenti ricevono un promemoria.",
    days: "giorni", remind: "Destinatario del promemoria", due_to_expire: "in scadenza",
    audit_intro: "Ogni azione registrata: chi, quando, su cosa, perché.", candidacy: "Candidatura", actor: "Chi",
    action: "Azione", when: "Quando", search: "Cerca", more: "Altri",
    users: "Account", api_keys: "Chiavi API", create: "Crea", name_key: "Nome del frontend", revoke: "Revoca",
    key_once: "Chiave (mostrata una volta sola):", full_name: "Nome", active: "Attivo",
    signed_out: "Uscito.", session_over: "La sessione è terminata: accedere di nuovo.", unreachable: "Il servizio non risponde; riprovare.",
    not_found: "Pagina non trovata.", staff_area: "Area riservata al personale.",
    demand: "Domanda non soddisfatta", demand_intro: "Ricerche degli investitori con nessun risultato o pochi (meno di 3), e i criteri che le hanno lasciate senza siti: cosa manca al catalogo.",
    month: "Mese", activity: "Attività", searches: "Ricerche", no_result: "Senza risultati", few_results: "Con pochi risultati",
    blocking: "Cosa ha escluso il sito più vicino (ricerche senza risultati)", failed: "Criteri non soddisfatti", share: "Quota",
    nearest_misses: "Quanto era lontano il sito più vicino", criterion: "Criterio", median_found: "Trovato (mediana)",
    median_asked: "Richiesto (mediana)", export_csv: "Esporta CSV", all_provinces: "tutte",
    enquiries: "Richieste aperte", enquiry: "Richiesta", investor_ref: "Riferimento investitore",
    contact: "Contatto (resta riservato)", criteria_json: "Altri criteri (JSON, es. {\"max_motorway_km\": 5})",
    alerts: "Avvisi", no_alerts: "Nessun sito è ancora arrivato a soddisfarla.", close_with: "Chiudi con esito",
    expose_pdf: "Scheda per investitori (PDF)", compare_pdf: "Confronto in PDF dei siti scelti", pick_sites: "Scegliere da 2 a 5 siti da confrontare",
    compare_site: "Confronta",
    outcome: "Esito", outcomes: { site_proposed: "sito proposto", visited: "sopralluogo", chosen: "sito scelto", lost: "persa" },
    ev: { share_with_signal: "quota del sito con segnale", gain: "aumento NDVI", ndvi_before: "NDVI prima", ndvi_after: "NDVI dopo",
      slope_per_year: "pendenza NDVI/anno", slope_uncertainty: "incertezza pendenza", share_in_productive_land: "quota in area produttiva",
      already_known: "già noto", known_overlap: "sovrapposizione con siti noti", confidence: "evidenza",
      persistence: "persistenza del verde", activity_of_built_surfaces: "attività delle superfici costruite" },
    conf: { "time series": "serie temporale", "two dates: low confidence": "due date: bassa affidabilità" },
    states: { match: "soddisfa", near_miss: "quasi" }, open: "aperta", closed: "chiusa",
  },
  en: {
    skip: "Skip to content", map: "Map", signout: "Sign out", menu: "Menu",
    signin: "Sign in", email: "E-mail", password: "Password", signin_go: "Sign in",
    signin_intro: "Owners, delegates and Invest in Lombardy staff sign in with the account the agency gave them.",
    mine: "My candidacies", new: "New candidacy", account: "Account", inbox: "Candidacies",
    detection: "Detected brownfields", stale: "Sites to confirm", audit: "Audit log", admin: "Accounts and API keys",
    status: "Status", version: "Version", site: "Site", comune: "Comune", province: "Province", kind: "Kind",
    site_type: "Type", submitted: "Submitted", last_confirmed: "Last confirmed", next_step: "Next step",
    delegate: "Delegate", any: "Any", yes: "Yes", no: "No", filter: "Filter", clear: "Clear",
    from: "From", to: "To", previous: "Previous", next: "Next", of: "of", none: "No candidacies.",
    all: "All", stale_tab: "To confirm", duplicates_tab: "Possible duplicates", loading: "Loading…",
    kind_A: "A · area and/or building", kind_B: "B · investment project",
    step: {
      draft: "Submit the candidacy (or upload a corrected version).",
      submitted: "Waiting for the agency's review.",
      changes_requested: "Correct as asked and upload a new version.",
      validated: "Validated: the owner's consent is needed to publish it.",
      validated_consent: "Validated: the agency can publish it.",
      published: "Published: confirm every year that the data are still valid.",
      withdrawn: "Withdrawn: upload a new version to offer it again.",
      expired: "Expired: confirm the data or upload a new version.",
    },
    new_intro: "1. Download the template (pre-filled with the registry data we know). 2. Fill it in. 3. Upload it here: it is checked at once.",
    download_template: "Download the template", template_kind: "Kind of candidacy",
    drop: "Drop the filled-in Excel file here, or choose it:", choose_file: "Candidacy file (.xlsx)",
    checking: "Checking…", report_ok: "No errors: the candidacy can be submitted.",
    report_errors: (e, w) => `${e} blocking errors, ${w} warnings: correct the file and upload it again.`,
    report_warnings: (w) => `No blocking error, ${w} warnings to read.`,
    annotated: "Download the file with the problems marked", save_draft: "Keep as draft", submit: "Submit the candidacy",
    error: "Error", warning: "Warning", cell: "Cell", found: "Found", expected: "Expected", sheet: "Sheet",
    stored: (v) => `Candidacy stored (version ${v}).`, duplicate_file: "This file had already been uploaded: nothing changed.",
    values: "Declared data", warnings: "Warnings", location: "Location", timeline: "Timeline", versions: "Versions",
    changes: "Changes from the previous version", no_changes: "No change to the data.",
    messages: "Messages from the agency", actions: "Actions", reason: "Reason (the proponent will read it)",
    move: { submitted: "Submit", validated: "Validate", changes_requested: "Request changes", published: "Publish",
      withdrawn: "Withdraw", expired: "Expire", draft: "Back to draft" },
    consent_grant: "Grant consent to publication", consent_withdraw: "Withdraw consent",
    consent_yes: "The owner has consented to publication.",
    consent_no: "The owner has not consented to publication.",
    consent_owner_only: "Only the owner can give consent, from its own account.",
    publish_blocked: "Cannot be published: the owner's consent is missing.",
    owner_confirm: "I confirm the data my delegate declared", owner_confirmed: "The owner has confirmed the data its delegate declared.",
    owner_unconfirmed: "The owner has not yet confirmed the data its delegate declared.",
    confirm_data: "I confirm the data are still valid", upload_new: "Upload a corrected version",
    report: "Site report", on_map: "See on the map", done: "Done.",
    relation: { owner: "You are the owner.", delegate: "You are the delegate.", staff: "Staff" },
    nearest: "Nearest (straight line)", zones: "Zones", airport: "Airport", railway_station: "Station",
    motorway_exit: "Motorway exit", km: "km",
    account_intro: "Your account.", role: "Role", tax_id: "Codice fiscale / VAT no.",
    registry: "Registry data (they pre-fill your next template)", registry_none: "They are recorded with your first upload.",
    name: "Company or full name", legal_nature: "Legal nature", pec: "PEC", phone: "Phone", save: "Save",
    change_password: "Change password", current_password: "Current password", new_password: "New password (12 characters or more)",
    password_changed: "Password changed: your other sessions were signed out.",
    facts: "Characteristics", enrichment: "Computed by the service", catchment: "Population within",
    completeness: "Data completeness", missing: "Missing", history: "History of the application", print: "Print / PDF",
    exports: "Export", area: "Area (m²)", score: "Score", evidence: "Evidence", review: "Review",
    confirm: "Confirm (becomes a draft site)", reject: "Reject", reject_reason: "Why it is rejected",
    pending: "to review", confirmed: "confirmed", rejected: "rejected", by: "by", runs: "Runs",
    candidates: "Candidates", run: "Run", started: "Started", known_site: "near a site already known",
    stale_intro: "Published sites not confirmed for over a year: their proponents get a reminder.",
    days: "days", remind: "Reminder goes to", due_to_expire: "due to expire",
    audit_intro: "Every recorded action: who, when, on what, why.", candidacy: "Candidacy", actor: "Who",
    action: "Action", when: "When", search: "Search", more: "More",
    users: "Accounts", api_keys: "API keys", create: "Create", name_key: "Frontend name", revoke: "Revoke",
    key_once: "Key (shown once only):", full_name: "Name", active: "Active",
    signed_out: "Signed out.", session_over: "Your session has ended: sign in again.", unreachable: "The service does not answer; try again.",
    not_found: "Page not found.", staff_area: "Staff only.",
    demand: "Unmet demand", demand_intro: "Investors' searches with no result or few (under 3), and the criteria that left them without sites: what the catalogue lacks.",
    month: "Month", activity: "Activity", searches: "Searches", no_result: "No result", few_results: "Few results",
    blocking: "What kept out the nearest site (searches with no result)", failed: "Criteria failed", share: "Share",
    nearest_misses: "How far the nearest site was", criterion: "Criterion", median_found: "Found (median)",
    median_asked: "Asked (median)", export_csv: "Export CSV", all_provinces: "all",
    enquiries: "Standing enquiries", enquiry: "Enquiry", investor_ref: "Investor reference",
    contact: "Contact (kept private)", criteria_json: "More criteria (JSON, e.g. {\"max_motorway_km\": 5})",
    alerts: "Alerts", no_alerts: "No site has come to fit it yet.", close_with: "Close with outcome",
    expose_pdf: "Investor profile (PDF)", compare_pdf: "Comparison PDF of the sites chosen", pick_sites: "Choose 2 to 5 sites to compare",
    compare_site: "Compare",
    outcome: "Outcome", outcomes: { site_proposed: "site proposed", visited: "visited", chosen: "site chosen", lost: "lost" },
    ev: { share_with_signal: "share of the site with the signal", gain: "NDVI gain", ndvi_before: "NDVI before", ndvi_after: "NDVI after",
      slope_per_year: "NDVI slope per year", slope_uncertainty: "slope uncertainty", share_in_productive_land: "share in productive land",
      already_known: "already known", known_overlap: "overlap with known sites", confidence: "evidence",
      persistence: "persistence of the green", activity_of_built_surfaces: "activity of built surfaces" },
    conf: { "time series": "time series", "two dates: low confidence": "two dates: low confidence" },
    states: { match: "fits", near_miss: "nearly" }, open: "open", closed: "closed",
  },
};

export const state = { lang: "it", me: null, vocabulary: {} };
export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
export const t = (key, ...args) => {
  const value = key.split(".").reduce((o, k) => o?.[k], TEXT[state.lang]);
  return typeof value === "function" ? value(...args) : value ?? key;
};
export const esc = escape;
export const num = (n, digits = 0) => n == null || n === "" ? "–" : typeof n !== "number" ? esc(n)
  : formatNumber(state.lang, n, digits);
export const day = (iso) => iso ? new Date(iso).toLocaleDateString(state.lang === "it" ? "it-IT" : "en-GB") : "–";
export const when = (iso) => iso ? new Date(iso).toLocaleString(state.lang === "it" ? "it-IT" : "en-GB",
  { dateStyle: "short", timeStyle: "short" }) : "–";
export const label = (vocab, code) => vocabularyLabel(state.vocabulary, state.lang, vocab, code);
export const badge = (status) => `<span class="badge ${esc(status)}">${esc(label("status", status))}</span>`;
export const params = () => new URLSearchParams(location.hash.split("?")[1] || "");
export const isStaff = () => ["staff", "admin"].includes(state.me?.role);

/** The service's answer (client.js's request in the page's language); a 401 while signed in
    ends the desk's session and shows the sign-in page. */
export async function api(path, { quiet401 = false, ...options } = {}) {
  try {
    return await request(path, { ...options, lang: state.lang, unreachable: t("unreachable") });
  } catch (error) {
    if (error.status === 401 && state.me && !quiet401) {
      state.me = null;
      location.hash = "#/signin";
      notify(t("session_over"), true);
    }
    throw error;
  }
}

export function notify(message, isError = false) {
  const box = $("#notice");
  box.textContent = message;
  box.className = isError ? "error" : "";
  box.hidden = false;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { box.hidden = true; }, 10000);
}

/** Run an action from a button: errors end up in the notice, the button is busy meanwhile. */
export async function act(button, work) {
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    notify(error.message, true);
  } finally {
    button.disabled = false;
  }
}

export function download(blob, filename) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

/** A small map of the service's own basemap with GeoJSON overlays (no request leaves the service). */
export function miniMap(container, overlays, fitTo) {
  const map = new maplibregl.Map({
    container, attributionControl: { compact: true }, cooperativeGestures: false,
    style: {
      version: 8,
      sources: {
        ...serviceSources(),
        overlay: { type: "geojson", data: { type: "FeatureCollection", features: overlays } },
      },
      layers: [
        { id: "bg", type: "background", paint: { "background-color": "#e8edf2" } },
        { id: "provinces", type: "fill", source: "base", "source-layer": "provinces", paint: { "fill-color": "#fbfaf6" } },
        { id: "comuni", type: "line", source: "base", "source-layer": "comuni", minzoom: 8, paint: { "line-color": "#c9ced6" } },
        { id: "railways", type: "line", source: "base", "source-layer": "transport", filter: ["==", ["get", "kind"], "railway_line"],
          paint: { "line-color": "#6b6b6b", "line-dasharray": [2, 2] } },
        { id: "motorways", type: "line", source: "base", "source-layer": "transport", filter: ["==", ["get", "kind"], "motorway"],
          paint: { "line-color": "#d9822b", "line-width": 2 } },
        { id: "sites", type: "circle", source: "sites", "source-layer": "sites", filter: ["!=", ["get", "cluster"], true],
          paint: { "circle-radius": 4, "circle-color": "#1f6fd1", "circle-stroke-color": "#fff", "circle-stroke-width": 1 } },
        { id: "overlay-fill", type: "fill", source: "overlay", filter: ["==", ["geometry-type"], "Polygon"],
          paint: { "fill-color": ["coalesce", ["get", "color"], "#b8541b"], "fill-opacity": 0.35 } },
        { id: "overlay-line", type: "line", source: "overlay", filter: ["==", ["geometry-type"], "Polygon"],
          paint: { "line-color": ["coalesce", ["get", "color"], "#b8541b"], "line-width": 2 } },
        { id: "overlay-points", type: "circle", source: "overlay", filter: ["==", ["geometry-type"], "Point"],
          paint: { "circle-radius": ["coalesce", ["get", "radius"], 6], "circle-color": ["coalesce", ["get", "color"], "#b8541b"],
            "circle-stroke-color": "#fff", "circle-stroke-width": 2 } },
      ],
    },
    bounds: fitTo, fitBoundsOptions: { padding: 30, maxZoom: 14 },
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  container.setAttribute("role", "region");
  return map;
}

/** [[west, south], [east, north]] around GeoJSON geometries. */
export function boundsOf(geometries) {
  const xs = [], ys = [];
  const walk = (c) => (typeof c[0] === "number" ? (xs.push(c[0]), ys.push(c[1])) : c.forEach(walk));
  geometries.filter(Boolean).forEach((g) => walk(g.coordinates));
  if (!xs.length) return [[8.5, 44.7], [11.4, 46.6]];
  return [[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]];
}
