// @ts-check
// Interface language: one set of JSON catalogues (static/i18n/<lang>.json), English and Simplified
// Chinese. The language is the reader's choice if they made one (remembered in localStorage), else
// the browser's first supported language (navigator.languages), else English. Numbers and dates are
// formatted with Intl in that language. Any page can adopt it: `await ready()`, then `t(key, params)`
// and `translate(document)` for markup carrying data-i18n / data-i18n-aria-label attributes.

export const LANGS = /** @type {const} */ (["en", "zh-CN"]);
/** @typedef {typeof LANGS[number]} Lang */
const KEY = "sw.lang";
/** @type {Record<string, string>} */
let current = {};
/** @type {Record<string, string>} */
let english = {};
/** @type {Lang} */
let chosen = "en";

/** A supported language for a BCP 47 tag ("zh", "zh-Hans-CN" -> "zh-CN"), or null. @param {string} tag @returns {Lang | null} */
export function supported(tag) {
  const t = tag.toLowerCase();
  if (t === "zh" || t.startsWith("zh-cn") || t.startsWith("zh-hans") || t === "zh-sg") return "zh-CN";
  if (t === "en" || t.startsWith("en-")) return "en";
  return null;
}

/** The language to show: the remembered choice, else the browser's, else English. @returns {Lang} */
export function preferred() {
  let saved = null;
  try { saved = localStorage.getItem(KEY); } catch { /* storage refused: not remembered */ }
  const s = saved && supported(saved);
  if (s) return s;
  for (const tag of navigator.languages || [navigator.language || "en"]) { const l = supported(tag); if (l) return l; }
  return "en";
}

/** @param {string} lang @returns {Promise<Record<string, string>>} */
async function fetchCatalogue(lang) {
  const r = await fetch(`/static/i18n/${lang}.json`);
  if (!r.ok) throw new Error(`catalogue ${lang}: HTTP ${r.status}`);
  return r.json();
}

/** Load the catalogue of the preferred language (or `lang`); sets <html lang>. @param {Lang} [lang] */
export async function ready(lang) {
  chosen = lang || preferred();
  if (!Object.keys(english).length) english = await fetchCatalogue("en");
  current = chosen === "en" ? english : await fetchCatalogue(chosen);
  document.documentElement.lang = chosen;
  return chosen;
}

/** Whether a catalogue is loaded (a page that did not call ready() yet). */
export function loaded() { return Object.keys(english).length > 0; }

/** The language in use. @returns {Lang} */
export function lang() { return chosen; }

/**
 * Choose and remember a language (the page then renders again). Modules that draw texts of their own
 * (e.g. a dialog of the central station) hear of it: a "sw-lang" event on document, detail = the language.
 * @param {Lang} l
 */
export async function choose(l) {
  try { localStorage.setItem(KEY, l); } catch { /* not remembered */ }
  const got = await ready(l);
  document.dispatchEvent(new CustomEvent("sw-lang", { detail: got }));
  return got;
}

/**
 * The text of `key` in the chosen language (English if the catalogue lacks it, the key if both do),
 * with `{name}` replaced by `params.name`.
 * @param {string} key @param {Record<string, string | number>} [params]
 */
export function t(key, params = {}) {
  const text = current[key] ?? english[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** Whether the catalogue has `key` (e.g. an optional sub-message). @param {string} key */
export function has(key) { return key in current || key in english; }

/**
 * The key under `prefix` whose English text is `text` (to recognise a word the server wrote in English,
 * e.g. "Temp" -> "reason.sig.temperature"), or null.
 * @param {string} prefix @param {string} text @returns {string | null}
 */
export function keyOf(prefix, text) {
  for (const [k, v] of Object.entries(english)) if (v === text && k.startsWith(prefix)) return k;
  return null;
}

/**
 * The text of `key.one` or `key.other`, as the chosen language's plural rule picks for `n` (Chinese
 * has one form: always `.other`), with `{n}` the number written in that language.
 * @param {string} key @param {number} n @param {Record<string, string | number>} [params]
 */
export function plural(key, n, params = {}) {
  const form = `${key}.${new Intl.PluralRules(chosen).select(n)}`;
  return t(has(form) ? form : `${key}.other`, { n: number(n), ...params });
}

/** A number in the chosen language. @param {number} v @param {Intl.NumberFormatOptions} [o] */
export function number(v, o = { maximumFractionDigits: 1 }) { return new Intl.NumberFormat(chosen, o).format(v); }

/** A date and time in the chosen language. @param {number} ms @param {Intl.DateTimeFormatOptions} [o] */
export function dateTime(ms, o = { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" }) {
  return new Intl.DateTimeFormat(chosen, o).format(new Date(ms));
}

/** A clock time (hours:minutes) in the chosen language. @param {number} ms */
export function time(ms) { return dateTime(ms, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }); }

/** Fill the texts of `root`'s elements marked data-i18n (text), data-i18n-aria-label and data-i18n-title. @param {ParentNode} root */
export function translate(root) {
  root.querySelectorAll("[data-i18n]").forEach(e => { e.textContent = t(/** @type {string} */ (/** @type {HTMLElement} */ (e).dataset.i18n)); });
  root.querySelectorAll("[data-i18n-aria-label]").forEach(e => {
    e.setAttribute("aria-label", t(/** @type {string} */ (/** @type {HTMLElement} */ (e).dataset.i18nAriaLabel)));
  });
  root.querySelectorAll("[data-i18n-title]").forEach(e => {
    e.setAttribute("title", t(/** @type {string} */ (/** @type {HTMLElement} */ (e).dataset.i18nTitle)));
  });
  const title = document.querySelector("title[data-i18n]");
  if (title) document.title = title.textContent || "";
}
