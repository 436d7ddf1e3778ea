"""alerting_alarms: the alarm's reason as a message key + parameters (issue 15).

``reason_key`` (a key of the screens' catalogues, ``''`` = none) and ``reason_params`` (its parameters as
JSON text, ``'{}'`` = none) beside the English ``reason``, so an alarm restored after a restart is written
in the reader's language before its next change, and the shift report too. Rows already there get
``''``/``'{}'``: they are read from their English text, as before. A column already there is kept (a
database stamped again by hand, or adopted by the baseline from a copy that had them).

Self-contained: explicit columns and names, never a package's Table objects (they change later).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    have = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("alerting_alarms")}
    for col in (sa.Column("reason_key", sa.String(80), nullable=False, server_default=sa.text("''")),
                sa.Column("reason_params", sa.Text, nullable=False, server_default=sa.text("'{}'"))):
        if col.name not in have:
            op.add_column("alerting_alarms", col)


def downgrade() -> None:
    with op.batch_alter_table("alerting_alarms") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("reason_params")
        batch.drop_column("reason_key")
