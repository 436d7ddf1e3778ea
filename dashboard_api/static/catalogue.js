// @ts-check
// What the server says about signals and alarms (GET /api/v1/catalogue, fetched once after login): screen
// labels, units and decimals of the signal catalogue, the bed view's order, the alarm priority ranks.
// A language may write a screen label its own way (i18n.js key sig.<signal>: "体温" for "Temp"); the
// clinical abbreviations nurses read in every language (HR, SpO₂, NIBP) stay the server's.
import * as I18n from "./i18n.js";
import { api } from "./session.js";

/** @typedef {{label: string, unit: string, decimals: number}} SignalInfo */
/**
 * @typedef {object} Catalogue
 * @property {Record<string, SignalInfo>} signals numeric signals by name
 * @property {Record<string, string>} units how a screen writes each UCUM unit
 * @property {string[]} signal_order the bed view's order of big values
 * @property {string[]} alarm_priorities most urgent first
 */

/** @type {Catalogue} */
let cat = { signals: {}, units: {}, signal_order: [], alarm_priorities: [] };

/** @returns {Promise<Catalogue>} */
export async function loadCatalogue() {
  cat = await api("/api/v1/catalogue");
  return cat;
}

/** A signal's screen label ("HR", "SpO₂"); an unknown signal by its name. @param {string} signal */
export function label(signal) { return I18n.has("sig." + signal) ? I18n.t("sig." + signal) : cat.signals[signal]?.label || signal; }
/** How a screen writes a UCUM unit ("mm[Hg]" → "mmHg"); an unknown unit as it is. @param {string} u */
export function unit(u) { return Object.hasOwn(cat.units, u) ? cat.units[u] : u; }
/** A value with its signal's decimals; "---" for none. @param {number | null | undefined} v @param {string} signal */
export function fmt(v, signal) {
  if (v === null || v === undefined) return "---";
  const decimals = cat.signals[signal]?.decimals ?? 0;
  return decimals > 0 ? Number(v).toFixed(decimals) : String(Math.round(v));
}
/** Position of a signal in the bed view (unlisted: last). @param {string} signal */
export function signalRank(signal) { const i = cat.signal_order.indexOf(signal); return i < 0 ? 99 : i; }
/** Rank of an alarm priority, 0 = most urgent (unknown: after every known one). @param {string} priority */
export function priorityRank(priority) {
  const i = cat.alarm_priorities.indexOf(priority);
  return i < 0 ? cat.alarm_priorities.length : i;
}
