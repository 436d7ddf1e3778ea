"""Issue 11: the patient trend and FHIR export never serve a value its device flagged invalid."""

from __future__ import annotations

from dashboard_api.routes.patients import _usable
from ingest import VitalsRow


def test_a_value_flagged_invalid_is_left_out_of_what_the_api_serves() -> None:
    row = VitalsRow(1000, "mon-1", {"spo2": 41.0, "heart_rate": 70.0}, quality={"spo2": "invalid"})
    assert _usable(row) == {"heart_rate": 70.0}
    questionable = VitalsRow(1000, "mon-1", {"spo2": 91.0}, quality={"spo2": "questionable"})
    assert _usable(questionable) == {"spo2": 91.0}
