"""Baseline: the state DB as the stores' ``metadata.create_all`` made it before migrations existed.

Also adopts a database made by such a SmartWard (tables, no ``alembic_version``): a table that exists is
kept with its rows and given what older releases added by hand on start (``dashboard_users.token_version``,
``dashboard_drills.rate``/``samples``, ``dashboard_audit.key_id``) and the indexes added later (the alarm
history's); a missing table is created. A column an older SmartWard never lacked is not invented:
:class:`~device_profiles.state_db.StateSchemaError` names it.

Self-contained: explicit columns and names, never a package's Table objects (they change later).

Revision ID: 0001
Revises:
Create Date: 2026-12-10
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from device_profiles.state_db import StateSchemaError

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

S, Big, Int = sa.String, sa.BigInteger, sa.Integer


def _c(name: str, type_: Any, nullable: bool = False, **kw: Any) -> sa.Column[Any]:
    """A column, NOT NULL unless said (most of them are)."""
    return sa.Column(name, type_, nullable=nullable, **kw)


TABLES: dict[str, Callable[[], list[sa.schema.SchemaItem]]] = {
    # device_profiles/profile_store.py
    "device_profile_versions": lambda: [
        _c("profile_id", S(64), primary_key=True), _c("version", Int, primary_key=True, autoincrement=False),
        _c("text", sa.Text), _c("sha256", S(64)), _c("vendor", S(120)), _c("model", S(120)),
        _c("uploaded_by", S(128)), _c("uploaded_at", Big), _c("active", sa.Boolean),
        _c("activated_at", Big, nullable=True)],
    "device_profile_reviews": lambda: [
        _c("profile_id", S(64), primary_key=True), _c("version", Int, primary_key=True, autoincrement=False),
        _c("decision", S(16)), _c("reviewed_by", S(128)), _c("reviewed_at", Big), _c("reason", S(500))],
    # ingest/attribution.py
    "ingest_device_bindings": lambda: [
        _c("id", Int, primary_key=True, autoincrement=True), _c("device", S(64)), _c("ward", S(64)),
        _c("bed", S(64)), _c("drill", S(64)), _c("valid_from", Big), _c("valid_to", Big, nullable=True),
        sa.UniqueConstraint("device", "valid_from", name="uq_binding_device_from"),
        sa.UniqueConstraint("ward", "bed", "valid_from", name="uq_binding_bed_from")],
    "ingest_bed_occupancy": lambda: [
        _c("id", Int, primary_key=True, autoincrement=True), _c("ward", S(64)), _c("bed", S(64)),
        _c("patient", S(64)), _c("valid_from", Big), _c("valid_to", Big, nullable=True)],
    # alerting/store.py
    "alerting_alarms": lambda: [
        _c("id", S(64), primary_key=True), _c("ward", S(64)), _c("bed", S(64)), _c("patient", S(64)),
        _c("device", S(64)), _c("kind", S(16)), _c("signal", S(32), nullable=True), _c("code", S(64)),
        _c("priority", S(8)), _c("condition_priority", S(8)), _c("raised_t", Big), _c("reason", sa.Text),
        _c("value", sa.Float, nullable=True), _c("state", S(16)), _c("condition", sa.Boolean),
        _c("updated_t", Big), _c("acknowledged_by", S(128), nullable=True),
        _c("acknowledged_t", Big, nullable=True), _c("silenced_until", Big, nullable=True),
        _c("escalation_level", Int), _c("escalated_t", Big), _c("drill", S(64))],
    "alerting_alarm_events": lambda: [
        _c("seq", Int, primary_key=True, autoincrement=True), _c("alarm_id", S(64)), _c("t", Big),
        _c("event", S(16)), _c("state", S(16)), _c("priority", S(8)), _c("by", S(128), nullable=True),
        _c("reason", sa.Text), _c("payload", sa.Text)],
    "alerting_limit_overrides": lambda: [
        _c("patient", S(64), primary_key=True), _c("signal", S(32), primary_key=True), _c("override", sa.Text),
        _c("by", S(128)), _c("t", Big)],
    "alerting_escalation_policies": lambda: [
        _c("ward", S(64), primary_key=True), _c("policy", sa.Text), _c("by", S(128)), _c("t", Big)],
    "alerting_spot_observations": lambda: [
        _c("seq", Int, primary_key=True, autoincrement=True), _c("patient", S(64)), _c("ward", S(64)),
        _c("bed", S(64)), _c("t", Big), _c("by", S(128)), _c("payload", sa.Text)],
    # dashboard_api/users.py, sessions.py, drills.py, identities.py, bed_layout.py, audit.py
    "dashboard_users": lambda: [
        _c("username", S(64), primary_key=True), _c("password_hash", S(256)), _c("role", S(32)),
        _c("wards", S(1024)), _c("patient", S(64)), _c("disabled", sa.Boolean), _c("created_t", Big),
        _c("token_version", Int, server_default="0")],
    "dashboard_sessions": lambda: [
        _c("sid", S(32), primary_key=True), _c("username", S(64)), _c("started_t", Big), _c("expires_t", Big),
        _c("refresh_jti", S(32)), _c("revoked_t", Big, nullable=True), _c("revoked_reason", S(32))],
    "dashboard_drills": lambda: [
        _c("id", S(64), primary_key=True), _c("ward", S(64)), _c("beds", sa.Text), _c("speed", sa.Float),
        _c("seed", Int), _c("started", Big), _c("ends", Big), _c("stopped", Big, nullable=True),
        _c("started_by", S(64)), _c("stopped_by", S(64)), _c("rate", sa.Float, server_default="1.0"),
        _c("samples", Big, nullable=True)],
    "dashboard_patient_identities": lambda: [
        _c("patient", S(64), primary_key=True), _c("name", S(200)), _c("mrn", S(64)), _c("updated_t", Big),
        _c("updated_by", S(64))],
    "dashboard_bed_layouts": lambda: [
        _c("ward", S(64), primary_key=True), _c("beds", sa.Text), _c("columns", Int, nullable=True),
        _c("updated_t", Big), _c("updated_by", S(64))],
    "dashboard_audit": lambda: [
        _c("seq", Int, primary_key=True, autoincrement=False), _c("t", Big), _c("actor", S(64)), _c("role", S(32)),
        _c("action", S(64)), _c("resource", S(256)), _c("detail", sa.Text), _c("prev_hash", S(64)),
        _c("hash", S(64)), _c("key_id", S(16), server_default=sa.text("''"))],
    "dashboard_audit_cursors": lambda: [_c("name", S(64), primary_key=True), _c("value", Big)],
}
INDEXES: tuple[tuple[str, str, tuple[str, ...]], ...] = (  # (name, table, columns)
    ("ix_binding_device", "ingest_device_bindings", ("device",)),
    ("ix_occupancy_bed", "ingest_bed_occupancy", ("ward", "bed")),
    ("ix_occupancy_patient", "ingest_bed_occupancy", ("patient",)),
    ("ix_alerting_alarms_state", "alerting_alarms", ("state",)),
    ("ix_alerting_alarms_ward_raised", "alerting_alarms", ("ward", "raised_t")),
    ("ix_alerting_alarm_events_alarm_id", "alerting_alarm_events", ("alarm_id",)),
    ("ix_alerting_alarm_events_t", "alerting_alarm_events", ("t",)),
    ("ix_alerting_spot_observations_patient", "alerting_spot_observations", ("patient",)),
    ("ix_alerting_spots_ward_t", "alerting_spot_observations", ("ward", "t")),
    ("ix_dashboard_sessions_username", "dashboard_sessions", ("username",)),
)


def _complete(inspector: sa.Inspector, table: str, items: list[sa.schema.SchemaItem]) -> None:
    """An existing table (an older SmartWard's): add the columns it may lack; refuse any other gap."""
    have = {c["name"] for c in inspector.get_columns(table)}
    for col in (i for i in items if isinstance(i, sa.Column) and i.name not in have):
        if not col.nullable and col.server_default is None:
            raise StateSchemaError(f"state DB table {table} has no column {col.name}, which every SmartWard "
                                   "made: it is not a SmartWard state DB, or it was altered by hand")
        op.add_column(table, col)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    existing = set(inspector.get_table_names())
    for table, items in TABLES.items():
        if table in existing:
            _complete(inspector, table, items())
        else:
            op.create_table(table, *items())
    indexes = {t: {ix["name"] for ix in inspector.get_indexes(t)} for t in existing & set(TABLES)}
    for name, table, columns in INDEXES:
        if name not in indexes.get(table, set()):
            op.create_index(name, table, list(columns))


def downgrade() -> None:
    raise StateSchemaError("the baseline revision is not undone: restore the backup taken before the upgrade")
