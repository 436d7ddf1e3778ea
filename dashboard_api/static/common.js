// SmartWard web UI: shared helpers (auth, API, websocket, formatting). Plain ES2020, no build step.
"use strict";

const SW = (() => {
  const store = window.sessionStorage;
  let clockOffset = 0; // server now - browser now (ms)

  const SIGNAL_ORDER = ["heart_rate", "pulse_rate", "spo2", "resp_rate", "nibp_sys", "temperature", "etco2"];
  const UNITS = { "/min": "/min", "%": "%", "mm[Hg]": "mmHg", "Cel": "°C", "1": "" };
  const LABELS = { heart_rate: "HR", pulse_rate: "PR", spo2: "SpO₂", resp_rate: "RR", nibp_sys: "NIBP",
                   nibp_dia: "NIBP dia", nibp_mean: "MAP", temperature: "Temp", perfusion_index: "PI", etco2: "etCO₂" };

  function token() { return store.getItem("sw.access"); }
  function user() { try { return JSON.parse(store.getItem("sw.user") || "null"); } catch { return null; } }

  async function login(username, password) {
    const body = new URLSearchParams({ username, password });
    const r = await fetch("/api/v1/auth/token", { method: "POST", body });
    if (!r.ok) {
      const detail = (await r.json().catch(() => ({}))).detail;
      throw new Error(r.status === 429 ? "Too many failed attempts. Try again later." : (detail || "Login failed"));
    }
    const t = await r.json();
    store.setItem("sw.access", t.access_token);
    store.setItem("sw.refresh", t.refresh_token);
    store.setItem("sw.expires", String(Date.now() + t.expires_in * 1000));
    const me = await api("/api/v1/auth/me");
    store.setItem("sw.user", JSON.stringify(me));
    scheduleRefresh();
    return me;
  }

  function logout() {
    ["sw.access", "sw.refresh", "sw.expires", "sw.user"].forEach(k => store.removeItem(k));
    location.reload();
  }

  async function refresh() {
    const rt = store.getItem("sw.refresh");
    if (!rt) return false;
    const r = await fetch("/api/v1/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify({ refresh_token: rt }) });
    if (!r.ok) return false;
    const t = await r.json();
    store.setItem("sw.access", t.access_token);
    store.setItem("sw.refresh", t.refresh_token);
    store.setItem("sw.expires", String(Date.now() + t.expires_in * 1000));
    scheduleRefresh();
    return true;
  }

  let refreshTimer = null;
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    const exp = Number(store.getItem("sw.expires") || 0);
    const wait = Math.max(5000, exp - Date.now() - 60000);
    refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
  }

  async function api(path, opts = {}) {
    const headers = Object.assign({}, opts.headers || {}, { Authorization: "Bearer " + token() });
    if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(opts.json); }
    let r = await fetch(path, Object.assign({}, opts, { headers }));
    if (r.status === 401 && await refresh()) {
      headers.Authorization = "Bearer " + token();
      r = await fetch(path, Object.assign({}, opts, { headers }));
    }
    if (!r.ok) {
      const detail = (await r.json().catch(() => ({}))).detail;
      const err = new Error(typeof detail === "string" ? detail : r.statusText);
      err.status = r.status;
      throw err;
    }
    return r.json();
  }

  // A websocket that reconnects with capped backoff; onFrames gets each frame of each message. Each
  // connection opens with a one-time ticket (valid 30 s), never the access token: URLs end up in logs.
  // A 4401 close (the access token behind the ticket expired) takes a new ticket, which refreshes the
  // token through api(); a refused refresh logs out.
  function stream(path, onFrames, onState) {
    let ws = null, backoff = 500, closed = false;
    function retry() {
      setTimeout(open, backoff);
      backoff = Math.min(backoff * 2, 15000);
    }
    async function open() {
      let ticket;
      try {
        ticket = (await api("/api/v1/ws/ticket", { method: "POST" })).ticket;
      } catch (e) {
        if (e.status === 401) return logout();
        return closed ? undefined : retry();
      }
      if (closed) return;
      const proto = location.protocol === "https:" ? "wss" : "ws";
      ws = new WebSocket(`${proto}://${location.host}${path}?ticket=${encodeURIComponent(ticket)}`);
      ws.onopen = () => { backoff = 500; onState && onState(true); };
      ws.onmessage = ev => {
        const data = JSON.parse(ev.data);
        onFrames(Array.isArray(data) ? data : [data]);
      };
      ws.onclose = () => {
        onState && onState(false);
        if (!closed) retry();
      };
    }
    open();
    return {
      send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); },
      close() { closed = true; ws && ws.close(); },
    };
  }

  function setServerNow(now) { clockOffset = now - Date.now(); }
  function serverNow() { return Date.now() + clockOffset; }

  function age(t) {
    const s = Math.max(0, (serverNow() - t) / 1000);
    if (s < 60) return `${Math.floor(s)}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m`;
    if (s < 86400) return `${Math.floor(s / 3600)}h`;
    return `${Math.floor(s / 86400)}d`;
  }
  function isStale(v) { return (serverNow() - v.t) / 1000 > v.expire_after_s; }
  function unit(u) { return u in UNITS ? UNITS[u] : u; }
  function fmt(v, signal) {
    if (v === null || v === undefined) return "---";
    return signal === "temperature" || signal === "perfusion_index" ? Number(v).toFixed(1) : String(Math.round(v));
  }
  function clock(t, seconds = true) {
    const o = { hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
    if (seconds) o.second = "2-digit";
    return new Date(t).toLocaleTimeString("en-GB", o);
  }
  // A short alarm label for tiles and lists, that agrees with the alarm's text (its reason starts with the
  // same current value): "SpO₂ 89 (min 84)", "NEWS2 9", "NEWS2 ≥5"; "· ended" once a latched alarm's
  // condition ended. Technical alarms are named by their condition, never by a value ("SpO2 0 %" reads as
  // a desaturation): "SpO₂ probe off", "ECG lead off", "Device offline".
  const TECH = { probe_off: "SpO₂ probe off", lead_off: "ECG lead off", unconfirmed_zero: "No cardiac signal: check patient",
                 offline: "Device offline", battery: "Device battery low" };
  const TECH_SIGNAL = { stale: "no data", quality: "signal quality", artefact: "artefact suspected" };
  function technicalLabel(a) {
    const reason = a.condition_reason || a.reason || "";
    let code = a.code || "";
    if (!code) {  // an event from before alarms carried their code: recognise the condition by its text
      code = /probe off|no pulse signal/.test(reason) ? "probe_off" : /lead off/.test(reason) ? "lead_off"
        : /offline/.test(reason) ? "offline" : /battery/.test(reason) ? "battery" : "";
    }
    if (code === "probe_off" && /ECG leads off/.test(reason)) return "SpO₂ probe and ECG leads off";
    if (TECH[code]) return TECH[code];
    const sig = a.signal ? (LABELS[a.signal] || a.signal) + " " : "";
    if (TECH_SIGNAL[code]) return sig + TECH_SIGNAL[code];
    if (code.startsWith("device-")) return "Device: " + code.slice(7).replace(/_/g, " ");
    const m = /^device [^:]+: (.*)$/.exec(reason);  // a device's own technical alarm: its text
    return (m ? m[1] : reason.split(":")[0]).replace(/\s*\d+(\.\d+)?\s*%?$/, "").trim() || "Technical alarm";
  }
  function alarmLabel(a) {
    const ended = a.condition === false ? " · ended" : "";
    const has = v => v !== null && v !== undefined;
    if (a.kind === "technical") return technicalLabel(a);
    if (a.kind === "news2") {
      // alerting's reason of an incomplete score starts "NEWS2 at least N (incomplete, …)": a floor, not the score
      const floor = /^NEWS2 at least /.test(a.condition_reason || a.reason || "") ? "≥" : "";
      const peak = has(a.worst) && has(a.value) && a.worst > a.value ? ` (max ${a.worst})` : "";
      return `NEWS2 ${floor}${a.value ?? ""}`.trim() + peak + ended;
    }
    if (a.kind === "limit" && a.signal && (has(a.value) || has(a.worst))) {
      const f = v => fmt(v, a.signal);
      const low = (a.code || "").startsWith("low");
      const worst = has(a.worst) && (!has(a.value) || f(a.worst) !== f(a.value))
        ? `${has(a.value) ? " (" : " "}${low ? "min" : "max"} ${f(a.worst)}${has(a.value) ? ")" : ""}` : "";
      return `${LABELS[a.signal] || a.signal}${has(a.value) ? " " + f(a.value) : ""}${worst}${ended}`;
    }
    return (a.reason || "").split(":")[0] + ended;
  }
  // Alarm order for every list: real patients' alarms first, live-drill alarms after them; within each,
  // priority (high, medium, low), unacknowledged before acknowledged, newest first (= wardstate.alarm_sort_key).
  const PRIORITY_RANK = { high: 0, medium: 1, low: 2 };
  function alarmKey(a) { return [a.drill ? 1 : 0, PRIORITY_RANK[a.priority] ?? 3, a.state === "active" ? 0 : 1, -(a.t || 0)]; }
  function alarmCompare(a, b) {
    const x = alarmKey(a), y = alarmKey(b);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i];
    return 0;
  }
  function el(tag, attrs = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  return { login, logout, api, stream, token, user, scheduleRefresh, setServerNow, serverNow, age, isStale, unit,
           fmt, clock, alarmLabel, alarmCompare, el, SIGNAL_ORDER, LABELS };
})();

// Login overlay shared by both pages: resolves with the user once logged in.
function swLoginFlow(title, allowed) {
  return new Promise(resolve => {
    const u = SW.user();
    if (u && SW.token() && (!allowed || allowed(u))) { SW.scheduleRefresh(); return resolve(u); }
    const box = document.getElementById("login");
    box.hidden = false;
    box.querySelector("h1").textContent = title;
    const form = box.querySelector("form"), err = box.querySelector(".error");
    form.username.focus();
    form.addEventListener("submit", async ev => {
      ev.preventDefault();
      err.textContent = "";
      try {
        const me = await SW.login(form.username.value, form.password.value);
        if (allowed && !allowed(me)) { err.textContent = "This account cannot use this screen."; return; }
        box.hidden = true;
        resolve(me);
      } catch (e) { err.textContent = e.message; }
    });
  });
}
