// @ts-check
// Patient portal: own readings, device connection and battery, plain-language care-team messages, trends.
import { fmt } from "./catalogue.js";
import { age, byId, el, isStale, serverNow, setServerNow } from "./common.js";
import { loginFlow } from "./login.js";
import { api, logout, stream } from "./session.js";
import * as SWChart from "./chart.js";

const $ = byId;
const NAMES = { heart_rate: "Heart rate", pulse_rate: "Pulse", spo2: "Oxygen level", resp_rate: "Breathing rate",
                nibp_sys: "Blood pressure", temperature: "Temperature" };
const UNIT_WORDS = { "/min": "per minute", "%": "%", "mm[Hg]": "mmHg", "Cel": "°C" };
let me = null, tile = null, hours = 8, trendAsked = 0;

function renderReadings() {
  const box = $("readings");
  if (!tile || !Object.keys(tile.vitals || {}).length) {
    box.replaceChildren(el("p", { class: "muted" }, "No readings received yet. Make sure your device is switched on and worn."));
    return;
  }
  const v = tile.vitals;
  const shown = Object.keys(NAMES).filter(s => v[s] && !(s === "pulse_rate" && v.heart_rate));
  box.replaceChildren(...shown.map(s => {
    const r = v[s], stale = isStale(r);
    let value = fmt(r.value, s);
    if (s === "nibp_sys" && v.nibp_dia) value += "/" + fmt(v.nibp_dia.value, "nibp_dia");
    return el("div", { class: "reading" + (stale ? " stale" : "") },
      el("div", { class: "name" }, NAMES[s]),
      el("div", {}, el("span", { class: "value" }, value), el("span", { class: "unit" }, UNIT_WORDS[r.unit] || r.unit)),
      el("div", { class: "when" }, stale ? `Last reading ${age(r.t)} ago — not current` : `${age(r.t)} ago`));
  }));
}

function renderDevice() {
  const box = $("device");
  if (!tile || !tile.device) { box.replaceChildren(el("span", { class: "muted" }, "No device is linked to you yet.")); return; }
  const fresh = Object.values(tile.vitals || {}).some(r => !isStale(r));
  const online = tile.online !== false && fresh;
  const parts = [el("span", {}, "Device ", el("strong", {}, tile.device)),
                 el("span", { class: "pill " + (online ? "ok" : "bad") }, online ? "Connected" : "Not sending readings")];
  if (tile.battery !== null && tile.battery !== undefined) {
    const b = Math.round(tile.battery), low = b < 20;
    const bar = el("span", { class: "battery" + (low ? " low" : "") }, el("span", {}));
    /** @type {HTMLElement} */ (bar.firstChild).style.width = `calc(${b}% - 2px)`;
    parts.push(el("span", {}, "Battery ", bar, ` ${b}%`));
    if (low) parts.push(el("span", { class: "pill warn" }, "Please charge your device"));
  }
  box.replaceChildren(...parts);
}

function renderMessages(messages) {
  const list = $("messages");
  if (!messages.length) { list.replaceChildren(el("li", {}, "No alerts. Your care team has not needed to be alerted about your readings.")); return; }
  list.replaceChildren(...messages.map(m => el("li", { class: m.urgent ? "urgent" : "" },
    el("time", { datetime: m.time }, new Date(m.t).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", hourCycle: "h23" })), m.text + " ", el("em", {}, m.status))));
}

async function loadSummary() {
  const s = await api(`/api/v1/patients/${encodeURIComponent(me.patient)}/summary`);
  setServerNow(s.now);
  tile = s.tile;
  renderReadings(); renderDevice(); renderMessages(s.messages);
}

async function loadTrend() {
  /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".bv-range button")).forEach(x => x.classList.toggle("on", Number(x.dataset.range) === hours));
  const to = serverNow(), from = to - hours * 3600000, asked = ++trendAsked;
  const sigs = ["heart_rate", "spo2", "resp_rate", "temperature"];
  const r = await api(`/api/v1/patients/${encodeURIComponent(me.patient)}/vitals?${sigs.map(s => "signal=" + s).join("&")}&from=${from}&to=${to}`);
  if (asked !== trendAsked) return;  // overtaken by a later request (e.g. another range): not drawn over it
  const shown = sigs.filter(s => r.rows.some(x => x.values[s] !== undefined));
  SWChart.trend(/** @type {HTMLCanvasElement} */ ($("trend")), r.rows, shown.length ? shown : ["heart_rate"], from, to, r.units, r.every ? 60000 : 1000);
}

async function start() {
  me = await loginFlow("My readings", u => u.role === "patient");
  $("who").textContent = me.username;
  $("logout").addEventListener("click", logout);
  /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".bv-range button")).forEach(x => x.addEventListener("click", () => { hours = Number(x.dataset.range); loadTrend(); }));
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
