"""Edges of the role rules that the authorization matrix does not reach (found by a mutation run over
dashboard_api/users.py and deps.py: these one-line changes survived every test):

- a patient asking for another patient's data is refused whichever way the two ids sort;
- ``*`` (all wards) means hospital-wide access only for a physician: a nurse, charge nurse or any other
  role whose ward list holds ``*`` (a hand-edited row) gets no hospital-wide access;
- a role that is not ward-scoped (patient, facility manager, device vendor, HL7 ADT feed) sees no ward,
  even if its row names one."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from dashboard_api.deps import require_patient
from dashboard_api.users import ALL_WARDS, User


class _Wards:
    """Where each patient is admitted (the one thing require_patient asks the services)."""

    def ward_of_patient(self, patient: str) -> str | None:
        return {"p-1": "w1", "p-5": "w1", "p-9": "w2"}.get(patient)


@pytest.mark.parametrize("other", ["p-1", "p-9"])  # sorts before and after the patient's own id
def test_a_patient_reads_only_their_own_data(other: str) -> None:
    me = User("pat", "patient", patient="p-5")
    assert require_patient(_Wards(), me, "p-5") == "w1"  # type: ignore[arg-type]
    with pytest.raises(HTTPException) as e:
        require_patient(_Wards(), me, other)  # type: ignore[arg-type]
    assert e.value.status_code == 403


@pytest.mark.parametrize("role", ["nurse", "charge_nurse", "facility_manager", "device_vendor", "patient", "adt_feed"])
def test_all_wards_is_a_physicians_grant_only(role: str) -> None:
    u = User("x", role, wards=(ALL_WARDS,))
    assert not u.all_wards and not u.can_see_ward("w1")


def test_a_physician_with_all_wards_and_an_admin_see_every_ward() -> None:
    assert User("dr", "physician", wards=(ALL_WARDS,)).can_see_ward("w9")
    assert User("root", "admin").can_see_ward("w9")
    assert not User("dr", "physician", wards=("w1",)).can_see_ward("w9")


@pytest.mark.parametrize("role", ["facility_manager", "device_vendor", "patient", "adt_feed"])
def test_roles_without_ward_scope_see_no_ward_even_if_their_row_names_one(role: str) -> None:
    assert not User("x", role, wards=("w1",)).can_see_ward("w1")
