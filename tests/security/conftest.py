"""Security tests (issue 13): each finding of the pilot audit has a test here that fails on the code
before its fix. They run the real platform (``platform_sqlite``: in-process ingest, alerting and the
HTTP app against a real Mosquitto) or real servers started by fixtures, never mocks of them."""

from __future__ import annotations

from tests.integration.dashboard.conftest import (  # noqa: F401  (fixtures shared with the API tests)
    PASSWORD,
    Running,
    api_secret,
    obs,
    platform_sqlite,
    running_platform,
    until,
)
