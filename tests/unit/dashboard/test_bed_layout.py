"""The station's bed layout store and what a charge nurse may store (8-64 beds, each once, 1-16 columns)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from dashboard_api.bed_layout import BedLayout, BedLayoutIn, BedLayouts

BEDS = [f"{i:02d}" for i in range(1, 9)]


def test_layout_round_trips_replaces_and_is_forgotten(tmp_path: Path) -> None:
    store = BedLayouts(sa.create_engine(f"sqlite:///{tmp_path}/state.sqlite3"))
    assert store.get("w1") is None and store.wards() == []
    store.put(BedLayout("w1", tuple(BEDS), 4, 1000, "carl"))
    assert store.get("w1") == BedLayout("w1", tuple(BEDS), 4, 1000, "carl")
    store.put(BedLayout("w1", tuple(reversed(BEDS)), None, 2000, "ada"))  # replaced, not added
    assert store.get("w1") == BedLayout("w1", tuple(reversed(BEDS)), None, 2000, "ada")
    assert store.wards() == ["w1"]
    assert store.delete("w1") is True and store.get("w1") is None and store.delete("w1") is False


@pytest.mark.parametrize(("body", "problem"), [
    ({"beds": BEDS[:7]}, "at least 8"),
    ({"beds": [f"b{i}" for i in range(65)]}, "at most 64"),
    ({"beds": [*BEDS, "01"]}, "bed '01' is listed twice"),
    ({"beds": [*BEDS[:7], "bed 8"]}, "pattern"),
    ({"beds": BEDS, "columns": 0}, "greater than or equal to 1"),
    ({"beds": BEDS, "columns": 17}, "less than or equal to 16"),
    ({"beds": BEDS, "rows": 2}, "Extra inputs are not permitted"),
])
def test_a_bad_layout_is_refused_naming_why(body: dict[str, object], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        BedLayoutIn.model_validate(body)


def test_a_good_layout() -> None:
    assert BedLayoutIn.model_validate({"beds": BEDS, "columns": 4}).columns == 4
    assert BedLayoutIn.model_validate({"beds": [f"{i:02d}" for i in range(1, 65)]}).columns is None
