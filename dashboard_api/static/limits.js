// @ts-check
// A patient's own alarm limits, set at the bed view (GET/PUT/DELETE /api/v1/patients/{p}/limits[/{signal}]):
// the "Alarm limits" section lists each signal's limits (the patient's own in bold beside the ward's),
// an edit dialog takes number inputs with units and a reason, shows the change for confirmation, then
// applies it; a reset goes back to the ward's limits. The server bounds every value and checks it
// against the ward's hysteresis; its refusal names the field, which the dialog marks. The tiles mark a
// patient with own limits (limitsBadge, from the ward state's `limits`: every screen of the ward sees it).
import { fmt, label, unit } from "./catalogue.js";
import { el } from "./common.js";
import { t, time } from "./i18n.js";
import { api } from "./session.js";

/** @typedef {import("./frames.js").Tile} Tile */
/** @typedef {"critical_low" | "low" | "high" | "critical_high"} Field */
/** @typedef {Partial<Record<Field, number | null>>} Limits */
/**
 * One signal of GET /api/v1/patients/{patient}/limits.
 * @typedef {object} SignalLimits
 * @property {string} signal
 * @property {string} unit how a nurse reads it ("mmHg", "°C")
 * @property {number} decimals
 * @property {number} hysteresis
 * @property {Limits} default the ward's limits
 * @property {Limits | null} override the patient's own fields
 * @property {Limits} effective what alerting applies now
 * @property {"ward" | "patient" | "file"} source
 * @property {string | null} set_by
 * @property {number | null} set_t
 * @property {Limits} bounds the widest each field may be set at the bedside
 */

/** @type {Field[]} */
const FIELDS = ["critical_low", "low", "high", "critical_high"];

// ---- the tile's marker ------------------------------------------------------------------------

/** "SpO₂ low 85 %; HR high 140 /min": a tile's own limits in words, or "" when it has none. @param {Tile} b */
export function limitsList(b) {
  const own = b.patient && !b.drill ? b.limits || {} : {};
  return Object.entries(own).map(([sig, lim]) => {
    const u = b.vitals && b.vitals[sig] ? " " + unit(b.vitals[sig].unit) : "";
    return FIELDS.filter(f => lim[f] !== undefined && lim[f] !== null)
      .map(f => t("limits.item", { signal: label(sig), field: t("limits.field." + f).toLowerCase(), value: fmt(lim[f], sig) + u }))
      .join(", ");
  }).filter(Boolean).join("; ");
}

/** The tile's custom-limits badge (its title lists them), or null. @param {Tile} b */
export function limitsBadge(b) {
  const list = limitsList(b);
  return list ? el("span", { class: "own-limits", title: t("limits.badgeTitle", { list }) }, t("limits.badge")) : null;
}

/** ", custom alarm limits: …" for a tile's accessible name, or "". @param {Tile} b */
export function limitsWords(b) {
  const list = limitsList(b);
  return list ? ", " + t("limits.aria", { list }) : "";
}

// ---- the bed view's section ---------------------------------------------------------------------

let section = /** @type {HTMLElement | null} */ (null);
let shownFor = "";          // "bed|patient|own limits" the section shows: a change reloads it
let asked = 0;              // answers to an older request are dropped (another bed, a newer change)
/** @type {{bed: string, patient: string}} */
let current = { bed: "", patient: "" };
/** @type {SignalLimits[]} */
let signals = [];

/** Show `b`'s limits in `container` (the bed view's #bv-limits); reloads when the bed, patient or own limits change.
 * @param {HTMLElement} container @param {Tile} b */
export function syncLimits(container, b) {
  const key = `${b.bed}|${b.patient}|${JSON.stringify(b.limits || {})}`;
  if (section === container && key === shownFor) return;
  section = container;
  const samePatient = current.patient === b.patient && current.bed === b.bed;
  shownFor = key;
  current = { bed: b.bed, patient: b.patient };
  if (!samePatient) {  // another bed, or another patient in it: nothing of the previous one stays on screen
    signals = [];
    say("");
    if (dialog && dialog.open) { returnTo = null; closeDialog(); }
  }
  load();
}

// another language chosen on the station: the section is drawn again in it (the values stay)
document.addEventListener("sw-lang", () => {
  if (!section || !current.bed) return;
  const details = /** @type {HTMLDetailsElement | null} */ (section.querySelector("details.limits"));
  if (details) {
    /** @type {HTMLElement} */ (details.querySelector(".limits-title")).textContent = t("limits.title");
    if (signals.length) render(details); else load();
  }
});

/** The bed view closed: the next bed starts afresh. */
export function closeLimits() {
  shownFor = "";
  current = { bed: "", patient: "" };
  signals = [];
  asked++;
  returnTo = null;
  if (dialog && dialog.open) closeDialog();
}

function frame() {
  const s = /** @type {HTMLElement} */ (section);
  let details = /** @type {HTMLDetailsElement | null} */ (s.querySelector("details.limits"));
  if (!details) {
    details = el("details", { class: "limits" },
      el("summary", {}, el("span", { class: "limits-title" }, t("limits.title")), " ", el("span", { class: "limits-sum" })),
      el("p", { class: "limits-msg", role: "status" }), el("div", { class: "limits-body" }));
    s.replaceChildren(details);
  }
  return details;
}

async function load() {
  const details = frame();
  const body = /** @type {HTMLElement} */ (details.querySelector(".limits-body"));
  const sum = /** @type {HTMLElement} */ (details.querySelector(".limits-sum"));
  const n = ++asked;
  if (!current.patient) {
    sum.textContent = "";
    body.replaceChildren(el("p", { class: "limits-none" }, t("limits.noPatient")));
    return;
  }
  if (!signals.length) body.replaceChildren(el("p", { class: "limits-none" }, t("limits.loading")));
  try {
    const r = await api(`/api/v1/patients/${encodeURIComponent(current.patient)}/limits`);
    if (n !== asked || r.patient !== current.patient) return;  // another bed or a newer change meanwhile
    signals = r.signals;
    render(details);
  } catch (e) {
    if (n !== asked) return;
    body.replaceChildren(el("p", { class: "limits-none bad", role: "alert" }, t("limits.failed", { error: e.message })));
  }
}

/** @param {SignalLimits} s @param {Field} f */
function has(s, f) { return s.override !== null && s.override[f] !== undefined && s.override[f] !== null; }
/** @param {SignalLimits} s @param {number | null | undefined} v */
function show(s, v) { return v === null || v === undefined ? t("limits.none") : `${fmt(v, s.signal)} ${s.unit}`; }

/** @param {HTMLDetailsElement} details */
function render(details) {
  const own = signals.filter(s => s.source !== "ward");
  /** @type {HTMLElement} */ (details.querySelector(".limits-sum")).textContent = own.length
    ? t("limits.summaryOwn", { signals: own.map(s => label(s.signal)).join(", ") }) : t("limits.summaryWard");
  details.classList.toggle("has-own", own.length > 0);
  const head = el("tr", {}, el("th", { scope: "col" }, t("limits.col.signal")),
    ...FIELDS.map(f => el("th", { scope: "col" }, t("limits.field." + f))),
    el("th", { scope: "col" }, t("limits.col.source")), el("th", { scope: "col" }, t("limits.col.actions")));
  const rows = signals.map(s => {
    const name = label(s.signal);
    const cells = FIELDS.map(f => {
      const mine = has(s, f);
      const scaled = s.effective[f] !== (mine ? s.override[f] : s.default[f]);  // SpO2 scale 2 moved it
      return el("td", { class: mine ? "own" : "" }, el("span", { class: "val" }, show(s, s.effective[f])),
        mine ? el("span", { class: "ward" }, t("limits.ward", { value: show(s, s.default[f]) })) : null,
        scaled ? el("span", { class: "ward" }, t("limits.scale2")) : null);
    });
    const who = s.source === "patient" ? t("limits.source.patient", { by: s.set_by || "", when: time(s.set_t || 0) })
      : t("limits.source." + s.source);
    const edit = el("button", { type: "button", class: "limits-edit", "data-edit": s.signal,
                                 "aria-label": t("limits.editAria", { signal: name }),
                                 onclick: () => openEdit(s) }, t("limits.edit"));
    const reset = s.source === "patient" ? el("button", { type: "button", class: "limits-reset", "data-reset": s.signal,
                                                        "aria-label": t("limits.resetAria", { signal: name }),
                                                        onclick: () => openReset(s) },
                                              t("limits.reset")) : null;
    return el("tr", { "data-signal": s.signal, class: s.source !== "ward" ? "own" : "" },
      el("th", { scope: "row" }, name), ...cells, el("td", { class: "who" }, who), el("td", { class: "acts" }, edit, reset));
  });
  const table = el("table", { class: "limits-table" },
    el("caption", { class: "limits-sr" }, t("limits.caption", { patient: current.patient })),
    el("thead", {}, head), el("tbody", {}, ...rows));
  // a button that had the focus keeps it in the new table (its Edit when a reset removed it)
  const active = /** @type {HTMLElement | null} */ (document.activeElement);
  const had = active && details.contains(active) ? active.dataset.edit || active.dataset.reset || "" : "";
  const body = /** @type {HTMLElement} */ (details.querySelector(".limits-body"));
  body.replaceChildren(table);
  if (had) {
    const again = /** @type {HTMLElement | null} */ (body.querySelector(active.dataset.reset ? `[data-reset="${had}"]` : `[data-edit="${had}"]`)
                                                     || body.querySelector(`[data-edit="${had}"]`));
    if (again) again.focus();
  }
}

/** @param {string} text */
function say(text) {
  const msg = section && section.querySelector(".limits-msg");
  if (msg) msg.textContent = text;
}

// ---- the dialog ------------------------------------------------------------------------------------

let dialog = /** @type {HTMLDialogElement | null} */ (null);
let returnTo = /** @type {{signal: string, kind: "edit" | "reset"} | null} */ (null);

function closeDialog() {
  const d = /** @type {HTMLDialogElement} */ (dialog);
  if (d.open) d.close();
  if (!returnTo || !section) return;
  const sel = returnTo.kind === "reset" ? `[data-reset="${returnTo.signal}"]` : `[data-edit="${returnTo.signal}"]`;
  const back = /** @type {HTMLElement | null} */ (section.querySelector(sel) || section.querySelector(`[data-edit="${returnTo.signal}"]`));
  returnTo = null;
  if (back) back.focus();
}

/** A fresh modal dialog (the native <dialog>: focus stays inside it); Esc closes it and only it. */
function newDialog() {
  if (!dialog) {
    dialog = el("dialog", { id: "limits-dialog", class: "limits-dialog", "aria-labelledby": "ld-title" });
    // keys inside the dialog are the dialog's: never the station's shortcuts (Esc closing the bed view, A acknowledging)
    dialog.addEventListener("keydown", ev => {
      ev.stopPropagation();
      if (ev.key === "Escape") { ev.preventDefault(); closeDialog(); }
    });
    dialog.addEventListener("cancel", ev => { ev.preventDefault(); closeDialog(); });
    document.body.append(dialog);
  }
  return dialog;
}

/** @param {SignalLimits} s */
function openEdit(s) {
  const d = newDialog();
  const { bed, patient } = current;  // the dialog acts on this patient only, whoever is in the bed later
  const name = label(s.signal), step = s.decimals > 0 ? String(10 ** -s.decimals) : "1";
  returnTo = { signal: s.signal, kind: "edit" };
  /** @type {Record<string, HTMLInputElement>} */
  const inputs = {};
  const rows = FIELDS.map(f => {
    // a low limit has its floor, a high limit its ceiling; and every limit lies within the widest window
    const lo = f === "high" || f === "critical_high" ? s.bounds.critical_low : s.bounds[f];
    const hi = f === "low" || f === "critical_low" ? s.bounds.critical_high : s.bounds[f];
    const input = el("input", { type: "number", name: f, id: "ld-" + f, step, min: String(lo ?? ""), max: String(hi ?? ""),
                                inputmode: s.decimals > 0 ? "decimal" : "numeric",
                                "aria-describedby": "ld-help" });
    if (has(s, f)) input.value = String(s.override[f]);
    inputs[f] = input;
    return el("div", { class: "ld-row" }, el("label", { for: "ld-" + f }, t("limits.field." + f)),
      el("span", { class: "ld-in" }, input, el("span", { class: "unit" }, s.unit)),
      el("span", { class: "ld-ward" }, t("limits.ward", { value: show(s, s.default[f]) })));
  });
  const reason = el("textarea", { name: "reason", id: "ld-reason", required: "", maxlength: "500", rows: "2" });
  const error = el("p", { class: "ld-error", role: "alert" });
  const confirm = el("div", { class: "ld-confirm", hidden: "" });
  const cancel = el("button", { type: "button", class: "ld-cancel", onclick: () => closeDialog() }, t("limits.cancel"));
  const back = el("button", { type: "button", class: "ld-back", hidden: "" }, t("limits.back"));
  const submit = el("button", { type: "submit", class: "ld-primary" }, t("limits.review"));
  const fields = el("fieldset", { class: "ld-fields" }, el("legend", { class: "limits-sr" }, t("limits.title")), ...rows,
    el("div", { class: "ld-row reason" }, el("label", { for: "ld-reason" }, t("limits.reason")), reason));
  const form = el("form", { class: "ld-form", novalidate: "" },
    el("h2", { id: "ld-title" }, t("limits.dialogTitle", { signal: name, bed, patient })),
    el("p", { id: "ld-help", class: "ld-help" }, t("limits.dialogHelp", { h: fmt(s.hysteresis, s.signal), unit: s.unit })),
    fields, error, confirm, el("div", { class: "ld-buttons" }, cancel, back, submit));
  let confirming = false;
  /** @type {Limits} */
  let asking = {};

  /** @param {string} text @param {string} [field] */
  const refuse = (text, field) => {
    error.textContent = text;
    for (const [f, i] of Object.entries(inputs)) i.setAttribute("aria-invalid", String(f === field));
    reason.setAttribute("aria-invalid", String(field === "reason"));
    const target = field === "reason" ? reason : field && inputs[field];
    if (target) target.focus();
  };
  const editing = () => {
    confirming = false;
    fields.disabled = false;
    confirm.hidden = true;
    back.hidden = true;
    submit.textContent = t("limits.review");
  };
  back.addEventListener("click", () => { editing(); inputs.low.focus(); });
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    if (!confirming) {
      asking = {};
      for (const f of FIELDS) {
        const v = inputs[f].value.trim();
        if (v === "") continue;
        const n = Number(v);
        if (!Number.isFinite(n) || !inputs[f].checkValidity()) {
          refuse(t("limits.badValue", { field: t("limits.field." + f), min: inputs[f].min, max: inputs[f].max, unit: s.unit }), f);
          return;
        }
        asking[f] = n;
      }
      if (!Object.keys(asking).length) { refuse(t("limits.nothing"), "low"); return; }
      if (!reason.value.trim()) { refuse(t("limits.reasonMissing"), "reason"); return; }
      refuse("");
      confirming = true;
      fields.disabled = true;
      const changes = FIELDS.map(f => {
        const was = has(s, f) ? s.override[f] : s.default[f];
        const will = asking[f] !== undefined ? asking[f] : s.default[f];
        return was === will ? null : el("li", {}, t("limits.change", { field: t("limits.field." + f), from: show(s, was), to: show(s, will) }));
      }).filter(Boolean);
      confirm.replaceChildren(el("p", {}, t("limits.confirmTitle", { signal: name, patient })),
        el("ul", {}, ...(changes.length ? changes : [el("li", {}, t("limits.noChange"))])),
        el("p", { class: "ld-reason-echo" }, t("limits.reasonEcho", { reason: reason.value.trim() })));
      confirm.hidden = false;
      back.hidden = false;
      submit.textContent = t("limits.confirm");
      submit.focus();
      return;
    }
    submit.disabled = true;
    try {
      await api(`/api/v1/patients/${encodeURIComponent(patient)}/limits/${s.signal}`,
                { method: "PUT", json: { ...asking, reason: reason.value.trim() } });
      say(t("limits.saved", { signal: name, patient }));
      closeDialog();
      shownFor = "";  // the tile frame follows; reload now all the same
      load();
    } catch (e) {
      editing();
      const field = /^(critical_low|low|high|critical_high|reason):/.exec(e.message);
      refuse(e.message, field ? field[1] : undefined);
    } finally { submit.disabled = false; }
  });
  d.replaceChildren(form);
  d.showModal();
  inputs.low.focus();
}

/** @param {SignalLimits} s */
function openReset(s) {
  const d = newDialog();
  const { patient } = current;
  const name = label(s.signal);
  returnTo = { signal: s.signal, kind: "reset" };
  const ward = FIELDS.filter(f => s.default[f] !== null && s.default[f] !== undefined)
    .map(f => `${t("limits.field." + f).toLowerCase()} ${show(s, s.default[f])}`).join(", ");
  const error = el("p", { class: "ld-error", role: "alert" });
  const cancel = el("button", { type: "button", class: "ld-cancel", onclick: () => closeDialog() }, t("limits.cancel"));
  const ok = el("button", { type: "button", class: "ld-primary" }, t("limits.resetConfirm"));
  ok.addEventListener("click", async () => {
    ok.disabled = true;
    try {
      await api(`/api/v1/patients/${encodeURIComponent(patient)}/limits/${s.signal}`, { method: "DELETE" });
      say(t("limits.wasReset", { signal: name, patient }));
      returnTo = { signal: s.signal, kind: "edit" };  // the Reset button goes with the patient's own limits
      closeDialog();
      shownFor = "";
      load();
    } catch (e) { error.textContent = e.message; ok.disabled = false; }
  });
  d.replaceChildren(el("div", { class: "ld-form" },
    el("h2", { id: "ld-title" }, t("limits.resetTitle", { signal: name, patient })),
    el("p", {}, t("limits.resetText", { limits: ward || t("limits.none") })),
    error, el("div", { class: "ld-buttons" }, cancel, ok)));
  d.showModal();
  cancel.focus();  // a reset is one click from done: the safe choice has the focus
}
