// @ts-check
// Patient portal: own readings, device connection and battery, plain-language care-team messages with
// what to do next, trends (a light chart with normal ranges, and the same readings as a table). Text in
// the reader's language (i18n.js); a large-text/high-contrast switch, remembered.
import { byId, el, isStale, serverNow, setServerNow } from "./common.js";
import { loginFlow } from "./login.js";
import { api, logout, stream } from "./session.js";
import * as SWChart from "./chart.js";
import * as I18n from "./i18n.js";

const $ = byId;
const { t } = I18n;
const SHOWN = ["heart_rate", "pulse_rate", "spo2", "resp_rate", "nibp_sys", "temperature"];
const TREND = ["heart_rate", "spo2", "resp_rate", "temperature"];
// normal ranges shaded on the chart: the readings NEWS2 scores 0 (RCP 2017)
/** @type {Record<string, [number, number]>} */
const NORMAL = { heart_rate: [51, 90], spo2: [96, 100], resp_rate: [12, 20], temperature: [36.1, 38] };
/** @type {Record<string, number>} */
const DECIMALS = { temperature: 1 };
const LARGE = "sw.large";
/** @type {any} */ let me = null;
/** @type {any} */ let tile = null;
/** @type {any[] | null} */ let messages = [];  // null: the care-team messages could not be read
let callNumber = "";
/** @type {any} */ let trendData = null;
let hours = 8, trendAsked = 0;

/** @param {number} v @param {string} s */
const num = (v, s) => I18n.number(v, { maximumFractionDigits: DECIMALS[s] ?? 0, minimumFractionDigits: DECIMALS[s] ?? 0 });
/** @param {string} u */
const unitWords = u => (I18n.has("unit." + u) ? t("unit." + u) : u);

/** How long ago `ms` was, in words of the chosen language ("3 minutes ago", "3分钟前"). @param {number} ms */
function ago(ms) {
  const s = Math.max(0, (serverNow() - ms) / 1000), rtf = new Intl.RelativeTimeFormat(I18n.lang(), { numeric: "always" });
  if (s < 60) return rtf.format(-Math.floor(s), "second");
  if (s < 3600) return rtf.format(-Math.floor(s / 60), "minute");
  if (s < 86400) return rtf.format(-Math.floor(s / 3600), "hour");
  return rtf.format(-Math.floor(s / 86400), "day");
}

function renderReadings() {
  const box = $("readings");
  if (!tile || !Object.keys(tile.vitals || {}).length) {
    box.replaceChildren(el("p", { class: "muted" }, t("portal.noReadings")));
    return;
  }
  const v = tile.vitals;
  const shown = SHOWN.filter(s => v[s] && !(s === "pulse_rate" && v.heart_rate));
  box.replaceChildren(...shown.map(s => {
    const r = v[s], stale = isStale(r);
    let value = num(r.value, s);
    if (s === "nibp_sys" && v.nibp_dia) value += "/" + num(v.nibp_dia.value, "nibp_dia");
    return el("div", { class: "reading" + (stale ? " stale" : "") },
      el("div", { class: "name" }, t("signal." + s)),
      el("div", {}, el("span", { class: "value" }, value), el("span", { class: "unit" }, unitWords(r.unit))),
      el("div", { class: "when" }, stale ? t("portal.staleAgo", { ago: ago(r.t) }) : ago(r.t)));
  }));
}

function renderDevice() {
  const box = $("device");
  if (!tile || !tile.device) { box.replaceChildren(el("span", { class: "muted" }, t("portal.noDevice"))); return; }
  const fresh = Object.values(tile.vitals || {}).some(r => !isStale(r));
  const online = tile.online !== false && fresh;
  const parts = [el("span", {}, t("portal.deviceName", { name: tile.device })),
                 el("span", { class: "pill " + (online ? "ok" : "bad") }, online ? t("portal.connected") : t("portal.notSending"))];
  if (tile.battery !== null && tile.battery !== undefined) {
    const b = Math.round(tile.battery), low = b < 20;
    const bar = el("span", { class: "battery" + (low ? " low" : "") }, el("span", {}));
    /** @type {HTMLElement} */ (bar.firstChild).style.width = `calc(${b}% - 2px)`;
    parts.push(el("span", {}, t("portal.battery") + " ", bar, " " + I18n.number(b / 100, { style: "percent" })));
    if (low) parts.push(el("span", { class: "pill warn" }, t("portal.charge")));
  }
  box.replaceChildren(...parts);
}

/** A care-team message in the chosen language, from its key and parameters (messages.py). @param {any} m */
function messageText(m) {
  const p = m.params || {};
  return t("msg." + m.key, { ...p, what: t("msg.what." + (p.signal || "other")), direction: t("msg.direction." + (p.direction || "different")) });
}

function renderMessages() {
  const list = $("messages");
  if (messages === null) {  // the server could not read them: never shown as "no alerts"
    list.replaceChildren(el("li", { class: "unavailable" }, t("portal.messagesUnavailable", { number: callNumber })));
    return;
  }
  if (!messages.length) { list.replaceChildren(el("li", {}, t("portal.noMessages"))); return; }
  list.replaceChildren(...messages.map(m => {
    const now = m.action === "call_now", number = m.call_number;
    return el("li", { class: now ? "urgent" : "" },
      el("time", { datetime: m.time }, I18n.dateTime(m.t)),
      el("p", {}, messageText(m) + " ", el("em", {}, t("msg." + m.status_key))),
      el("div", { class: "what-next" },
        el("strong", { class: "badge " + (now ? "call-now" : "nurse") }, now ? t("portal.callNowBadge") : t("portal.nurseBadge")),
        " " + t("msg." + m.action, { number }) + " ",
        el("a", { class: "call", href: "tel:" + number.replace(/[^0-9+]/g, "") }, t("portal.callNumber", { number }))));
  }));
}

/** The table alternative: the chart's readings (at most ~25 rows, evenly spread), with normal ranges. */
function renderTable() {
  const table = /** @type {HTMLTableElement} */ ($("trend-table"));
  if (!trendData) { table.replaceChildren(); return; }
  const { rows, shown, from, to, units } = trendData;
  const every = Math.max(1, Math.ceil(rows.length / 25));
  const picked = rows.filter((/** @type {any} */ _r, /** @type {number} */ i) => (rows.length - 1 - i) % every === 0);
  const head = el("tr", {}, el("th", { scope: "col" }, t("portal.tableTime")), ...shown.map((/** @type {string} */ s) =>
    el("th", { scope: "col" }, `${t("signal." + s)} (${unitWords(units[s] || "")}) `,
       el("span", { class: "normal" }, `[${num(NORMAL[s][0], s)}–${num(NORMAL[s][1], s)}]`))));
  table.replaceChildren(
    el("caption", {}, t("portal.tableCaption", { from: I18n.dateTime(from), to: I18n.dateTime(to) })),
    el("thead", {}, head),
    el("tbody", {}, ...picked.map((/** @type {any} */ r) => el("tr", { "data-t": String(r.t) },
      el("th", { scope: "row" }, I18n.time(r.t)),
      ...shown.map((/** @type {string} */ s) => el("td", { "data-signal": s }, r.values[s] === undefined ? "–" : num(r.values[s], s)))))));
}

function drawTrend() {
  if (!trendData) return;
  const { rows, shown, from, to, units, step } = trendData;
  const large = document.documentElement.classList.contains("large");
  SWChart.trend(/** @type {HTMLCanvasElement} */ ($("trend")), rows, shown, from, to, units, step, {
    light: true, font: large ? 18 : 15, normal: NORMAL,
    names: Object.fromEntries(TREND.map(s => [s, t("signal." + s)])),
    words: { normal: t("portal.normal"), band: t("portal.band"), noData: t("portal.noData"),
             gap: g => t("portal.gap", { gap: g }) },
    time: I18n.time, number: v => I18n.number(Math.round(v)), unitText: unitWords });
  renderTable();
}

async function loadSummary() {
  const s = await api(`/api/v1/patients/${encodeURIComponent(me.patient)}/summary`);
  setServerNow(s.now);
  tile = s.tile; messages = s.messages; callNumber = s.call_number;
  // the patient's own name where their admission recorded it (never in the live frames)
  $("who").textContent = s.name ? t("portal.whoNamed", { name: s.name, username: me.username }) : me.username;
  renderReadings(); renderDevice(); renderMessages();
}

/** The range buttons show the chosen range (pressed). */
function markRange() {
  /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".bv-range button")).forEach(x => {
    x.classList.toggle("on", Number(x.dataset.range) === hours);
    x.setAttribute("aria-pressed", String(Number(x.dataset.range) === hours));
  });
}

async function loadTrend() {
  markRange();
  const to = serverNow(), from = to - hours * 3600000, asked = ++trendAsked;
  const r = await api(`/api/v1/patients/${encodeURIComponent(me.patient)}/vitals?${TREND.map(s => "signal=" + s).join("&")}&from=${from}&to=${to}`);
  if (asked !== trendAsked) return;  // overtaken by a later request (e.g. another range): not drawn over it
  const shown = TREND.filter(s => r.rows.some((/** @type {any} */ x) => x.values[s] !== undefined));
  trendData = { rows: r.rows, shown: shown.length ? shown : ["heart_rate"], from, to, units: r.units, step: r.every ? 60000 : 1000 };
  drawTrend();
}

/** Texts of the static markup and everything drawn, in the chosen language. */
function renderAll() {
  I18n.translate(document);
  /** @type {HTMLSelectElement} */ ($("lang")).value = I18n.lang();
  document.querySelectorAll(".bv-range button").forEach(b => { b.textContent = t("portal.hours", { n: I18n.number(Number(/** @type {HTMLElement} */ (b).dataset.range)) }); });
  if (me) { renderReadings(); renderDevice(); renderMessages(); drawTrend(); }
}

/** The large-text/high-contrast switch (remembered in localStorage). @param {boolean} on */
function setLarge(on) {
  document.documentElement.classList.toggle("large", on);
  $("large").setAttribute("aria-pressed", String(on));
  try { localStorage.setItem(LARGE, on ? "1" : "0"); } catch { /* not remembered */ }
  drawTrend();
}

async function start() {
  let large = false;
  try { large = localStorage.getItem(LARGE) === "1"; } catch { /* default */ }
  document.documentElement.classList.toggle("large", large);
  $("large").setAttribute("aria-pressed", String(large));
  await I18n.ready();
  renderAll();
  $("lang").addEventListener("change", async ev => {
    await I18n.choose(/** @type {I18n.Lang} */ (/** @type {HTMLSelectElement} */ (ev.target).value));
    renderAll();
  });
  $("large").addEventListener("click", () => setLarge(!document.documentElement.classList.contains("large")));
  // wired before the login ends: a range chosen while the page still loads is the one drawn, not lost
  /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".bv-range button")).forEach(x => x.addEventListener("click", () => {
    hours = Number(x.dataset.range);
    if (me) loadTrend(); else markRange();
  }));
  me = await loginFlow(t("portal.heading"), u => u.role === "patient");
  $("who").textContent = me.username;
  $("logout").addEventListener("click", logout);
  await loadSummary();
  loadTrend();
  stream(`/api/v1/ws/patients/${encodeURIComponent(me.patient)}`, frames => {
    for (const f of frames) {
      if (f.type === "snapshot") { setServerNow(f.now); tile = f.beds[0] || tile; }
      else if (f.type === "tile") tile = f.tile;
      else if (f.type === "alarm") loadSummary();
    }
    renderReadings(); renderDevice();
  });
  setInterval(() => { renderReadings(); renderDevice(); }, 5000);
  setInterval(loadTrend, 60000);
}
start();
