"""ingest: MQTT consumer (persistent shared sessions, manual acks), validation, dead letters,
attribution by sample time, batching, durable writes to InfluxDB or SQLite, and the read API."""

from .attribution import Attributions, control_topic, make_engine
from .config import IngestConfig, default_client_prefix
from .deadletters import DeadLetter, DeadLetterStore
from .decoding import Decoder, RegistryDecoder
from .errors import AttributionError, ConfigError, IngestError, StoreError, StoreRejected, StoreUnavailable
from .pipeline import Pipeline, ward_topic
from .records import AlarmEvent, Batch
from .stores import LatestValue, StoredAlarm, StoredChunk, VitalsRow, VitalsStore, make_store, open_store
from .worker import IngestWorker, profiles_topic

__all__ = [
    "AlarmEvent",
    "AttributionError",
    "Attributions",
    "Batch",
    "ConfigError",
    "DeadLetter",
    "DeadLetterStore",
    "Decoder",
    "IngestConfig",
    "IngestError",
    "IngestWorker",
    "LatestValue",
    "Pipeline",
    "RegistryDecoder",
    "StoreError",
    "StoreRejected",
    "StoreUnavailable",
    "StoredAlarm",
    "StoredChunk",
    "VitalsRow",
    "VitalsStore",
    "control_topic",
    "default_client_prefix",
    "make_engine",
    "make_store",
    "open_store",
    "profiles_topic",
    "ward_topic",
]
