"""The app's start freezes the start-up heap (``gc.freeze``): without it, full garbage collections over
the modules and metadata loaded at start paused the hub long enough to push the alarm publish ->
central-station frame p99 past 100 ms (``smartward bench fanout --beds 1000``)."""

from __future__ import annotations

import gc

import pytest

from dashboard_api import create_app
from smartward.settings import load_api_config

from .conftest import Running

pytestmark = pytest.mark.integration


async def test_the_app_start_freezes_what_start_up_allocated(platform_sqlite: Running) -> None:
    app = create_app(platform_sqlite.platform, load_api_config(), own_hub=True)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    async with app.router.lifespan_context(app):
        assert gc.get_freeze_count() > 10_000  # the modules, the app, its routes and models
    gc.unfreeze()
