// @ts-check
// Alarm sounds of the central station: the IEC 60601-1-8 default burst patterns per priority, played
// with Web Audio (no sound files). One signal at a time, the highest priority that wants sounding;
// "audio paused" for N minutes with re-annunciation when a new alarm arrives or the pause ends; a
// per-station volume with a floor (it cannot be turned silent); and the browser's autoplay policy made
// visible: until a click or key press lets the page play sound, the state is "unavailable".
//
// window.__swAudio is the instrumented hook (browser tests and the curious): `log` lists what the
// module did ({what: "start" | "stop" | "burst" | "pause" | "resume" | "blocked", priority, t, why}),
// `playing` is the priority sounding now (null: silent), `state()` the whole state.

import { priorityRank } from "./catalogue.js";

/** @typedef {import("./frames.js").Priority} Priority */
/** @typedef {{what: string, priority: Priority | null, t: number, why?: string}} AudioEvent */
/**
 * A burst: pulse onsets (ms from the burst's start), the pulse length (ms) and the time from one
 * burst's start to the next (ms).
 * @typedef {{f0: number, onsets: number[], pulse: number, period: number}} Pattern
 */

// IEC 60601-1-8 table 3 (default burst timing): high = 10 pulses "3 + 2, pause, 3 + 2", pulse 75–200 ms,
// spacing x 50–125 ms, 2x + td between the 3rd and 4th, 0.35–1.3 s between the 5th and 6th, 2.5–15 s to
// the next burst; medium = 3 pulses of 125–250 ms, spacing 125–250 ms, 2.5–30 s to the next burst;
// low = 1 or 2 pulses of 125–250 ms, repeated no sooner than every 15 s. Fundamentals 150–1000 Hz with
// at least four harmonics (the periodic wave below).
/** @type {Record<Priority, Pattern>} */
export const PATTERNS = {
  // td 150, x 100: 0 250 500 | +350 | 1000 1250 | +700 | 2100 2350 2600 | +350 | 3100 3350 (ends 3500), +3000
  high: { f0: 659, pulse: 150, onsets: [0, 250, 500, 1000, 1250, 2100, 2350, 2600, 3100, 3350], period: 6500 },
  medium: { f0: 523, pulse: 200, onsets: [0, 400, 800], period: 6000 },
  low: { f0: 392, pulse: 200, onsets: [0, 400], period: 20000 },
};
export const VOLUME_FLOOR = 0.2;  // 20 %: a station's alarm sound cannot be turned off
const VOLUME_KEY = "sw.audio.volume";
const LOG_MAX = 300;

/** @type {AudioContext | null} */
let ctx = null;
/** @type {PeriodicWave | null} */
let wave = null;
/** @type {GainNode | null} */
let master = null;
/** @type {Priority | null} */
let wanted = null;      // the highest priority among the alarms that want sounding
/** @type {Priority | null} */
let playing = null;     // what sounds now
let pausedUntil = 0;    // Date.now() ms; 0 = not paused
/** @type {ReturnType<typeof setTimeout> | undefined} */
let burstTimer;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let pauseTimer;
/** @type {OscillatorNode[]} */
let voices = [];
/** @type {Array<() => void>} */
const listeners = [];
/** @type {AudioEvent[]} */
const log = [];

/** @param {string} what @param {Priority | null} priority @param {string} [why] */
function note(what, priority, why) {
  log.push(why ? { what, priority, t: Date.now(), why } : { what, priority, t: Date.now() });
  if (log.length > LOG_MAX) log.splice(0, log.length - LOG_MAX);
}

function storedVolume() {
  const v = Number(window.localStorage.getItem(VOLUME_KEY));
  return Number.isFinite(v) && v > 0 ? clampVolume(v) : 0.7;
}
/** @param {number} v */
function clampVolume(v) { return Math.min(1, Math.max(VOLUME_FLOOR, v)); }
let volume = storedVolume();

function context() {
  if (ctx) return ctx;
  try { ctx = new AudioContext(); } catch { return null; }
  // fundamental plus five harmonics of falling strength (the standard asks for at least four within 15 dB)
  const real = new Float32Array([0, 0, 0, 0, 0, 0, 0]);
  const imag = new Float32Array([0, 1, 0.7, 0.5, 0.4, 0.3, 0.25]);
  wave = ctx.createPeriodicWave(real, imag);
  master = ctx.createGain();
  master.gain.value = volume;
  master.connect(ctx.destination);
  ctx.addEventListener("statechange", () => { update(); changed(); });
  return ctx;
}

/** Whether sound can play now (the browser allowed this page to start audio). */
export function available() { return !!ctx && ctx.state === "running"; }

/** Try to start audio: call from a click or key press (the autoplay policy needs a user gesture). */
export async function enable() {
  const c = context();
  if (!c) return false;
  if (c.state !== "running") { try { await c.resume(); } catch { /* still blocked */ } }
  update(); changed();
  return available();
}

/** @param {Priority} p */
function burst(p) {
  const c = ctx, pat = PATTERNS[p];
  if (!c || !master || !wave) return;
  const t0 = c.currentTime + 0.02, len = pat.pulse / 1000;
  const osc = c.createOscillator(), env = c.createGain();
  osc.setPeriodicWave(wave);
  osc.frequency.value = pat.f0;
  env.gain.setValueAtTime(0, t0);
  for (const on of pat.onsets) {  // rise 15 % and fall 20 % of the pulse (trapezoid pulses)
    const s = t0 + on / 1000;
    env.gain.setValueAtTime(0, s);
    env.gain.linearRampToValueAtTime(0.5, s + len * 0.15);
    env.gain.setValueAtTime(0.5, s + len * 0.8);
    env.gain.linearRampToValueAtTime(0, s + len);
  }
  osc.connect(env).connect(master);
  const end = t0 + (pat.onsets[pat.onsets.length - 1] + pat.pulse) / 1000;
  osc.start(t0);
  osc.stop(end + 0.01);
  voices.push(osc);
  osc.onended = () => { voices = voices.filter(v => v !== osc); };
  note("burst", p);
  burstTimer = setTimeout(() => { if (playing === p) burst(p); }, pat.period);
}

/** @param {string} why */
function stopSound(why) {
  clearTimeout(burstTimer);
  for (const v of voices) { try { v.stop(); } catch { /* already stopped */ } }
  voices = [];
  if (playing) note("stop", playing, why);
  playing = null;
}

/** Start, change or stop the signal to match what is wanted, the pause and the browser's permission. */
function update(why = "") {
  if (pausedUntil && Date.now() >= pausedUntil) endPause("pause ended");
  const want = pausedUntil ? null : wanted;
  if (want && !available()) {
    if (playing) stopSound("audio unavailable");
    if (!log.length || log[log.length - 1].what !== "blocked") note("blocked", want, "the browser has not allowed audio yet");
    return;
  }
  if (want === playing && !why) return;
  if (playing) stopSound(why || (pausedUntil ? "audio paused" : want ? "priority changed" : "no alarm to sound"));
  if (want) {
    playing = want;
    note("start", want, why || undefined);
    burst(want);
  }
}

/** @param {string} why */
function endPause(why) {
  if (!pausedUntil) return;
  pausedUntil = 0;
  clearTimeout(pauseTimer);
  note("resume", wanted, why);
}

function changed() { for (const f of listeners) f(); }

/**
 * What the alarms want: the highest priority among those that should sound (active, not acknowledged,
 * not silenced, condition still on). `newAlarm`: an alarm that was not sounding before arrived; it
 * ends an audio pause and restarts the signal (re-annunciation).
 * @param {Priority | null} priority @param {boolean} [newAlarm]
 */
export function want(priority, newAlarm = false) {
  const before = wanted;
  wanted = priority;
  if (newAlarm && priority) {
    if (pausedUntil) endPause("new alarm");
    update("new alarm");
  } else update();
  if (before !== wanted || newAlarm) changed();
}

/** Pause the alarm sound of this station for `ms` (the "Silence 2 min" of an alarm, or the audio button). @param {number} ms */
export function pause(ms) {
  pausedUntil = Date.now() + ms;
  note("pause", wanted, `${Math.round(ms / 1000)} s`);
  clearTimeout(pauseTimer);
  pauseTimer = setTimeout(() => { endPause("pause ended"); update("pause ended"); changed(); }, ms);
  update();
  changed();
}

/** End an audio pause now. */
export function resume() { endPause("resumed by the user"); update("resumed"); changed(); }

/** @param {number} v 0..1; never below VOLUME_FLOOR */
export function setVolume(v) {
  volume = clampVolume(v);
  window.localStorage.setItem(VOLUME_KEY, String(volume));
  if (master && ctx) master.gain.setValueAtTime(volume, ctx.currentTime);
  changed();
}

/** @returns {{available: boolean, playing: Priority | null, wanted: Priority | null, pausedLeftMs: number, volume: number}} */
export function state() {
  return { available: available(), playing, wanted, pausedLeftMs: pausedUntil ? Math.max(0, pausedUntil - Date.now()) : 0,
           volume };
}

/** @param {() => void} f called whenever the state changes */
export function onChange(f) { listeners.push(f); }

/** The highest of some priorities, in the server's order (catalogue.js; null: none that has a sound).
 * @param {Iterable<Priority>} ps @returns {Priority | null} */
export function highest(ps) {
  /** @type {Priority | null} */
  let best = null;
  for (const p of ps) if (Object.hasOwn(PATTERNS, p) && (best === null || priorityRank(p) < priorityRank(best))) best = p;
  return best;
}

context();
// any click or key press may unlock audio (the login itself usually does)
for (const ev of ["pointerdown", "keydown"]) document.addEventListener(ev, () => { if (!available()) enable(); }, true);

/** @type {any} */ (window).__swAudio = { log, get playing() { return playing; }, state, PATTERNS };
