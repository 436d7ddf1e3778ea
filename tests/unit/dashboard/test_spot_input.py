"""A nurse's spot observation must be a real number: NaN compares false with every NEWS2 band, so it
would be scored as if normal (JSON bodies may carry NaN and Infinity: Python's parser accepts them)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dashboard_api.routes.alarms import SpotIn


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_spot_values_must_be_finite(value: float) -> None:
    with pytest.raises(ValidationError, match="finite number"):
        SpotIn.model_validate({"temperature": value})
    assert SpotIn.model_validate({"temperature": 38.2}).temperature == 38.2
