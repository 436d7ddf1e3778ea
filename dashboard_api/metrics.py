"""The dashboard's own Prometheus metrics (exposed on ``/metrics`` next to ingest's)."""

from __future__ import annotations

from prometheus_client import Gauge

SCREENS = Gauge("smartward_dashboard_websockets", "Open dashboard websockets (screens)", multiprocess_mode="livesum")
