"""The vitals store interface every backend implements (InfluxDB v1, InfluxDB v2, SQLite).

Writes are two-step so the writer can spool: :meth:`VitalsStore.encode` turns a :class:`Batch` into
bytes (line protocol for InfluxDB), :meth:`VitalsStore.write` sends those bytes. Both are idempotent
on (device, signal, t) for vitals, (device, signal, t0) for waveform chunks and (alarm id, event, t)
for alarm events.

Read API (used by dashboard_api and alerting): :meth:`VitalsStore.query_vitals`,
:meth:`VitalsStore.latest`, :meth:`VitalsStore.query_waveform`, :meth:`VitalsStore.query_alarms`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from device_profiles import NUMERIC_SIGNALS, PayloadError, check_id
from device_profiles.canonical import RAW_RETENTION_MS as RAW_RETENTION_MS  # >= 96 h; the edge refuses older

from ..errors import ConfigError
from ..records import Batch

Every = Literal["1m"] | None
DOWNSAMPLE_RETENTION_MS = 400 * 24 * 3600 * 1000  # 1-minute min/mean/max: >= 1 year
DRILL_RETENTION_MS = 7 * 24 * 3600 * 1000  # live-drill data (kept apart from clinical data)


@dataclass(slots=True)
class VitalsRow:
    """One instant of one device (raw), or one minute of one device (``every="1m"``).

    Raw rows carry the values at ``t``. Aggregated rows carry the minute's mean in ``values`` and
    the minute's extremes in ``minimum``/``maximum``; ``t`` is the start of the minute.

    Not frozen: a 1 h trend builds 3,600 of them, and a frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field) took 2.5 times as long, about 40 % of the trend route's own
    CPU. Readers treat rows as values and never change them.
    """

    t: int
    device: str
    values: dict[str, float]
    ward: str = ""
    bed: str = ""
    patient: str = ""
    quality: dict[str, str] = field(default_factory=dict)
    minimum: dict[str, float] | None = None
    maximum: dict[str, float] | None = None


@dataclass(frozen=True, slots=True)
class LatestValue:
    """The newest stored value of one signal of one device (the age is ``now - t``)."""

    device: str
    signal: str
    t: int
    value: float
    ward: str = ""
    bed: str = ""
    patient: str = ""


@dataclass(frozen=True, slots=True)
class StoredChunk:
    device: str
    signal: str
    t0: int
    fs: float
    samples: list[float]


@dataclass(frozen=True, slots=True)
class StoredAlarm:
    id: str
    event: str
    t: int
    ward: str
    bed: str
    patient: str
    device: str
    kind: str
    signal: str
    priority: str
    state: str
    value: float | None
    reason: str


@runtime_checkable
class VitalsStore(Protocol):
    """A vitals store. ``url`` is printable (no secrets)."""

    url: str
    spools: bool  # True: writes go over a network and failed batches are spooled to disk

    async def open(self) -> None:
        """Connect and create the database / tables / retention policies (idempotent)."""

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the store answers (for /readyz)."""

    def encode(self, batch: Batch) -> bytes: ...

    async def write(self, data: bytes) -> None:
        """Store encoded data; :class:`StoreUnavailable` (retry) or :class:`StoreRejected` (never)."""

    async def query_vitals(self, *, patient: str | None = None, device: str | None = None,
                           signals: Sequence[str] | None = None, from_ms: int, to_ms: int,
                           every: Every = None, limit: int | None = None) -> list[VitalsRow]:
        """Vitals of one patient or one device in ``[from_ms, to_ms)``, ordered by (time, device).

        ``limit``: at most this many rows (the first ones), limited in the store's query itself so a
        page reads no more than it serves (``>= 1``; :class:`ConfigError` otherwise).
        """

    async def latest(self, *, ward: str | None = None, patient: str | None = None, device: str | None = None,
                     signals: Sequence[str] | None = None, since_ms: int | None = None) -> list[LatestValue]:
        """The newest value of each signal of each matching device (newer than ``since_ms``)."""

    async def query_waveform(self, *, device: str, signal: str, from_ms: int, to_ms: int) -> list[StoredChunk]: ...

    async def query_alarms(self, *, ward: str | None = None, from_ms: int, to_ms: int) -> list[StoredAlarm]: ...

    async def count(self, measurement: str, field: str | None = None) -> int:
        """Stored points of a measurement (having ``field``, when given): tests, benchmarks, diagnostics."""

    async def purge_drill(self, drill: str | None = None) -> None:
        """Delete live-drill data (kept apart from clinical data): of one drill, or all (``None``)."""


def check_signals(signals: Iterable[str] | None) -> list[str]:
    if signals is None:
        return sorted(NUMERIC_SIGNALS)
    out = list(signals)
    for s in out:
        if s not in NUMERIC_SIGNALS:
            raise ConfigError(f"signals: unknown signal {s!r}")
    return out


def check_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ConfigError(f"query_vitals: limit must be a positive integer, not {limit!r}")
    return limit


def check_selector(patient: str | None, device: str | None) -> tuple[str, str]:
    """Exactly one of patient / device, as a validated id: ``("patient"|"device", id)``."""
    if (patient is None) == (device is None):
        raise ConfigError("query_vitals: give exactly one of patient= or device=")
    key, value = ("patient", patient) if patient is not None else ("device", device)
    assert value is not None
    return key, safe_id(value, key)


def safe_id(value: str, what: str) -> str:
    """An id that may go into a query (``[A-Za-z0-9_.-]{1,64}``), else :class:`ConfigError`."""
    try:
        return check_id(value, what)
    except PayloadError as exc:
        raise ConfigError(str(exc)) from None
