"""Alarm configuration (``alarms.yaml``): limits per catalogue signal, technical rules, NEWS2,
anomaly advisories and the default escalation policy. Strict (``extra="forbid"``).

Every field has a default, so a file only states what it changes; :func:`load_config` validates a
file and :func:`preset` gives the built-in defaults for a recording format (hourly charting needs
longer staleness horizons and no alarm-condition delay, see :data:`FORMAT_PRESETS`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from device_profiles import NUMERIC_SIGNALS, SIGNALS
from device_profiles.alarm_event import Priority
from device_profiles.profile_yaml import ProfileValidationError, read_yaml

from .config_errors import describe, unknown_signals
from .errors import ConfigError

HIGH, MEDIUM, LOW = Priority.HIGH, Priority.MEDIUM, Priority.LOW
_NAMES = ("high", "medium", "low")  # what alarms.yaml may say, in the order its errors list them


def _priority_name(value: Any) -> Any:
    """Only the priorities' own strings (or members): the error a file's author has always read."""
    if not isinstance(value, str) or value not in _NAMES:
        raise PydanticCustomError("literal_error", "Input should be 'high', 'medium' or 'low'",
                                  {"expected": "'high', 'medium' or 'low'"})
    return value


# a priority in alarms.yaml: parsed into the contract's enum (device_profiles.Priority)
PriorityName = Annotated[Priority, BeforeValidator(_priority_name)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LimitRule(_Strict):
    """Physiological limits of one signal. Outside ``low``/``high`` -> ``priority``; outside the
    critical limits -> ``critical_priority``. The condition must hold ``delay_s`` before it alarms
    and clears only once the value is back inside by ``hysteresis``."""

    enabled: bool = True
    low: float | None = None
    high: float | None = None
    critical_low: float | None = None
    critical_high: float | None = None
    priority: PriorityName = MEDIUM
    critical_priority: PriorityName = HIGH
    delay_s: Annotated[float, Field(ge=0)] = 10.0
    # Persistence counted in samples: a (non-critical) condition must be seen in this many consecutive
    # samples of its signal, besides holding delay_s. Charted data (samples an hour apart, where a delay
    # in seconds cannot work) sets 2: one charted value outside a limit is confirmed by the next.
    confirm_samples: Annotated[int, Field(ge=1)] = 1
    hysteresis: Annotated[float, Field(ge=0)] = 0.0
    # Values outside this range are artefacts (e.g. a pulse of 277/min from a moving probe): they raise
    # a technical alarm and are never evaluated against the limits.
    plausible_low: float | None = None
    plausible_high: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LimitRule:
        lows = [v for v in (self.critical_low, self.low) if v is not None]
        highs = [v for v in (self.high, self.critical_high) if v is not None]
        if lows != sorted(lows) or highs != sorted(highs) or (lows and highs and max(lows) >= min(highs)):
            raise ValueError("limits must be ordered critical_low <= low < high <= critical_high")
        return self


class PatientOverride(_Strict):
    """Per-patient limit changes (only the fields given replace the ward defaults)."""

    low: float | None = None
    high: float | None = None
    critical_low: float | None = None
    critical_high: float | None = None
    enabled: bool | None = None


class TechnicalConfig(_Strict):
    delay_s: Annotated[float, Field(ge=0, description="a technical condition must persist this long")] = 10.0
    stale_alarm: bool = True
    stale_priority: PriorityName = LOW
    expire_after_s: dict[str, float] = Field(default_factory=dict, description="per signal; default: catalogue")
    quality_priority: PriorityName = LOW
    low_battery_percent: Annotated[float, Field(ge=0, le=100)] = 20
    battery_priority: PriorityName = LOW
    lead_off_priority: PriorityName = LOW
    probe_off_priority: PriorityName = LOW
    unconfirmed_zero_priority: PriorityName = MEDIUM
    offline_priority: PriorityName = MEDIUM


class News2Config(_Strict):
    enabled: bool = True
    hold_s: dict[str, float] = Field(
        default_factory=lambda: {"consciousness": 12 * 3600.0, "supplemental_o2": 12 * 3600.0,
                                 "temperature": 6 * 3600.0, "sedated": 12 * 3600.0, "ventilated": 12 * 3600.0},
        description="how long a nurse spot value counts for NEWS2",
    )
    # Incomplete sets alarm on the score the given parameters already guarantee (a floor).
    alarm_on_incomplete: bool = True
    clear_after_s: Annotated[float, Field(ge=0, description="the score must stay low this long to clear")] = 900.0
    delay_s: Annotated[float, Field(ge=0, description="a band must hold this long before it alarms")] = 60.0
    hysteresis: Annotated[int, Field(ge=0, description=(
        "an open NEWS2 alarm holds while the total stays within this many points of 5, or a parameter "
        "within this many points of 3"))] = 1
    confirm_samples: Annotated[int, Field(ge=1, description=(
        "a low-medium or medium band must be seen at this many consecutive scorings with a new observation "
        "of a scoring parameter (charted data: 2); the high band alarms on its delay alone"))] = 1
    # Streamed monitor values count as the median of their valid samples in the last window_s, once it
    # holds min_samples of them; intermittent measurements count alone (alerting.news2_window).
    window_s: Annotated[float, Field(gt=0, description="streamed values: median over this window")] = 300.0
    min_samples: Annotated[int, Field(ge=1, description="streamed values: fresh valid samples needed")] = 3
    # "C" is new confusion (3) unless the nurse says it is the patient's baseline (spot new_confusion:
    # false); unconfirmed it is "new" (RCP 2017: "considered to be 'new' until confirmed to be
    # otherwise") or, for wards that want it confirmed first, "missing" (incomplete: confirm it).
    unconfirmed_confusion: Literal["missing", "new"] = "new"
    suspend_sedated: list[str] = Field(default_factory=list, description=(
        "wards ('*': all) where NEWS2 is suspended for a patient marked ventilated or sedated"))
    scale2_spo2_shift: Annotated[float, Field(ge=0, description=(
        "on SpO2 scale 2 the SpO2 limits move down by this (target 94-98 % -> 88-92 %)"))] = 6.0


class AnomalyConfig(_Strict):
    enabled: bool = True
    detector: Literal["baseline", "sad"] = "baseline"
    signals: list[str] = Field(default_factory=lambda: ["heart_rate", "pulse_rate", "spo2", "resp_rate", "nibp_sys",
                                                        "nibp_mean", "temperature"])
    window_s: Annotated[float, Field(gt=0, description="samples are averaged over this window before scoring")] = 60.0
    warmup: Annotated[int, Field(ge=1, description="windows learnt before the detector may alert")] = 30
    threshold: Annotated[float, Field(gt=0, description="deviation (robust z) that makes a window anomalous")] = 6.0
    clear_after: Annotated[int, Field(ge=1, description="normal windows before an advisory clears")] = 3
    confirm_windows: Annotated[int, Field(ge=1, description=(
        "consecutive anomalous windows before an advisory (one outlying minute is not a change)"))] = 2


class EscalationLevel(_Strict):
    role: str
    after_s: Annotated[float, Field(ge=0, description="seconds after raising, unacknowledged, to reach this level")]


News2Band = Literal["low-medium", "medium", "high"]


class BandRoute(_Strict):
    """Where a NEWS2 alarm of one response band goes (RCP 2017): its priority, and the highest role of
    the ward's ``levels`` it is escalated to while nobody acknowledges it."""

    priority: PriorityName
    up_to: str = Field(description="the last role of `levels` this band escalates to")


def _default_bands() -> dict[News2Band, BandRoute]:
    return {"low-medium": BandRoute(priority=MEDIUM, up_to="charge_nurse"),  # urgent ward-based response
            "medium": BandRoute(priority=MEDIUM, up_to="clinician"),  # urgent clinician review
            "high": BandRoute(priority=HIGH, up_to="rapid_response")}  # emergency response


class EscalationPolicy(_Strict):
    levels: list[EscalationLevel] = Field(default_factory=lambda: [
        EscalationLevel(role="primary_nurse", after_s=0),
        EscalationLevel(role="charge_nurse", after_s=120),
        EscalationLevel(role="clinician", after_s=180),
        EscalationLevel(role="rapid_response", after_s=300),
    ], min_length=1)
    applies_to: list[PriorityName] = Field(default_factory=lambda: [HIGH, MEDIUM])
    step_up_severity: bool = True
    latching: list[PriorityName] = Field(default_factory=lambda: [HIGH])
    # NEWS2 response bands drive NEWS2 alarms: priority from the band (never stepped up), escalation
    # only up to the band's role. A role missing from ``levels`` (a ward ladder of its own with the
    # default bands) sets no ceiling; bands that differ from the defaults must name roles of ``levels``.
    news2_bands: dict[News2Band, BandRoute] = Field(default_factory=_default_bands)

    @model_validator(mode="after")
    def _increasing(self) -> EscalationPolicy:
        times = [lv.after_s for lv in self.levels]
        if times != sorted(times) or times[0] != 0:
            raise ValueError("levels must start at after_s 0 and be in increasing order")
        roles = [lv.role for lv in self.levels]
        if self.news2_bands != _default_bands():
            for band, route in self.news2_bands.items():
                if route.up_to not in roles:
                    raise ValueError(f"news2_bands.{band}.up_to: {route.up_to!r} is not a role of levels "
                                     f"({', '.join(roles)})")
        return self

    def ceiling(self, band: str | None) -> int:
        """The last level index an alarm of NEWS2 ``band`` (None: any other alarm) escalates to."""
        route = self.news2_bands.get(band) if band else None  # type: ignore[call-overload]
        roles = [lv.role for lv in self.levels]
        return roles.index(route.up_to) if route is not None and route.up_to in roles else len(roles) - 1


def _default_limits() -> dict[str, LimitRule]:
    L = LimitRule
    return {
        "heart_rate": L(low=45, high=120, critical_low=35, critical_high=150, delay_s=10, hysteresis=3,
                        plausible_high=250),
        "pulse_rate": L(low=45, high=120, critical_low=35, critical_high=150, delay_s=10, hysteresis=3,
                        plausible_high=250),
        "spo2": L(low=90, critical_low=85, delay_s=15, hysteresis=2),
        "resp_rate": L(low=8, high=30, critical_low=5, critical_high=40, delay_s=30, hysteresis=2),
        # a blood pressure of 0 is no measurement (an arterial line flushed or zeroed, a cuff that measured
        # nothing), never hypotension: an artefact, as an HR above 250
        "nibp_sys": L(low=90, high=180, critical_low=70, critical_high=220, delay_s=0, hysteresis=5, plausible_low=1),
        "nibp_dia": L(high=110, critical_high=130, delay_s=0, hysteresis=5, plausible_low=1),
        "nibp_mean": L(low=60, high=130, critical_low=50, delay_s=0, hysteresis=5, plausible_low=1),
        "temperature": L(low=35.5, high=38.5, critical_low=35.0, critical_high=40.0, priority=LOW,
                         critical_priority=MEDIUM, delay_s=0, hysteresis=0.2),
        "etco2": L(low=25, high=50, critical_low=15, critical_high=60, delay_s=30, hysteresis=2),
        "perfusion_index": L(enabled=False),
    }


class AlarmConfig(_Strict):
    """The whole configuration; the top level of ``alarms.yaml``."""

    limits: dict[str, LimitRule] = Field(default_factory=_default_limits)
    patients: dict[str, dict[str, PatientOverride]] = Field(default_factory=dict)
    technical: TechnicalConfig = Field(default_factory=TechnicalConfig)
    news2: News2Config = Field(default_factory=News2Config)
    anomaly: AnomalyConfig = Field(default_factory=AnomalyConfig)
    escalation: EscalationPolicy = Field(default_factory=EscalationPolicy)
    wards: dict[str, EscalationPolicy] = Field(default_factory=dict, description="per-ward escalation policies")
    # Data of a device bound to no bed (ward "_unassigned") has nowhere to alarm: ignored unless
    # "evaluate". A device at a bed with no patient admitted is evaluated (alarms carry an empty patient).
    unassigned: Literal["ignore", "evaluate"] = "ignore"

    @model_validator(mode="after")
    def _known_signals(self) -> AlarmConfig:
        names = list(self.limits) + [s for p in self.patients.values() for s in p] + list(self.anomaly.signals) \
            + list(self.technical.expire_after_s)
        for name in names:
            if name not in NUMERIC_SIGNALS:
                raise ValueError(f"unknown signal {name!r}; known: {', '.join(sorted(NUMERIC_SIGNALS))}")
        return self

    def limit(self, signal: str) -> LimitRule | None:
        return self.limits.get(signal)

    def expire_after(self, signal: str) -> float:
        return self.technical.expire_after_s.get(signal, SIGNALS[signal].expire_after_s)

    def policy(self, ward: str) -> EscalationPolicy:
        return self.wards.get(ward, self.escalation)


_HOURLY_EXPIRE = {"heart_rate": 4 * 3600.0, "pulse_rate": 4 * 3600.0, "spo2": 4 * 3600.0, "resp_rate": 4 * 3600.0,
                  "nibp_sys": 4 * 3600.0, "nibp_dia": 4 * 3600.0, "nibp_mean": 4 * 3600.0,
                  "temperature": 8 * 3600.0, "etco2": 4 * 3600.0}
# Built-in defaults per recording format. Hourly charted ICU data: a value counts for 4 h (8 h for
# temperature), "no data" is not a technical alarm (gaps are charting, not a sensor falling off) and
# the anomaly window is one chart row. Persistence is counted in charted values, not seconds (a delay
# of seconds cannot work between values an hour apart): a value outside a (non-critical) limit, or a
# NEWS2 band below high, alarms when the next charted value confirms it (confirm_samples 2).
FORMAT_PRESETS: dict[str, dict[str, Any]] = {
    "physionet2019": {"technical": {"stale_alarm": False, "delay_s": 0, "expire_after_s": _HOURLY_EXPIRE},
                      "limits_delay_s": 0, "limits_confirm_samples": 2, "anomaly": {"window_s": 3600, "warmup": 8},
                      "news2": {"clear_after_s": 0, "delay_s": 0, "confirm_samples": 2}},
    "physionet2012": {"technical": {"stale_alarm": False, "delay_s": 0, "expire_after_s": _HOURLY_EXPIRE},
                      "limits_delay_s": 0, "limits_confirm_samples": 2, "anomaly": {"window_s": 3600, "warmup": 8},
                      "news2": {"clear_after_s": 0, "delay_s": 0, "confirm_samples": 2}},
}


def preset(fmt: str, sample_interval_s: float | None = None) -> dict[str, Any]:
    """Overrides (as a config mapping) for a recording format; per-minute numerics (WFDB) get staleness
    horizons of 2.5 sample intervals so every gap between two samples is not 'no data'."""
    if fmt in FORMAT_PRESETS:
        p = FORMAT_PRESETS[fmt]
        limits = {name: {"delay_s": p["limits_delay_s"], "confirm_samples": p["limits_confirm_samples"]}
                  for name in _default_limits()}
        return {"technical": p["technical"], "anomaly": p["anomaly"], "news2": p["news2"], "limits": limits}
    if sample_interval_s and sample_interval_s > 1:
        horizon = 2.5 * sample_interval_s
        return {"technical": {"expire_after_s": {
            s: max(horizon, SIGNALS[s].expire_after_s) for s in NUMERIC_SIGNALS}},
            "anomaly": {"window_s": max(60.0, sample_interval_s)}}
    return {}


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def build_config(*layers: dict[str, Any]) -> AlarmConfig:
    """Defaults, then each layer deep-merged on top (limits merge per field)."""
    base = AlarmConfig().model_dump()
    for layer in layers:
        base = _merge(base, layer)
    try:
        return AlarmConfig.model_validate(base)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, "config")) from None


def _describe(exc: ValidationError, source: str) -> str:
    return describe(exc, source, defaults=AlarmConfig().model_dump())


def read_config_file(path: str | Path) -> dict[str, Any]:
    """Read and check an ``alarms.yaml`` (strictly: unknown keys are errors) without applying it.
    Errors name the file, the line and the key path (:mod:`alerting.config_errors`)."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read alarm configuration: {exc.strerror or exc}") from None
    if not raw.strip():
        return {}  # an empty file changes nothing
    try:
        data, lines = read_yaml(raw, str(p))
    except ProfileValidationError as exc:
        raise ConfigError("\n".join(f"{_at(str(p), i.line)}: {i.message}" for i in exc.issues)) from None
    bad = unknown_signals(data, str(p), lines)
    if bad:
        raise ConfigError("\n".join(bad))
    defaults = AlarmConfig().model_dump()
    try:
        AlarmConfig.model_validate(_merge(defaults, data))
    except ValidationError as exc:
        raise ConfigError(describe(exc, str(p), lines, defaults)) from None
    return dict(data)


def _at(source: str, line: int | None) -> str:
    return f"{source}:{line}" if line else source


def load_config(path: str | Path | None = None, fmt: str | None = None,
                sample_interval_s: float | None = None) -> AlarmConfig:
    """Defaults <- format preset <- the file (the file always wins)."""
    layers = [preset(fmt, sample_interval_s)] if fmt else []
    if path is not None:
        layers.append(read_config_file(path))
    return build_config(*layers)
