/* What the map page and the desk share: the one API client (same-origin cookie, the CSRF
   header on every unsafe method, the service's error envelope in the page's language),
   the codes and labels of /vocabulary, number formats, HTML escaping, and the service's
   own tile sources. Rules stay in the service: pages only show what the API answers. */
"use strict";

export class ApiError extends Error {
  constructor(message, status, body) { super(message); this.status = status; this.body = body; }
}

/** The desk's readable CSRF cookie: present while a browser session may exist. */
export function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("ol_csrf="));
  return cookie ? decodeURIComponent(cookie.slice(8)) : null;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * fetch with the session cookie; unsafe methods echo the CSRF token (a signed-in visitor
 * of the map page sends it too). `json` or `form` is the body; `as`: json | blob | response.
 * A failure is an ApiError whose message is the service's own, in `lang`; `unreachable`
 * is the message when no answer came at all.
 */
export async function request(path, { method = "GET", json, form, as = "json", lang = "it", unreachable = "" } = {}) {
  const headers = {};
  const token = csrfToken();
  if (!SAFE.has(method) && token) headers["X-CSRF-Token"] = token;
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  let response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(unreachable || e.message, 0);
  }
  if (response.ok) {
    if (as === "response") return response;
    if (as === "blob") return response.blob();
    return response.status === 204 ? null : response.json();
  }
  let payload = null, message = `HTTP ${response.status}`;
  try {
    payload = await response.json();
    message = (lang === "it" ? payload.error.message_it : payload.error.message) || message;
  } catch (e) { /* not the service's error envelope */ }
  throw new ApiError(message, response.status, payload);
}

export const escape = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Numbers in the page's language: 12.500 in Italian, 12,500 in English. */
export const formatNumber = (lang, n, digits = 0) => new Intl.NumberFormat(lang === "it" ? "it-IT" : "en-GB",
  { maximumFractionDigits: digits }).format(n);

/** The label of a code from /vocabulary in the page's language (the code itself when unknown). */
export const vocabularyLabel = (vocabulary, lang, name, code) => vocabulary[name]?.[code]?.[lang] ?? code ?? "–";

/** [code, label] pairs of one vocabulary in the service's order (provinces come by name). */
export const choices = (vocabulary, lang, name) =>
  Object.keys(vocabulary[name] || {}).map((code) => [code, vocabularyLabel(vocabulary, lang, name, code)]);

/** The service's basemap and site tiles as MapLibre sources: no request leaves the service. */
export function serviceSources() {
  const origin = location.origin;
  return {
    base: { type: "vector", tiles: [`${origin}/tiles/base/{z}/{x}/{y}.pbf`], minzoom: 0, maxzoom: 14,
      attribution: "ISTAT (CC-BY) · Regione Lombardia (CC-BY 4.0)" },
    sites: { type: "vector", tiles: [`${origin}/tiles/sites/{z}/{x}/{y}.pbf`], minzoom: 0, maxzoom: 16 },
  };
}
