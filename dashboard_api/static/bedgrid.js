// @ts-check
// The central station's bed grid holds still: every bed has a slot, and a bed that appears (an
// admission, a live drill's bed) never moves a bed already on the screen. The ward's stored layout
// (GET /api/v1/wards/{ward}/layout) gives its beds fixed slots, occupied or not (an empty bed is an
// empty tile in its place); other beds follow in the order they appear, a new one taking the first
// slot a departed bed left free (a gap) or the next slot at the end. The grid's tile size is set for
// the layout (or the beds first shown) and does not shrink when beds are added: more beds than that
// add rows below (the grid scrolls), they never squeeze the others.

/** @typedef {{ward: string, beds: string[], columns: number | null, configured: boolean}} Layout */
/** @typedef {(string | null)[]} Slots a bed id per position; null: a gap a departed bed left */

/**
 * The slots after the beds the server has now (`present`, in a stable order) arrived: no bed already
 * placed moves. `fixed` are the stored layout's beds (they always keep their slots).
 * @param {Slots} slots @param {string[]} fixed @param {string[]} present
 * @returns {Slots}
 */
export function place(slots, fixed, present) {
  const out = slots.length ? [...slots] : [...fixed];
  for (const b of fixed) if (!out.includes(b)) out.push(b);  // a layout stored after the screen opened
  const keep = new Set(fixed), have = new Set(present);
  for (let i = 0; i < out.length; i++) {
    const b = out[i];
    if (b !== null && !keep.has(b) && !have.has(b)) out[i] = null;  // gone (a drill's bed): a gap, nothing moves up
  }
  for (const b of present) {
    if (out.includes(b)) continue;
    const gap = out.indexOf(null);
    if (gap >= 0) out[gap] = b; else out.push(b);
  }
  while (out.length && out[out.length - 1] === null) out.pop();
  return out;
}

/**
 * Columns and row height for `n` tiles in a `width` × `height` box (6 px gaps and padding): the
 * columns that make the tiles largest (a tile is 200 × 232 at scale 1), or the layout's own.
 * @param {number} n @param {number} width @param {number} height @param {number | null} columns
 * @returns {{columns: number, rows: number, rowHeight: number, scale: number}}
 */
export function gridSize(n, width, height, columns) {
  const gap = 6, pad = 12;
  let best = columns || 1, bestScale = 0;
  const tryCols = columns ? [columns] : Array.from({ length: Math.max(1, n) }, (_, i) => i + 1);
  for (const c of tryCols) {
    const r = Math.ceil(n / c), scale = Math.min(width / c / 200, height / r / 232);
    if (scale > bestScale) { bestScale = scale; best = c; }
  }
  const rows = Math.max(1, Math.ceil(n / best));
  return { columns: best, rows, rowHeight: Math.max(60, Math.floor((height - pad - gap * (rows - 1)) / rows)),
           scale: Math.max(0.6, Math.min(bestScale, 1.6)) };
}
