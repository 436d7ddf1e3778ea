// @ts-check
// Facility manager page: time to evacuate now, start twin runs, watch progress, read and download reports.
// Texts in the reader's language (i18n.js, switch on the top bar); scenario titles, parameter names and
// the reports are the twin's own (English).
import { byId, clock, el } from "./common.js";
import * as I18n from "./i18n.js";
import { loginFlow } from "./login.js";
import { api, logout, token } from "./session.js";

const $ = byId;
const { t } = I18n;
/** @param {string} id */
const select = id => /** @type {HTMLSelectElement} */ (byId(id));
const ALLOWED = ["facility_manager", "admin"];
let scenarios = [], ward = null, runs = [], runTimer = null, nowTimer = null, openRun = null;

// fetch with the bearer token (a 401 refreshes it once through api, then retries)
async function authFetch(path) {
  const go = () => fetch(path, { headers: { Authorization: "Bearer " + token() } });
  let r = await go();
  if (r.status === 401) { await api("/api/v1/auth/me").catch(() => {}); r = await go(); }
  if (!r.ok) throw new Error((await r.json().catch(() => ({}))).detail || r.statusText);
  return r;
}

function minutes(v, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const s = unit === "min" ? v * 60 : v;
  return (s / 60).toFixed(s < 6000 ? 1 : 0);
}
function when(ms) { return ms ? new Date(ms).toLocaleString(I18n.lang() === "en" ? "en-GB" : I18n.lang(), { hourCycle: "h23" }) : ""; }
/** A word of the twin's vocabulary (a shift, an acuity, a run's status) in the chosen language. @param {string} prefix @param {string} w */
const word = (prefix, w) => (I18n.has(prefix + w) ? t(prefix + w) : w);

// ---- time to evacuate now ----------------------------------------------------------------------
async function loadNow(wait = 0) {
  if (!ward) return;
  clearTimeout(nowTimer);
  const shift = select("now-shift").value;
  const q = `ward=${encodeURIComponent(ward)}${shift ? "&shift=" + shift : ""}${wait ? "&wait=" + wait : ""}`;
  let n;
  try { n = await api(`/api/v1/twin/evacuation-now?${q}`); }
  catch (e) { $("now-state").textContent = t("facility.unavailable", { error: e.message }); nowTimer = setTimeout(loadNow, 15000); return; }
  lastNow = n;
  renderNow(n);
  nowTimer = setTimeout(loadNow, n.status === "computing" ? 2000 : n.stale ? 10000 : 30000);
}

function renderNow(n) {
  const card = /** @type {HTMLElement} */ (document.querySelector(".now"));
  card.classList.toggle("stale", !!n.stale);
  card.dataset.status = n.status;
  $("now-mean").textContent = n.mean !== undefined ? minutes(n.mean, n.unit) : "—";
  $("now-unit").textContent = n.mean !== undefined ? t("facility.min") : "";
  const stats = $("now-stats");
  stats.replaceChildren();
  if (n.mean !== undefined) {
    const row = (k, v) => stats.append(el("dt", {}, k), el("dd", {}, v));
    const mins = (/** @type {string} */ v) => t("facility.minutes", { v });
    row(t("facility.median"), mins(minutes(n.p50, n.unit)));
    row(t("facility.p95"), mins(minutes(n.p95, n.unit)));
    row(t("facility.ci95"), n.ci95 ? mins(`${minutes(n.ci95[0], n.unit)}–${minutes(n.ci95[1], n.unit)}`) : "—");
    row(t("facility.replicationsStat"), String(n.replications));
    const c = n.census;
    const acu = Object.entries(c.acuity || {}).map(([k, v]) => `${v} ${word("facility.acuity.", k)}`).join(t("facility.listSep"))
      || t("facility.none");
    $("now-census").textContent = t("facility.censusUsed", {
      occupied: c.occupied, beds: c.beds, acuity: acu, staff: c.staff_on_shift, shift: word("facility.shift.", n.shift),
      noNews2: c.no_news2 ? t("facility.noNews2", { n: c.no_news2 }) : "",
      unmapped: c.unmapped_beds && c.unmapped_beds.length ? t("facility.unmapped", { beds: c.unmapped_beds.join(", ") }) : "",
      computed: clock(n.computed_at) });
    $("now-summary").replaceChildren(...(n.summary || []).map(s => el("li", {}, s)));
  } else {
    $("now-census").textContent = "";
    $("now-summary").replaceChildren();
  }
  $("now-state").textContent = n.status === "computing" ? t(n.mean !== undefined ? "facility.recomputing" : "facility.computing")
    : n.status === "failed" ? t("facility.notComputed", { error: n.error }) : n.stale ? t("facility.staleEstimate")
    : n.census_changed ? t("facility.acuityChanged") : "";
}

// ---- start a run -------------------------------------------------------------------------------
function renderParams() {
  const s = scenarios.find(x => x.name === select("scenario").value);
  const box = $("params");
  box.replaceChildren(el("legend", { "data-i18n": "facility.params" }, t("facility.params")));
  $("scenario-refs").replaceChildren(...(s ? s.references : []).map(r => el("li", {}, r)));
  if (!s) return;
  for (const p of s.params) {
    let input;
    if (p.enum) {
      input = el("select", { name: "p." + p.name });
      for (const v of p.enum) input.append(el("option", { value: String(v) }, String(v).replaceAll("_", " ")));
      input.value = String(p.default);
    } else if (p.type === "boolean") {
      input = el("select", { name: "p." + p.name }, el("option", { value: "true", "data-i18n": "facility.yes" }, t("facility.yes")),
                 el("option", { value: "false", "data-i18n": "facility.no" }, t("facility.no")));
      input.value = p.default ? "true" : "false";
    } else {
      const num = p.type === "integer" || p.type === "number";
      input = el("input", { name: "p." + p.name, type: num ? "number" : "text", step: p.type === "integer" ? "1" : "any" });
      if (p.default !== null && p.default !== undefined) input.value = String(p.default);
      if (num && p.minimum !== null) input.min = String(p.minimum);
      if (num && p.maximum !== null) input.max = String(p.maximum);
      const lo = num && p.exclusive_minimum ? p.minimum : null, hi = num && p.exclusive_maximum ? p.maximum : null;
      const check = () => {  // HTML has no exclusive bounds: say what the server will say, before sending
        const v = Number(input.value);
        input.setCustomValidity(input.value === "" ? "" : lo !== null && v <= lo ? t("facility.greaterThan", { v: lo })
          : hi !== null && v >= hi ? t("facility.lessThan", { v: hi }) : "");
      };
      if (lo !== null || hi !== null) { input.addEventListener("input", check); check(); }
    }
    input.addEventListener("input", () => { input.closest("label")?.classList.remove("bad"); $("start-msg").textContent = ""; });  // corrected
    input.dataset.default = p.default === null || p.default === undefined ? "" : String(p.default);  // no default: empty
    box.append(el("label", { title: p.description || p.name, "data-param": p.name }, p.name.replaceAll("_", " "), input));
  }
}

async function startRun(ev) {
  ev.preventDefault();
  const f = ev.target, msg = $("start-msg");
  msg.textContent = "";
  document.querySelectorAll(".params label.bad").forEach(x => x.classList.remove("bad"));
  const parameters = {};
  for (const input of /** @type {NodeListOf<HTMLInputElement>} */ ($("params").querySelectorAll("[name^='p.']"))) {
    if (input.value !== "" && input.value !== input.dataset.default) parameters[input.name.slice(2)] = input.value;  // empty: the default
  }
  const body = { scenario: f.scenario.value, ward, census: f.census.value, replications: Number(f.replications.value),
                 seed: Number(f.seed.value), parameters };
  const r = await fetch("/api/v1/twin/runs", { method: "POST", headers: { Authorization: "Bearer " + token(),
                        "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const out = await r.json().catch(() => ({}));
  if (r.status === 202) { msg.textContent = ""; await loadRuns(); return; }
  const d = Array.isArray(out.detail) ? out.detail[0] : null;
  if (d && d.loc && d.loc[1] === "parameters") {
    const lab = document.querySelector(`.params label[data-param='${d.loc[2]}']`);
    if (lab) { lab.classList.add("bad"); /** @type {HTMLElement} */ (lab.querySelector("input, select")).focus(); }
  }
  msg.textContent = d ? `${d.loc.slice(1).join(".")}: ${d.msg}` : (out.detail || r.statusText);
}

// ---- runs --------------------------------------------------------------------------------------
async function loadRuns() {
  clearTimeout(runTimer);
  try { runs = await api("/api/v1/twin/runs"); renderRuns(); } catch (e) { /* retried below */ }
  const busy = runs.some(r => r.status === "queued" || r.status === "running");
  runTimer = setTimeout(loadRuns, busy ? 1000 : 10000);
}

function renderRuns() {
  $("runs").replaceChildren(...runs.map(r => {
    const pct = r.total ? Math.round(100 * r.done / r.total) : 0;
    const status = r.status === "running"
      ? el("span", {}, el("progress", { max: String(r.total), value: String(r.done), "aria-label": t("facility.progress", { pct }) }), ` ${r.done}/${r.total}`)
      : r.status === "failed" ? el("span", { class: "err", title: r.error || "" }, t("facility.failed", { error: r.error || "" }))
      : word("facility.status.", r.status);
    const params = Object.entries(r.parameters).map(([k, v]) => `${k}=${v}`).join(", ");
    const actions = r.status === "done" ? el("span", { class: "acts" },
      el("button", { class: "open", onclick: () => showReport(r) }, t("facility.open")),
      el("button", { class: "dl", onclick: () => download(r, "html") }, "HTML"),
      el("button", { class: "dl", onclick: () => download(r, "json") }, "JSON"))
      : r.status === "queued" || r.status === "running" ? el("span", { class: "acts" },
        el("button", { class: "cancel", onclick: () => cancelRun(r) }, t("facility.cancel"))) : "";
    return el("tr", { class: "run st-" + r.status, "data-id": r.id },
      el("td", {}, when(r.created_t)), el("td", { title: params }, r.title || r.scenario, params ? el("small", {}, " " + params) : null),
      el("td", {}, r.ward), el("td", {}, word("facility.censusKind.", r.census)), el("td", {}, String(r.replications)), el("td", {}, String(r.seed)),
      el("td", { class: "status" }, status), el("td", {}, r.by), el("td", {}, actions));
  }));
}

async function cancelRun(r) {
  if (!confirm(t("facility.cancelConfirm", { title: r.title || r.scenario, n: r.replications }))) return;
  try { await api(`/api/v1/twin/runs/${r.id}`, { method: "DELETE" }); } catch (e) { $("start-msg").textContent = e.message; }
  loadRuns();
}

async function showReport(r) {
  openRun = r;
  $("report-title").textContent = t("facility.reportTitle", { title: r.title || r.scenario, ward: r.ward, n: r.replications, seed: r.seed });
  const html = await (await authFetch(`/api/v1/twin/runs/${r.id}/report.html`)).text();
  /** @type {HTMLIFrameElement} */ ($("report-frame")).srcdoc = html;
  $("report").hidden = false;
  $("report-close").focus();
}
function closeReport() {
  $("report").hidden = true;
  const row = openRun && /** @type {HTMLElement | null} */ (document.querySelector(`tr[data-id='${openRun.id}'] .open`));
  openRun = null;
  if (row) row.focus();
}

async function download(r, kind) {
  const blob = await (await authFetch(`/api/v1/twin/runs/${r.id}/report.${kind}?download=true`)).blob();
  const a = el("a", { href: URL.createObjectURL(blob), download: `${r.scenario}-${r.ward}-${r.id}.${kind}` });
  document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

// ---- start -------------------------------------------------------------------------------------
// ---- language ----------------------------------------------------------------------------------
/** @type {any} */
let me = null, lastNow = null;
function renderWho() { if (me) $("who").textContent = `${me.username} · ${word("role.", me.role)}`; }
/** Every text again in the chosen language (markup, estimate, runs, open report's title). */
function renderAll() {
  I18n.translate(document);
  /** @type {HTMLSelectElement} */ ($("lang")).value = I18n.lang();
  renderWho();
  if (lastNow) renderNow(lastNow);
  renderRuns();
  if (openRun) $("report-title").textContent = t("facility.reportTitle", { title: openRun.title || openRun.scenario, ward: openRun.ward,
                                                                           n: openRun.replications, seed: openRun.seed });
}

async function start() {
  while (!I18n.loaded()) await I18n.ready().catch(() => new Promise(ok => setTimeout(ok, 2000)));  // words, never keys
  renderAll();
  $("lang").addEventListener("change", async ev => {
    await I18n.choose(/** @type {I18n.Lang} */ (/** @type {HTMLSelectElement} */ (ev.target).value));
    renderAll();
  });
  me = await loginFlow(t("facility.loginTitle"), u => ALLOWED.includes(u.role));
  renderWho();
  $("station-link").hidden = me.role !== "admin";
  $("logout").addEventListener("click", logout);
  const [wards, sc] = await Promise.all([api("/api/v1/twin/wards"), api("/api/v1/twin/scenarios")]);
  scenarios = sc;
  $("ward").replaceChildren(...wards.map(w => el("option", { value: w.id }, `${w.name} (${w.id})`)));
  $("scenario").replaceChildren(...scenarios.map(s => el("option", { value: s.name }, s.title)));
  const evac = scenarios.find(s => s.name === "evacuation");
  if (evac) select("scenario").value = evac.name;
  // the ward from the address (#ward=…), else the one with most beds live on the platform
  const fromHash = decodeURIComponent((location.hash.match(/ward=([^&]+)/) || [])[1] || "");
  const best = wards.slice().sort((a, b) => b.live_beds - a.live_beds)[0];
  ward = (wards.find(w => w.id === fromHash) || best || {}).id || null;
  if (ward) select("ward").value = ward;
  renderParams();
  $("ward").addEventListener("change", () => { ward = select("ward").value; location.hash = "ward=" + encodeURIComponent(ward); loadNow(); });
  $("scenario").addEventListener("change", renderParams);
  $("now-shift").addEventListener("change", () => loadNow());
  $("start").addEventListener("submit", ev => startRun(ev).catch(e => { $("start-msg").textContent = e.message; }));
  $("report-close").addEventListener("click", closeReport);
  $("report-json").addEventListener("click", () => openRun && download(openRun, "json"));
  $("report-html").addEventListener("click", () => openRun && download(openRun, "html"));
  document.addEventListener("keydown", ev => { if (ev.key === "Escape" && !$("report").hidden) closeReport(); });
  loadNow();
  loadRuns();
  setInterval(() => { $("clock").textContent = clock(Date.now()); }, 1000);
}
start();
