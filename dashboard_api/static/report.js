// @ts-check
// The printable shift report of a ward (/report?ward=&since=&until=), from
// GET /api/v1/wards/{ward}/shift-report: per bed the patient, the alarms of the period with who
// acknowledged them and when, the NEWS2 chart (recomputed by the server: NEWS2 over time is not stored)
// and the spot observations. Missing data shows as missing ("—", "no data"), never as a normal value.
// "Print / Save as PDF" prints the page (report.css lays it out for A4). An alarm's reason is in the reader's
// language (alarmtext.js: its reason_key + reason_params; the English reason of an alarm stored before keys).
//
// Session: the station opens this page in a new tab, which starts with a copy of the station tab's session
// storage. A refresh token works once (a reused one ends the session: the station would be logged out),
// so this tab drops its copy of the refresh token and uses the access token it was given; when that has
// expired it asks for a login of its own.
import { alarmLabel } from "./alarms.js";
import { alarmReason } from "./alarmtext.js";
import { el } from "./common.js";
import * as I18n from "./i18n.js";
import { loginFlow } from "./login.js";
import { ApiError, api, logout } from "./session.js";

const { t } = I18n;
const HOUR = 3600000;
const CLINICAL = ["admin", "charge_nurse", "nurse", "physician"];
const ROWS = ["resp_rate", "spo2", "supplemental_o2", "sbp", "heart_rate", "consciousness", "temperature"];
const COPIED = "sw.report.copied";
const params = new URLSearchParams(location.search);
/** @param {string} id */
const $ = id => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} id */
const input = id => /** @type {HTMLInputElement} */ (document.getElementById(id));

if (window.opener && !sessionStorage.getItem(COPIED)) {
  sessionStorage.removeItem("sw.refresh");  // the station's: never used from here
  sessionStorage.setItem(COPIED, "1");
}
window.opener = null;  // nothing here reaches back into the station's tab

/** @param {number} ms */
const stamp = ms => I18n.dateTime(ms, { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" });
/** A datetime-local value (the browser's time zone) of `ms`. @param {number} ms */
function localInput(ms) {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
/** @param {unknown} v @param {number} [decimals] */
function num(v, decimals = 0) {
  return typeof v === "number" ? I18n.number(v, { maximumFractionDigits: decimals, minimumFractionDigits: decimals }) : "—";
}
/** @param {string} state */
const stateWord = state => (I18n.has("ev." + state) ? t("ev." + state) : state);

/** A NEWS2 score in words ("5, medium risk" / "≥3, incomplete"). @param {any} n */
function scoreText(n) {
  if (!n) return t("report.noData");
  const risk = t("report.risk", { risk: t("risk." + n.risk) });
  return n.complete ? `${n.total} · ${risk}` : `≥${n.total} · ${t("report.incomplete")} · ${risk}`;
}

/** @param {string[]} heads @param {Node[]} rows @param {string} [cls] */
function table(heads, rows, cls = "") {
  return el("table", { class: "rp-table " + cls },
    el("thead", {}, el("tr", {}, ...heads.map(h => el("th", { scope: "col" }, h)))), el("tbody", {}, ...rows));
}

/** One alarm of the period: its label and its reason in the reader's language. @param {any} a @param {any} bed */
function alarmRow(a, bed) {
  const why = alarmReason(a);
  return el("tr", { class: "prio-" + a.priority, "data-alarm": a.id },
    el("td", {}, stamp(a.raised_t)),
    el("td", { title: why.text }, alarmLabel(a) + (a.patient && a.patient !== bed.patient ? " · " + t("report.otherPatient", { patient: a.patient }) : ""),
       el("br", {}), el("small", { class: "why", ...(why.english ? { lang: "en" } : {}) }, why.text)),
    el("td", {}, el("span", { class: "rp-chip" }, t("prio." + a.priority))),
    el("td", { class: "ack" }, a.acknowledged_by ? t("report.ackBy", { by: a.acknowledged_by, time: stamp(a.acknowledged_t) }) : t("report.notAck")),
    el("td", {}, a.cleared_t ? stamp(a.cleared_t) : t("report.open", { state: stateWord(a.state) })));
}

/** @param {any} bed */
function alarmsPart(bed) {
  const c = bed.alarms.counts;
  const head = el("h3", {}, t("report.alarms"), el("span", { class: "rp-counts" }, t("report.alarmCounts", c)));
  if (!bed.alarms.items.length) return [head, el("p", { class: "rp-note" }, t("report.noAlarms"))];
  const rows = bed.alarms.items.map(/** @param {any} a */ a => alarmRow(a, bed));
  return [head, table([t("report.colRaised"), t("report.colAlarm"), t("report.colPriority"), t("report.colAck"), t("report.colEnd")], rows)];
}

/** One cell of the NEWS2 chart. @param {any} p @param {string} row */
function chartCell(p, row) {
  if (row === "total") {
    if (p.total === null) return el("td", { class: "none", title: t("report.noData") }, "—");
    const title = p.complete ? scoreText(p) : `${scoreText(p)} · ${t("report.missingList", { list: p.missing.join(", ") })}`;
    return el("td", { class: `r-${p.risk}${p.complete ? "" : " partial"}`, title }, (p.complete ? "" : "≥") + p.total);
  }
  const v = p.values[row];
  if (v === null || v === undefined) return el("td", { class: "none" }, "—");
  if (row === "supplemental_o2") return el("td", {}, v ? t("report.o2") : t("report.air"));
  if (row === "consciousness") return el("td", {}, String(v));
  return el("td", {}, num(v, row === "temperature" ? 1 : 0));
}

/** @param {any} bed */
function news2Part(bed) {
  const head = el("h3", {}, t("report.news2"));
  if (!bed.news2) return [head, el("p", { class: "rp-note" }, t("report.noNews2"))];
  const out = [head];
  if (bed.news2_now) out.push(el("p", { class: "rp-note" }, t("report.news2Now", { text: scoreText(bed.news2_now) })));
  if (bed.news2.error) return [...out, el("p", { class: "rp-error" }, t("report.news2Error", { error: bed.news2.error }))];
  const points = bed.news2.points;
  const cap = el("caption", { class: "rp-note" }, t("report.chartCaption", { bed: bed.bed }));
  const thead = el("thead", {}, el("tr", {}, el("th", { scope: "col" }, ""),
    ...points.map(/** @param {any} p */ p => el("th", { scope: "col" }, el("time", { datetime: new Date(p.t).toISOString() }, I18n.time(p.t))))));
  const rows = ["total", ...ROWS].map(r => el("tr", { class: r }, el("th", { scope: "row" }, t("report.n2." + r)),
    ...points.map(/** @param {any} p */ p => chartCell(p, r))));
  out.push(el("div", { class: "rp-chart-wrap" }, el("table", { class: "rp-table rp-chart" }, cap, thead, el("tbody", {}, ...rows))));
  return out;
}

/** @param {any} bed */
function spotsPart(bed) {
  const head = el("h3", {}, t("report.spots"));
  if (!bed.spots.length) return [head, el("p", { class: "rp-note" }, t("report.noSpots"))];
  const rows = bed.spots.map(/** @param {any} s */ s => el("tr", {}, el("td", {}, stamp(s.t)), el("td", {}, s.by),
    el("td", {}, Object.entries(s.values).map(([k, v]) => `${I18n.has("report.n2." + k) ? t("report.n2." + k) : k}: ${
      typeof v === "boolean" ? (k === "supplemental_o2" ? (v ? t("report.o2") : t("report.air")) : String(v)) : v}`).join(" · ")
      + (s.patient !== bed.patient ? " · " + t("report.otherPatient", { patient: s.patient }) : ""))));
  return [head, table([t("report.colTime"), t("report.colBy"), t("report.colValues")], rows)];
}

/** @param {any} bed */
function bedBlock(bed) {
  const who = [bed.patient ? t("report.patient", { patient: bed.patient }) : t("report.emptyBed"),
               bed.device ? t("report.device", { device: bed.device }) : ""].filter(Boolean).join(" · ");
  const id = "rp-bed-" + bed.bed;
  return el("section", { class: "rp-bed" + (bed.patient ? "" : " empty"), id, "aria-labelledby": id + "-h", "data-bed": bed.bed },
    el("h2", { id: id + "-h" }, t("report.bed", { bed: bed.bed }), " ", el("span", { class: "rp-who" }, "· " + who)),
    ...alarmsPart(bed), ...news2Part(bed), ...spotsPart(bed));
}

/** The running header of every printed page (CSSOM: the page's policy allows no inline style). @param {string} text */
function pageHeader(text) {
  const sheet = [...document.styleSheets].find(s => (s.href || "").endsWith("/report.css"));
  if (!sheet) return;
  const quoted = '"' + text.replace(/["\\]/g, "\\$&").replace(/\n/g, " ") + '"';
  try {
    sheet.insertRule(`@page { @top-left { content: ${quoted}; font-size: 9pt; color: #334155; } }`, sheet.cssRules.length);
  } catch { /* a browser without page-margin boxes: the header is on the first page only */ }
}

/** @param {string} ward @param {number} since @param {number} until */
async function load(ward, since, until) {
  const state = $("rp-state");
  state.textContent = t("report.loading");
  $("rp-beds").replaceChildren();
  let r;
  try {
    r = await api(`/api/v1/wards/${encodeURIComponent(ward)}/shift-report?since=${since}&until=${until}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { logout(); return; }  // the copied access token expired: log in here
    state.textContent = t("report.error", { error: e instanceof Error ? e.message : String(e) });
    return;
  }
  const period = `${stamp(r.since)} – ${stamp(r.until)}`;
  $("rp-title").textContent = t("report.heading", { ward: r.ward });
  document.title = `${t("report.heading", { ward: r.ward })} · ${period}`;
  $("rp-period").textContent = period;
  const role = I18n.has("role." + r.role) ? t("role." + r.role) : String(r.role).replace("_", " ");
  $("rp-by").textContent = `${r.generated_by} (${role})`;
  $("rp-at").textContent = stamp(r.generated_at);
  $("rp-source").textContent = t("report.news2Source");
  input("rp-from").value = localInput(r.since);
  input("rp-to").value = localInput(r.until);
  pageHeader(`SmartWard · ${t("report.heading", { ward: r.ward })} · ${period} · ${t("report.printedBy")}: ${r.generated_by}`);
  $("rp-beds").replaceChildren(...r.beds.map(bedBlock));
  state.textContent = r.beds.length ? "" : t("report.noBeds");
  document.body.dataset.loaded = "1";
}

async function start() {
  await I18n.ready().catch(() => "en");
  I18n.translate(document);
  const ward = params.get("ward") || "";
  await loginFlow(t("report.title"), u => CLINICAL.includes(u.role));
  if (!ward) { $("rp-state").textContent = t("report.noWard"); return; }
  const until0 = Number(params.get("until")) || Date.now();
  const since0 = Number(params.get("since")) || until0 - 12 * HOUR;
  /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".rp-presets button")).forEach(b => {
    const n = Number(b.dataset.hours);
    b.textContent = t("report.last", { n });
    b.addEventListener("click", () => { const u = Date.now(); go(u - n * HOUR, u); });
  });
  /** @param {number} since @param {number} until */
  function go(since, until) {
    history.replaceState(null, "", `/report?ward=${encodeURIComponent(ward)}&since=${since}&until=${until}`);
    load(ward, since, until);
  }
  $("rp-controls").addEventListener("submit", ev => {
    ev.preventDefault();
    go(new Date(input("rp-from").value).getTime(), new Date(input("rp-to").value).getTime());
  });
  $("rp-print").addEventListener("click", () => window.print());
  await load(ward, since0, until0);
}
start();
