// @ts-check
// An alarm's reason in the reader's language. alerting sends each reason twice (device_profiles.alarm_event):
// as its English text (`reason`) and as a key of these catalogues with its parameters (`reason_key`,
// `reason_params`; alerting.reasons). `alarmReason` writes the key and parameters with the chosen
// language's catalogue (a parameter is a string as it is, a nested {key, params}, a term {term, text} that
// the catalogue may translate, or a list of those); English readers get alerting's text itself, which
// the English catalogue writes word for word (tests/contract/test_reason_keys.py).
//
// An event without a key (from before keys, or an alarm restored from a state DB row saved before keys, its
// text only) is read from its English text, as before: alerting wrote reasons as clauses joined by "; ":
// "SpO2 84 % below critical limit 85 % for 15 s; with HR 131 /min above 130 /min; condition ended at
// 10:02, latched until acknowledged". Each clause of a form alerting writes is recognised and written
// again from the catalogue (keys reason.*), its numbers, units and device names as they are; a clause of
// any other form (a device's own text, an anomaly's explanation) stays in English, never guessed. Every
// form is checked against the texts alerting writes, in both directions (the English catalogue writes them
// back word for word): tests/unit/dashboard/test_alarm_reasons.py.
import * as I18n from "./i18n.js";

/** @typedef {import("./frames.js").ReasonMessage} ReasonMessage */
/** @typedef {import("./frames.js").ReasonTerm} ReasonTerm */
/** @typedef {string | ReasonMessage | ReasonTerm | Array<string | ReasonMessage | ReasonTerm>} ReasonParam */

const { t } = I18n;
const N = String.raw`-?\d+(?:\.\d+)?`;
const WORST = String.raw`(?: \((?<w>lowest|highest) (?<wv>${N} \S+)\))?`;
const HELD = String.raw`(?: for (?<s>\d+) s)?`;
const M = String.raw`(?<m>[a-z0-9_]+(?:, [a-z0-9_]+)*)`;
// a clause of each form alerting writes: its pattern and how the catalogue writes it again
/** @type {[RegExp, (g: Record<string, string>) => string | null][]} */
const FORMS = [
  [new RegExp(String.raw`^(?<label>.+?) (?<v>${N}) (?<unit>\S+) (?<side>below|above)(?<crit> critical limit)? (?<lim>${N} \S+)${HELD}${WORST}$`),
   g => t(g.side === "below" ? (g.crit ? "reason.belowCritical" : "reason.below") : (g.crit ? "reason.aboveCritical" : "reason.above"),
          { value: value(g), limit: g.lim, held: held(g), worst: worst(g) })],
  [new RegExp(String.raw`^(?<label>.+?) (?<v>${N}) (?<unit>\S+)${WORST}: back (?<back>above|below) the(?<crit> critical limit)? (?<lim>${N} \S+) limit, not yet clear of it \(hysteresis\)${HELD}$`),
   g => t(g.back === "above" ? (g.crit ? "reason.backAboveCritical" : "reason.backAbove") : (g.crit ? "reason.backBelowCritical" : "reason.backBelow"),
          { value: value(g), worst: worst(g), limit: g.lim, held: held(g) })],
  [new RegExp(String.raw`^(?<label>.+?) (?<v>${N}) (?<unit>\S+) back within limits${WORST}$`),
   g => t("reason.backWithin", { value: value(g), worst: worst(g) })],
  [/^no current (?<label>.+) data$/, g => t("reason.noCurrent", { label: sig(g.label) })],
  [/^no (?<label>.+) data for (?<s>\d+) s \(sensor off or device offline\)$/, g => t("reason.stale", { label: sig(g.label), s: g.s })],
  [new RegExp(String.raw`^(?<label>.+) quality (?<q>questionable|artifact|invalid)${HELD}$`),
   g => t("reason.quality", { label: sig(g.label), quality: t("quality." + g.q), held: held(g) })],
  [/^(?<label>.+?) (?<v>\S+) is implausible: artefact suspected$/, g => t("reason.implausible", { label: sig(g.label), v: g.v })],
  [/^(?<what>SpO2 0 %|pulse rate 0 \/min): SpO2 probe off or no pulse signal \(check the probe\), not a desaturation$/,
   g => t("reason.probeOff", { what: what(g.what) })],
  [/^(?<what>SpO2 0 %|pulse rate 0 \/min) and ECG leads off: the patient's heart is not monitored - check the patient, the SpO2 probe and the ECG leads$/,
   g => t("reason.probeAndLeadsOff", { what: what(g.what) })],
  [/^(?<what>HR invalid|HR 0) while the pulse rate (?<pr>\d+)\/min is valid: ECG lead off \(not asystole\)$/,
   g => t("reason.leadOffPulse", { what: what(g.what), pr: g.pr })],
  [/^(?<what>HR invalid|HR 0) while the ECG leads were off: ECG lead off \(not asystole\)$/,
   g => t("reason.leadOffLeads", { what: what(g.what) })],
  [/^(?<what>HR invalid|HR 0) and no valid pulse to confirm it: ECG leads and SpO2 probe off or patient deteriorating - check the patient$/,
   g => t("reason.unconfirmedZero", { what: what(g.what) })],
  [/^device (?<d>\S+) offline$/, g => t("reason.offline", { device: g.d })],
  [/^device (?<d>\S+) battery (?<n>\d+) %$/, g => t("reason.battery", { device: g.d, n: g.n })],
  [/^device (?<d>\S+) reports (?<code>.+)$/, g => t("reason.reports", { device: g.d, code: g.code })],
  [/^condition ended at (?<at>\d\d:\d\d), latched until acknowledged$/, g => t("reason.latched", { at: g.at })],
  [new RegExp(String.raw`^(?<head>NEWS2 (?:(?<total>\d+)|at least (?<floor>\d+) \(incomplete, missing ${M}(?<note> \(confusion not confirmed as new\))?\))): (?<risk>low|low-medium|medium|high) risk(?:, (?<tail>.+))?$`),
   g => news2(g)],
  [new RegExp(String.raw`^obtain the missing observations \(${M}\)$`), g => t("reason.obtain", { missing: missing(g.m) })],
  [/^observations (?<freq>.+)$/, g => { const f = frequency(g.freq); return f === null ? null : t("reason.observations", { freq: f }); }],
];
// phrases of the NEWS2 chart (alerting.news2 RESPONSE, OBSERVATION_FREQUENCY), by their English text
/** @type {Record<string, string>} */
const RESPONSE = {
  "continue routine NEWS monitoring": "reason.response.zero", "inform registered nurse; ward-based response": "reason.response.low",
  "urgent ward-based response": "reason.response.lowMedium", "key threshold for urgent response": "reason.response.medium",
  "urgent or emergency response": "reason.response.high",
};
/** @type {Record<string, string>} */
const FREQUENCY = {
  "minimum 12-hourly": "reason.freq.12h", "minimum 4-6-hourly": "reason.freq.4to6h", "minimum 1-hourly": "reason.freq.1h",
  "continuous monitoring of vital signs": "reason.freq.continuous",
};
// the one phrase with "; " inside a clause: kept whole while the reason is cut at "; "
const LOW_RESPONSE = "inform registered nurse; ward-based response", SEP = "\u241E";

/** @param {Record<string, string>} g */
const value = g => `${sig(g.label)} ${g.v} ${g.unit}`;
/** @param {Record<string, string>} g */
const held = g => (g.s ? t("reason.held", { s: g.s }) : "");
/** @param {Record<string, string>} g */
const worst = g => (g.w ? t(g.w === "lowest" ? "reason.lowest" : "reason.highest", { v: g.wv }) : "");
/** A signal as alerting names it ("Temp") in the chosen language ("体温"). @param {string} label */
const sig = label => { const k = I18n.keyOf("reason.sig.", label); return k ? t(k) : label; };
/** @param {string} text */
const what = text => { const k = I18n.keyOf("reason.what.", text); return k ? t(k) : text; };
/** NEWS2 parameters as alerting lists them ("spo2, supplemental_o2"). @param {string} list */
const missing = list => list.split(", ").map(p => (I18n.has("reason.param." + p) ? t("reason.param." + p) : p)).join(t("reason.listSep"));

/** @param {string} text @returns {string | null} */
function frequency(text) {
  if (FREQUENCY[text]) return t(FREQUENCY[text]);
  const m = new RegExp(String.raw`^obtain the missing observations \(${M}\) now$`).exec(text);
  return m && m.groups ? t("reason.obtainNow", { missing: missing(m.groups.m) }) : null;
}

/** "NEWS2 at least 5 (incomplete, missing …): medium risk, <response or state of the band>". @param {Record<string, string>} g */
function news2(g) {
  const head = g.total !== undefined ? `NEWS2 ${g.total}`
    : t(g.note ? "reason.news2FloorNote" : "reason.news2Floor", { total: g.floor, missing: missing(g.m) });
  const main = t("reason.news2", { head, risk: t("news2.risk." + g.risk) });
  if (g.tail === undefined) return main;
  const tail = g.tail;
  let m;
  let text = null;
  if (RESPONSE[tail]) text = t(RESPONSE[tail]);
  else if ((m = new RegExp(String.raw`^obtain the missing observations \(${M}\): an incomplete score is not a low score$`).exec(tail)) && m.groups) {
    text = t("reason.notLow", { missing: missing(m.groups.m) });
  } else if ((m = /^within (?<h>\d+) points? of the alarm band: the alarm holds \(hysteresis\)$/.exec(tail)) && m.groups) {
    text = t(Number(m.groups.h) > 1 ? "reason.holdsMany" : "reason.holdsOne", { n: m.groups.h });
  } else if ((m = /^below the alarm band \(clears after (?:(?<s>[\d.]+) s)?(?<and> and )?(?:(?<n>\d+) observations)? below it\)$/.exec(tail)) && m.groups) {
    const x = m.groups;
    const after = x.s && x.n ? t("reason.after.sAndObs", { s: x.s, n: x.n }) : x.s ? t("reason.after.s", { s: x.s }) : t("reason.after.obs", { n: x.n });
    text = t("reason.belowBand", { after });
  }
  return text === null ? null : t("reason.news2Tail", { main, tail: text });
}

/** One clause in the chosen language, or null (a form this module does not know). @param {string} text @returns {string | null} */
function clause(text) {
  const w = /^with (?<rest>.+)$/.exec(text);  // a condition of the same cause, grouped into this alarm
  if (w && w.groups) { const rest = clause(w.groups.rest); return rest === null ? null : t("reason.with", { reason: rest }); }
  for (const [re, write] of FORMS) {
    const m = re.exec(text);
    if (m) return write(m.groups || {});
  }
  return null;
}

/**
 * The reason in the chosen language: `text`, whether every clause was written in it (`whole`) and
 * whether none was (`english`: the caller marks the text lang="en").
 * @param {string | null | undefined} reason @returns {{text: string, whole: boolean, english: boolean}}
 */
export function reasonText(reason) {
  const r = reason || "";
  if (I18n.lang() === "en" || !r) return { text: r, whole: true, english: false };
  return translated(r);
}

// an escalation wraps the alarm's reason (alerting.lifecycle._escalate): "<why>: escalated to <role> (<reason>)"
const ESCALATED = /^(?:unacknowledged for (?<s>\d+) s|escalated by (?<by>\S+)): escalated to (?<role>[a-z_]+) \((?<inner>.*)\)$/s;

/** The reason written again from the catalogue, in any language (English too: the tests' round trip). @param {string} reason
 * @returns {{text: string, whole: boolean, english: boolean}} */
export function translated(reason) {
  const esc = ESCALATED.exec(reason);
  if (esc && esc.groups) {
    const g = esc.groups, inner = translated(g.inner);
    const why = g.by !== undefined ? t("reason.escalatedBy", { by: g.by }) : t("reason.unacknowledged", { s: g.s });
    const role = I18n.lang() !== "en" && I18n.has("role." + g.role) ? t("role." + g.role) : g.role;  // English: as written
    return { text: t("reason.escalated", { why, role, reason: inner.text }), whole: inner.whole, english: false };
  }
  const parts = reason.replaceAll(LOW_RESPONSE, LOW_RESPONSE.replace("; ", SEP)).split("; ").map(p => p.replaceAll(SEP, "; "));
  const out = parts.map(p => clause(p));
  return { text: out.map((o, i) => o ?? parts[i]).join(t("reason.sep")), whole: out.every(o => o !== null),
           english: out.every(o => o === null) };
}

/**
 * A message alerting sent as a key and parameters, in the chosen language; null when a key (nested ones
 * included) is in no catalogue (the caller then reads the English text).
 * @param {string} key @param {Record<string, ReasonParam>} params @returns {string | null}
 */
export function message(key, params) {
  if (!I18n.has(key)) return null;
  /** @type {Record<string, string>} */
  const out = {};
  for (const [name, v] of Object.entries(params || {})) {
    const text = param(v);
    if (text === null) return null;
    out[name] = text;
  }
  return t(key, out);
}

/** @param {ReasonParam} v @returns {string | null} */
function param(v) {
  if (typeof v === "string") return v;
  if (Array.isArray(v)) {
    const items = v.map(param);
    return items.some(x => x === null) ? null : items.join(t("reason.listSep"));
  }
  if ("term" in v) return I18n.lang() !== "en" && I18n.has(v.term) ? t(v.term) : v.text;  // English: alerting's word
  return message(v.key, v.params);
}

/**
 * An alarm's reason (`reason`, with `reason_key` + `reason_params` when alerting sent them) in the chosen
 * language; the same shape as reasonText.
 * @param {{reason?: string | null, reason_key?: string, reason_params?: Record<string, ReasonParam>}} a
 * @returns {{text: string, whole: boolean, english: boolean}}
 */
export function alarmReason(a) {
  if (I18n.lang() === "en" || !a.reason_key) return reasonText(a.reason);
  const text = message(a.reason_key, a.reason_params || {});
  return text === null ? reasonText(a.reason) : { text, whole: true, english: false };
}
