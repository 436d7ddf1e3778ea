"""Patient identities (name, MRN) in the state DB: what is kept, what a transfer or discharge leaves,
the retention purge, the field rules, and what HL7 ADT's PID-5 / PID-3 give."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard_api.identities import RETENTION_MS, PatientIdentities, check_mrn, check_name, identities
from device_profiles.hl7 import parse_adt
from ingest import Attributions, make_engine

DAY = 86_400_000
T0 = 1_800_000_000_000


@pytest.fixture
def store(tmp_path: Path) -> tuple[PatientIdentities, Attributions]:
    engine = make_engine(f"sqlite:///{tmp_path}/state.sqlite3")
    return identities(engine), Attributions(engine)


def test_given_fields_are_kept_and_missing_ones_leave_the_stored_values(store: tuple[PatientIdentities, Attributions]) -> None:
    ids, _ = store
    ids.record("P1", None, None, T0, "cara")
    assert ids.get("P1") is None  # nothing given: no row (the patient stays pseudonymous)
    ids.record("P1", "DOE, John", None, T0, "cara")
    ids.record("P1", None, "00123", T0 + 1, "feed")
    ids.record("P2", None, "00999", T0, "feed")
    got = ids.get_many(["P1", "P2", "P3"])
    assert {p: (i.name, i.mrn, i.updated_by) for p, i in got.items()} == {
        "P1": ("DOE, John", "00123", "feed"), "P2": ("", "00999", "feed")}
    assert ids.get_many([]) == {}


def test_purge_deletes_only_identities_without_a_stay_in_the_retention_period(
        store: tuple[PatientIdentities, Attributions]) -> None:
    ids, attr = store
    attr.admit("P-old", "w1", "01", T0 - 40 * DAY)
    attr.discharge("P-old", T0 - 31 * DAY)  # discharged 31 days ago
    attr.admit("P-recent", "w1", "02", T0 - 40 * DAY)
    attr.discharge("P-recent", T0 - 29 * DAY)  # 29 days ago: still kept
    attr.admit("P-here", "w1", "03", T0 - 60 * DAY)  # admitted all along
    for p in ("P-old", "P-recent", "P-here"):
        ids.record(p, f"name of {p}", None, T0 - 40 * DAY, "cara")
    ids.record("P-new", "just written", None, T0, "cara")  # written now: kept whatever its stays

    def stayed(p: str, t: int) -> bool:
        return bool(attr.patient_stays(p, t))

    assert ids.expired(stayed, T0) == ["P-old"]
    assert ids.delete(["P-old"], T0) == 1
    assert sorted(ids.get_many(["P-old", "P-recent", "P-here", "P-new"])) == ["P-here", "P-new", "P-recent"]
    assert ids.expired(stayed, T0 + 2 * DAY) == ["P-recent"]
    ids.record("P-recent", None, "00777", T0 + 2 * DAY, "cara")  # written again meanwhile: kept
    assert ids.delete(["P-recent"], T0 + 2 * DAY) == 0 and ids.get("P-recent") is not None
    assert RETENTION_MS == 30 * DAY


@pytest.mark.parametrize("raw,kept", [("  DOE,   John ", "DOE, John"), ("张伟", "张伟"), ("O'Brien-Smith, Máire", "O'Brien-Smith, Máire")])
def test_names_in_any_script_are_trimmed(raw: str, kept: str) -> None:
    assert check_name(raw) == kept


@pytest.mark.parametrize("bad,why", [("   ", "blank"), ("x" * 201, "longer than 200"), ("DOE\x00", "control"),
                                     ("DOE\u202eJohn", "control")])
def test_bad_names_are_refused_naming_why(bad: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as info:
        check_name(bad)
    assert bad.strip() not in str(info.value) or not bad.strip()  # the message never echoes the name


@pytest.mark.parametrize("mrn,ok", [("00123", True), ("MRN-0042/7", True), ("-12", False), ("12 34", False),
                                    ("", False), ("x" * 65, False)])
def test_mrn_rule(mrn: str, ok: bool) -> None:
    if ok:
        assert check_mrn(mrn) == mrn
    else:
        with pytest.raises(ValueError, match="mrn must be"):
            check_mrn(mrn)


A01 = ("MSH|^~\\&|ADT|HOSP|SMARTWARD|HOSP|20261122101500||ADT^A01^ADT_A01|MSG0001|P|2.5\r"
       "EVN|A01|20261122101500\rPID|1||{pid3}||{pid5}\rPV1|1|I|W1^12^B07^HOSP\r")


@pytest.mark.parametrize("pid3,pid5,patient,name,mrn", [
    ("PS-1^^^SW^PI~00123^^^HOSP^MR", "DOE^JOHN^Q^JR", "PS-1", "DOE, JOHN Q JR", "00123"),
    ("PS-1^^^SW^PI", "", "PS-1", "", ""),  # a pseudonymous feed stays pseudonymous
    ("P1234^^^HOSP^MR", "DOE^JOHN", "P1234", "DOE, JOHN", "P1234"),  # the MRN sent first is also the platform id
    ("PS-1^^^SW^PI~^^^HOSP^MR~777^^^HOSP^MR", "DO\\T\\E", "PS-1", "DO&E", "777"),  # escapes read; empty MR skipped
    ("PS-1", "^Xiao Li", "PS-1", "Xiao Li", ""),
])
def test_hl7_pid5_gives_the_name_and_the_pid3_mr_identifier_the_mrn(pid3: str, pid5: str, patient: str, name: str,
                                                                    mrn: str) -> None:
    m = parse_adt(A01.format(pid3=pid3, pid5=pid5))
    assert (m.patient, m.name, m.mrn) == (patient, name, mrn)
