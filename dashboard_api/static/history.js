// @ts-check
// Alarm and event history of the ward shown on the central station (who acknowledged what, when), from
// GET /api/v1/wards/{ward}/alarm-history: a modal dialog with a table (time, bed, alarm, priority, event,
// by), filters (priority, time range 1/8/24 h or custom, bed) and "Load more" (the API's cursor). The bed
// view opens the same dialog for its bed. "Shift report" opens /report (report.html) in a new tab.
// The dialog is a native <dialog> (showModal: focus moves in, the page behind is inert, Esc closes); its
// keys never reach the station's own shortcuts (A acknowledges there), and focus returns to the button
// that opened it. Each row's reason (the alarm cell's title) is in the reader's language: alarmtext.js
// writes the entry's reason_key + reason_params, and reads the English reason of an entry without a key.
import { alarmLabel } from "./alarms.js";
import { alarmReason } from "./alarmtext.js";
import { el } from "./common.js";
import * as I18n from "./i18n.js";
import { api } from "./session.js";

const { t } = I18n;
const HOUR = 3600000, MAX_SPAN = 7 * 24 * HOUR, PAGE = 100, REPORT_SPAN = 12 * HOUR;
const PRIORITIES = ["high", "medium", "low"];

/**
 * @typedef {{ward: () => string | null, bed: () => string | null, beds: () => string[]}} StationView
 * @typedef {{seq: number, t: number, alarm_id: string, event: string, state: string, priority: string,
 *   by: string | null, reason: string, bed: string, patient: string, kind: string, signal: string | null,
 *   code: string, value: number | null, worst: number | null, condition: boolean | null,
 *   condition_reason: string | null, drill: string, reason_key?: string,
 *   reason_params?: Record<string, import("./alarmtext.js").ReasonParam>, condition_key?: string,
 *   condition_params?: Record<string, import("./alarmtext.js").ReasonParam>}} Entry
 */

/** @type {StationView} */
let view = { ward: () => null, bed: () => null, beds: () => [] };
/** @type {HTMLDialogElement | null} */
let dialog = null;
/** @type {HTMLElement | null} */
let opener = null;
let ward = "", asked = 0, shown = 0;
/** @type {string | null} */
let cursor = null;
/** @type {Record<string, HTMLElement>} */
const part = {};

/** A datetime-local value (the browser's time zone) of `ms`. @param {number} ms */
function localInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

function build() {
  const title = el("h2", { id: "hist-title" });
  const close = el("button", { type: "button", class: "close hist-close", "aria-label": t("hist.close") }, "✕");
  close.addEventListener("click", () => dialog && dialog.close());
  const prio = el("fieldset", { class: "hist-prio" }, el("legend", {}, t("hist.priority")),
    ...PRIORITIES.map(p => el("label", { class: "chk prio-" + p },
      el("input", { type: "checkbox", name: "priority", value: p, checked: "" }), " " + t("prio." + p))));
  const range = el("fieldset", { class: "hist-range" }, el("legend", {}, t("hist.range")),
    ...["1", "8", "24", "custom"].map(v => el("label", { class: "chk" },
      el("input", { type: "radio", name: "range", value: v, ...(v === "8" ? { checked: "" } : {}) }),
      " " + (v === "custom" ? t("hist.custom") : t("hist.hours", { n: v })))));
  const from = el("input", { type: "datetime-local", name: "from" });
  const to = el("input", { type: "datetime-local", name: "to" });
  const custom = el("div", { class: "hist-custom" },
    el("label", {}, t("hist.from") + " ", from), el("label", {}, t("hist.to") + " ", to),
    el("button", { type: "submit" }, t("hist.apply")));
  custom.hidden = true;
  const bed = el("select", { name: "bed" });
  const form = el("form", { class: "hist-filters", "aria-label": t("hist.filters") },
    prio, range, custom, el("label", { class: "hist-bed" }, t("hist.bed") + " ", bed));
  const status = el("p", { class: "hist-status", role: "status", "aria-live": "polite" });
  const caption = el("caption", {});
  const body = el("tbody", {});
  const table = el("table", { class: "hist-table" }, caption,
    el("thead", {}, el("tr", {}, ...["colTime", "colBed", "colAlarm", "colPriority", "colEvent", "colBy"].map(
      k => el("th", { scope: "col" }, t("hist." + k))))), body);
  const more = el("button", { type: "button", class: "hist-more" }, t("hist.more"));
  more.hidden = true;
  const d = /** @type {HTMLDialogElement} */ (el("dialog", { id: "history", class: "hist", "aria-labelledby": "hist-title" },
    el("header", { class: "hist-head" }, title, close), form, status,
    el("div", { class: "hist-scroll", tabindex: "0", role: "region", "aria-labelledby": "hist-title" }, table), more));
  Object.assign(part, { title, form, status, caption, body, more, bed, custom, from, to });
  form.addEventListener("change", ev => {
    const target = /** @type {HTMLInputElement} */ (ev.target);
    const isCustom = rangeValue() === "custom";
    custom.hidden = !isCustom;
    if (target.name === "range" && isCustom) {
      const now = Date.now();
      if (!from.value) from.value = localInput(now - 8 * HOUR);
      if (!to.value) to.value = localInput(now);
      return;  // the custom range is shown with its button
    }
    if (target.name === "from" || target.name === "to") return;
    load(false);
  });
  form.addEventListener("submit", ev => { ev.preventDefault(); load(false); });
  more.addEventListener("click", () => load(true));
  // the station's shortcuts (A, S, E, arrows, Enter, digits, Esc closing the bed view) never see keys typed here
  d.addEventListener("keydown", ev => ev.stopPropagation());
  d.addEventListener("close", () => {
    asked++;  // an answer still on its way is dropped
    const back = opener;
    opener = null;
    if (back && back.isConnected) back.focus();
  });
  document.body.append(d);
  return d;
}

function rangeValue() {
  const r = /** @type {HTMLInputElement | null} */ (part.form.querySelector("input[name=range]:checked"));
  return r ? r.value : "8";
}

/** The query of the dialog's filters, or an error text. @returns {{query: URLSearchParams} | {error: string}} */
function query() {
  const q = new URLSearchParams();
  const prios = [.../** @type {NodeListOf<HTMLInputElement>} */ (part.form.querySelectorAll("input[name=priority]:checked"))].map(i => i.value);
  if (!prios.length) return { error: t("hist.noPriority") };
  if (prios.length < PRIORITIES.length) prios.forEach(p => q.append("priority", p));
  const r = rangeValue();
  let since, until;
  if (r === "custom") {
    since = new Date(/** @type {HTMLInputElement} */ (part.from).value).getTime();
    until = new Date(/** @type {HTMLInputElement} */ (part.to).value).getTime();
    if (!(since < until) || until - since > MAX_SPAN) return { error: t("hist.badRange") };
  } else {
    until = Date.now() + 1000;
    since = until - Number(r) * HOUR;
  }
  q.set("since", String(since));
  q.set("until", String(until));
  const bed = /** @type {HTMLSelectElement} */ (part.bed).value;
  if (bed) q.set("bed", bed);
  q.set("limit", String(PAGE));
  return { query: q };
}

/** @param {number} ms */
const when = ms => I18n.dateTime(ms, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

/** @param {Entry} e */
function row(e) {
  const label = alarmLabel(/** @type {any} */ (e)) + (e.patient ? " · " + e.patient : "");
  return el("tr", { class: `prio-${e.priority} ev-${e.event}`, "data-alarm": e.alarm_id, "data-event": e.event },
    el("td", { class: "t" }, el("time", { datetime: new Date(e.t).toISOString() }, when(e.t))),
    el("td", { class: "b" }, e.bed || t("hist.ward")),
    el("td", { class: "a", title: alarmReason(e).text }, label),
    el("td", { class: "p" }, el("span", { class: "chip" }, t("prio." + e.priority))),
    el("td", { class: "e" }, I18n.has("ev." + e.event) ? t("ev." + e.event) : e.event),
    el("td", { class: "by" }, e.by || t("hist.auto")));
}

/** Load the first page (or the next one). @param {boolean} next */
async function load(next) {
  const got = query();
  const body = part.body, status = part.status, more = /** @type {HTMLButtonElement} */ (part.more);
  if ("error" in got) {  // nothing may stay on screen that the filters no longer describe
    ++asked; cursor = null; shown = 0; body.replaceChildren(); more.hidden = true;
    part.caption.textContent = t("hist.caption", { n: 0 });
    status.textContent = got.error;
    return;
  }
  const q = got.query;
  if (next && cursor) q.set("cursor", cursor);
  if (!next) { cursor = null; shown = 0; body.replaceChildren(); more.hidden = true; }
  const mine = ++asked;
  status.textContent = t("hist.loading");
  more.disabled = true;
  try {
    const r = await api(`/api/v1/wards/${encodeURIComponent(ward)}/alarm-history?${q}`);
    if (mine !== asked) return;  // filters changed meanwhile: a later answer is on its way
    body.append(...r.entries.map(row));
    shown += r.entries.length;
    cursor = r.next;
    more.hidden = !cursor;
    part.caption.textContent = t("hist.caption", { n: shown });
    status.textContent = !shown ? t("hist.none") : cursor ? "" : t("hist.end");
  } catch (e) {
    if (mine === asked) status.textContent = t("hist.error", { error: e instanceof Error ? e.message : String(e) });
  } finally {
    more.disabled = false;
  }
}

/** Open the history of the station's ward, or of one bed. @param {string | null} bed @param {HTMLElement} from */
export function openHistory(bed, from) {
  const w = view.ward();
  if (!w) return;
  dialog = dialog || build();
  ward = w;
  opener = from;
  const select = /** @type {HTMLSelectElement} */ (part.bed);
  const beds = [...new Set(view.beds().filter(Boolean))].sort((a, b) => a.length - b.length || a.localeCompare(b));
  if (bed && !beds.includes(bed)) beds.push(bed);
  select.replaceChildren(el("option", { value: "" }, t("hist.allBeds")), ...beds.map(b => el("option", { value: b }, b)));
  select.value = bed || "";
  part.title.textContent = bed ? t("hist.titleBed", { ward: w, bed }) : t("hist.titleWard", { ward: w });
  if (!dialog.open) dialog.showModal();
  load(false);
  /** @type {HTMLElement} */ (dialog.querySelector("input[name=priority]")).focus();
}

/** The shift report of the station's ward (the last 12 h) in a new tab. */
export function openReport() {
  const w = view.ward();
  if (!w) return;
  const until = Date.now(), since = until - REPORT_SPAN;
  // with its opener: the new tab starts with a copy of this tab's session (report.js keeps it from refreshing)
  window.open(`/report?ward=${encodeURIComponent(w)}&since=${since}&until=${until}`, "_blank");
}

/**
 * Wire the station's History / Shift report buttons (index.html) and the bed view's History button.
 * @param {StationView} station
 */
export function initHistory(station) {
  view = station;
  /** @param {string} id @param {string} text @param {string} aria @param {() => void} go */
  const wire = (id, text, aria, go) => {
    const b = document.getElementById(id);
    if (!b) return;
    b.textContent = text;
    b.setAttribute("aria-label", aria);
    b.addEventListener("click", go);
  };
  wire("history-open", t("hist.open"), t("hist.openAria"), () => openHistory(null, /** @type {HTMLElement} */ (document.getElementById("history-open"))));
  wire("report-open", t("hist.report"), t("hist.report"), openReport);
  wire("bv-history", t("hist.open"), t("hist.bedAria"), () => {
    const bed = view.bed();
    if (bed) openHistory(bed, /** @type {HTMLElement} */ (document.getElementById("bv-history")));
  });
}
