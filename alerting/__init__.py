"""Alerting: NEWS2, limit and technical alarms, anomaly advisories, lifecycle and escalation, replay.

The :class:`Engine` is pure and synchronous (observations in, alarm events out, time injected);
:class:`AlertingService` runs it against MQTT and the state DB; :func:`replay` runs it over recordings.
"""

from .anomaly import DETECTORS, BaselineDetector, Deviation, Protected, SadDetector, Verdict, make_detector
from .config import (
    AlarmConfig,
    AnomalyConfig,
    EscalationLevel,
    EscalationPolicy,
    LimitRule,
    News2Config,
    PatientOverride,
    TechnicalConfig,
    build_config,
    load_config,
    preset,
)
from .engine import Engine
from .errors import AlertingError, ConfigError, InputError, StateError
from .events import Alarm, AlarmEvent
from .lifecycle import Lifecycle
from .naive import naive_events
from .news2 import News2Input, News2Result, Risk, round_half_up
from .news2 import score as score_news2
from .news2_input import parse_news2_input
from .outcomes import Outcomes, read_outcomes
from .recordings import FORMATS, Record, Recording, read_recording
from .replay import Replayer, ReplaySummary, replay
from .service import AlertingService, command_topic, control_alarms, create_service, news2_topic, spot_topic
from .spot import AlarmCommand, SpotObservation, parse_command, parse_spot
from .store import AlarmStore

__all__ = [
    "DETECTORS",
    "FORMATS",
    "Alarm",
    "AlarmCommand",
    "AlarmConfig",
    "AlarmEvent",
    "AlarmStore",
    "AlertingError",
    "AlertingService",
    "AnomalyConfig",
    "BaselineDetector",
    "ConfigError",
    "Deviation",
    "Engine",
    "EscalationLevel",
    "EscalationPolicy",
    "InputError",
    "Lifecycle",
    "LimitRule",
    "News2Config",
    "News2Input",
    "News2Result",
    "Outcomes",
    "PatientOverride",
    "Protected",
    "Record",
    "Recording",
    "ReplaySummary",
    "Replayer",
    "Risk",
    "SadDetector",
    "SpotObservation",
    "StateError",
    "TechnicalConfig",
    "Verdict",
    "build_config",
    "command_topic",
    "control_alarms",
    "create_service",
    "load_config",
    "make_detector",
    "naive_events",
    "news2_topic",
    "parse_command",
    "parse_news2_input",
    "parse_spot",
    "preset",
    "read_outcomes",
    "read_recording",
    "replay",
    "round_half_up",
    "score_news2",
    "spot_topic",
]
