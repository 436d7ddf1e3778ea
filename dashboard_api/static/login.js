// @ts-check
// The login overlay, the same on every page: built here (no copy of the form in any HTML file).
import { el } from "./common.js";
import { loadCatalogue } from "./catalogue.js";
import * as I18n from "./i18n.js";
import { login, scheduleRefresh, token, user } from "./session.js";

/** @typedef {import("./session.js").User} User */

/**
 * The overlay's markup: a form whose inputs are named `username` and `password`, each inside its label.
 * @param {string} title the page's name, shown under the brand
 */
function loginBox(title) {
  /** @param {string} key @param {string} english */
  const tr = (key, english) => (I18n.has(key) ? I18n.t(key) : english);
  const username = el("input", { name: "username", autocomplete: "username", required: "" });
  const password = el("input", { name: "password", type: "password", autocomplete: "current-password", required: "" });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { class: "login-box", autocomplete: "on" },
    el("div", { class: "brand big" }, el("span", { class: "logo" }, "◉"), " SmartWard"),
    el("h1", {}, title),
    el("label", {}, tr("login.username", "Username") + " ", username),
    el("label", {}, tr("login.password", "Password") + " ", password),
    el("button", { type: "submit" }, tr("login.submit", "Log in")),
    error);
  const box = el("div", { id: "login", class: "login" }, form);
  box.hidden = true;
  return { box, form, username, password, error };
}

/**
 * Log in (or keep the session of this tab), then fetch the server's catalogue once: resolves with the
 * user. `allowed` refuses an account that cannot use this page (it stays on the form).
 * @param {string} title
 * @param {(u: User) => boolean} [allowed]
 * @returns {Promise<User>}
 */
export async function loginFlow(title, allowed) {
  // the page's language (i18n.js): a page that did not load its catalogue yet gets it here; English if it fails
  if (!I18n.loaded()) await I18n.ready().catch(() => "en");
  const { box, form, username, password, error } = loginBox(title);
  document.body.prepend(box);
  const me = await new Promise(resolve => {
    const u = user();
    if (u && token() && (!allowed || allowed(u))) { scheduleRefresh(); return resolve(u); }
    box.hidden = false;
    username.focus();
    form.addEventListener("submit", async ev => {
      ev.preventDefault();
      error.textContent = "";
      try {
        const me = await login(username.value, password.value);
        if (allowed && !allowed(me)) { error.textContent = I18n.has("login.refused") ? I18n.t("login.refused") : "This account cannot use this screen."; return; }
        box.hidden = true;
        resolve(me);
      } catch (e) { error.textContent = e instanceof Error ? e.message : String(e); }
    });
  });
  await loadCatalogue();
  return me;
}
