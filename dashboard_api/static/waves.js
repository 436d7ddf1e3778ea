// @ts-check
// The bed view's live waveforms: one channel per signal (ECG II, pleth, resp), each continuous in time
// (chunks are placed by their own t0 and fs, so an ECG chunk and a pleth chunk 40 ms apart never empty
// each other), moving at 25 mm/s, the ECG at 10 mm/mV with a 1 mV calibration mark, each channel with
// its lead / signal label. A channel whose chunks stop shows the gap and says NO SIGNAL: old samples
// move off the screen, they are never repeated. A frozen 10 s strip can be saved as PNG. No dependencies.
// Texts in the reader's language (i18n.js); the scales (mm/s, mm/mV) are written the same in every language.
import { clock, serverNow } from "./common.js";
import { t } from "./i18n.js";

/** @typedef {Extract<import("./frames.js").WsFrame, {type: "wave"}>} WaveFrame */
/** @typedef {{t0: number, fs: number, samples: number[]}} Chunk */
/** @typedef {{signal: string, chunks: Chunk[], end: number}} Channel */
/**
 * What a drawing showed per channel (tests read it): the longest stretch without a gap (s), whether the
 * channel is live (data up to the right edge) and how long ago its last sample was (s).
 * @typedef {{signal: string, label: string, gain: string, speed: string, continuous_s: number, live: boolean, silent_s: number}} Shown
 * @typedef {HTMLCanvasElement & {swChannels?: Shown[]}} WaveCanvas
 */

export const SWEEP_MM_S = 25;
export const ECG_MM_MV = 10;
export const PX_PER_MM = 96 / 25.4;  // CSS pixels: 25 mm/s is 25 of the screen's nominal millimetres a second
const PX_PER_MS = SWEEP_MM_S * PX_PER_MM / 1000;
const KEEP_MS = 16000;               // enough for a frozen 10 s strip behind the live edge
const SILENT_MS = 1000;              // no sample this long before the right edge: the channel says NO SIGNAL
const FRAME_MS = 40;                 // redraw at most 25 times a second
export const GUTTER = 36;            // px right of the trace: the ECG's 1 mV calibration mark
const ORDER = ["ecg_ii", "pleth", "resp_wave"];  // each channel's lead / signal label: key wave.<signal>
/** @type {Record<string, string>} */
const COLOR = { ecg_ii: "#4ade80", pleth: "#38bdf8", resp_wave: "#facc15" };

/** @param {Chunk} c */
const chunkEnd = c => c.t0 + c.samples.length * 1000 / c.fs;

/**
 * The samples of `ch` within [from, to] as x positions (0 = `from`), each marked when a gap precedes it
 * (more than 3 sample periods, at least 60 ms, without a sample).
 * @param {Channel} ch @param {number} from @param {number} to
 */
function points(ch, from, to) {
  /** @type {{x: number, v: number, gap: boolean}[]} */
  const out = [];
  let last = -Infinity;
  for (const c of ch.chunks) {  // sorted by t0
    const step = 1000 / c.fs;
    if (chunkEnd(c) < from || c.t0 > to) continue;
    for (let i = 0; i < c.samples.length; i++) {
      const t = c.t0 + i * step;
      if (t < from || t > to || t <= last) continue;  // an overlapping (re-sent) chunk adds nothing
      out.push({ x: (t - from) * PX_PER_MS, v: c.samples[i], gap: t - last > Math.max(3 * step, 60) });
      last = t;
    }
  }
  return out;
}

/** The longest stretch without a gap among the points (ms). @param {{x: number, gap: boolean}[]} pts */
function continuousMs(pts) {
  let best = 0, start = pts.length ? pts[0].x : 0;
  for (const p of pts) {
    if (p.gap) start = p.x;
    best = Math.max(best, p.x - start);
  }
  return best / PX_PER_MS;
}

/** The median of the values (the ECG's baseline in this window). @param {number[]} vs */
function median(vs) {
  if (!vs.length) return 0;
  const s = [...vs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Draw the channels over [from, to] into a 2D context of size w × h (from `top` down).
 * @param {CanvasRenderingContext2D} ctx @param {Channel[]} chans @param {number} from @param {number} to
 * @param {number} w @param {number} h @param {number} [top0]
 * @returns {Shown[]}
 */
function render(ctx, chans, from, to, w, h, top0 = 0) {
  ctx.fillStyle = "#030712"; ctx.fillRect(0, top0, w, h);
  const mm = PX_PER_MM;
  ctx.strokeStyle = "#1f2937"; ctx.lineWidth = 1;  // 5 mm grid, as on paper: 0.2 s across, 0.5 mV up at 10 mm/mV
  for (let gx = 0; gx < w; gx += 5 * mm) { ctx.beginPath(); ctx.moveTo(gx, top0); ctx.lineTo(gx, top0 + h); ctx.stroke(); }
  for (let gy = 0; gy < h; gy += 5 * mm) { ctx.beginPath(); ctx.moveTo(0, top0 + gy); ctx.lineTo(w, top0 + gy); ctx.stroke(); }
  ctx.font = "13px system-ui, sans-serif";
  if (!chans.length) {
    ctx.fillStyle = "#cbd5e1"; ctx.fillText(t("wave.none"), 12, top0 + h / 2);
    return [];
  }
  const rowH = h / chans.length, plotW = w - GUTTER;
  /** @type {Shown[]} */
  const shown = [];
  chans.forEach((ch, k) => {
    const top = top0 + k * rowH;
    if (k) { ctx.strokeStyle = "#475569"; ctx.beginPath(); ctx.moveTo(0, top); ctx.lineTo(w, top); ctx.stroke(); }
    const pts = points(ch, from, to).filter(p => p.x <= plotW);
    const ecg = ch.signal === "ecg_ii";
    const vs = pts.map(p => p.v);
    let lo = Infinity, hi = -Infinity;
    for (const v of vs) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    if (!(hi - lo > 1e-9)) { hi = (hi === -Infinity ? 0 : hi) + 1; lo = (lo === Infinity ? 0 : lo) - 1; }
    const pad = 6, base = ecg ? median(vs) : 0, zero = top + rowH * 0.62;
    /** @param {number} v */
    const y = ecg ? v => zero - (v - base) * ECG_MM_MV * mm : v => top + rowH - pad - (v - lo) / (hi - lo) * (rowH - 2 * pad - 14);
    ctx.save();
    ctx.beginPath(); ctx.rect(0, top, plotW, rowH); ctx.clip();
    ctx.strokeStyle = COLOR[ch.signal] || "#e5e7eb"; ctx.lineWidth = 1.5; ctx.beginPath();
    pts.forEach((p, i) => { (i === 0 || p.gap) ? ctx.moveTo(p.x, y(p.v)) : ctx.lineTo(p.x, y(p.v)); });
    ctx.stroke();
    ctx.restore();
    const label = ORDER.includes(ch.signal) ? t("wave." + ch.signal) : ch.signal;
    const gain = ecg ? `${ECG_MM_MV} mm/mV` : t("wave.autoScale");
    ctx.fillStyle = "#e5e7eb";
    ctx.fillText(`${label} · ${gain} · ${SWEEP_MM_S} mm/s`, 8, top + 16);
    if (ecg) {  // the 1 mV calibration mark (10 mm high at 10 mm/mV)
      ctx.strokeStyle = "#e5e7eb"; ctx.lineWidth = 1.5; ctx.beginPath();
      ctx.moveTo(w - 30, zero); ctx.lineTo(w - 26, zero); ctx.lineTo(w - 26, zero - ECG_MM_MV * mm);
      ctx.lineTo(w - 16, zero - ECG_MM_MV * mm); ctx.lineTo(w - 16, zero); ctx.lineTo(w - 12, zero); ctx.stroke();
    }
    const silentMs = Math.max(0, to - ch.end);
    const live = silentMs < SILENT_MS;
    if (!live) {  // the data stopped: say so where the trace ends, in the channel's own row
      const text = t("wave.noSignal", { s: Math.round(silentMs / 1000) });
      ctx.font = "bold 14px system-ui, sans-serif";
      const tw = ctx.measureText(text).width, x = Math.max(8, Math.min(plotW - tw - 8, (ch.end - from) * PX_PER_MS + 8));
      ctx.fillStyle = "#030712"; ctx.fillRect(x - 4, top + rowH / 2 - 13, tw + 8, 20);
      ctx.fillStyle = "#fbbf24"; ctx.fillText(text, x, top + rowH / 2 + 2);
      ctx.font = "13px system-ui, sans-serif";
    }
    shown.push({ signal: ch.signal, label, gain, speed: `${SWEEP_MM_S} mm/s`, live,
                 continuous_s: Math.round(continuousMs(pts) / 100) / 10, silent_s: Math.round(silentMs / 100) / 10 });
  });
  return shown;
}

/**
 * A live multi-channel strip on `canvas`: push(frame) adds a chunk; it draws continuously (animation
 * frames) until stop(). The right edge trails the server's clock by what the chunks need (a chunk covers
 * the second before it is sent), so the trace moves smoothly instead of jumping.
 * @param {WaveCanvas} canvas
 */
export function waveStrip(canvas) {
  /** @type {Map<string, Channel>} */
  const chans = new Map();
  let lag = 1200, raf = 0, running = false, drawnAt = 0;
  /** @type {number[][]} */
  let lags = [];  // [when, needed lag] of the last seconds

  function channels() {
    const rank = (/** @type {string} */ s) => { const i = ORDER.indexOf(s); return i < 0 ? 99 : i; };
    return [...chans.values()].sort((a, b) => rank(a.signal) - rank(b.signal) || a.signal.localeCompare(b.signal));
  }
  /** @param {number} t */
  function frame(t) {
    raf = 0;
    if (!running) return;
    if (t - drawnAt >= FRAME_MS) { drawnAt = t; draw(); }
    raf = requestAnimationFrame(frame);
  }
  function draw() {
    const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
    if (!w || !h) return;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const to = serverNow() - lag, from = to - (w - GUTTER) / PX_PER_MS;
    canvas.swChannels = render(ctx, channels(), from, to, w, h);
  }
  return {
    /** @param {WaveFrame} f */
    push(f) {
      if (!(f.fs > 0) || !f.samples.length) return;
      const now = serverNow();
      let ch = chans.get(f.signal);
      if (!ch) { ch = { signal: f.signal, chunks: [], end: f.t0 }; chans.set(f.signal, ch); }
      lags.push([now, now - ch.end]);  // how far behind the clock this channel's data was before this chunk
      lags = lags.filter(x => now - x[0] < 5000);
      lag = Math.min(3000, Math.max(200, ...lags.map(x => x[1] + 150)));
      const c = { t0: f.t0, fs: f.fs, samples: f.samples };
      let i = ch.chunks.length;
      while (i > 0 && ch.chunks[i - 1].t0 > c.t0) i--;  // chunks kept in time order (a late one slots in)
      ch.chunks.splice(i, 0, c);
      ch.end = Math.max(ch.end, chunkEnd(c));
      ch.chunks = ch.chunks.filter(x => chunkEnd(x) > now - KEEP_MS);
      if (!running) { running = true; raf = requestAnimationFrame(frame); }
    },
    /** Forget every channel (another bed); drawn empty. */
    clear() { chans.clear(); lags = []; lag = 1200; draw(); },
    /** Stop drawing (the bed view closed). */
    stop() { running = false; if (raf) cancelAnimationFrame(raf); raf = 0; },
    draw,
    /** The signals that have data. */
    signals() { return channels().map(c => c.signal); },
    /**
     * The last `seconds` of every channel at 25 mm/s (a frozen strip to keep or print), under a caption
     * line (who, when, scale), as a PNG data URL (the page's policy allows data: images, not blob:).
     * @param {string} caption @param {number} [seconds]
     * @returns {{png: string, from: number, to: number, shown: Shown[], width: number, height: number}}
     */
    freeze(caption, seconds = 10) {
      const c = document.createElement("canvas");
      const head = 26, list = channels();
      const w = Math.round(seconds * SWEEP_MM_S * PX_PER_MM) + GUTTER, h = head + Math.max(120, 130 * list.length);
      c.width = w * 2; c.height = h * 2;
      const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
      ctx.setTransform(2, 0, 0, 2, 0, 0);
      const to = serverNow() - lag, from = to - seconds * 1000;
      ctx.fillStyle = "#0f172a"; ctx.fillRect(0, 0, w, head);
      ctx.fillStyle = "#f8fafc"; ctx.font = "bold 13px system-ui, sans-serif";
      ctx.fillText(`${caption} · ${clock(from)}–${clock(to)} · ${SWEEP_MM_S} mm/s · ${t("wave.ecg")} ${ECG_MM_MV} mm/mV`, 8, 17);
      const shown = render(ctx, list, from, to, w, h - head, head);
      return { png: c.toDataURL("image/png"), from, to, shown, width: w, height: h };
    },
  };
}
