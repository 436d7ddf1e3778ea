// @ts-check
// Alarm labels for tiles and lists (in the reader's language, i18n.js), and the one alarm order of every
// list (the server's: wardstate.alarm_sort_key).
import { fmt, label, priorityRank } from "./catalogue.js";
import { t } from "./i18n.js";

/** @typedef {Extract<import("./frames.js").WsFrame, {type: "alarm"}>["alarm"]} Alarm */

// A short alarm label for tiles and lists, that agrees with the alarm's text (its reason starts with the
// same current value): "SpO₂ 89 (min 84)", "NEWS2 9", "NEWS2 ≥5"; "· ended" once a latched alarm's
// condition ended. Technical alarms are named by their condition, never by a value ("SpO2 0 %" reads as
// a desaturation): "SpO₂ probe off", "ECG lead off", "Device offline" (keys alarm.tech.<code>).
const TECH = ["probe_off", "lead_off", "unconfirmed_zero", "offline", "battery"];
// technical conditions of one signal, named with the signal ("SpO₂ no data"; keys alarm.techSignal.<code>)
const TECH_SIGNAL = ["stale", "quality", "artefact"];

/** @param {Alarm} a */
function technicalLabel(a) {
  const reason = a.condition_reason || a.reason || "";
  let code = a.code || "";
  if (!code) {  // an event from before alarms carried their code: recognise the condition by its text
    code = /probe off|no pulse signal/.test(reason) ? "probe_off" : /lead off/.test(reason) ? "lead_off"
      : /offline/.test(reason) ? "offline" : /battery/.test(reason) ? "battery" : "";
  }
  if (code === "probe_off" && /ECG leads off/.test(reason)) return t("alarm.tech.probe_and_leads_off");
  if (TECH.includes(code)) return t("alarm.tech." + code);
  if (TECH_SIGNAL.includes(code)) return t("alarm.techSignal." + code, { signal: a.signal ? label(a.signal) : "" }).trim();
  // a device's own condition: its code as the device names it (not translated: the device's vocabulary)
  if (code.startsWith("device-")) return t("alarm.device", { what: code.slice(7).replace(/_/g, " ") });
  const m = /^device [^:]+: (.*)$/.exec(reason);  // a device's own technical alarm: its text
  return (m ? m[1] : reason.split(":")[0]).replace(/\s*\d+(\.\d+)?\s*%?$/, "").trim() || t("alarm.technical");
}

/** @param {Alarm} a */
export function alarmLabel(a) {
  const ended = a.condition === false ? " · " + t("alarm.ended") : "";
  /** @param {number | null | undefined} v @returns {v is number} */
  const has = v => v !== null && v !== undefined;
  if (a.kind === "technical") return technicalLabel(a);
  if (a.kind === "news2") {
    // alerting's reason of an incomplete score starts "NEWS2 at least N (incomplete, …)": a floor, not the score
    const floor = /^NEWS2 at least /.test(a.condition_reason || a.reason || "") ? "≥" : "";
    const peak = has(a.worst) && has(a.value) && a.worst > a.value ? " " + t("alarm.news2Peak", { worst: a.worst }) : "";
    return `NEWS2 ${floor}${a.value ?? ""}`.trim() + peak + ended;
  }
  const signal = a.signal;
  if (a.kind === "limit" && signal && (has(a.value) || has(a.worst))) {
    /** @param {number} v */
    const f = v => fmt(v, signal);
    const low = (a.code || "").startsWith("low");
    const w = has(a.worst) ? t(low ? "alarm.worst.low" : "alarm.worst.high", { v: f(a.worst) }) : "";
    const worst = has(a.worst) && (!has(a.value) || f(a.worst) !== f(a.value)) ? (has(a.value) ? ` (${w})` : " " + w) : "";
    return `${label(signal)}${has(a.value) ? " " + f(a.value) : ""}${worst}${ended}`;
  }
  return (a.reason || "").split(":")[0] + ended;
}

/**
 * Whether the alarm's condition is over: a latched alarm waiting for its acknowledgement, or one that
 * escalated and then ended. Shown quietly and below every active alarm, never as a flashing active one
 * (= wardstate.alarm_ended). Reads `condition`, `ended_t`, `latched` and, if alerting sends it, `ended`.
 * @param {Alarm} a
 */
export function alarmEnded(a) {
  /** @type {any} */
  const x = a;
  return a.condition === false || x.ended === true || a.latched === true || (a.ended_t !== null && a.ended_t !== undefined) || a.state === "cleared";
}

// Alarm order for every list: real patients' alarms first, live-drill alarms after them; within each,
// alarms whose condition holds before ended (latched) ones, then priority (the server's ranks),
// unacknowledged before acknowledged, newest raised first (an update never moves an alarm), then id
// (= wardstate.alarm_sort_key).
/** @param {Alarm} a @returns {number[]} */
function alarmKey(a) {
  return [a.drill ? 1 : 0, alarmEnded(a) ? 1 : 0, priorityRank(a.priority), a.state === "active" ? 0 : 1, -(a.raised_t || a.t || 0)];
}
/** @param {Alarm} a @param {Alarm} b */
export function alarmCompare(a, b) {
  const x = alarmKey(a), y = alarmKey(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
