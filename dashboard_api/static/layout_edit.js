// @ts-check
// The ward's bed layout, edited on the central station by a charge nurse (of the ward) or an admin:
// the beds in screen order (left to right, top to bottom), 8-64, each once, and optionally the grid's
// columns. Stored with PUT /api/v1/wards/{ward}/layout (audited on the server), forgotten with DELETE
// (beds in name order again). The server is the authority on rights and limits; this dialog checks
// the same limits first so the nurse sees what is wrong before saving.
import { el } from "./common.js";
import { loaded, ready, t } from "./i18n.js";
import { api } from "./session.js";

export const MIN_BEDS = 8, MAX_BEDS = 64, MAX_COLUMNS = 16;
const BED_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** @typedef {import("./bedgrid.js").Layout} Layout */
/**
 * @typedef {object} LayoutEditorHooks
 * @property {() => string | null} ward the ward shown
 * @property {() => Layout} layout its layout as the station uses it now
 * @property {() => string[]} present the beds the station shows now (patients, devices), in screen order
 * @property {(saved: Layout) => void} onSaved the stored (or forgotten) layout: the grid is laid out anew
 */

/**
 * What is wrong with a layout before it is sent (the server says the same), or "" when nothing is.
 * @param {string[]} beds @param {string} columns the columns field ("" = fit the screen)
 */
export function layoutProblem(beds, columns) {
  if (beds.length < MIN_BEDS || beds.length > MAX_BEDS) {
    return t("layout.count", { n: beds.length, min: MIN_BEDS, max: MAX_BEDS });
  }
  const bad = beds.find(b => !BED_ID.test(b));
  if (bad !== undefined) return t("layout.badName", { bed: bad });
  const seen = new Set();
  for (const b of beds) { if (seen.has(b)) return t("layout.twice", { bed: b }); seen.add(b); }
  if (columns !== "") {
    const c = Number(columns);
    if (!Number.isInteger(c) || c < 1 || c > MAX_COLUMNS) return t("layout.columns", { max: MAX_COLUMNS });
  }
  return "";
}

/** Show the "Bed layout…" button (charge nurse, admin) and wire its dialog. @param {HTMLButtonElement} button @param {LayoutEditorHooks} hooks */
export function initLayoutEditor(button, hooks) {
  /** @type {string[]} */
  let beds = [];
  const dlg = el("dialog", { id: "layout-dialog", class: "sw-dialog", "aria-labelledby": "layout-title" });
  const title = el("h2", { id: "layout-title" });
  const help = el("p", { class: "muted" });
  const list = el("ol", { id: "layout-beds", class: "layout-beds" });
  const count = el("p", { id: "layout-count", role: "status", "aria-live": "polite" });
  const addInput = /** @type {HTMLInputElement} */ (el("input", { id: "layout-add-name", type: "text", maxlength: "64",
    autocomplete: "off", pattern: "[A-Za-z0-9_.\\-]{1,64}" }));
  const addLabel = el("label", { for: "layout-add-name" });
  const addBtn = el("button", { type: "button", id: "layout-add" });
  const fillBtn = el("button", { type: "button", id: "layout-fill" });
  const colInput = /** @type {HTMLInputElement} */ (el("input", { id: "layout-columns", type: "number", min: "1",
    max: String(MAX_COLUMNS), step: "1", inputmode: "numeric" }));
  const colLabel = el("label", { for: "layout-columns" });
  const problem = el("p", { id: "layout-problem", class: "problem", role: "alert" });
  const save = el("button", { type: "button", id: "layout-save", class: "primary" });
  const reset = el("button", { type: "button", id: "layout-reset" });
  const cancel = el("button", { type: "button", id: "layout-cancel" });
  dlg.append(title, help,
    el("div", { class: "layout-add" }, addLabel, addInput, addBtn, fillBtn),
    list, count,
    el("div", { class: "layout-cols" }, colLabel, colInput),
    problem,
    el("div", { class: "dialog-actions" }, save, reset, cancel));
  document.body.append(dlg);

  function texts() {
    title.textContent = t("layout.title", { ward: hooks.ward() || "" });
    help.textContent = t("layout.help", { min: MIN_BEDS, max: MAX_BEDS });
    addLabel.textContent = t("layout.addLabel");
    addBtn.textContent = t("layout.add");
    fillBtn.textContent = t("layout.fill");
    colLabel.textContent = t("layout.columnsLabel");
    colInput.placeholder = t("layout.columnsAuto");
    save.textContent = t("layout.save");
    reset.textContent = t("layout.reset");
    cancel.textContent = t("layout.cancel");
  }

  function render(focusIndex = -1, focusWhat = "") {
    list.replaceChildren(...beds.map((b, i) => {
      const up = el("button", { type: "button", class: "icon", "data-act": "up", "aria-label": t("layout.up", { bed: b }),
        onclick: () => move(i, -1, "up") }, "↑");
      const down = el("button", { type: "button", class: "icon", "data-act": "down", "aria-label": t("layout.down", { bed: b }),
        onclick: () => move(i, 1, "down") }, "↓");
      const del = el("button", { type: "button", class: "icon", "data-act": "remove", "aria-label": t("layout.remove", { bed: b }),
        onclick: () => { beds.splice(i, 1); render(Math.min(i, beds.length - 1), "remove"); } }, "✕");
      if (i === 0) up.setAttribute("disabled", "");
      if (i === beds.length - 1) down.setAttribute("disabled", "");
      return el("li", { "data-bed": b }, el("span", { class: "bed-name" }, t("layout.bed", { bed: b })), up, down, del);
    }));
    count.textContent = t("layout.n", { n: beds.length, min: MIN_BEDS, max: MAX_BEDS });
    problem.textContent = "";
    if (focusIndex >= 0) {
      const b = /** @type {HTMLButtonElement | null} */ (list.children[focusIndex]?.querySelector(`[data-act="${focusWhat}"]:not([disabled])`)
        || list.children[focusIndex]?.querySelector("button:not([disabled])"));
      b?.focus();
    } else if (!beds.length) addInput.focus();
  }

  /** @param {number} i @param {number} d @param {string} what */
  function move(i, d, what) {
    const j = i + d;
    if (j < 0 || j >= beds.length) return;
    [beds[i], beds[j]] = [beds[j], beds[i]];
    render(j, what);
  }

  function add() {
    const name = addInput.value.trim();
    if (!name) { addInput.focus(); return; }
    if (!BED_ID.test(name)) { problem.textContent = t("layout.badName", { bed: name }); addInput.focus(); return; }
    if (beds.includes(name)) { problem.textContent = t("layout.twice", { bed: name }); addInput.focus(); return; }
    beds.push(name);
    addInput.value = "";
    render();
    addInput.focus();
  }

  async function open() {
    if (!loaded()) await ready();
    const w = hooks.ward();
    if (!w) return;
    const now = hooks.layout();
    beds = now.configured ? [...now.beds] : [...hooks.present()];
    colInput.value = now.configured && now.columns ? String(now.columns) : "";
    reset.hidden = !now.configured;
    texts();
    render();
    dlg.showModal();
    addInput.focus();
  }

  async function send() {
    const w = hooks.ward();
    const bad = layoutProblem(beds, colInput.value.trim());
    if (bad) { problem.textContent = bad; return; }
    if (!w) return;
    save.setAttribute("disabled", "");
    try {
      const cols = colInput.value.trim();
      const saved = await api(`/api/v1/wards/${encodeURIComponent(w)}/layout`,
        { method: "PUT", json: { beds, columns: cols === "" ? null : Number(cols) } });
      dlg.close();
      hooks.onSaved(saved);
    } catch (e) {
      problem.textContent = t("layout.refused", { why: /** @type {Error} */ (e).message });
    } finally {
      save.removeAttribute("disabled");
    }
  }

  async function forget() {
    const w = hooks.ward();
    if (!w || !confirm(t("layout.resetConfirm", { ward: w }))) return;
    try {
      await api(`/api/v1/wards/${encodeURIComponent(w)}/layout`, { method: "DELETE" });
      dlg.close();
      hooks.onSaved(await api(`/api/v1/wards/${encodeURIComponent(w)}/layout`));
    } catch (e) {
      problem.textContent = t("layout.refused", { why: /** @type {Error} */ (e).message });
    }
  }

  addBtn.addEventListener("click", add);
  addInput.addEventListener("keydown", ev => { if (ev.key === "Enter") { ev.preventDefault(); add(); } });
  fillBtn.addEventListener("click", () => {
    for (const b of hooks.present()) if (!beds.includes(b)) beds.push(b);
    render();
  });
  save.addEventListener("click", send);
  reset.addEventListener("click", forget);
  cancel.addEventListener("click", () => dlg.close());
  dlg.addEventListener("close", () => button.focus());
  // keys typed in the dialog are not the station's shortcuts (A acknowledges, S silences...)
  dlg.addEventListener("keydown", ev => ev.stopPropagation());
  button.addEventListener("click", open);
  button.hidden = false;
}
