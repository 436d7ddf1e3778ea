"""Vitals stores: ``open_store(url)`` for ``influxdb://``, ``influxdb2://`` and ``sqlite:///`` URLs."""

from __future__ import annotations

from ..errors import ConfigError
from .base import (
    DOWNSAMPLE_RETENTION_MS,
    RAW_RETENTION_MS,
    Every,
    LatestValue,
    StoredAlarm,
    StoredChunk,
    VitalsRow,
    VitalsStore,
)
from .influx import InfluxStore
from .influx_url import InfluxUrl, parse_influx_url
from .sqlite import SQLiteStore, sqlite_path


def make_store(url: str) -> VitalsStore:
    """The store for ``url`` (not yet opened)."""
    if url.startswith(("influxdb://", "influxdb2://")):
        return InfluxStore(parse_influx_url(url))
    if url.startswith("sqlite:///"):
        return SQLiteStore(sqlite_path(url))
    raise ConfigError(f"store URL {url.split('?')[0]!r}: expected influxdb://host:port/db, "
                      "influxdb2://host:port/org/bucket?token=… or sqlite:///path")


async def open_store(url: str) -> VitalsStore:
    """Create and open the store for ``url`` (database, retention policies, tables are created)."""
    store = make_store(url)
    await store.open()
    return store


__all__ = [
    "DOWNSAMPLE_RETENTION_MS",
    "RAW_RETENTION_MS",
    "Every",
    "InfluxStore",
    "InfluxUrl",
    "LatestValue",
    "SQLiteStore",
    "StoredAlarm",
    "StoredChunk",
    "VitalsRow",
    "VitalsStore",
    "make_store",
    "open_store",
    "parse_influx_url",
    "sqlite_path",
]
