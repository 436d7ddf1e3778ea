// @ts-check
// Admit, transfer, discharge and device assignment from the central station (POST /api/v1/adt/… and
// /api/v1/devices/{id}/assign). The buttons are offered to charge nurses and admins only; the server
// stays the authority (ward rights, an occupied bed, an admitted patient) and the dialog shows its
// refusal as it gave it. After a change the station updates from its live feed like for any other
// change: no reload, no local guess of the new state.
// Each dialog is a modal <dialog>: focus moves into it, Tab stays in it, Esc closes it, and focus
// returns to what opened it. Discharge names the patient (pseudonym, and name and MRN where recorded)
// and the bed on its confirm button, so the nurse confirms the patient, not a position on the screen.
import { clock, el } from "./common.js";
import { lang, t } from "./i18n.js";
import * as Ident from "./identities.js";
import { ApiError, api } from "./session.js";

/** @typedef {import("./session.js").User} User */
/** @typedef {{ward: string, bed: string, patient: string, device: string, drill?: string}} BedInfo */
/** What the station lends this module: the wards it lists. @typedef {{wards: () => {ward: string, virtual?: boolean}[]}} Station */

const ADT_ROLES = new Set(["charge_nurse", "admin"]);
const ID = /^[A-Za-z0-9_.-]{1,64}$/;
const MRN = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$/;
const MAX_NAME = 200;
const NAME = /^(?:\s|[^\p{Cc}\p{Cf}\p{Co}\p{Cn}])+$/u;  // the server's rule (identities.py): any script, no control characters

/** @type {User | null} */
let me = null;
/** @type {Station | null} */
let station = null;

/** @param {User} user @param {Station} ctx */
export function init(user, ctx) {
  me = user; station = ctx;
  if (!document.getElementById("adt-status")) {
    document.body.append(el("div", { id: "adt-status", class: "adt-status", role: "status", "aria-live": "polite" }));
  }
}

/** Whether this user is offered admit, transfer, discharge and device assignment (charge nurse, admin). */
export function allowed() { return !!me && ADT_ROLES.has(me.role); }

// ---- buttons -------------------------------------------------------------------------------------
/** @type {Map<string, HTMLButtonElement>} */
const admitButtons = new Map();  // one element per bed: a tile re-rendered every second keeps its focus

/**
 * "Admit…" for a bed without a patient (null for a user who may not admit, a drill bed, the home ward).
 * @param {string} ward @param {string} bed @param {string} [drill]
 */
export function admitButton(ward, bed, drill) {
  if (!allowed() || drill || ward === "home") return null;
  const key = ward + "/" + bed;
  let b = admitButtons.get(key);
  if (!b) {
    const button = b = el("button", { type: "button", class: "adt-admit",
      onclick: ev => { ev.stopPropagation(); admitDialog(ward, bed, button); } });
    admitButtons.set(key, b);
  }
  const text = t("adt.admit"), name = t("adt.admitBed", { bed, ward });  // in the language chosen now
  if (b.textContent !== text) b.textContent = text;
  if (b.getAttribute("aria-label") !== name) b.setAttribute("aria-label", name);
  return b;
}

let shownFor = "";
/**
 * The bed view's buttons for `b` (rebuilt only when the bed, its patient, its device or the language changed, so a
 * focused button stays focused; when they change under the focus, the first new button takes it).
 * @param {HTMLElement} box @param {BedInfo | undefined} b
 */
export function bedActions(box, b) {
  const key = b ? [b.ward, b.bed, b.patient, b.device, b.drill || "", lang()].join("|") : "";
  if (key === shownFor) return;
  shownFor = key;
  const hadFocus = box.contains(document.activeElement);
  box.hidden = !allowed() || !b || !!b.drill;
  if (box.hidden || !b) { box.replaceChildren(); return; }
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", t("adt.actions"));
  /** @type {HTMLButtonElement[]} */
  const buttons = [];
  /** @param {string} text @param {(opener: HTMLButtonElement) => void} open @param {string} cls */
  const add = (text, open, cls) => {
    const button = el("button", { type: "button", class: cls, onclick: () => open(button) }, text);
    buttons.push(button);
  };
  if (b.patient) {
    add(t("adt.transfer"), o => transferDialog(b, o), "adt-transfer");
    add(t("adt.discharge"), o => dischargeDialog(b, o), "adt-discharge");
  } else if (b.ward !== "home") {
    add(t("adt.admit"), o => admitDialog(b.ward, b.bed, o), "adt-admit");
  }
  add(t("adt.assign"), o => assignDialog(b, o), "adt-assign");
  box.replaceChildren(...buttons);
  if (hadFocus && buttons.length) buttons[0].focus();
}

// ---- the dialog ----------------------------------------------------------------------------------
/**
 * @typedef {{title: string, body: (Node | string)[], submit: string, danger?: boolean,
 *            run: (form: HTMLFormElement) => Promise<string>}} DialogSpec
 */
let dialogs = 0;

/**
 * Open a modal dialog; `run` checks the form and calls the server (its text confirms on success; an
 * error is shown in the dialog, which stays open). Returns the dialog (closed and removed when done).
 * Focus returns to `opener`, or, when the live feed replaced it meanwhile (the bed changed), to the
 * bed's tile or the bed view's first button.
 * @param {DialogSpec} spec @param {HTMLElement} opener @param {string} bed
 */
function openDialog(spec, opener, bed) {
  const id = `adt-dialog-${++dialogs}`;
  const error = el("p", { class: "adt-error", role: "alert", id: id + "-error" });
  const send = el("button", { type: "submit", class: "adt-primary" + (spec.danger ? " danger" : "") }, spec.submit);
  const cancel = el("button", { type: "button", class: "adt-cancel" }, t("adt.cancel"));
  const form = el("form", { method: "dialog", novalidate: "" }, ...spec.body, error,
                  el("div", { class: "adt-buttons" }, cancel, send));
  const dialog = el("dialog", { class: "adt-dialog", "aria-labelledby": id + "-title" },
                    el("h2", { id: id + "-title" }, spec.title), form);
  // the station's keys (Esc closes the bed view, A/S/E act on alarms, 1-9 choose a ward) stay out of it
  dialog.addEventListener("keydown", ev => { ev.stopPropagation(); });
  const inBedView = !!opener.closest("#bv-adt");
  dialog.addEventListener("close", () => {
    dialog.remove();
    const instead = inBedView ? document.querySelector("#bv-adt button") : document.getElementById("bed-" + bed);
    const back = /** @type {HTMLElement | null} */ (opener.isConnected ? opener : instead);
    if (back) back.focus();
  });
  cancel.addEventListener("click", () => dialog.close());
  form.addEventListener("input", ev => { /** @type {HTMLElement} */ (ev.target).removeAttribute("aria-invalid"); });
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    error.textContent = "";
    send.disabled = true;
    const was = send.textContent;
    send.textContent = t("adt.sending");
    try {
      const done = await spec.run(form);
      dialog.close();
      announce(done);
      Ident.refresh();
    } catch (e) {
      error.textContent = friendly(e);
      const bad = /** @type {HTMLElement | null} */ (form.querySelector("[aria-invalid='true']"));
      (bad || send).focus();
    } finally {
      send.disabled = false;
      send.textContent = was;
    }
  });
  document.body.append(dialog);
  dialog.showModal();
  const first = /** @type {HTMLElement | null} */ (form.querySelector("input, select"));
  (first || send).focus();
  return dialog;
}

/** The confirmation of a change, read out (role status) and shown for a while. @param {string} text */
function announce(text) {
  const box = document.getElementById("adt-status");
  if (!box) return;
  box.textContent = text;
  clearTimeout(announced);
  announced = setTimeout(() => { box.textContent = ""; }, 8000);
}
/** @type {ReturnType<typeof setTimeout> | undefined} */
let announced;

/** A refusal as the server said it, after a word on what kind of refusal it is ("at 1796…" in ms written
 * as a clock time). @param {any} e */
function friendly(e) {
  if (e instanceof FieldError) return e.message;
  const reason = (e instanceof Error ? e.message : String(e)).replace(/\bat (1\d{12})\b/g, (_m, ms) => "at " + clock(Number(ms)));
  if (!(e instanceof ApiError)) return t("adt.failed", { reason });
  if (e.status === 403) return t("adt.refused403", { reason });
  if (e.status === 409) return t("adt.refused409", { reason });
  if (e.status === 422) return t("adt.refused422", { reason });
  return t("adt.failed", { reason });
}

/** A field the dialog refuses before asking the server (it is marked and named). */
class FieldError extends Error {}

/**
 * A labelled input (≥ 44 px): `name`, its label text, optional attributes.
 * @param {string} name @param {string} text @param {Record<string, string>} [attrs]
 */
function field(name, text, attrs = {}) {
  const input = el("input", { name, autocomplete: "off", spellcheck: "false", ...attrs });
  return el("label", { class: "adt-field" }, el("span", {}, text), input);
}

/**
 * The value of `name` checked against `re` (marked invalid and named otherwise); "" when empty and optional.
 * @param {HTMLFormElement} form @param {string} name @param {string} label @param {RegExp} re @param {string} problem @param {boolean} required
 */
function value(form, name, label, re, problem, required) {
  const input = /** @type {HTMLInputElement} */ (form.elements.namedItem(name));
  const v = input.value.trim();
  const bad = required && !v ? t("adt.needed", { field: label }) : v && !re.test(v) ? problem : "";
  input.setAttribute("aria-invalid", String(!!bad));
  if (bad) { input.setAttribute("aria-describedby", /** @type {HTMLElement} */ (form.querySelector(".adt-error")).id); throw new FieldError(bad); }
  input.removeAttribute("aria-describedby");
  return v;
}

/** @param {string} patient */
const who = patient => Ident.full(patient);

// ---- admit ----------------------------------------------------------------------------------------
/** @param {string} ward @param {string} bed @param {HTMLElement} opener */
export function admitDialog(ward, bed, opener) {
  const now = new Date();
  return openDialog({
    title: t("adt.admitTitle", { bed, ward }),
    submit: t("adt.admitDo"),
    body: [
      field("patient_id", t("adt.patientId"), { required: "", maxlength: "64" }),
      field("name", t("adt.name"), { maxlength: String(MAX_NAME) }),
      field("mrn", t("adt.mrn"), { maxlength: "64" }),
      el("p", { class: "adt-note" }, t("adt.identityHint")),
      el("p", { class: "adt-note" }, t("adt.timeNow", { time: now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) })),
    ],
    run: async form => {
      const patient = value(form, "patient_id", t("adt.patientId"), ID, t("adt.badId", { field: t("adt.patientId") }), true);
      const name = value(form, "name", t("adt.name"), NAME, t("adt.badName"), false);
      const mrn = value(form, "mrn", t("adt.mrn"), MRN, t("adt.badMrn"), false);
      /** @type {Record<string, string>} */
      const body = { patient_id: patient, ward, bed };
      if (name) body.name = name;
      if (mrn) body.mrn = mrn;
      await api("/api/v1/adt/admit", { method: "POST", json: body });
      return t("adt.admitted", { patient, bed, ward });
    },
  }, opener, bed);
}

// ---- transfer -------------------------------------------------------------------------------------
/** The wards this user may move a patient to (their own; an admin's: every ward the station lists). */
function targetWards() {
  const all = station ? station.wards().filter(w => !w.virtual).map(w => w.ward) : [];
  if (!me || me.role === "admin") return all;
  const mine = me.wards || [];
  return [...new Set([...all.filter(w => mine.includes(w)), ...mine.filter(w => w !== "home")])];
}

/**
 * The beds of `ward` for the bed list: its layout (or its beds in name order) with which are occupied.
 * @param {string} ward @returns {Promise<{bed: string, patient: string}[]>}
 */
async function bedsOf(ward) {
  const [layout, snap] = await Promise.all([
    api(`/api/v1/wards/${encodeURIComponent(ward)}/layout`),
    api(`/api/v1/wards/${encodeURIComponent(ward)}/beds`)]);
  const taken = new Map(snap.beds.filter((/** @type {any} */ b) => !b.drill).map((/** @type {any} */ b) => [b.bed, b.patient || ""]));
  const names = [...new Set([...layout.beds, ...taken.keys()])];
  return names.map(bed => ({ bed, patient: taken.get(bed) || "" }));
}

let lists = 0;
/** @param {BedInfo} b @param {HTMLElement} opener */
export function transferDialog(b, opener) {
  const wards = targetWards();
  const listId = `adt-beds-${++lists}`;
  const select = el("select", { name: "ward" }, ...wards.map(w => el("option", { value: w }, w)));
  select.value = wards.includes(b.ward) ? b.ward : wards[0] || "";
  const list = el("datalist", { id: listId });
  const bedField = field("bed", t("adt.toBed"), { required: "", maxlength: "64", list: listId });
  const fillBeds = async () => {
    const w = select.value;
    try {
      const beds = w ? await bedsOf(w) : [];
      if (select.value !== w) return;
      list.replaceChildren(...beds.filter(x => !(w === b.ward && x.bed === b.bed)).map(x =>
        el("option", { value: x.bed }, x.patient ? t("adt.bedTaken", { bed: x.bed }) : t("adt.bedFree", { bed: x.bed }))));
    } catch { list.replaceChildren(); }  // the bed can still be typed; the server decides
  };
  select.addEventListener("change", fillBeds);
  fillBeds();
  return openDialog({
    title: t("adt.transferTitle", { patient: b.patient, bed: b.bed, ward: b.ward }),
    submit: t("adt.transferDo", { patient: b.patient }),
    body: [
      el("p", { class: "adt-who" }, who(b.patient)),
      el("label", { class: "adt-field" }, el("span", {}, t("adt.toWard")), select),
      bedField, list,
    ],
    run: async form => {
      const ward = select.value;
      if (!ward) throw new FieldError(t("adt.needed", { field: t("adt.toWard") }));
      const bed = value(form, "bed", t("adt.toBed"), ID, t("adt.badId", { field: t("adt.toBed") }), true);
      await api("/api/v1/adt/transfer", { method: "POST", json: { patient_id: b.patient, ward, bed } });
      return t("adt.transferred", { patient: b.patient, bed, ward });
    },
  }, opener, b.bed);
}

// ---- discharge ------------------------------------------------------------------------------------
/** @param {BedInfo} b @param {HTMLElement} opener */
export function dischargeDialog(b, opener) {
  const patient = b.patient;
  return openDialog({
    title: t("adt.dischargeTitle", { bed: b.bed, ward: b.ward }),
    submit: t("adt.dischargeDo", { patient }),
    danger: true,
    body: [
      el("p", { class: "adt-who" }, t("adt.dischargeConfirm", { who: who(patient), bed: b.bed, ward: b.ward })),
      el("p", { class: "adt-note" }, t("adt.dischargeNote")),
    ],
    run: async () => {
      // by patient id: whoever lies in the bed by now, the patient named here is the one discharged
      await api("/api/v1/adt/discharge", { method: "POST", json: { patient_id: patient } });
      return t("adt.discharged", { patient, bed: b.bed });
    },
  }, opener, b.bed);
}

// ---- device ---------------------------------------------------------------------------------------
/** @param {BedInfo} b @param {HTMLElement} opener */
export function assignDialog(b, opener) {
  return openDialog({
    title: t("adt.assignTitle", { bed: b.bed, ward: b.ward }),
    submit: t("adt.assignDo"),
    body: [
      el("p", { class: "adt-who" }, b.device ? t("adt.deviceNow", { device: b.device }) : t("adt.noDevice")),
      field("device", t("adt.deviceId"), { required: "", maxlength: "64" }),
    ],
    run: async form => {
      const device = value(form, "device", t("adt.deviceId"), ID, t("adt.badId", { field: t("adt.deviceId") }), true);
      await api(`/api/v1/devices/${encodeURIComponent(device)}/assign`, { method: "POST", json: { ward: b.ward, bed: b.bed } });
      return t("adt.assigned", { device, bed: b.bed });
    },
  }, opener, b.bed);
}
