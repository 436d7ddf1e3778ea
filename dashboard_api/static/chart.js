// @ts-check
// Canvas trend charts (gaps shown as breaks and shaded). No dependencies. (Live waveforms: waves.js.)
// The legend's default words are in the reader's language (i18n.js); a page may pass its own.
import { clock, serverNow } from "./common.js";
import { label as signalLabel, unit as unitText } from "./catalogue.js";
import * as I18n from "./i18n.js";

/** @typedef {{text: string, x: number, y: number, w: number, h: number}} Box what was written where on a canvas */
/** @typedef {{t: number, values: Record<string, number>, minimum?: Record<string, number>, maximum?: Record<string, number>}} Row */
/**
 * A canvas with what the last drawing left on it (tests read swLabels, swPanels, swRange).
 * @typedef {HTMLCanvasElement & {swDrawn?: {w: number, h: number, dpr: number} | null, swRedraw?: () => void,
 *   swObserved?: boolean, swDprQuery?: MediaQueryList, swLabels?: Box[],
 *   swPanels?: {sig: string, lo: number, hi: number}[], swRange?: {from: number, to: number}}} Canvas
 */

/** @type {Record<string, string>} */
const COLORS = { heart_rate: "#4ade80", pulse_rate: "#4ade80", spo2: "#38bdf8", resp_rate: "#facc15",
                 nibp_sys: "#f87171", nibp_dia: "#fca5a5", temperature: "#fb923c", etco2: "#e2e8f0" };

const INTERMITTENT = new Set(["nibp_sys", "nibp_dia", "nibp_mean", "temperature"]);
// what the body can show: an axis never runs past it (no "102 %" SpO2) nor below 0
/** @type {Record<string, [number, number]>} */
const PHYSICAL = { spo2: [0, 100], perfusion_index: [0, 20], heart_rate: [0, 350], pulse_rate: [0, 350],
                   resp_rate: [0, 150], nibp_sys: [0, 300], nibp_dia: [0, 300], nibp_mean: [0, 300],
                   temperature: [25, 45], etco2: [0, 150] };
const GAP_FILL = "rgba(148,163,184,0.18)";
// the light theme (patient portal): darker lines and text that keep >= 4.5:1 on white
/** @type {Record<string, string>} */
const LIGHT_COLORS = { heart_rate: "#15803d", pulse_rate: "#15803d", spo2: "#0369a1", resp_rate: "#a16207",
                       nibp_sys: "#b91c1c", nibp_dia: "#b91c1c", temperature: "#c2410c", etco2: "#334155" };
/**
 * Options of a trend: plain names and words in the reader's language, normal ranges drawn as a green
 * band, a light theme and a larger font (patient portal). The bed view passes none.
 * @typedef {{names?: Record<string, string>, normal?: Record<string, [number, number]>, light?: boolean,
 *   font?: number, words?: {band?: string, gap?: (w: string) => string, noData?: string, normal?: string},
 *   time?: (t: number) => string, number?: (v: number) => string, unitText?: (u: string) => string}} TrendOptions
 */

/** @param {Canvas} canvas */
function setup(canvas) {
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth, h = canvas.clientHeight;
  canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
  canvas.swDrawn = { w, h, dpr };  // the size this drawing is for (see redrawOnResize)
  const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext("2d"));
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return { ctx, w, h };
}

// Canvas pixels are fixed when drawn: when the canvas's box or the device pixel ratio changes (window
// resized, zoomed, moved to another screen), draw again at the new size, else the text is stretched.
/** @param {Canvas} canvas @param {() => void} draw */
function redrawOnResize(canvas, draw) {
  canvas.swRedraw = draw;
  if (canvas.swObserved) return;
  canvas.swObserved = true;
  const again = () => {
    const d = canvas.swDrawn, dpr = window.devicePixelRatio || 1;
    if (canvas.clientWidth && canvas.clientHeight
        && (!d || d.w !== canvas.clientWidth || d.h !== canvas.clientHeight || d.dpr !== dpr)) canvas.swRedraw?.();
    else if (!canvas.clientWidth) canvas.swDrawn = null;  // hidden: draw when shown again
  };
  new ResizeObserver(again).observe(canvas);
  const watchDpr = () => {  // fires once per ratio change: listen again at the new ratio (kept referenced)
    canvas.swDprQuery = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    canvas.swDprQuery.addEventListener("change", () => { again(); watchDpr(); }, { once: true });
  };
  watchDpr();
}

// A legend on the top line, right-aligned: what the shaded bands mean.
/**
 * @param {CanvasRenderingContext2D} ctx @param {Box[]} boxes @param {number} w @param {number} right
 * @param {[string, string][]} items @param {string} [textColor]
 */
function legend(ctx, boxes, w, right, items, textColor = "#9ca3af") {
  /** @param {[string, string][]} list */
  const width = list => list.reduce((sum, [, text]) => sum + ctx.measureText(text).width + 30, 0);
  // too wide: shorter words ("grey: no data"), then the colour only ("grey"), then fewer items
  if (width(items) > w - right - 6) items = items.map(([fill, text]) => [fill, text.replace(/ (for|of) .*/, "")]);
  if (width(items) > w - right - 6) items = items.map(([fill, text]) => [fill, text.replace(/[:：].*/, "")]);
  while (items.length > 1 && width(items) > w - right - 6) items = items.slice(1);
  let x = w - right;
  for (const [fill, text] of items.reverse()) {
    label(ctx, boxes, text, x, 13, "right");
    x -= ctx.measureText(text).width + 4;
    ctx.fillStyle = fill; ctx.fillRect(x - 12, 4, 12, 10);
    ctx.strokeStyle = "#64748b"; ctx.lineWidth = 1; ctx.strokeRect(x - 11.5, 4.5, 11, 9);
    boxes.push({ text: "swatch " + text, x: x - 12, y: 4, w: 12, h: 10 });
    x -= 12 + 14;
    ctx.fillStyle = textColor;
  }
}

// Draw a text and remember its box (canvas.swLabels: what was written where, so labels can be
// checked for overlaps; canvas text has no DOM box of its own).
/**
 * @param {CanvasRenderingContext2D} ctx @param {Box[]} boxes @param {string} text @param {number} x @param {number} y
 * @param {CanvasTextAlign} [align]
 */
function label(ctx, boxes, text, x, y, align = "left") {
  ctx.textAlign = align;
  ctx.fillText(text, x, y);
  const m = ctx.measureText(text);
  const left = align === "right" ? x - m.width : align === "center" ? x - m.width / 2 : x;
  boxes.push({ text, x: left, y: y - m.actualBoundingBoxAscent, w: m.width,
               h: m.actualBoundingBoxAscent + m.actualBoundingBoxDescent });
  ctx.textAlign = "left";
}

// rows: [{t, values:{sig:v}, minimum?, maximum?}], one panel per signal.
/**
 * @param {Canvas} canvas @param {Row[]} rows @param {string[]} signals @param {number} from @param {number} to
 * @param {Record<string, string>} units UCUM unit of each signal @param {number} stepMs
 * @param {TrendOptions} [opts]
 */
export function trend(canvas, rows, signals, from, to, units, stepMs, opts = {}) {
  redrawOnResize(canvas, () => trend(canvas, rows, signals, from, to, units, stepMs, opts));
  const light = !!opts.light, colors = light ? LIGHT_COLORS : COLORS, textColor = light ? "#334155" : "#9ca3af";
  const words = opts.words || {}, num = opts.number || (/** @param {number} v */ v => String(Math.round(v)));
  const font = opts.font || 12;
  const { ctx, w, h } = setup(canvas);
  ctx.clearRect(0, 0, w, h);
  /** @type {Box[]} */
  const boxes = [];
  canvas.swLabels = boxes;
  const right = 12, top = 8 + font, bottom = 10 + font;
  const panelH = (h - top - bottom) / signals.length;
  const gapMs = Math.max(stepMs * 3, 90000);
  ctx.font = `${font}px system-ui, sans-serif`;
  const panels = signals.map(sig => {
    const pts = rows.filter(r => r.values[sig] !== undefined);
    let lo = Infinity, hi = -Infinity;
    for (const r of pts) {
      lo = Math.min(lo, r.minimum ? r.minimum[sig] ?? r.values[sig] : r.values[sig]);
      hi = Math.max(hi, r.maximum ? r.maximum[sig] ?? r.values[sig] : r.values[sig]);
    }
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    const band = opts.normal?.[sig];
    if (band && pts.length) { lo = Math.min(lo, band[0]); hi = Math.max(hi, band[1]); }
    const pad = Math.max((hi - lo) * 0.15, 1), [min, max] = PHYSICAL[sig] || [-Infinity, Infinity];
    lo = Math.max(lo - pad, min); hi = Math.min(hi + pad, max);
    if (hi - lo < 1) { if (hi >= max) lo = hi - 1; else hi = lo + 1; }
    return { sig, pts, lo, hi, name: opts.names?.[sig] || signalLabel(sig),
             unit: (opts.unitText || unitText)(units[sig] || "") };
  });
  canvas.swPanels = panels.map(({ sig, lo, hi }) => ({ sig, lo, hi }));
  canvas.swRange = { from, to };
  ctx.fillStyle = textColor;
  const gapWords = gapMs >= 120000 ? I18n.t("chart.min", { n: Math.round(gapMs / 60000) })
    : I18n.t("chart.s", { n: Math.round(gapMs / 1000) });
  legend(ctx, boxes, w, right, [
    ...(opts.normal ? /** @type {[string, string][]} */ ([["rgba(34,197,94,0.18)", words.normal || I18n.t("chart.normal")]]) : []),
    ...(rows.some(r => r.minimum) ? /** @type {[string, string][]} */ ([["rgba(226,232,240,0.2)", words.band || I18n.t("chart.band")]]) : []),
    [GAP_FILL, words.gap ? words.gap(gapWords) : I18n.t("chart.gap", { gap: gapWords })]], textColor);
  // two columns left of the plot, sized to their texts: signal name + unit, then the axis values
  // (right-aligned), so a long name ("Temp", "NIBP") never runs into a value ("38", "120")
  /** @param {string} t */
  const width = t => ctx.measureText(t).width;
  const nameW = Math.max(0, ...panels.flatMap(p => [width(p.name), width(p.unit)]));
  const tickW = Math.max(0, ...panels.flatMap(p => [width(num(p.hi)), width(num(p.lo))]));
  const left = Math.ceil(6 + nameW + 10 + tickW + 6);
  /** @param {number} t */
  const x = t => left + (t - from) / (to - from) * (w - left - right);
  panels.forEach(({ sig, pts, lo, hi, name, unit }, i) => {
    const y0 = top + i * panelH, y1 = y0 + panelH - 6;
    /** @param {number} v */
    const y = v => y1 - (v - lo) / (hi - lo) * (y1 - y0);
    ctx.fillStyle = light ? "#f8fafc" : "#111827"; ctx.fillRect(left, y0, w - left - right, y1 - y0);
    const band = opts.normal?.[sig];
    if (band && pts.length) {  // the normal range: a green band behind the line
      ctx.fillStyle = "rgba(34,197,94,0.18)";
      ctx.fillRect(left, y(band[1]), w - left - right, y(band[0]) - y(band[1]));
    }
    ctx.fillStyle = light ? textColor : colors[sig] || "#e5e7eb";
    label(ctx, boxes, name, 6, y0 + font + 2);
    ctx.fillStyle = textColor;
    if (y1 - y0 >= Math.max(34, 2.8 * font)) label(ctx, boxes, unit, 6, y0 + 2.5 * font);  // a very short panel: the name only
    label(ctx, boxes, num(hi), left - 6, y0 + font, "right");
    if (y1 - y0 >= Math.max(28, 2.3 * font)) label(ctx, boxes, num(lo), left - 6, y1, "right");
    // gaps: no data for longer than gapMs -> shaded band (not for intermittent measurements)
    let prev = from;
    /** @type {[number, number][]} */
    const gaps = [];
    if (!INTERMITTENT.has(sig)) {
      for (const r of pts) { if (r.t - prev > gapMs) gaps.push([prev, r.t]); prev = r.t; }
      if (to - prev > gapMs && pts.length) gaps.push([prev, Math.min(to, serverNow())]);
    }
    ctx.fillStyle = GAP_FILL;
    for (const [a, b] of gaps) ctx.fillRect(x(a), y0, Math.max(1, x(b) - x(a)), y1 - y0);
    if (!pts.length) {
      ctx.fillStyle = light ? textColor : "#6b7280"; label(ctx, boxes, words.noData || I18n.t("chart.noData"), left + 12, (y0 + y1) / 2);
      return;
    }
    if (pts[0].minimum) { // min/max band of 1-minute aggregates
      ctx.fillStyle = (colors[sig] || "#e5e7eb") + "33";
      let last = null;
      for (const r of pts) {
        const mn = r.minimum?.[sig], mx = r.maximum?.[sig];
        if (mn === undefined || mx === undefined) continue;
        ctx.fillRect(x(r.t), y(mx), Math.max(1, x(r.t + stepMs) - x(r.t)), Math.max(1, y(mn) - y(mx)));
        last = r;
      }
    }
    ctx.strokeStyle = colors[sig] || "#e5e7eb"; ctx.lineWidth = light ? 2.4 : 1.6;
    if (INTERMITTENT.has(sig) && !pts[0].minimum) { // cuff / spot values: markers, not a line
      ctx.fillStyle = colors[sig] || "#e5e7eb";
      for (const r of pts) { ctx.beginPath(); ctx.arc(x(r.t), y(r.values[sig]), 3, 0, 7); ctx.fill(); }
      return;
    }
    ctx.beginPath();
    let lastT = null;
    for (const r of pts) {
      const px = x(r.t), py = y(r.values[sig]);
      if (lastT === null || r.t - lastT > gapMs) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      lastT = r.t;
    }
    ctx.stroke();
  });
  // time axis
  ctx.fillStyle = textColor;
  const timeText = opts.time || (/** @param {number} t */ t => clock(t, false));
  // as many times as fit with a gap between them (4 intervals on a wide chart, fewer on a phone)
  const n = Math.max(1, Math.min(4, Math.floor((w - left - right) / (width(timeText(from)) * 1.6 + 16))));
  for (let k = 0; k <= n; k++) {  // the first time starts at the plot's left edge, the last ends at its right
    const t = from + (to - from) * k / n;
    label(ctx, boxes, timeText(t), x(t), h - 6, k === 0 ? "left" : k === n ? "right" : "center");
  }
}

// An empty chart (e.g. a bed without a patient), kept empty when resized.
/** @param {Canvas} canvas */
export function clear(canvas) {
  redrawOnResize(canvas, () => { const { ctx, w, h } = setup(canvas); ctx.clearRect(0, 0, w, h); canvas.swLabels = []; });
  canvas.swRedraw?.();
}
