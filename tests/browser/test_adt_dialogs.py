"""Admit, transfer, discharge and device assignment from the central station, in real headless Chromium
against the real platform (Mosquitto, ingest, the API's hub and state DB):

* a charge nurse admits a patient into an empty bed of the ward's layout through the "Admit…" dialog,
  with name and MRN; the tile shows pseudonym, name and MRN from the live feed (no reload), on the
  charge nurse's screen and on a nurse's;
* the transfer dialog lists the user's wards and the ward's beds; an occupied target is refused by the
  server and the refusal is shown in the dialog, which stays open; a free bed works;
* "Assign device…" shows the device bound now and binds a new one; "Discharge…" names the patient
  (pseudonym, name, MRN) and the bed on its confirm button; Esc closes a dialog (not the bed view) and
  focus returns to the button that opened it; the bed empties on both screens without a reload;
* a nurse sees names but no admission buttons; the patient sees their own name in the portal; every
  change is audited (ids only);
* axe-core: no serious or critical violation with each dialog open.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.async_api import Page, expect

from dashboard_api import AuditLog
from tests.integration.dashboard.conftest import Running

from .conftest import axe_violations, login, small_targets
from .scene import monitored_beds

ADT_CONTROLS = "dialog.adt-dialog button, dialog.adt-dialog input, dialog.adt-dialog select"
pytestmark = [pytest.mark.integration, pytest.mark.browser]
NAME, MRN = "Li Na 李娜", "M-777"


async def test_charge_nurse_admits_transfers_assigns_and_discharges_from_the_station(
        platform_sqlite: Running, browser: object) -> None:
    run = platform_sqlite
    run.add_user("carl", "charge_nurse", ("w1", "w2"))
    run.add_user("nina", "nurse", ("w1",))
    await monitored_beds(run, [("01", "mon-01", "P5001")], int(time.time() * 1000) - 120_000)
    async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
        r = await c.put("/api/v1/wards/w1/layout", headers=await run.login(c, "carl"),
                        json={"beds": [f"{i:02d}" for i in range(1, 9)]})
        assert r.status_code == 200, r.text

    page: Page = await login(browser, run.base, "carl")  # type: ignore[assignment]
    await expect(page.locator("#conn")).to_have_text("● live", timeout=15_000)
    await expect(page.locator("#bed-02")).to_have_class(re.compile(r"\bplaceholder\b"), timeout=10_000)
    assert await page.locator("#bed-01 .adt-admit").count() == 0  # an occupied bed offers no admission

    # ---- admit into the empty bed 02, with name and MRN --------------------------------------------
    await page.locator("#bed-02 .adt-admit").click()
    dialog = page.locator("dialog.adt-dialog[open]")
    await expect(dialog.locator("h2")).to_have_text("Admit to bed 02 · ward w1")
    await expect(dialog.locator("input[name=patient_id]")).to_be_focused()
    assert await axe_violations(page) == []
    assert await small_targets(page, ADT_CONTROLS) == []
    await dialog.locator("button[type=submit]").click()  # the patient id is required: named, nothing sent
    await expect(dialog.locator(".adt-error")).to_have_text("Patient id (pseudonym): required")
    await dialog.locator("input[name=patient_id]").fill("P-ADT1")
    await dialog.locator("input[name=name]").fill(NAME)
    await dialog.locator("input[name=mrn]").fill(MRN)
    await dialog.locator("button[type=submit]").click()
    await expect(dialog).to_have_count(0)
    await expect(page.locator("#adt-status")).to_have_text("Admitted P-ADT1 to bed 02, ward w1")
    # the live feed fills the tile (no reload): pseudonym, and name and MRN beside it
    await expect(page.locator("#bed-02 .pid")).to_have_text("P-ADT1", timeout=10_000)
    await expect(page.locator("#bed-02 .pname")).to_have_text(f"{NAME} · MRN {MRN}", timeout=10_000)
    await expect(page.locator("#bed-02")).to_be_focused()  # focus went back to the bed it was admitted to
    assert "P-ADT1" in await page.evaluate("document.querySelector('#bed-02').getAttribute('aria-label')")

    # a nurse of the ward sees the name, and no admission button anywhere
    nurse: Page = await login(browser, run.base, "nina")  # type: ignore[assignment]
    await expect(nurse.locator("#bed-02 .pname")).to_have_text(f"{NAME} · MRN {MRN}", timeout=15_000)
    await expect(nurse.locator("#bed-03")).to_have_class(re.compile(r"\bplaceholder\b"))
    assert await nurse.locator(".adt-admit").count() == 0
    await nurse.locator("#bed-02").click()
    await expect(nurse.locator("#bv-title")).to_contain_text(f"P-ADT1 ({NAME} · MRN {MRN})")
    await expect(nurse.locator("#bv-adt")).to_be_hidden()
    assert await nurse.locator("#bv-adt button").count() == 0
    await nurse.keyboard.press("Escape")
    await expect(nurse.locator("#bedview")).to_be_hidden()
    # the patient sees their own name in the portal
    run.add_user("pat", "patient", patient="P-ADT1")
    portal: Page = await login(browser, run.base, "pat", path="/portal")  # type: ignore[assignment]
    await expect(portal.locator("#who")).to_have_text(f"{NAME} · pat", timeout=15_000)
    await portal.context.close()

    # ---- transfer: an occupied bed is refused in the dialog, a free one works -----------------------
    await page.locator("#bed-02").click()
    await expect(page.locator("#bv-title")).to_contain_text(f"Bed 02 · P-ADT1 ({NAME} · MRN {MRN})")
    await page.locator("#bv-adt .adt-transfer").click()
    dialog = page.locator("dialog.adt-dialog[open]")
    await expect(dialog.locator("h2")).to_have_text("Transfer P-ADT1 from bed 02 · ward w1")
    assert await dialog.locator("select[name=ward] option").all_text_contents() == ["w1", "w2"]
    await expect(dialog.locator("datalist option[value='01']")).to_have_text("bed 01: occupied")
    await expect(dialog.locator("datalist option[value='05']")).to_have_text("bed 05: free")
    assert await axe_violations(page) == []
    assert await small_targets(page, ADT_CONTROLS) == []
    await dialog.locator("input[name=bed]").fill("01")
    await dialog.locator("button[type=submit]").click()
    await expect(dialog.locator(".adt-error")).to_have_text(  # the server's words, its time as a clock time
        re.compile(r"^Not possible: bed w1/01 is occupied by another patient at \d\d:\d\d:\d\d$"))
    await expect(dialog).to_be_visible()  # the dialog stays open to choose another bed
    await dialog.locator("input[name=bed]").fill("05")
    await dialog.locator("button[type=submit]").click()
    await expect(dialog).to_have_count(0)
    await expect(page.locator("#bed-05 .pid")).to_have_text("P-ADT1", timeout=10_000)
    await expect(page.locator("#bed-05 .pname")).to_have_text(f"{NAME} · MRN {MRN}")
    await expect(page.locator("#bed-02 .pid")).not_to_have_text("P-ADT1")
    await expect(page.locator("#bv-adt .adt-admit")).to_be_visible()  # the open bed view: bed 02 is free now
    await page.locator("#bv-close").click()

    # ---- assign a device to bed 05 ------------------------------------------------------------------
    await page.locator("#bed-05").click()
    await page.locator("#bv-adt .adt-assign").click()
    dialog = page.locator("dialog.adt-dialog[open]")
    await expect(dialog.locator(".adt-who")).to_have_text("No device is bound to this bed.")
    assert await axe_violations(page) == []
    await dialog.locator("input[name=device]").fill("mon-05")
    await dialog.locator("button[type=submit]").click()
    await expect(dialog).to_have_count(0)
    await expect(page.locator("#bed-05 .dev")).to_contain_text("mon-05", timeout=10_000)
    await page.locator("#bv-adt .adt-assign").click()
    await expect(page.locator("dialog.adt-dialog[open] .adt-who")).to_have_text("Device bound now: mon-05")
    await page.keyboard.press("Escape")  # closes the dialog, not the bed view; focus back on its button
    await expect(page.locator("dialog.adt-dialog")).to_have_count(0)
    await expect(page.locator("#bedview")).to_be_visible()
    await expect(page.locator("#bv-adt .adt-assign")).to_be_focused()

    # ---- discharge: the confirmation names the patient and the bed --------------------------------
    await page.locator("#bv-adt .adt-discharge").click()
    dialog = page.locator("dialog.adt-dialog[open]")
    await expect(dialog.locator(".adt-who")).to_have_text(
        f"Discharge patient P-ADT1 ({NAME} · MRN {MRN}) from bed 05, ward w1?")
    await expect(dialog.locator("button[type=submit]")).to_have_text("Discharge P-ADT1")
    assert await axe_violations(page) == []
    assert await small_targets(page, ADT_CONTROLS) == []
    assert await small_targets(page, "#bv-adt button") == []
    await page.keyboard.press("Escape")
    await expect(page.locator("#bv-adt .adt-discharge")).to_be_focused()
    await expect(page.locator("#bed-05 .pid")).to_have_text("P-ADT1")  # Esc discharged nobody
    await page.locator("#bv-adt .adt-discharge").click()
    await page.locator("dialog.adt-dialog[open] button[type=submit]").click()
    await expect(page.locator("dialog.adt-dialog")).to_have_count(0)
    await expect(page.locator("#adt-status")).to_have_text("Discharged P-ADT1 from bed 05")
    await expect(page.locator("#bed-05 .pid")).to_have_text("no patient", timeout=10_000)  # mon-05 stays at the bed
    await expect(page.locator("#bv-adt .adt-admit")).to_be_visible()
    await expect(nurse.locator("#bed-05 .pid")).to_have_text("no patient", timeout=10_000)  # the nurse's screen too
    assert await nurse.locator(".pname").count() == 0

    entries = [e for e in AuditLog(run.platform.attributions.engine).entries() if e["actor"] == "carl"]
    assert [(e["action"], e["resource"]) for e in entries if e["action"].startswith(("adt.", "device."))] == [
        ("adt.admit", "patient/P-ADT1"), ("adt.refused", "patient/P-ADT1"), ("adt.transfer", "patient/P-ADT1"),
        ("device.assign", "device/mon-05"), ("adt.discharge", "patient/P-ADT1")]
    assert all("Li Na" not in str(e["detail"]) and MRN not in str(e["detail"]) for e in entries)
