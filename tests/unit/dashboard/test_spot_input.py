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
