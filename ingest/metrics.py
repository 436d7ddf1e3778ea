"""Prometheus metrics of ingest, aggregated across worker processes.

``smartward serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` (``{data_dir}/metrics``) before any worker
starts, so every process writes its samples there and :func:`render` (the ``/metrics`` body) sums
them (prometheus_client multiprocess mode). Without that variable (one process, e.g. ``demo``) the
default registry is used. Hot-path counts are kept in plain ints and added once per batch.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
RESULTS = ("stored", "rejected", "duplicate")

MESSAGES = Counter("smartward_ingest_messages", "Device messages by outcome (stored, rejected, duplicate)", ["result"])
POINTS = Counter("smartward_ingest_points", "Points (samples, waveform chunks, alarm events) written to the store")
EMPTY_BATCHES = Counter("smartward_ingest_empty_batches",
                        "Vendor messages whose samples list was empty: status only, nothing to store")
REPUBLISHED = Counter("smartward_ingest_republished", "Attributed messages republished on ward topics")
BATCH_LINES = Histogram("smartward_ingest_batch_lines", "Points per store write",
                        buckets=(1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000))
WRITE_SECONDS = Histogram("smartward_ingest_write_seconds", "Store write latency (seconds)",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
WRITE_ERRORS = Counter("smartward_ingest_write_errors", "Failed store writes", ["kind"])
SPOOL_BATCHES = Gauge("smartward_ingest_spool_batches", "Batches waiting in the disk spool", multiprocess_mode="livesum")
SPOOL_BYTES = Gauge("smartward_ingest_spool_bytes", "Bytes waiting in the disk spool", multiprocess_mode="livesum")
UNACKED = Gauge("smartward_ingest_unacked_messages", "Messages received, not yet durable (not acked)",
                multiprocess_mode="livesum")
DEADLETTERS_DROPPED = Counter("smartward_ingest_deadletters_dropped",
                              "Dead letters deleted by policy: past the retention (expired) or over the quota", ["why"])
WORKERS = Gauge("smartward_ingest_workers_connected", "Ingest workers connected to the broker",
                multiprocess_mode="livesum")

for _r in RESULTS:
    MESSAGES.labels(result=_r)
for _k in ("unavailable", "rejected"):
    WRITE_ERRORS.labels(kind=_k)


def registry() -> CollectorRegistry:
    """The registry to expose: all processes' samples in multiprocess mode, else the default one."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)  # type: ignore[no-untyped-call]
        return reg
    return REGISTRY


def render() -> tuple[bytes, str]:
    """``(body, content_type)`` for a ``/metrics`` response."""
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def mark_dead(pid: int) -> None:
    """Drop a finished worker's live gauges (multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
