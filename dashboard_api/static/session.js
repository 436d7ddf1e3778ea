// @ts-check
// The login session (tokens in session storage, refreshed before they expire), the REST API with the
// bearer token, and the live websocket with its one-time ticket.
import * as I18n from "./i18n.js";

/** @typedef {import("./frames.js").WsFrame} WsFrame */
/** @typedef {{username: string, role: string, wards?: string[], patient?: string | null}} User */
/** @typedef {{access_token: string, refresh_token: string, expires_in: number}} Tokens */

const store = window.sessionStorage;
export const STALL_MS = 3000;  // no frame for this long on an open websocket: the link is dead (heartbeat 1 s)

/** An HTTP error from the API, with its status. */
export class ApiError extends Error {
  /** @param {string} message @param {number} status */
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** @returns {string | null} */
export function token() { return store.getItem("sw.access"); }
/** @returns {User | null} */
export function user() { try { return JSON.parse(store.getItem("sw.user") || "null"); } catch { return null; } }

/** @param {Tokens} t */
function keep(t) {
  store.setItem("sw.access", t.access_token);
  store.setItem("sw.refresh", t.refresh_token);
  store.setItem("sw.expires", String(Date.now() + t.expires_in * 1000));
}

/** @param {string} username @param {string} password @returns {Promise<User>} */
export async function login(username, password) {
  const body = new URLSearchParams({ username, password });
  const r = await fetch("/api/v1/auth/token", { method: "POST", body });
  if (!r.ok) {
    const detail = (await r.json().catch(() => ({}))).detail;
    throw new Error(r.status === 429 ? I18n.t("login.tooMany") : (detail || I18n.t("login.failed")));
  }
  keep(await r.json());
  /** @type {User} */
  const me = await api("/api/v1/auth/me");
  store.setItem("sw.user", JSON.stringify(me));
  scheduleRefresh();
  return me;
}

export function logout() {
  ["sw.access", "sw.refresh", "sw.expires", "sw.user"].forEach(k => store.removeItem(k));
  location.reload();
}

/** @returns {Promise<boolean>} whether the tokens were refreshed */
async function refresh() {
  const rt = store.getItem("sw.refresh");
  if (!rt) return false;
  const r = await fetch("/api/v1/auth/refresh", { method: "POST", headers: { "Content-Type": "application/json" },
                                                 body: JSON.stringify({ refresh_token: rt }) });
  if (!r.ok) return false;
  keep(await r.json());
  scheduleRefresh();
  return true;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let refreshTimer;
export function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const exp = Number(store.getItem("sw.expires") || 0);
  const wait = Math.max(5000, exp - Date.now() - 60000);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), wait);
}

/** @typedef {RequestInit & {json?: unknown, headers?: Record<string, string>}} ApiOptions */
/**
 * The server's reason for a refusal: its text, or for a validation error (422) each wrong field with
 * what is wrong ("body.patient_id: String should match pattern …").
 * @param {any} detail @returns {string}
 */
export function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (!Array.isArray(detail)) return "";
  return detail.map(d => {
    const loc = Array.isArray(d && d.loc) ? d.loc.filter(/** @param {any} p */ p => p !== "body").join(".") : "";
    return (loc ? loc + ": " : "") + String((d && d.msg) || "");
  }).join("; ");
}

/**
 * A JSON API call with the access token; a 401 refreshes the token once and retries.
 * @param {string} path @param {ApiOptions} [opts] @returns {Promise<any>}
 */
export async function api(path, opts = {}) {
  /** @type {Record<string, string>} */
  const headers = Object.assign({}, opts.headers || {}, { Authorization: "Bearer " + token() });
  if (opts.json !== undefined) { headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(opts.json); }
  let r = await fetch(path, Object.assign({}, opts, { headers }));
  if (r.status === 401 && await refresh()) {
    headers.Authorization = "Bearer " + token();
    r = await fetch(path, Object.assign({}, opts, { headers }));
  }
  if (!r.ok) {
    throw new ApiError(detailText((await r.json().catch(() => ({}))).detail) || r.statusText, r.status);
  }
  if (r.status === 204) return null;  // e.g. a DELETE: no body
  return r.json();
}

/**
 * A websocket that reconnects with capped backoff; onFrames gets each frame of each message. Each
 * connection opens with a one-time ticket (valid 30 s), never the access token: URLs end up in logs.
 * A 4401 close (the access token behind the ticket expired) takes a new ticket, which refreshes the
 * token through api(); a refused refresh logs out. The server sends at least one frame a second (a
 * heartbeat when nothing else): a socket silent for STALL_MS is dead even if TCP has not noticed (a
 * half-open connection never closes by itself), so it is closed and opened anew. `onState(true)` comes
 * with the first frame of a connection, not when the socket opens.
 * @param {string} path
 * @param {(frames: WsFrame[]) => void} onFrames
 * @param {(live: boolean) => void} [onState]
 */
export function stream(path, onFrames, onState) {
  /** @type {WebSocket | null} */
  let ws = null;
  let backoff = 500, closed = false, lastMessage = 0;
  function retry() {
    setTimeout(open, backoff);
    backoff = Math.min(backoff * 2, 15000);
  }
  const watchdog = setInterval(() => {
    if (ws && ws.readyState === 1 && Date.now() - lastMessage > STALL_MS) {
      const dead = ws;
      ws = null;
      dead.onmessage = null;
      dead.onclose = null;
      dead.close();
      onState && onState(false);
      if (!closed) retry();
    }
  }, 500);
  async function open() {
    let ticket;
    try {
      ticket = (await api("/api/v1/ws/ticket", { method: "POST" })).ticket;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return logout();
      return closed ? undefined : retry();
    }
    if (closed) return;
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const socket = ws = new WebSocket(`${proto}://${location.host}${path}?ticket=${encodeURIComponent(ticket)}`);
    let first = true;
    socket.onopen = () => { lastMessage = Date.now(); };
    socket.onmessage = ev => {
      lastMessage = Date.now();
      if (first) { first = false; backoff = 500; onState && onState(true); }
      /** @type {WsFrame | WsFrame[]} */
      const data = JSON.parse(ev.data);
      onFrames(Array.isArray(data) ? data : [data]);
    };
    socket.onclose = () => {
      if (ws === socket) ws = null;
      onState && onState(false);
      if (!closed) retry();
    };
  }
  open();
  return {
    /** @param {unknown} obj */
    send(obj) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(obj)); },
    close() { closed = true; clearInterval(watchdog); ws && ws.close(); },
  };
}
