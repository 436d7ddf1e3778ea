"""Alembic environment of the state DB, run by :func:`device_profiles.state_db.ensure_schema` (and
``scripts/state_revision.py`` when writing a revision); never from an ``alembic.ini``.

The caller hands over ``config.attributes["connection"]``: a connection already inside the transaction
that holds the schema lock, so every revision runs in that one transaction and nothing here commits.
``target_metadata`` (every package's tables) is given only when autogenerating a revision: this
directory sits at the bottom of the import graph and imports no package's tables.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the state migrations run through device_profiles.state_db (no alembic.ini): "
                       "use `smartward db upgrade` or scripts/state_revision.py")
context.configure(
    connection=connection,
    target_metadata=config.attributes.get("target_metadata"),
    render_as_batch=True,  # SQLite alters a column by copying its table: autogenerate writes batch operations
    compare_type=True,
)
with context.begin_transaction():  # the caller's transaction: a no-op here
    context.run_migrations()
