"""The docstring examples in alerting run as doctests."""

from __future__ import annotations

import doctest

import pytest

import alerting.cohort_metrics
import alerting.compare
import alerting.lead_window
import alerting.news2
import alerting.news2_window
import alerting.severity


@pytest.mark.parametrize("module", [alerting.news2, alerting.compare, alerting.lead_window, alerting.cohort_metrics,
                                    alerting.news2_window, alerting.severity])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
