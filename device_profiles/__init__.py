"""Signal catalogue, canonical payload, topics, device profiles and decoders."""

from . import topics
from .canonical import (
    MAX_PAYLOAD_BYTES,
    AttributedObservation,
    Attribution,
    Observation,
    Sample,
    WaveformChunk,
    check_id,
    decode_attributed,
    decode_observation,
    decode_status,
    decode_waveform,
    now_ms,
)
from .catalogue import (
    MDC_NAME_SYNONYMS,
    MDC_SYNONYMS,
    NUMERIC_SIGNALS,
    QUALITIES,
    SIGNALS,
    WAVEFORM_SIGNALS,
    Quality,
    Signal,
    SignalKind,
    signal,
)
from .errors import PayloadError, ProfileError
from .mqtt_url import MqttUrl, parse_mqtt_url

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MDC_NAME_SYNONYMS",
    "MDC_SYNONYMS",
    "MqttUrl",
    "NUMERIC_SIGNALS",
    "QUALITIES",
    "SIGNALS",
    "WAVEFORM_SIGNALS",
    "AttributedObservation",
    "Attribution",
    "Observation",
    "PayloadError",
    "ProfileError",
    "Quality",
    "Sample",
    "Signal",
    "SignalKind",
    "WaveformChunk",
    "check_id",
    "decode_attributed",
    "decode_observation",
    "decode_status",
    "decode_waveform",
    "now_ms",
    "parse_mqtt_url",
    "signal",
    "topics",
]
