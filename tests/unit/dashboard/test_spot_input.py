"""A nurse's spot observation must be a real number (JSON bodies may carry NaN and Infinity: Python's
parser accepts them). The request model refuses it first; the spot check behind it refused it too."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboard_api.routes.alarms import SpotIn


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_spot_values_must_be_finite(value: float) -> None:
    with pytest.raises(ValidationError, match="finite number"):
        SpotIn.model_validate({"temperature": value})
    assert SpotIn.model_validate({"temperature": 38.2}).temperature == 38.2


def test_the_station_can_confirm_new_confusion_and_mark_sedation() -> None:
    """Issue 11: a "C" scores 3 only when confirmed new, so the station's spot form must be able to say so."""
    from alerting import InputError, parse_spot

    body = SpotIn.model_validate({"consciousness": "C", "new_confusion": True, "sedated": False, "ventilated": True})
    msg = {"patient": "p1", "ward": "w1", "bed": "07", "t": 1_763_805_600_000, "by": "rn",
           **body.model_dump(exclude_none=True)}
    assert parse_spot(msg).values() == {"consciousness": "C", "new_confusion": True, "sedated": False,
                                        "ventilated": True}
    with pytest.raises(InputError, match="new_confusion goes with consciousness 'C'"):
        parse_spot({**msg, "consciousness": "A"})
