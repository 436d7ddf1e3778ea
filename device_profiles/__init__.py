"""Signal catalogue, canonical payload, topics, the typed messages between processes (alarm event, NEWS2 result,
device status, drill state) and the screens' websocket frames (``ws_frames``), device profiles and decoders."""

from . import topics
from .alarm_event import (
    AlarmEvent,
    AlarmEventType,
    AlarmKind,
    AlarmState,
    ConditionCode,
    Priority,
    priority_rank,
    urgency,
)
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
from .compiler import CompiledProfile, compile_profile, compile_profile_file, model_json_schema
from .device_alarm import Decoded, DeviceAlarm, decode_device_alarm
from .device_status import DeviceStatusMessage
from .drill_state import DrillStateMessage
from .errors import PayloadError, ProfileError, SettingsError
from .mqtt_url import MqttUrl, parse_mqtt_url
from .news2_message import News2Message, News2Risk
from .profile_model import SCHEMA_VERSION, Profile
from .profile_yaml import Issue, ProfileValidationError
from .registry import ProfileRegistry, StoredText

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "MDC_NAME_SYNONYMS",
    "MDC_SYNONYMS",
    "NUMERIC_SIGNALS",
    "QUALITIES",
    "SCHEMA_VERSION",
    "SIGNALS",
    "WAVEFORM_SIGNALS",
    "AlarmEvent",
    "AlarmEventType",
    "AlarmKind",
    "AlarmState",
    "AttributedObservation",
    "Attribution",
    "CompiledProfile",
    "ConditionCode",
    "Decoded",
    "DeviceAlarm",
    "DeviceStatusMessage",
    "DrillStateMessage",
    "Issue",
    "MqttUrl",
    "News2Message",
    "News2Risk",
    "Observation",
    "PayloadError",
    "Priority",
    "Profile",
    "ProfileError",
    "ProfileRegistry",
    "ProfileValidationError",
    "Quality",
    "Sample",
    "SettingsError",
    "Signal",
    "SignalKind",
    "StoredText",
    "WaveformChunk",
    "check_id",
    "compile_profile",
    "compile_profile_file",
    "decode_attributed",
    "decode_device_alarm",
    "decode_observation",
    "decode_status",
    "decode_waveform",
    "model_json_schema",
    "now_ms",
    "parse_mqtt_url",
    "priority_rank",
    "signal",
    "topics",
    "urgency",
]
