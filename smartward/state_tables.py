"""Every package's tables in the state DB, in one list: what the migrations' head must equal.

Each package owns and queries its own tables (``ingest/attribution.py``, ``alerting/store.py``,
``dashboard_api/…``, ``device_profiles/profile_store.py``); the schema itself is made only by the
revisions in ``device_profiles/state_migrations/``. ``tests/contract/test_state_migrations.py`` compares
the two (and fails for a module with its own ``sa.MetaData()`` that is missing here), and
``scripts/state_revision.py`` autogenerates a new revision from the difference. A table's module is
imported only when asked for, so importing this module stays cheap.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa

# the modules that declare state-DB tables (each has a module-level ``metadata``)
OWNERS = (
    "device_profiles.profile_store",
    "ingest.attribution",
    "alerting.store",
    "dashboard_api.users",
    "dashboard_api.sessions",
    "dashboard_api.drills",
    "dashboard_api.identities",
    "dashboard_api.bed_layout",
    "dashboard_api.audit",
)


def metadata() -> sa.MetaData:
    """One MetaData holding a copy of every owner's tables (with their indexes and constraints)."""
    union = sa.MetaData()
    for module in OWNERS:
        owned: sa.MetaData = importlib.import_module(module).metadata
        for table in owned.tables.values():
            if table.name in union.tables:
                raise ValueError(f"table {table.name} is declared twice (again in {module})")
            table.to_metadata(union)
    return union
