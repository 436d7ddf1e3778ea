// @ts-check
// Central station: ward grid, alarm list, bed view. Live over /api/v1/ws/wards/{ward}. Every text in the
// reader's language (i18n.js: the browser's, or the one chosen on the top bar, remembered).
import { alarmCompare, alarmEnded, alarmLabel } from "./alarms.js";
import { alarmReason } from "./alarmtext.js";
import * as audio from "./audio.js";
import { fmt, label, signalRank, unit } from "./catalogue.js";
import { age, byId, clock, el, isStale, serverNow, setServerNow } from "./common.js";
import { loginFlow } from "./login.js";
import { api, logout, stream } from "./session.js";
import * as SWChart from "./chart.js";
import { waveStrip } from "./waves.js";
import { closeLimits, limitsBadge, limitsWords, syncLimits } from "./limits.js";
import { gridSize, place } from "./bedgrid.js";
import * as Adt from "./adt.js";
import * as Ident from "./identities.js";
import { initLayoutEditor } from "./layout_edit.js";
import * as I18n from "./i18n.js";
import { initHistory } from "./history.js";

const $ = byId;
const { t } = I18n;
const TILE_SIGNALS = [["heart_rate", "pulse_rate"], ["spo2"], ["resp_rate"], ["nibp_sys"], ["temperature"]];
let ward = null, beds = new Map(), alarms = new Map(), conn = null, dirty = new Set(), wards = [];
let bedOpen = null, trendHours = 1, strip = null, trendTimer = null, drill = null, trendAsked = 0;
/** @type {import("./bedgrid.js").Layout} */
let layout = { ward: "", beds: [], columns: null, configured: false };
/** @type {import("./bedgrid.js").Slots} */
let slots = [];                 // the grid's positions (bedgrid.js): a bed never moves once placed
let capacity = 0, gridDirty = false;

const cmp = alarmCompare;  // real alarms first, drill alarms after them; then priority, state, newest
function bedSort(a, b) { return a.bed.length - b.bed.length || a.bed.localeCompare(b.bed); }

// ---- frames ------------------------------------------------------------------------------------
function onFrames(frames) {
  lastFrameAt = Date.now();
  let newAlarm = false;
  for (const f of frames) {
    if (f.type === "heartbeat") {
      setServerNow(f.now);
      feedOk = f.feed !== false;
    } else if (f.type === "snapshot") {
      setServerNow(f.now);
      feedOk = true;
      beds = new Map(f.beds.map(b => [b.bed, b]));
      for (const [id, a] of alarms) if (!f.alarms.some(x => x.id === id)) keepGone(a);
      alarms = new Map(f.alarms.map(a => [a.id, a]));
      for (const a of f.alarms) newAlarm = seen(a) || newAlarm;
      drill = f.drill || null; renderDrill();
      gridDirty = true;
      if (bedOpen && conn) conn.send({ watch: bedOpen });  // a new connection watches nothing: the open bed's waveforms again
      for (const b of [...beds.values()].sort(bedSort)) dirty.add(b.bed);
      Ident.refresh();  // who is in which bed may have changed while the link was down
      renderAlarms();
    } else if (f.type === "tile") {
      const old = beds.get(f.tile.bed);
      beds.set(f.tile.bed, f.tile);
      if (!old) gridDirty = true;  // a new bed takes a free slot: no other bed moves
      if (f.tile.patient && (!old || old.patient !== f.tile.patient)) Ident.refresh();  // name and MRN of the new patient
      dirty.add(f.tile.bed);
      if (bedOpen === f.tile.bed) renderBedNow();
    } else if (f.type === "alarm") {
      const a = f.alarm;
      if (a.state === "cleared") { const was = alarms.get(a.id); if (was) keepGone(was); alarms.delete(a.id); }
      else { alarms.set(a.id, a); newAlarm = seen(a) || newAlarm; }
      renderAlarms();
    } else if (f.type === "drill") {
      drill = f.drill || null; renderDrill();
    } else if (f.type === "wave") {
      if (strip && f.bed === bedOpen) strip.push(f);
    }
  }
  soundAlarms(newAlarm);
  checkLink();
  schedule();
}

let raf = 0;
function schedule() { if (!raf) raf = requestAnimationFrame(() => { raf = 0; flush(); }); }
function flush() {
  if (gridDirty) syncGrid();
  const shown = [];
  for (const name of dirty) {
    const b = beds.get(name);
    if (b) { renderTile(b); shown.push(name); } else if (slots.includes(name)) renderEmptyBed(name);
  }
  dirty.clear();
  keepIdEnds(shown);
  showHiddenBeds();
  $("summary").textContent = summaryText();
}

function summaryText() {
  const occ = [...beds.values()].filter(b => b.patient).length;
  return t("station.summary", { beds: new Set([...slots.filter(Boolean), ...beds.keys()]).size, patients: occ });
}

// The grid's slots (bedgrid.js): the ward's stored layout first (its empty beds keep their places),
// then other beds in the order they appear; a new bed never moves one already shown.
function syncGrid() {
  gridDirty = false;
  if (!ward) return;
  const g = $("grid");
  const first = !slots.length;
  slots = place(slots, layout.configured ? layout.beds : [], [...beds.values()].sort(bedSort).map(b => b.bed));
  if (!slots.length) return;
  for (const c of [...g.children]) if (!c.matches(".tile, .slot-gap")) c.remove();  // e.g. "No wards yet"
  slots.forEach((name, i) => {
    const at = g.children[i];
    let node;
    if (name === null) {
      if (at && at.classList.contains("slot-gap")) return;
      node = el("div", { class: "slot-gap", "aria-hidden": "true" });
    } else {
      node = document.getElementById("bed-" + name);
      if (!node) { node = el("article", { id: "bed-" + name, class: "tile" }); dirty.add(name); }
    }
    if (at !== node) g.insertBefore(node, at || null);
  });
  while (g.children.length > slots.length) /** @type {Element} */ (g.lastElementChild).remove();
  if (first || !capacity) {
    // the tile size is set for the layout (or the beds first shown, at least 12): later beds add rows below
    capacity = Math.max(layout.configured ? layout.beds.length : 12, slots.length);
    sizeGrid();
  }
}

// Fit the layout on one screen: the layout's columns, or the column count that makes the tiles largest.
// Rows have a fixed height, so a bed added later never shrinks the others (more beds scroll).
function sizeGrid() {
  const g = $("grid");
  const s = gridSize(Math.max(capacity, 1), g.clientWidth, g.clientHeight, layout.configured ? layout.columns : null);
  g.style.gridTemplateColumns = `repeat(${s.columns}, minmax(0, 1fr))`;
  g.style.gridTemplateRows = "";
  g.style.gridAutoRows = `${s.rowHeight}px`;
  g.style.setProperty("--scale", s.scale.toFixed(2));
}
window.addEventListener("resize", () => { sizeGrid(); });

// Beds below the grid's visible part (more beds than the layout's screen: the grid scrolls rather than
// shrink the others) are named on a button that scrolls to them; red when one of them has an active alarm.
function showHiddenBeds() {
  const g = $("grid"), more = /** @type {HTMLButtonElement} */ ($("grid-more"));
  const bottom = g.scrollTop + g.clientHeight;
  const hidden = [...g.querySelectorAll(".tile[id^='bed-']")].filter(t => {
    const e = /** @type {HTMLElement} */ (t);
    return e.offsetTop - g.offsetTop + e.offsetHeight > bottom + 1 && !e.classList.contains("placeholder");
  }).map(t => t.id.slice(4));
  more.hidden = !hidden.length;
  if (!hidden.length) return;
  const alarmed = hidden.some(n => { const b = beds.get(n); return !!b && !!topAlarm(b) && topAlarm(b).state === "active"; });
  more.classList.toggle("alarmed", alarmed);
  more.textContent = "▼ " + I18n.plural("station.moreBelow", hidden.length, { beds: hidden.join(", ") })
    + (alarmed ? " · " + t("station.moreBelowAlarm") : "");
  more.dataset.first = hidden[0];
}
$("grid").addEventListener("scroll", showHiddenBeds);
$("grid-more").addEventListener("click", () => {
  const t = $("bed-" + ($("grid-more").dataset.first || ""));
  if (t) { t.scrollIntoView({ block: "nearest" }); t.focus(); }
});

/** A bed of the ward's layout with no patient and no device: an empty tile in its place. @param {string} name */
function renderEmptyBed(name) {
  const node = $("bed-" + name);
  if (!node) return;
  node.className = "tile empty placeholder";
  node.removeAttribute("tabindex");
  delete node.dataset.bed;
  node.setAttribute("aria-label", t("station.emptyBedAria", { bed: name }));
  refill(node, el("header", {}, el("span", { class: "bed" }, name)), el("div", { class: "empty-text" }, t("station.emptyBed")),
         Adt.admitButton(ward, name));
}

/** Replace `node`'s content; an element in it that had the focus keeps it (adt.js reuses its buttons),
 * else the tile takes it (e.g. after an admission from its "Admit…" button). @param {HTMLElement} node @param {...(Node | null)} children */
function refill(node, ...children) {
  const had = node.contains(document.activeElement) ? /** @type {HTMLElement} */ (document.activeElement) : null;
  node.replaceChildren(...children.filter(c => c !== null));
  if (had && had !== node) (node.contains(had) ? had : node).focus();
}

// Live drill (retained {root}/drill/{ward}): a DRILL banner while it runs; drill beds and alarms are marked.
function renderDrill() {
  const on = !!(drill && drill.active && drill.ends > serverNow());
  const banner = $("drill-banner");
  banner.hidden = !on;
  document.body.classList.toggle("drilling", on);
  if (on) {
    const n = (drill.beds || []).length;
    banner.textContent = I18n.plural("station.drillBanner", n, { until: clock(drill.ends, false) });
    banner.title = t("station.drillTitle", { drill: drill.drill, beds: (drill.beds || []).join(", ") });
  }
}
const drillTag = () => el("span", { class: "drill-tag", title: t("station.drillTagTitle") }, t("station.drillTag"));

// ---- NEWS2 -------------------------------------------------------------------------------------
// An incomplete NEWS2 (a parameter not measured, e.g. no nurse observation of consciousness yet) is
// only a floor: shown as "≥ total · incomplete", never in the green of a normal score, and it names
// what is missing. Missing data is never scored as normal.
// The parameters (alerting.news2.PARAMETERS) in words (keys news2.param.<p>), and the tile's short form
// of the same list (news2.short.<p>: "no ACVPU, O₂"); the tooltip and bed view keep the words.
const NEWS2_PARAMS = ["resp_rate", "spo2", "supplemental_o2", "sbp", "heart_rate", "consciousness", "temperature"];
const missingText = n => (n.missing || []).map(p => (NEWS2_PARAMS.includes(p) ? t("news2.param." + p) : p.replaceAll("_", " ")))
  .join(t("station.listSep"));
const missingShort = n => t("news2.missingShort", {
  list: (n.missing || []).map(p => (NEWS2_PARAMS.includes(p) ? t("news2.short." + p) : p.replaceAll("_", " "))).join(t("station.listSep")) });
/** A NEWS2 risk band in words ("medium"). @param {string} r */
const riskWord = r => (I18n.has("news2.risk." + r) ? t("news2.risk." + r) : r);
function news2Words(n) {
  if (!n) return t("news2.none");
  if (n.complete) return t("news2.words", { total: n.total, risk: riskWord(n.risk) });
  return t(n.risk !== "low" ? "news2.incompleteRisk" : "news2.incomplete", { total: n.total, risk: riskWord(n.risk), missing: missingText(n) });
}
function news2Badge(n) {
  if (!n) return el("span", { class: "news none", title: t("news2.noneTitle") }, "NEWS2 —");
  if (n.complete) return el("span", { class: `news r-${n.risk}`, title: news2Words(n) }, `NEWS2 ${n.total}`);
  // a floor above low keeps its risk colour (the true score can only be higher); a low floor is neutral
  return el("span", { class: `news partial${n.risk !== "low" ? " r-" + n.risk : ""}`,
                         title: t("news2.mayBeHigher", { words: news2Words(n) }) },
               el("span", { class: "n2-score" }, `NEWS2 ≥${n.total}`), " ", el("span", { class: "n2-inc" }, t("news2.incompleteTag")));
}

// ---- tiles -------------------------------------------------------------------------------------
function topAlarm(b) {
  return (b.alarms || []).filter(a => a.state !== "cleared").sort(cmp)[0] || null;
}

// A bed whose device stopped sending: no continuously measured signal (short staleness horizon: HR,
// SpO₂, RR; not a 4-hourly NIBP or temperature) came within the shortest of their horizons, or every
// value is stale.
function deviceSilent(b) {
  const vs = Object.values(b.vitals || {});
  if (!b.device || !vs.length) return false;
  const continuous = vs.filter(v => v.expire_after_s <= 120);
  if (!continuous.length) return vs.every(v => isStale(v));
  const newest = Math.max(...continuous.map(v => v.t)), horizon = Math.min(...continuous.map(v => v.expire_after_s));
  return isStale({ t: newest, expire_after_s: horizon });
}

function renderTile(b) {
  const node = $("bed-" + b.bed);
  if (!node) return;
  const top = topAlarm(b);
  const vitals = b.vitals || {};
  const noData = deviceSilent(b) || b.online === false;
  const ended = !!top && alarmEnded(top);
  const cls = ["tile"];
  if (!b.patient && !b.device) cls.push("empty");
  if (b.drill) cls.push("drill");
  // an ended (latched) alarm is shown quietly, never as a flashing active alarm
  if (top) cls.push("prio-" + top.priority, top.state === "active" && !ended ? "flash" : "quiet");
  if (ended) cls.push("ended");
  if (noData) cls.push("nodata");
  node.className = cls.join(" ");
  node.tabIndex = 0;
  node.dataset.bed = b.bed;
  const n = b.news2;
  const home = b.ward === "home";
  const who = b.drill ? "" : home ? t("station.atHome") : b.patient || (b.device ? t("station.noPatient") : t("station.empty"));
  node.setAttribute("aria-label", [t("station.bed", { bed: b.bed }),
    b.patient && !b.drill ? t("station.tilePatient", { patient: Ident.full(b.patient) }) : "", news2Words(n),
    top ? t(ended ? "station.tileEndedAlarm" : "station.tileAlarm", { priority: priorityWord(top.priority) }) : "",
    noData ? t("station.tileNoData") : ""].filter(Boolean).join(t("station.clauseSep")) + limitsWords(b));
  const news = news2Badge(n);
  const head = el("header", {}, el("span", { class: "bed" }, b.bed), b.drill ? drillTag() : null, limitsBadge(b), news);
  // the patient id on its own line, never cut (a nurse identifies the patient by it); beside it, when
  // the tile is wide enough (else on the next line), what an incomplete NEWS2 is missing
  const hint = n && !n.complete && (n.missing || []).length
    ? el("span", { class: "n2-miss", title: t("news2.notScored", { missing: missingText(n) }) }, missingShort(n)) : null;
  // a drill bed's DRILL tag says it all: no "patient" text
  const ident = el("div", { class: "ident" },
                      el("span", { class: "pid", title: b.drill ? t("station.drillPid") : who }, who), hint,
                      identLine(b), b.patient ? null : Adt.admitButton(b.ward, b.bed, b.drill));
  const grid = el("div", { class: "vitals" });
  for (const alts of TILE_SIGNALS) {
    const sig = alts.find(s => vitals[s]) || alts[0];
    grid.append(vitalCell(sig, vitals[sig], sig === "nibp_sys" ? vitals.nibp_dia : null, b));
  }
  const dev = b.device ? el("span", { class: "dev " + (b.online === false ? "off" : "on") },
                               (b.online === false ? "○ " : "● ") + b.device) : el("span", { class: "dev" }, t("station.noDevice"));
  const batt = b.battery !== null && b.battery !== undefined
    ? el("span", { class: "batt" + (b.battery < 20 ? " low" : "") }, `⚡${Math.round(b.battery)}%`) : null;
  const foot = el("footer", {}, dev, batt);
  const banner = top ? el("div", { class: "alarm-text", title: alarmReason(top).text },
                             `${ended ? "○ " : top.state !== "active" ? "✓ " : "▲ "}${alarmLabel(top)}${top.escalation_level ? " · ↑" + top.escalation_level : ""}`)
    : noData ? el("div", { class: "alarm-text gap" }, b.online === false ? t("station.deviceOffline")
      : t("station.noCurrentData", { age: age(lastT(b)) })) : null;
  refill(node, head, ident, grid, banner || el("div", { class: "alarm-text blank" }, ""), foot);
}

/** Name and MRN beside the pseudonym, where the admission recorded them (identities.js). @param {any} b */
function identLine(b) {
  const named = b.drill ? "" : Ident.label(b.patient);
  return named ? el("span", { class: "pname", title: named }, named) : null;
}

/** the newest reading of a bed @param {any} b @returns {number} */
function lastT(b) { return Math.max(0, ...Object.values(b.vitals || {}).map(v => v.t)); }

// A patient id too long for its tile keeps its distinguishing end ("…0032"; the whole id is in the
// title and the tile's accessible name). Measured after all tiles are written: one layout, and a
// couple more only for a tile whose id is cut.
function keepIdEnds(names) {
  const cut = names.map(n => document.querySelector(`#bed-${CSS.escape(n)} .pid`)).filter(p => p && p.scrollWidth > p.clientWidth);
  for (const p of cut) {
    const id = p.title;
    let k = Math.max(1, Math.floor(id.length * p.clientWidth / p.scrollWidth) - 1);
    p.textContent = "…" + id.slice(-k);
    while (k > 1 && p.scrollWidth > p.clientWidth) p.textContent = "…" + id.slice(-(--k));
  }
}

function vitalCell(sig, v, dia, b) {
  const name = label(sig);
  if (!v) {
    return el("div", { class: "v missing " + sig }, el("span", { class: "lbl" }, name),
                 el("span", { class: "age" }, ""), el("span", { class: "val" }, "---"));
  }
  const stale = isStale(v);
  // A reading the device flags, or an SpO2/pulse of 0 (probe off, no pulse signal), is not a
  // measurement: shown as "?" / "---" and marked, never as a normal big number. (HR 0 stays visible.)
  const noSignal = v.value === 0 && (sig === "spo2" || sig === "pulse_rate" || sig === "perfusion_index");
  const doubtful = noSignal || (v.quality && v.quality !== "valid");
  let text = noSignal ? "---" : fmt(v.value, sig);
  if (sig === "nibp_sys" && dia) text += "/" + fmt(dia.value, "nibp_dia");
  const why = noSignal ? " " + t("station.vitalNoSignal")
    : doubtful ? " " + t("station.vitalQuality", { quality: I18n.has("quality." + v.quality) ? t("quality." + v.quality) : v.quality }) : "";
  if (doubtful && !noSignal) text += "?";
  const alarmed = (b.alarms || []).some(a => a.signal === sig && a.state === "active");
  return el("div", { class: `v ${sig}${stale ? " stale" : ""}${doubtful ? " doubtful" : ""}${alarmed ? " alarmed" : ""}`,
                        title: `${name} ${text} ${unit(v.unit)} · ${t("station.ago", { age: age(v.t) })}${stale ? " " + t("station.stale") : ""}${why}` },
               el("span", { class: "lbl" }, name, " ", el("span", { class: "unit" }, unit(v.unit))),
               el("span", { class: "age" }, (stale ? "⏱ " : "") + age(v.t)),
               el("span", { class: "val" }, text));
}

/** An alarm priority in words ("high"; the chip writes it in capitals). @param {string} p */
function priorityWord(p) { return I18n.has("alarm.priority." + p) ? t("alarm.priority." + p) : p; }

// ---- alarm list ----------------------------------------------------------------------------------
// The list never moves under the nurse's pointer or keyboard selection: each alarm has its own row
// (updated in place, so a focused button keeps its focus), the order is stable (an update of an alarm
// never moves it: alarmCompare sorts by when it was raised), and while the nurse is working the list
// (the pointer moved or pressed on it in the last POINTER_HOLD_MS, or the keyboard selected or focused
// in it in the last HOLD_MS) rows keep their places: new alarms join at the end and an alarm that ended
// stays, marked ended, until the hold lapses (the pointer leaves the list, or time). Every action names
// the alarm id it was aimed at (and its bed: the server refuses a stale target with 409), and says
// which alarm it acted on.
const HOLD_MS = 8000, POINTER_HOLD_MS = 5000;
/** @type {string[]} */
let order = [];                 // alarm ids as shown
const rows = new Map();         // id -> <li>
const gone = new Map();         // id -> alarm that ended while the list was held (still shown, marked)
/** @type {string | null} */
let selectedId = null;
let pointerHoldUntil = 0, holdUntil = 0, resortPending = false;
const known = new Set();        // alarm ids this screen has seen (a new one re-announces the sound)

function held() { const now = Date.now(); return now < pointerHoldUntil || now < holdUntil; }
/** @param {any} a */
function keepGone(a) { if (rows.has(a.id)) gone.set(a.id, a); }
/** An alarm that should sound now. @param {any} a */
function audible(a) { return a.state === "active" && !alarmEnded(a); }
/** Whether `a` is an alarm that sounds and this screen did not know. @param {any} a */
function seen(a) {
  const isNew = !known.has(a.id) && audible(a);
  known.add(a.id);
  return isNew;
}

/** What the alarm sounds now (a new alarm re-announces: it ends an audio pause). @param {boolean} newAlarm */
function soundAlarms(newAlarm) {
  /** @type {any[]} */
  const ps = [...alarms.values()].filter(audible).map(a => a.priority);
  if (linkLost) ps.push("medium");  // a station that cannot see its alarms is itself a technical alarm
  audio.want(audio.highest(ps), newAlarm);
}

/** "NEWS2 9, bed 4": the alarm as the confirmation names it. @param {any} a */
function alarmName(a) { return t(a.bed ? "station.alarmNameBed" : "station.alarmNameWard", { label: alarmLabel(a), bed: a.bed }); }
/** An alarm state in words ("acknowledged"). @param {string} s */
function stateWord(s) { return I18n.has("alarm.state." + s) ? t("alarm.state." + s) : s; }

function renderAlarms() {
  const list = $("alarm-list");
  const sorted = [...alarms.values()].sort(cmp).map(a => a.id);
  let ids;
  if (held()) {
    const kept = order.filter(id => alarms.has(id) || gone.has(id));
    ids = [...kept, ...sorted.filter(id => !kept.includes(id))];
    resortPending = ids.join() !== sorted.join();
  } else {
    resortPending = false;
    gone.clear();
    ids = sorted;
  }
  const index = selectedId ? order.indexOf(selectedId) : -1;
  order = ids;
  for (const [id, li] of rows) if (!ids.includes(id)) { li.remove(); rows.delete(id); }
  ids.forEach((id, i) => {
    let li = rows.get(id);
    if (!li) { li = alarmRow(id); rows.set(id, li); }
    fillRow(li, alarms.get(id) || gone.get(id), !alarms.has(id));
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  if (selectedId && !ids.includes(selectedId)) selectedId = ids.length ? ids[Math.min(Math.max(index, 0), ids.length - 1)] : null;
  for (const [id, li] of rows) { li.classList.toggle("sel", id === selectedId); if (id === selectedId) li.setAttribute("aria-current", "true"); else li.removeAttribute("aria-current"); }
  const open = [...alarms.values()];
  const active = open.filter(a => !alarmEnded(a));
  $("alarm-count").textContent = String(active.length);
  $("alarm-count").title = t("station.alarmCountTitle", { active: active.length, ended: open.length - active.length });
  $("alarm-count").className = "count" + (active.some(a => a.priority === "high" && a.state === "active") ? " high" : "");
  const late = ids.filter((id, i) => i > 0 && sorted.indexOf(id) < sorted.indexOf(ids[i - 1]) && alarms.has(id)).length;
  $("alarm-held").textContent = held() && late ? t("station.listHeld", { n: late }) : "";
  for (const b of beds.values()) dirty.add(b.bed);
  schedule();
}

/** @param {string} id */
function alarmRow(id) {
  /** @param {string} cls @param {string} text @param {"acknowledge" | "silence" | "escalate"} action */
  const button = (cls, text, action) => el("button", { class: cls, type: "button",
    onclick: ev => { ev.stopPropagation(); act(id, action); } }, text);
  const li = el("li", { "data-id": id },
    el("span", { class: "chip" }), el("span", { class: "where" }), el("span", { class: "when" }),
    el("span", { class: "label" }), el("span", { class: "reason" }), el("span", { class: "state" }),
    el("span", { class: "actions" }, button("ack", t("station.act.acknowledge"), "acknowledge"),
       button("sil", t("station.act.silence"), "silence"), button("esc", t("station.act.escalate"), "escalate")));
  li.addEventListener("click", () => {
    selectedId = id; renderAlarms();
    const a = alarms.get(id);
    if (a && a.bed) openBed(a.bed);
  });
  return li;
}

/** Write an alarm into its row (the row's buttons stay the same elements). @param {HTMLElement} li @param {any} a @param {boolean} isGone */
function fillRow(li, a, isGone) {
  const ended = isGone || alarmEnded(a);
  li.className = `alarm prio-${a.priority} st-${isGone ? "cleared" : a.state}${a.drill ? " drill" : ""}${ended ? " ended" : ""}`
    + `${isGone ? " gone" : ""}`;
  li.dataset.bed = a.bed || "";
  const q = sel => /** @type {HTMLElement} */ (li.querySelector(sel));
  q(".chip").textContent = priorityWord(a.priority).toUpperCase();
  q(".where").replaceChildren(a.bed ? t("station.bed", { bed: a.bed }) : t("station.ward"), ...(a.drill ? [drillTag()] : []));
  q(".when").textContent = clock(a.raised_t || a.t, false);
  q(".when").dataset.t = String(a.raised_t || a.t);
  q(".label").textContent = alarmLabel(a) + (a.patient ? " · " + a.patient : "");
  const why = alarmReason(a);  // alerting's reason in the reader's language (its key; else its English read)
  q(".reason").textContent = why.text;
  if (why.english) q(".reason").setAttribute("lang", "en"); else q(".reason").removeAttribute("lang");
  const peak = a.peak_priority && a.peak_priority !== a.priority ? " · " + t("station.peak", { priority: priorityWord(a.peak_priority) }) : "";
  const endedAt = a.ended_t ? t("station.endedAt", { at: clock(a.ended_t, false) }) : t("alarm.ended");
  q(".state").textContent = isGone ? t("station.endedCleared") + peak
    : ended ? `${endedAt} · ${a.state === "active" ? t("station.latched") : stateWord(a.state)}${peak}`
    : a.state === "active" ? peak.slice(3) : stateWord(a.state) + (a.by ? " · " + a.by : "") + peak;
  const name = alarmName(a);
  for (const [cls, action] of [[".ack", "acknowledge"], [".sil", "silence"], [".esc", "escalate"]]) {
    const b = /** @type {HTMLButtonElement} */ (q(cls));
    b.disabled = isGone;
    b.textContent = t("station.act." + action);  // the chosen language's (a row outlives a language switch)
    b.setAttribute("aria-label", t("station.actAria", { verb: b.textContent, name }));
  }
}

/** @param {string} id @param {"acknowledge" | "silence" | "escalate"} action */
async function act(id, action) {
  const a = alarms.get(id) || gone.get(id);
  if (!a || !alarms.has(id)) {
    confirmText(t("station.notDoneEnded." + action, { name: a ? alarmName(a) : t("station.thatAlarm") }), true);
    return;
  }
  const name = alarmName(a);
  try {
    const body = action === "silence" ? { minutes: 2, bed: a.bed || "" } : { bed: a.bed || "" };
    await api(`/api/v1/alarms/${encodeURIComponent(id)}/${action}`, { method: "POST", json: body });
    if (action === "silence") audio.pause(2 * 60000);
    confirmText(t("station.done." + action, { name }), false);
  } catch (e) { confirmText(t("station.notDone." + action, { name, error: e.message }), true); }
}

/** The last action's confirmation under the list heading (a refusal also as an alert). @param {string} text @param {boolean} bad */
function confirmText(text, bad) {
  const c = $("alarm-confirm");
  c.textContent = text;
  c.className = "confirm" + (bad ? " bad" : "");
  if (bad) flash(text);
}

function flash(text) {
  const n = el("div", { class: "toast", role: "alert" }, text);
  document.body.append(n); setTimeout(() => n.remove(), 4000);
}

// ---- sound and link ------------------------------------------------------------------------------
const LINK_LOST_MS = 3000;  // 3 heartbeats missed: COMMUNICATION LOST (the heartbeat is 1 s; shown within 3.5 s)
let lastFrameAt = 0, streamSince = 0, feedOk = true, linkLost = false;

/** @typedef {"offline" | "live" | "reconnecting" | "lost"} ConnWord */
/** @type {{cls: string, word: ConnWord}} */
let connShown = { cls: "off", word: "offline" };  // the link indicator (#conn), written again on a language switch
/** @param {string} cls @param {ConnWord} word */
function setConn(cls, word) {
  connShown = { cls, word };
  $("conn").className = "conn " + cls;
  $("conn").textContent = "● " + t("station.conn." + word);
}

function checkLink() {
  const now = Date.now();
  const silentMs = now - (lastFrameAt || streamSince || now);
  const lost = !!ward && (silentMs > LINK_LOST_MS || !feedOk);
  const box = $("comm-lost");
  if (lost) {
    $("comm-lost-why").textContent = !feedOk ? t("station.feedLost") : t("station.noDataFor", { s: Math.round(silentMs / 1000) });
  }
  if (lost === linkLost) return;
  linkLost = lost;
  box.hidden = !lost;
  document.body.classList.toggle("comm-lost", lost);
  setConn(lost ? "lost" : "on", lost ? "lost" : "live");
  soundAlarms(false);
}
setInterval(checkLink, 500);

function renderAudio() {
  if (!I18n.loaded()) return;  // the markup's text until the catalogue is in (start)
  const st = audio.state(), btn = /** @type {HTMLButtonElement} */ ($("audio-state"));
  const paused = st.pausedLeftMs > 0;
  const left = Math.ceil(st.pausedLeftMs / 1000);
  btn.className = "audio-state " + (!st.available ? "unavailable" : paused ? "paused" : st.playing ? "sounding" : "ready");
  btn.textContent = !st.available ? "🔇 " + t("station.audio.unavailable")
    : paused ? "🔕 " + t("station.audio.paused", { left: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}` })
    : st.playing ? "🔔 " + t("station.audio.sounding", { priority: priorityWord(st.playing).toUpperCase() }) : "🔔 " + t("station.audio.on");
  btn.title = t(!st.available ? "station.audio.unavailableTitle" : paused ? "station.audio.pausedTitle" : "station.audio.title");
  btn.setAttribute("aria-pressed", String(paused));
}
$("audio-state").addEventListener("click", () => {
  const st = audio.state();
  if (!st.available) audio.enable();
  else if (st.pausedLeftMs > 0) audio.resume();
  else if (st.playing) audio.pause(2 * 60000);
});
const vol = /** @type {HTMLInputElement} */ ($("audio-volume"));
vol.min = String(Math.round(audio.VOLUME_FLOOR * 100));
vol.value = String(Math.round(audio.state().volume * 100));
vol.addEventListener("input", () => audio.setVolume(Number(vol.value) / 100));
audio.onChange(renderAudio);
setInterval(renderAudio, 1000);
renderAudio();

const alarmList = $("alarm-list");
for (const ev of ["pointerenter", "pointermove", "pointerdown"]) alarmList.addEventListener(ev, () => { pointerHoldUntil = Date.now() + POINTER_HOLD_MS; });
alarmList.addEventListener("pointerleave", () => { pointerHoldUntil = 0; if (resortPending && !held()) renderAlarms(); });
// keyboard focus in the list (a clicked button is not :focus-visible) holds it like the arrow keys
alarmList.addEventListener("focusin", ev => { if (/** @type {HTMLElement} */ (ev.target).matches(":focus-visible")) holdUntil = Date.now() + HOLD_MS; });
alarmList.addEventListener("keydown", () => { holdUntil = Date.now() + HOLD_MS; });

// ---- bed view ----------------------------------------------------------------------------------
function openBed(name) {
  const b = beds.get(name);
  if (!b) return;
  bedOpen = name;
  $("bedview").hidden = false;
  bedHead(b);
  strip = strip || waveStrip(/** @type {HTMLCanvasElement} */ ($("bv-wave")));
  strip.clear();  // never the previous bed's waveforms
  closeFrozen();
  conn && conn.send({ watch: name });
  renderBedNow();
  SWChart.clear(/** @type {HTMLCanvasElement} */ ($("bv-trend")));  // never the previous bed's trend, not even redrawn on a resize before this one loads
  loadTrend();
  clearInterval(trendTimer);
  trendTimer = setInterval(loadTrend, 30000);
  $("bv-close").focus();
}

function closeBed() {
  const was = bedOpen;
  bedOpen = null;
  closeLimits();
  $("bedview").hidden = true;
  conn && conn.send({ watch: null });
  if (strip) { strip.stop(); strip.clear(); }
  closeFrozen();
  clearInterval(trendTimer);
  const t = was && $("bed-" + was); if (t) t.focus();
}

/** The bed view's title (pseudonym, and name and MRN where recorded) and its admission buttons (adt.js). @param {any} b */
function bedHead(b) {
  $("bv-title").textContent = `${t("station.bed", { bed: b.bed })} · ${b.patient ? Ident.full(b.patient) : t("station.noPatient")}${b.device ? " · " + b.device : ""}`;
  Adt.bedActions($("bv-adt"), b);
}

function renderBedNow() {
  const b = beds.get(bedOpen);
  if (!b) return;
  bedHead(b);
  const vit = b.vitals || {};
    const cells = Object.entries(vit).filter(([sig]) => sig !== "nibp_dia" && sig !== "nibp_mean")
    .sort((x, y) => signalRank(x[0]) - signalRank(y[0]))
    .map(([sig, v]) => el("div", { class: "big" + (isStale(v) ? " stale" : "") },
      el("span", { class: "lbl" }, label(sig)),
      el("span", { class: "val" }, fmt(v.value, sig) + (sig === "nibp_sys" && vit.nibp_dia ? "/" + fmt(vit.nibp_dia.value, "nibp_dia") : "")
            + (sig === "nibp_sys" && vit.nibp_mean ? ` (${fmt(vit.nibp_mean.value, "nibp_mean")})` : "")),
      el("span", { class: "unit" }, unit(v.unit)),
      el("span", { class: "age" }, t("station.ago", { age: age(v.t) }))));
  const n = b.news2;
  if (n) cells.unshift(el("div", { class: `big news${n.complete ? " r-" + n.risk : " partial" + (n.risk !== "low" ? " r-" + n.risk : "")}`,
                                      title: news2Words(n) },
                             el("span", { class: "lbl" }, n.complete ? "NEWS2" : "NEWS2 · " + t("news2.incompleteTag")),
                             el("span", { class: "val" }, `${n.complete ? "" : "≥"}${n.total}`),
                             el("span", { class: "unit" }, n.complete ? t("news2.riskUnit", { risk: riskWord(n.risk) })
                               : n.risk === "low" ? t("news2.atLeast") : t("news2.orHigher", { risk: riskWord(n.risk) })),
                             el("span", { class: "age" }, n.complete ? t("news2.complete") : t("news2.notScoredShort", { missing: missingText(n) }))));
  $("bv-now").replaceChildren(...cells);
  syncLimits($("bv-limits"), b);  // the patient's own alarm limits (limits.js): reloaded when they change
}

async function loadTrend() {
  const b = beds.get(bedOpen);
  /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".bv-range button")).forEach(x => x.classList.toggle("on", Number(x.dataset.range) === trendHours));
  const canvas = /** @type {HTMLCanvasElement} */ ($("bv-trend")), asked = ++trendAsked;
  if (!b || !b.patient) { SWChart.clear(canvas); return; }
  const to = serverNow(), from = to - trendHours * 3600000;
  const sigs = ["heart_rate", "spo2", "resp_rate", "nibp_sys", "temperature"];
  const q = sigs.map(s => "signal=" + s).join("&");
  try {
    const r = await api(`/api/v1/patients/${encodeURIComponent(b.patient)}/vitals?${q}&from=${from}&to=${to}`);
    // an answer overtaken by a later request (another bed, another range) is dropped: it would draw
    // another patient's or another range's trend
    if (asked !== trendAsked || bedOpen !== b.bed) return;
    const shown = sigs.filter(s => r.rows.some(x => x.values[s] !== undefined));
    SWChart.trend(canvas, r.rows, shown.length ? shown : ["heart_rate"], from, to, r.units, r.every ? 60000 : 1000);
  } catch (e) { flash(t("station.trendFailed", { error: e.message })); }
}

$("bv-close").addEventListener("click", closeBed);

// A frozen 10 s strip of every waveform channel (25 mm/s, ECG 10 mm/mV), captioned with the bed, patient
// and time; saved as PNG, or printed (the browser's print dialog saves PDF).
function freezeStrip() {
  const b = beds.get(bedOpen);
  if (!strip || !b) return;
  const caption = `${t("station.bed", { bed: b.bed })} · ${b.patient || t("station.noPatient")}${b.device ? " · " + b.device : ""}`;
  const f = strip.freeze(caption, 10);
  frozen = { caption, f };
  const img = /** @type {HTMLImageElement} */ ($("bv-frozen-img"));
  img.src = f.png;
  img.width = f.width;
  img.height = f.height;
  frozenWords();
  const stamp = new Date(f.to).toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
  const save = /** @type {HTMLAnchorElement} */ ($("bv-frozen-save"));
  save.href = f.png;
  save.download = `strip-bed-${b.bed}-${stamp}.png`;
  $("bv-frozen").hidden = false;
  save.focus();
}
/** @type {{caption: string, f: {from: number, to: number, shown: {signal: string, gain: string}[]}} | null} */
let frozen = null;
/** The frozen strip's title and text alternative, in the chosen language (again after a language switch). */
function frozenWords() {
  if (!frozen) return;
  const { caption, f } = frozen;
  const wave = (/** @type {string} */ s) => (I18n.has("wave." + s) ? t("wave." + s) : s);
  const gain = (/** @type {string} */ g) => (g.includes("mm/mV") ? g : t("wave.autoScale"));
  const what = f.shown.length ? f.shown.map(c => `${wave(c.signal)} (${gain(c.gain)})`).join(t("station.listSep")) : t("wave.none");
  /** @type {HTMLImageElement} */ ($("bv-frozen-img")).alt = t("station.frozenAlt", { caption, from: clock(f.from), to: clock(f.to), what });
  $("bv-frozen-title").textContent = t("station.frozenTitle", { from: clock(f.from), to: clock(f.to) });
}
function closeFrozen() {
  frozen = null;
  $("bv-frozen").hidden = true;
  /** @type {HTMLImageElement} */ ($("bv-frozen-img")).removeAttribute("src");
  /** @type {HTMLAnchorElement} */ ($("bv-frozen-save")).href = "#";
}
$("bv-freeze").addEventListener("click", freezeStrip);
$("bv-frozen-close").addEventListener("click", () => { closeFrozen(); $("bv-freeze").focus(); });
$("bv-frozen-print").addEventListener("click", () => {
  document.body.classList.add("printing-strip");  // only the strip is printed
  window.print();
  document.body.classList.remove("printing-strip");
});
/** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".bv-range button")).forEach(x => x.addEventListener("click", () => {
  trendHours = Number(x.dataset.range); loadTrend();
}));
$("bv-spot").addEventListener("submit", async ev => {
  ev.preventDefault();
  /** @type {HTMLFormElement & {consciousness: HTMLSelectElement, supplemental_o2: HTMLSelectElement, temperature: HTMLInputElement, nibp_sys: HTMLInputElement}} */
  const f = /** @type {any} */ (ev.target);
  const b = beds.get(bedOpen), body = {};
  if (f.consciousness.value) body.consciousness = f.consciousness.value;
  if (f.supplemental_o2.value) body.supplemental_o2 = f.supplemental_o2.value === "true";
  if (f.temperature.value) body.temperature = Number(f.temperature.value);
  if (f.nibp_sys.value) body.nibp_sys = Number(f.nibp_sys.value);
  const msg = f.querySelector(".spot-msg");
  try {
    await api(`/api/v1/patients/${encodeURIComponent(b.patient)}/spot`, { method: "POST", json: body });
    msg.textContent = t("station.spotRecorded"); f.reset();
  } catch (e) { msg.textContent = e.message; }
});

// ---- keyboard ----------------------------------------------------------------------------------
document.addEventListener("keydown", ev => {
  const target = /** @type {HTMLElement} */ (ev.target);
  if (target.matches("input, select, textarea")) return;
  if (ev.key === "Escape" && bedOpen) { closeBed(); return; }
  if (bedOpen) return;
  /** @param {number} step */
  const move = step => {
    holdUntil = Date.now() + HOLD_MS;  // the list holds still while the keyboard walks it
    const i = selectedId ? order.indexOf(selectedId) : -1;
    const next = order[Math.min(Math.max(i + step, 0), order.length - 1)];
    if (next) selectedId = next;
    renderAlarms();
    const li = rows.get(selectedId);
    if (li) li.scrollIntoView({ block: "nearest" });
    ev.preventDefault();
  };
  const sel = selectedId && alarms.has(selectedId) ? alarms.get(selectedId) : null;
  if (ev.key === "ArrowDown" || ev.key === "j") move(1);
  else if (ev.key === "ArrowUp" || ev.key === "k") move(-1);
  else if ((ev.key === "a" || ev.key === "A") && selectedId) act(selectedId, "acknowledge");
  else if ((ev.key === "s" || ev.key === "S") && selectedId) act(selectedId, "silence");
  else if ((ev.key === "e" || ev.key === "E") && selectedId) act(selectedId, "escalate");
  else if (ev.key === "Enter" && !(target.closest && target.closest("a, button"))) {
    const t = target.closest && /** @type {HTMLElement | null} */ (target.closest(".tile"));
    const bed = t ? t.dataset.bed : sel && sel.bed;
    if (bed) {
      ev.preventDefault();  // the bed view focuses its close button: this Enter must not press it too
      openBed(bed);
    }
  } else if (/^[1-9]$/.test(ev.key) && wards[Number(ev.key) - 1]) selectWard(wards[Number(ev.key) - 1].ward);
});
$("grid").addEventListener("click", ev => { const t = /** @type {HTMLElement | null} */ (/** @type {HTMLElement} */ (ev.target).closest(".tile")); if (t) openBed(t.dataset.bed); });

// ---- wards -------------------------------------------------------------------------------------
// Each screen shows one ward (#ward=… in the address: a second screen can show another ward), its beds
// in the ward's stored layout, fetched before the ward's stream opens.
async function selectWard(w) {
  if (w === ward) return;
  ward = w;
  location.hash = "ward=" + encodeURIComponent(w);
  /** @type {NodeListOf<HTMLButtonElement>} */ (document.querySelectorAll(".ward-tabs button")).forEach(x => x.classList.toggle("on", x.dataset.ward === w));
  beds = new Map(); alarms = new Map(); drill = null; renderDrill(); $("grid").replaceChildren(); renderAlarms();
  slots = []; capacity = 0; layout = { ward: w, beds: [], columns: null, configured: false };
  conn && conn.close();
  conn = null;
  lastFrameAt = 0; streamSince = Date.now(); feedOk = true;
  try {
    const got = await api(`/api/v1/wards/${encodeURIComponent(w)}/layout`);
    if (ward !== w) return;  // another ward was chosen meanwhile
    layout = got;
  } catch (e) {
    if (ward !== w) return;
    flash(t("station.layoutFailed", { ward: w, error: e.message }));
  }
  streamSince = Date.now();
  Ident.follow(w, () => { for (const b of beds.keys()) dirty.add(b); if (bedOpen) renderBedNow(); schedule(); }, flash);
  conn = stream(`/api/v1/ws/wards/${encodeURIComponent(w)}`, onFrames, live => {
    if (linkLost) return;  // the COMMUNICATION LOST state stays until data flows again
    setConn(live ? "on" : "off", live ? "live" : "reconnecting");
  });
}

// ---- language ----------------------------------------------------------------------------------
// The browser's language or the one chosen on the top bar (remembered, i18n.js); a switch writes every
// text again: the markup's (data-i18n), the tiles, the alarm list, the bed view, the top bar.
/** @type {import("./session.js").User | null} */
let me = null;
function renderWho() {
  if (!me) return;
  const role = I18n.has("role." + me.role) ? t("role." + me.role) : me.role.replace("_", " ");
  $("who").textContent = `${me.username} · ${role}`;
}
function renderWardTabs() {
  $("wards").replaceChildren(...wards.map((w, i) => el("button", {
    "data-ward": w.ward, class: w.ward === ward ? "on" : "", title: t("station.wardKey", { n: i + 1 }), onclick: () => selectWard(w.ward) },
    w.virtual ? t("station.virtualWard") : t("station.wardName", { ward: w.ward }))));
}
function renderAll() {
  I18n.translate(document);
  /** @type {HTMLSelectElement} */ ($("lang")).value = I18n.lang();
  document.querySelectorAll(".bv-range button").forEach(x => {
    x.textContent = t("station.hours", { n: I18n.number(Number(/** @type {HTMLElement} */ (x).dataset.range)) });
  });
  setConn(connShown.cls, connShown.word);
  renderAudio(); renderDrill(); renderWho(); renderWardTabs(); frozenWords();
  if (!ward) return;  // not logged in yet: nothing else is on the screen
  for (const s of slots) if (s) dirty.add(s);
  for (const b of beds.keys()) dirty.add(b);
  renderAlarms();  // rows, count, "list held"; the tiles (dirty) with them
  if (bedOpen) { renderBedNow(); loadTrend(); }
  if (strip) strip.draw();
}
$("lang").addEventListener("change", async ev => {
  await I18n.choose(/** @type {I18n.Lang} */ (/** @type {HTMLSelectElement} */ (ev.target).value));
  renderAll();
});

async function start() {
  // the catalogue first: without it the screen would show keys, not words (the server serves both, so
  // a failure here is passing; the markup's English stays on screen meanwhile)
  while (!I18n.loaded()) await I18n.ready().catch(() => new Promise(ok => setTimeout(ok, 2000)));
  renderAll();
  me = await loginFlow(t("station.heading"), u => u.role !== "patient");
  if (me.role === "facility_manager") { location.replace("/facility"); return; }  // no patient data for them
  $("facility-link").hidden = me.role !== "admin";
  if (me.role === "charge_nurse" || me.role === "admin") {
    initLayoutEditor(/** @type {HTMLButtonElement} */ ($("layout-edit")), {
      ward: () => ward, layout: () => layout,
      present: () => /** @type {string[]} */ (slots.filter(b => b !== null)),
      onSaved: saved => { layout = saved; slots = []; capacity = 0; $("grid").replaceChildren(); syncGrid(); schedule(); },
    });
  }
  renderWho();
  $("logout").addEventListener("click", logout);
  // alarm and event history (the alarm panel's and the bed view's History), shift report (history.js)
  initHistory({ ward: () => ward, bed: () => bedOpen,
                beds: () => /** @type {string[]} */ ([...slots.filter(b => b !== null), ...beds.keys()]) });
  Adt.init(me, { wards: () => wards });
  wards = await api("/api/v1/wards");
  const scoped = me.wards && me.wards.length ? me.wards : [];
  for (const w of scoped) if (!wards.some(x => x.ward === w)) wards.push({ ward: w, beds: 0, virtual: w === "home" });
  wards.sort((a, b) => (a.virtual - b.virtual) || a.ward.localeCompare(b.ward));
  renderWardTabs();
  const fromHash = decodeURIComponent((location.hash.match(/ward=([^&]+)/) || [])[1] || "");
  const first = wards.find(w => w.ward === fromHash) || wards[0];
  if (first) selectWard(first.ward);
  else $("grid").replaceChildren(el("p", { class: "nothing", "data-i18n": "station.noWards" }, t("station.noWards")));
  setInterval(() => {
    $("clock").textContent = clock(serverNow());
    if (drill) renderDrill();
    if (resortPending && !held()) renderAlarms();  // the list was let go: now in its order
    for (const b of beds.keys()) dirty.add(b);
    if (bedOpen) renderBedNow();
    schedule();
  }, 1000);
}
start();
