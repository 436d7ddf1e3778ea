"""Attribution: which ward, bed and patient a device's sample belongs to, by SAMPLE time.

Two tables (SQLAlchemy Core, on the ``--state`` URL; SQLite by default, PostgreSQL by URL):
``ingest_device_bindings`` (device -> ward/bed, validity interval, optional drill tag) and
``ingest_bed_occupancy`` (ward/bed -> patient, validity interval). Intervals are half-open
``[valid_from, valid_to)`` in ms; ``valid_to`` NULL means "still valid".

The ADT API (:meth:`Attributions.assign_device`, :meth:`~Attributions.admit`,
:meth:`~Attributions.transfer`, :meth:`~Attributions.discharge`, :meth:`~Attributions.unassign_device`)
writes the tables; after a change, publish ``{"changed": t}`` on :func:`control_topic` so every ingest
worker reloads its cache (workers also reload every 60 s). :meth:`Attributions.lookup` answers from
the in-memory cache in microseconds.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from device_profiles import Attribution, PayloadError, check_id, state_db, topics
from device_profiles.canonical import T_MIN_MS

from .errors import AttributionError, ConfigError

log = logging.getLogger(__name__)
metadata = sa.MetaData()
bindings = sa.Table(
    "ingest_device_bindings", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("device", sa.String(64), nullable=False),
    sa.Column("ward", sa.String(64), nullable=False),
    sa.Column("bed", sa.String(64), nullable=False),
    sa.Column("drill", sa.String(64), nullable=False, default=""),
    sa.Column("valid_from", sa.BigInteger, nullable=False),
    sa.Column("valid_to", sa.BigInteger, nullable=True),
    sa.UniqueConstraint("device", "valid_from", name="uq_binding_device_from"),
    sa.UniqueConstraint("ward", "bed", "valid_from", name="uq_binding_bed_from"),
)
occupancy = sa.Table(
    "ingest_bed_occupancy", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ward", sa.String(64), nullable=False),
    sa.Column("bed", sa.String(64), nullable=False),
    sa.Column("patient", sa.String(64), nullable=False),
    sa.Column("valid_from", sa.BigInteger, nullable=False),
    sa.Column("valid_to", sa.BigInteger, nullable=True),
)
sa.Index("ix_binding_device", bindings.c.device)
sa.Index("ix_occupancy_bed", occupancy.c.ward, occupancy.c.bed)
sa.Index("ix_occupancy_patient", occupancy.c.patient)
FOREVER = 2**62
UNASSIGNED = Attribution()


def control_topic(root: str) -> str:
    """``{root}/control/assignments``: publish ``{"changed": t}`` here after an ADT change."""
    return topics.control_assignments(root)


def _id(value: str, what: str) -> str:
    try:
        return check_id(value, what)
    except PayloadError as exc:
        raise AttributionError(str(exc)) from None


def _now() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class CurrentPlacements:
    """Bindings and occupancy at one moment: device -> (ward, bed), (ward, bed) -> patient, and the
    drill of each (ward, bed) a live-drill device is bound to."""

    devices: dict[str, tuple[str, str]]
    patients: dict[tuple[str, str], str]
    drill_beds: dict[tuple[str, str], str]


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a patient stayed or a device was bound: ``ward``/``bed`` over ``[start, end)`` (ms;
    ``end`` is :data:`FOREVER` while it lasts)."""

    ward: str
    bed: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Interval:
    start: int
    end: int
    value: tuple[str, ...]


def _find(intervals: list[_Interval], starts: list[int], t: int) -> tuple[str, ...] | None:
    """Intervals of one key never overlap (ADT writes close the previous one), so one bisect decides."""
    i = bisect.bisect_right(starts, t) - 1
    if i >= 0 and t < intervals[i].end:
        return intervals[i].value
    return None


def make_engine(url: str) -> sa.Engine:
    """The state DB engine (:func:`device_profiles.state_db.make_engine`); :class:`ConfigError` for a bad URL."""
    try:
        return state_db.make_engine(url)
    except state_db.StateUrlError as exc:
        raise ConfigError(str(exc)) from None


class Attributions:
    """The attribution tables plus an in-memory index; one instance per process."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        state_db.ensure_schema(engine)  # safe when several workers open a fresh file at once
        self._by_device: dict[str, tuple[list[_Interval], list[int]]] = {}
        self._by_bed: dict[tuple[str, str], tuple[list[_Interval], list[int]]] = {}
        self.loaded_at = 0.0
        # held by the ADT API over its rights check and the write it checked (one API process)
        self.write_lock = threading.Lock()
        self.reload()

    # -- reads ------------------------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read both tables (after a ``control/assignments`` message, and every minute)."""
        by_device: dict[str, list[_Interval]] = {}
        by_bed: dict[tuple[str, str], list[_Interval]] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(sa.select(bindings).order_by(bindings.c.valid_from)):
                by_device.setdefault(r.device, []).append(
                    _Interval(r.valid_from, r.valid_to if r.valid_to is not None else FOREVER, (r.ward, r.bed, r.drill)))
            for r in conn.execute(sa.select(occupancy).order_by(occupancy.c.valid_from)):
                by_bed.setdefault((r.ward, r.bed), []).append(
                    _Interval(r.valid_from, r.valid_to if r.valid_to is not None else FOREVER, (r.patient,)))
        self._by_device = {k: (v, [i.start for i in v]) for k, v in by_device.items()}
        self._by_bed = {k: (v, [i.start for i in v]) for k, v in by_bed.items()}
        self.loaded_at = time.monotonic()

    def known(self, device: str) -> bool:
        return device in self._by_device

    def lookup(self, device: str, t_ms: int) -> Attribution:
        """Ward/bed/patient of ``device`` at sample time ``t_ms`` (``Attribution()`` when unassigned)."""
        who = UNASSIGNED
        entry = self._by_device.get(device)
        if entry is not None:
            found = _find(entry[0], entry[1], t_ms)
            if found is not None:
                ward, bed, drill = found
                patient = ""
                occ = self._by_bed.get((ward, bed))
                if occ is not None:
                    p = _find(occ[0], occ[1], t_ms)
                    patient = p[0] if p is not None else ""
                who = Attribution(ward, bed, patient, drill)
        return who

    def ended_drill(self, device: str, t_ms: int) -> str:
        """The drill ``device`` belonged to, when no binding covers ``t_ms`` ('' otherwise).

        A drill's devices (``{drill id}-nn``) are never bound to anything else, so a sample such a
        device sends outside its drill (the driver still sending as the drill is stopped) is drill
        data too late for the drill, never clinical data of an unassigned device.
        """
        entry = self._by_device.get(device)
        if entry is None or _find(entry[0], entry[1], t_ms) is not None:
            return ""
        i = max(bisect.bisect_right(entry[1], t_ms) - 1, 0)  # the binding before t (or the first one)
        return entry[0][i].value[2]

    def bed_of(self, patient: str, t_ms: int | None = None) -> tuple[str, str] | None:
        t = _now() if t_ms is None else t_ms
        for (ward, bed), (ivs, _s) in self._by_bed.items():
            if any(iv.value[0] == patient and iv.start <= t < iv.end for iv in ivs):
                return ward, bed
        return None

    def ward_of_device(self, device: str, t_ms: int | None = None) -> str | None:
        """The ward ``device`` is bound to at ``t_ms`` (default now), ``None`` when unbound."""
        ward = self.lookup(device, _now() if t_ms is None else t_ms).ward
        return ward or None

    def device_bindings(self, device: str, since_ms: int) -> list[Placement]:
        """The bindings of ``device`` that last past ``since_ms`` (a change from then on affects them)."""
        entry = self._by_device.get(device)
        return [Placement(iv.value[0], iv.value[1], iv.start, iv.end)
                for iv in (entry[0] if entry is not None else []) if iv.end > since_ms]

    def patient_stays(self, patient: str, since_ms: int) -> list[Placement]:
        """The stays of ``patient`` that last past ``since_ms``, in time order."""
        out = [Placement(ward, bed, iv.start, iv.end) for (ward, bed), (ivs, _s) in self._by_bed.items()
               for iv in ivs if iv.value[0] == patient and iv.end > since_ms]
        return sorted(out, key=lambda p: p.start)

    def known_wards(self) -> set[str]:
        """Every ward that has had a patient or a (non-drill) device, as of the last :meth:`reload`."""
        wards = {ward for ward, _bed in self._by_bed}
        wards |= {iv.value[0] for ivs, _s in self._by_device.values() for iv in ivs if not iv.value[2]}
        return wards

    def ever_admitted(self, patient: str) -> bool:
        """``patient`` has had a stay at some time (as of the last :meth:`reload`)."""
        return any(iv.value[0] == patient for ivs, _s in self._by_bed.values() for iv in ivs)

    def current(self, t_ms: int | None = None) -> CurrentPlacements:
        """Who is where at ``t_ms`` (default now), read from the tables (another process may have
        changed them since this one's index was loaded): the repository read the dashboard's hub uses."""
        now = _now() if t_ms is None else t_ms
        with self.engine.connect() as conn:
            rows = list(conn.execute(sa.select(bindings).where(
                bindings.c.valid_from <= now, sa.or_(bindings.c.valid_to.is_(None), bindings.c.valid_to > now))))
            pats = {(r.ward, r.bed): r.patient for r in conn.execute(sa.select(occupancy).where(
                occupancy.c.valid_from <= now, sa.or_(occupancy.c.valid_to.is_(None), occupancy.c.valid_to > now)))}
        return CurrentPlacements(devices={r.device: (r.ward, r.bed) for r in rows}, patients=pats,
                                 drill_beds={(r.ward, r.bed): r.drill for r in rows if r.drill})

    # -- ADT writes -------------------------------------------------------------------------------
    def assign_device(self, device: str, ward: str, bed: str, at_ms: int | None = None, drill: str = "") -> None:
        """Bind ``device`` to ``ward``/``bed`` from ``at_ms`` on (ending its previous binding)."""
        device, ward, bed = _id(device, "device"), _id(ward, "ward"), _id(bed, "bed")
        drill = _id(drill, "drill") if drill else ""
        at = _now() if at_ms is None else at_ms
        with self.engine.begin() as conn:
            self._close(conn, bindings, bindings.c.device == device, at)
            conn.execute(bindings.insert().values(device=device, ward=ward, bed=bed, drill=drill, valid_from=at))
        self.reload()

    def unassign_device(self, device: str, at_ms: int | None = None) -> None:
        at = _now() if at_ms is None else at_ms
        with self.engine.begin() as conn:
            self._close(conn, bindings, bindings.c.device == _id(device, "device"), at)
        self.reload()

    def admit(self, patient: str, ward: str, bed: str, at_ms: int | None = None, *, new_stay: bool = False) -> None:
        """Put ``patient`` in ``ward``/``bed`` from ``at_ms``; the bed must be free.

        Without ``new_stay`` an admitted patient is moved (ending the current stay); with it, a
        patient who has a stay lasting past ``at_ms`` is refused (the ADT API: a move is a transfer).
        """
        patient, ward, bed = _id(patient, "patient"), _id(ward, "ward"), _id(bed, "bed")
        at = _now() if at_ms is None else at_ms
        with self.engine.begin() as conn:
            if new_stay:
                stay = conn.execute(sa.select(occupancy.c.ward, occupancy.c.bed).where(
                    occupancy.c.patient == patient,
                    sa.or_(occupancy.c.valid_to.is_(None), occupancy.c.valid_to > at))).first()
                if stay is not None:
                    raise AttributionError(f"patient {patient} is admitted in ward {stay.ward} (bed {stay.bed}) "
                                           f"at or after {at}: move the patient with transfer")
            busy = conn.execute(sa.select(occupancy.c.patient).where(
                occupancy.c.ward == ward, occupancy.c.bed == bed, occupancy.c.valid_from <= at,
                sa.or_(occupancy.c.valid_to.is_(None), occupancy.c.valid_to > at))).first()
            if busy is not None and busy.patient != patient:
                raise AttributionError(f"bed {ward}/{bed} is occupied by another patient at {at}")
            self._close(conn, occupancy, occupancy.c.patient == patient, at)
            conn.execute(occupancy.insert().values(ward=ward, bed=bed, patient=patient, valid_from=at))
        self.reload()

    def transfer(self, patient: str, ward: str, bed: str, at_ms: int | None = None) -> None:
        """Move an admitted patient to another bed (the old bed becomes free at ``at_ms``)."""
        if self.bed_of(_id(patient, "patient"), at_ms) is None:
            raise AttributionError(f"patient {patient} is not admitted")
        self.admit(patient, ward, bed, at_ms)

    def discharge(self, patient: str, at_ms: int | None = None) -> None:
        at = _now() if at_ms is None else at_ms
        with self.engine.begin() as conn:
            n = self._close(conn, occupancy, occupancy.c.patient == _id(patient, "patient"), at)
        if not n:
            raise AttributionError(f"patient {patient} is not admitted")
        self.reload()

    @staticmethod
    def _close(conn: sa.Connection, table: sa.Table, cond: sa.ColumnElement[bool], at: int) -> int:
        res = conn.execute(table.update().where(cond, table.c.valid_to.is_(None), table.c.valid_from <= at)
                           .values(valid_to=at))
        # an open interval starting after ``at`` would overlap the new one: end it where it starts
        conn.execute(table.update().where(cond, table.c.valid_to.is_(None), table.c.valid_from > at)
                     .values(valid_to=table.c.valid_from))
        return int(res.rowcount or 0)

    def auto_assign(self, device: str, ward: str) -> Attribution:
        """Bind an unknown ``device`` to the next bed of ``ward`` (``01``, ``02``, …) for all time."""
        ward = _id(ward, "ward")
        for _attempt in range(10):
            self.reload()
            if self.known(device):
                break
            with self.engine.connect() as conn:
                taken = {r.bed for r in conn.execute(sa.select(bindings.c.bed).where(bindings.c.ward == ward))}
            n = len(taken) + 1
            while f"{n:02d}" in taken:
                n += 1
            try:
                with self.engine.begin() as conn:
                    conn.execute(bindings.insert().values(device=_id(device, "device"), ward=ward, bed=f"{n:02d}",
                                                          drill="", valid_from=T_MIN_MS))
                log.info("auto-assigned device %s to %s/%02d", device, ward, n)
            except sa.exc.IntegrityError:
                continue  # another worker took that bed or this device: look again
        self.reload()
        return self.lookup(device, _now())
