// @ts-check
// SmartWard web UI: small shared helpers (DOM building, the server's clock, formatting times in the
// reader's language, i18n.js). ES modules, no build step; `tsc -p tsconfig.json` type-checks every page
// module (see package.json).
import * as I18n from "./i18n.js";

let clockOffset = 0; // server now - browser now (ms)

/** @param {number} now the server's time (ms), from a snapshot or a summary */
export function setServerNow(now) { clockOffset = now - Date.now(); }
/** @returns {number} the server's time now (ms) */
export function serverNow() { return Date.now() + clockOffset; }

/** How long ago `t` was, in the largest whole unit ("12s", "3m", "2h", "1d"; "12秒", "3分"). @param {number} t */
export function age(t) {
  const s = Math.max(0, (serverNow() - t) / 1000);
  if (s < 60) return I18n.t("age.s", { n: Math.floor(s) });
  if (s < 3600) return I18n.t("age.m", { n: Math.floor(s / 60) });
  if (s < 86400) return I18n.t("age.h", { n: Math.floor(s / 3600) });
  return I18n.t("age.d", { n: Math.floor(s / 86400) });
}
/** A reading older than its signal's staleness horizon. @param {{t: number, expire_after_s: number}} v */
export function isStale(v) { return (serverNow() - v.t) / 1000 > v.expire_after_s; }
/** A 24-hour clock time ("14:05:09") in the reader's language (English as en-GB writes it). @param {number} t @param {boolean} [seconds] */
export function clock(t, seconds = true) {
  /** @type {Intl.DateTimeFormatOptions} */
  const o = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (seconds) o.second = "2-digit";
  return new Date(t).toLocaleTimeString(I18n.lang() === "en" ? "en-GB" : I18n.lang(), o);
}

/** The element with this id (the pages' own markup: it exists). @param {string} id @returns {HTMLElement} */
export function byId(id) { return /** @type {HTMLElement} */ (document.getElementById(id)); }

/** @typedef {string | ((ev: any) => void)} Attr */
/**
 * An element: `class`, `text`, `on<event>` handlers and other attributes, then its children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, Attr>} [attrs]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}
