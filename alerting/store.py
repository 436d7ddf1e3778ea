"""Alerting's tables in the relational state DB (SQLAlchemy Core; SQLite default, PostgreSQL by URL).

* ``alerting_alarms``: every alarm with its lifecycle state (open alarms are restored on start);
* ``alerting_alarm_events``: every transition, with who did it (``by``) and the published payload
  (the audit trail of alarm actions; the dashboard appends these to its hash-chained audit log);
* ``alerting_limit_overrides``: per-patient limits; ``alerting_escalation_policies``: per ward;
* ``alerting_spot_observations``: nurse spot values (ACVPU, air/oxygen, manual vitals).

Synchronous: call from async code with ``asyncio.to_thread``. SQLAlchemy errors become
:class:`~alerting.errors.StateError`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import sqlalchemy as sa

from device_profiles import state_db

from .config import EscalationPolicy, PatientOverride
from .errors import StateError
from .events import Alarm, AlarmEvent
from .spot import SpotObservation

metadata = sa.MetaData()
S = sa.String
alarms = sa.Table(
    "alerting_alarms", metadata,
    sa.Column("id", S(64), primary_key=True),
    sa.Column("ward", S(64), nullable=False), sa.Column("bed", S(64), nullable=False),
    sa.Column("patient", S(64), nullable=False), sa.Column("device", S(64), nullable=False),
    sa.Column("kind", S(16), nullable=False), sa.Column("signal", S(32)), sa.Column("code", S(64), nullable=False),
    sa.Column("priority", S(8), nullable=False), sa.Column("condition_priority", S(8), nullable=False),
    sa.Column("raised_t", sa.BigInteger, nullable=False), sa.Column("reason", sa.Text, nullable=False),
    sa.Column("value", sa.Float), sa.Column("state", S(16), nullable=False, index=True),
    sa.Column("condition", sa.Boolean, nullable=False), sa.Column("updated_t", sa.BigInteger, nullable=False),
    sa.Column("acknowledged_by", S(128)), sa.Column("acknowledged_t", sa.BigInteger),
    sa.Column("silenced_until", sa.BigInteger), sa.Column("escalation_level", sa.Integer, nullable=False),
    sa.Column("escalated_t", sa.BigInteger, nullable=False), sa.Column("drill", S(64), nullable=False),
)
alarm_events = sa.Table(
    "alerting_alarm_events", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alarm_id", S(64), nullable=False, index=True),
    sa.Column("t", sa.BigInteger, nullable=False), sa.Column("event", S(16), nullable=False),
    sa.Column("state", S(16), nullable=False), sa.Column("priority", S(8), nullable=False),
    sa.Column("by", S(128)), sa.Column("reason", sa.Text, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
)
overrides = sa.Table(
    "alerting_limit_overrides", metadata,
    sa.Column("patient", S(64), primary_key=True), sa.Column("signal", S(32), primary_key=True),
    sa.Column("override", sa.Text, nullable=False), sa.Column("by", S(128), nullable=False),
    sa.Column("t", sa.BigInteger, nullable=False),
)
policies = sa.Table(
    "alerting_escalation_policies", metadata,
    sa.Column("ward", S(64), primary_key=True), sa.Column("policy", sa.Text, nullable=False),
    sa.Column("by", S(128), nullable=False), sa.Column("t", sa.BigInteger, nullable=False),
)
spots = sa.Table(
    "alerting_spot_observations", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("patient", S(64), nullable=False, index=True), sa.Column("ward", S(64), nullable=False),
    sa.Column("bed", S(64), nullable=False), sa.Column("t", sa.BigInteger, nullable=False),
    sa.Column("by", S(128), nullable=False), sa.Column("payload", sa.Text, nullable=False),
)
_ALARM_COLUMNS = [c.name for c in alarms.columns]


def make_engine(url: str) -> sa.Engine:
    """The state DB engine (:func:`device_profiles.state_db.make_engine`); :class:`StateError` for a bad URL."""
    try:
        return state_db.make_engine(url)
    except state_db.StateUrlError as exc:
        raise StateError(str(exc)) from None


class AlarmStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        with self._errors():
            metadata.create_all(engine)

    @classmethod
    def open(cls, url: str) -> AlarmStore:
        return cls(make_engine(url))

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sa.exc.SQLAlchemyError as exc:
            raise StateError(f"state DB: {exc.__class__.__name__}: {exc}") from exc

    def save(self, changed: Iterable[Alarm], events: Iterable[AlarmEvent]) -> None:
        """Upsert the alarms and append their events, in one transaction."""
        with self._errors(), self.engine.begin() as conn:
            for a in changed:
                row = {c: getattr(a, c) for c in _ALARM_COLUMNS}
                if conn.execute(alarms.update().where(alarms.c.id == a.id).values(**row)).rowcount == 0:
                    conn.execute(alarms.insert().values(**row))
            rows = [{"alarm_id": e.id, "t": e.t, "event": e.event, "state": e.state, "priority": e.priority,
                     "by": e.by, "reason": e.reason, "payload": e.encode().decode()} for e in events]
            if rows:
                conn.execute(alarm_events.insert(), rows)

    def open_alarms(self) -> list[Alarm]:
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(sa.select(alarms).where(alarms.c.state != "cleared")).mappings().all()
        return [Alarm.from_row(dict(r)) for r in rows]

    def alarm(self, alarm_id: str) -> Alarm | None:
        with self._errors(), self.engine.connect() as conn:
            r = conn.execute(sa.select(alarms).where(alarms.c.id == alarm_id)).mappings().first()
        return Alarm.from_row(dict(r)) if r else None

    def events(self, alarm_id: str | None = None, since_seq: int = 0) -> list[dict[str, Any]]:
        """Alarm events in order, each with its ``seq`` (for the dashboard's audit log)."""
        q = sa.select(alarm_events).where(alarm_events.c.seq > since_seq).order_by(alarm_events.c.seq)
        if alarm_id is not None:
            q = q.where(alarm_events.c.alarm_id == alarm_id)
        with self._errors(), self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def drill_events(self, drill: str) -> list[dict[str, Any]]:
        """The published events (payloads) of a live drill's alarms, in order (the drill report)."""
        q = (sa.select(alarm_events.c.payload).join(alarms, alarms.c.id == alarm_events.c.alarm_id)
             .where(alarms.c.drill == drill).order_by(alarm_events.c.seq))
        with self._errors(), self.engine.connect() as conn:
            return [orjson.loads(r[0]) for r in conn.execute(q)]

    # -- configuration kept in the DB --------------------------------------------------------------
    def set_override(self, patient: str, signal: str, override: PatientOverride | None, by: str, t: int) -> None:
        with self._errors(), self.engine.begin() as conn:
            conn.execute(overrides.delete().where(overrides.c.patient == patient, overrides.c.signal == signal))
            if override is not None:
                conn.execute(overrides.insert().values(patient=patient, signal=signal, by=by, t=t,
                                                       override=override.model_dump_json(exclude_none=True)))

    def overrides(self) -> dict[tuple[str, str], PatientOverride]:
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(sa.select(overrides)).mappings().all()
        return {(r["patient"], r["signal"]): PatientOverride.model_validate_json(r["override"]) for r in rows}

    def set_policy(self, ward: str, policy: EscalationPolicy, by: str, t: int) -> None:
        with self._errors(), self.engine.begin() as conn:
            conn.execute(policies.delete().where(policies.c.ward == ward))
            conn.execute(policies.insert().values(ward=ward, policy=policy.model_dump_json(), by=by, t=t))

    def policies(self) -> dict[str, EscalationPolicy]:
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(sa.select(policies)).mappings().all()
        return {r["ward"]: EscalationPolicy.model_validate_json(r["policy"]) for r in rows}

    def add_spot(self, spot: SpotObservation) -> None:
        with self._errors(), self.engine.begin() as conn:
            conn.execute(spots.insert().values(patient=spot.patient, ward=spot.ward, bed=spot.bed, t=spot.t,
                                               by=spot.by, payload=spot.model_dump_json(exclude_none=True)))

    def latest_spots(self, since_t: int) -> list[SpotObservation]:
        """Spot observations since ``since_t``, oldest first (replayed into the engine on start)."""
        with self._errors(), self.engine.connect() as conn:
            rows = conn.execute(sa.select(spots.c.payload).where(spots.c.t >= since_t).order_by(spots.c.t)).all()
        return [SpotObservation.model_validate(orjson.loads(r[0])) for r in rows]
