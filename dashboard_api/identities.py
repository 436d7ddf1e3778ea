"""Who a pseudonymous patient id is: name and medical record number (MRN), where the hospital gives
them (table ``dashboard_patient_identities`` in the state DB).

A patient id on the platform is a pseudonym; everything that leaves the state DB (InfluxDB tags, MQTT
payloads, websocket frames, metrics, logs, audit details) carries only that. Name and MRN are given at
admission (``POST /adt/admit``, HL7 A01 PID-5 / PID-3 typed ``MR``) or with a transfer that carries
them, and kept here only: a transfer without them keeps them, a discharge keeps them (a patient
re-admitted under the same id shows them again).

Retention: a row is deleted once its patient has had no stay for :data:`RETENTION_MS` (30 days after
discharge) and it was not written for as long, at the next ADT change (:meth:`PatientIdentities.expired`,
audited with the ids, then :meth:`PatientIdentities.delete`). The hospital's record
system stays the record of identity; SmartWard keeps a copy only to show it at the bedside.

Who reads them is the routes' business (``GET /wards/{ward}/identities``: clinical users of the ward;
the portal summary: the patient's own name). Synchronous: call through ``asyncio.to_thread``.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from pydantic import AfterValidator, Field

from device_profiles.state_db import ensure_schema

MAX_NAME = 200
RETENTION_MS = 30 * 24 * 3600 * 1000  # after the last stay ended
MRN_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,63}$"
_MRN = re.compile(MRN_PATTERN)

metadata = sa.MetaData()
identities_table = sa.Table(
    "dashboard_patient_identities", metadata,
    sa.Column("patient", sa.String(64), primary_key=True),  # the pseudonymous id
    sa.Column("name", sa.String(MAX_NAME), nullable=False, default=""),
    sa.Column("mrn", sa.String(64), nullable=False, default=""),
    sa.Column("updated_t", sa.BigInteger, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)


def check_name(value: str) -> str:
    """A patient's name as people write it (any script), trimmed; no control characters, 1-200 long."""
    name = " ".join(value.split())
    if not name:
        raise ValueError("name is blank: leave it out to keep the patient pseudonymous")
    if len(name) > MAX_NAME:
        raise ValueError(f"name is longer than {MAX_NAME} characters")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in name):
        raise ValueError("name contains control or unassigned characters")
    return name


def check_mrn(value: str) -> str:
    """A medical record number: letters, digits and ``_ . / -``, starting with a letter or digit, 1-64 long."""
    mrn = value.strip()
    if not _MRN.match(mrn):
        raise ValueError("mrn must be 1-64 letters, digits or _ . / - (starting with a letter or digit)")
    return mrn


# pydantic field types for the routes' bodies (a blank name or a bad MRN is a 422 naming the field)
PatientName = Annotated[str, Field(max_length=4 * MAX_NAME, description="patient's name (optional; kept "
                                                                       "in the state DB only)"),
                        AfterValidator(check_name)]
Mrn = Annotated[str, Field(max_length=128, description="medical record number (optional)"), AfterValidator(check_mrn)]


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    patient: str
    name: str  # "" when not given
    mrn: str  # "" when not given
    updated_t: int
    updated_by: str


def _row(r: sa.Row[tuple[str, str, str, int, str]]) -> PatientIdentity:
    return PatientIdentity(str(r.patient), str(r.name), str(r.mrn), int(r.updated_t), str(r.updated_by))


class PatientIdentities:
    """The stored identities (one row per pseudonymous patient id)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        ensure_schema(engine)

    def get(self, patient: str) -> PatientIdentity | None:
        return self.get_many([patient]).get(patient)

    def get_many(self, patients: Collection[str]) -> dict[str, PatientIdentity]:
        if not patients:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(identities_table).where(identities_table.c.patient.in_(sorted(patients))))
            return {str(r.patient): _row(r) for r in rows}

    def record(self, patient: str, name: str | None, mrn: str | None, t: int, by: str) -> None:
        """Store what is given (``None`` keeps the stored value; nothing given and nothing stored: no row)."""
        if name is None and mrn is None:
            return
        values = {k: v for k, v in (("name", name), ("mrn", mrn)) if v is not None}
        with self.engine.begin() as conn:
            done = conn.execute(identities_table.update().where(identities_table.c.patient == patient)
                                .values(updated_t=t, updated_by=by, **values))
            if not done.rowcount:
                conn.execute(identities_table.insert().values(
                    patient=patient, name=name or "", mrn=mrn or "", updated_t=t, updated_by=by))

    def expired(self, stayed_since: Callable[[str, int], bool], now: int) -> list[str]:
        """The patients whose identity is past retention at ``now``: not written for :data:`RETENTION_MS`
        and no stay lasting past ``now - RETENTION_MS`` (``stayed_since(patient, t)``)."""
        cutoff = now - RETENTION_MS
        with self.engine.connect() as conn:
            old = [str(p) for p in conn.execute(sa.select(identities_table.c.patient)
                                                .where(identities_table.c.updated_t < cutoff)).scalars()]
        return [p for p in old if not stayed_since(p, cutoff)]

    def delete(self, patients: Collection[str], now: int) -> int:
        """Delete the identities of ``patients`` not written since ``now - RETENTION_MS``; how many."""
        if not patients:
            return 0
        with self.engine.begin() as conn:
            return int(conn.execute(identities_table.delete().where(
                identities_table.c.patient.in_(sorted(patients)),
                identities_table.c.updated_t < now - RETENTION_MS)).rowcount or 0)


_stores: weakref.WeakKeyDictionary[sa.Engine, PatientIdentities] = weakref.WeakKeyDictionary()


def identities(engine: sa.Engine) -> PatientIdentities:
    """The store of ``engine`` (one per engine: the table is created once)."""
    store = _stores.get(engine)
    if store is None:
        store = _stores[engine] = PatientIdentities(engine)
    return store
