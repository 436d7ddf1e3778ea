"""Missing test prerequisites: a skip on a developer's machine, a failure in CI (issue 14).

CI (``CI=true``) installs everything (``scripts/bootstrap.sh --test``), so a missing server, tool or
``../shared/testdata`` there means the suite did not run what it claims: it must not end green with
skips. Fixtures call :func:`missing`; ``tests/conftest.py`` also turns any other skip into a failure
when ``CI=true`` (strict xfails are not skips and stay as they are).
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI") == "true"


def missing(what: str, hint: str = "run scripts/bootstrap.sh --test") -> NoReturn:
    """Skip (locally) or fail (in CI) because ``what`` is not there."""
    if IN_CI:
        pytest.fail(f"{what} missing in CI (CI=true): a missing prerequisite is a failure, not a skip", pytrace=False)
    pytest.skip(f"{what} missing; {hint}")
