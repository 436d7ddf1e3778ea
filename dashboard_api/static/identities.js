// @ts-check
// Who the shown ward's pseudonymous patient ids are: name and MRN where the admission gave them
// (GET /api/v1/wards/{ward}/identities: clinical users of the ward, every read audited). They are never
// in the websocket frames, which every screen of the ward shares: the station asks when a ward is
// chosen and again when a bed's patient changes (admission, transfer, discharge).
import { api } from "./session.js";
import { t } from "./i18n.js";

/** @typedef {{bed: string, patient: string, name: string, mrn: string}} Identity */

/** @type {Map<string, Identity>} */
let known = new Map();
let ward = "", asked = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
/** @type {() => void} */
let changed = () => {};
/** @type {(message: string) => void} */
let failed = () => {};

/**
 * Follow `w` (forgets the previous ward's identities at once); `onChange` after each load, `onError`
 * with the reason when the server refuses or cannot answer (the tiles keep showing the pseudonyms).
 * @param {string} w @param {() => void} onChange @param {(message: string) => void} onError
 */
export function follow(w, onChange, onError) {
  ward = w; known = new Map(); changed = onChange; failed = onError;
  clearTimeout(timer);
  load();
}

/** A bed's patient changed: ask again (once for a burst of tile frames). */
export function refresh() {
  clearTimeout(timer);
  timer = setTimeout(load, 250);
}

async function load() {
  const w = ward, n = ++asked;
  if (!w) return;
  try {
    const r = await api(`/api/v1/wards/${encodeURIComponent(w)}/identities`);
    if (n !== asked || w !== ward) return;  // overtaken by another ward or a later load
    known = new Map(r.identities.map((/** @type {Identity} */ i) => [i.patient, i]));
    changed();
  } catch (e) {
    if (n === asked && w === ward) failed(t("identity.failed", { ward: w, reason: e.message }));
  }
}

/** The patient's recorded identity, or null (pseudonymous). @param {string} patient @returns {Identity | null} */
export function of(patient) { return (patient && known.get(patient)) || null; }

/** "DOE, John · MRN 00123" for the patient, "" when none is recorded. @param {string} patient */
export function label(patient) {
  const i = of(patient);
  if (!i) return "";
  return [i.name, i.mrn ? t("identity.mrn", { mrn: i.mrn }) : ""].filter(Boolean).join(" · ");
}

/** The pseudonym with the identity beside it: "P1234 (DOE, John · MRN 00123)". @param {string} patient */
export function full(patient) {
  const l = label(patient);
  return l ? `${patient} (${l})` : patient;
}
