"""The docstring examples in alerting run as doctests."""

from __future__ import annotations

import doctest

import pytest

import alerting.compare
import alerting.news2


@pytest.mark.parametrize("module", [alerting.news2, alerting.compare])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0
