"""The signal catalogue: the vocabulary every component speaks (contract, see DESIGN.md).

Each signal has one canonical UCUM unit; values on the wire and in the stores are always in that
unit. ``low``/``high`` are *physical* limits: a value outside them cannot come from a patient and is
rejected at ingest (clinical alarm limits live in ``alerting``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SignalKind(StrEnum):
    NUMERIC = "numeric"
    WAVEFORM = "waveform"


@dataclass(frozen=True, slots=True)
class Signal:
    name: str
    meaning: str
    unit: str  # UCUM
    low: float  # physical range, inclusive
    high: float
    loinc: str | None
    mdc_code: int | None
    mdc_name: str | None
    expire_after_s: float  # default staleness horizon; profiles may override per device
    precision: int = 0  # decimals shown / used for NEWS2 rounding
    kind: SignalKind = SignalKind.NUMERIC
    display: str = ""  # short label for screens


_S = Signal
SIGNALS: dict[str, Signal] = {
    s.name: s
    for s in (
        _S("heart_rate", "heart rate (ECG)", "/min", 0, 350, "8867-4", 147842, "MDC_ECG_HEART_RATE", 30, display="HR"),
        _S("pulse_rate", "pulse rate (SpO2 / NIBP)", "/min", 0, 350, "8867-4", 149530, "MDC_PULS_OXIM_PULS_RATE", 30, display="PR"),
        _S("spo2", "peripheral O2 saturation", "%", 0, 100, "2708-6", 150456, "MDC_PULS_OXIM_SAT_O2", 30, display="SpO2"),
        _S("resp_rate", "respiratory rate", "/min", 0, 150, "9279-1", 151562, "MDC_RESP_RATE", 60, display="RR"),
        _S("nibp_sys", "systolic blood pressure (non-invasive)", "mm[Hg]", 0, 350, "8480-6", 150021, "MDC_PRESS_BLD_NONINV_SYS", 4 * 3600, display="NIBP sys"),
        _S("nibp_dia", "diastolic blood pressure (non-invasive)", "mm[Hg]", 0, 300, "8462-4", 150022, "MDC_PRESS_BLD_NONINV_DIA", 4 * 3600, display="NIBP dia"),
        _S("nibp_mean", "mean blood pressure (non-invasive)", "mm[Hg]", 0, 300, "8478-0", 150023, "MDC_PRESS_BLD_NONINV_MEAN", 4 * 3600, display="NIBP mean"),
        _S("temperature", "body temperature", "Cel", 20, 45, "8310-5", 150364, "MDC_TEMP_BODY", 4 * 3600, precision=1, display="Temp"),
        _S("perfusion_index", "pleth perfusion index", "%", 0, 100, None, 150448, "MDC_PULS_OXIM_PERF_REL", 30, precision=1, display="PI"),
        _S("etco2", "end-tidal CO2", "mm[Hg]", 0, 150, "19889-5", 151708, "MDC_AWAY_CO2_ET", 60, display="etCO2"),
        # waveforms: values are per-sample amplitudes in chunks on .../wave, never per-sample points
        _S("ecg_ii", "ECG lead II", "mV", -20, 20, "131329", 131074, "MDC_ECG_ELEC_POTL_II", 10, precision=3, kind=SignalKind.WAVEFORM, display="ECG II"),
        _S("pleth", "plethysmogram", "1", -1e6, 1e6, None, 150452, "MDC_PULS_OXIM_PLETH", 10, precision=3, kind=SignalKind.WAVEFORM, display="Pleth"),
        _S("resp_wave", "respiration waveform (impedance)", "1", -1e6, 1e6, None, 151780, "MDC_IMPED_TTHOR", 10, precision=3, kind=SignalKind.WAVEFORM, display="Resp"),
    )
}

NUMERIC_SIGNALS: frozenset[str] = frozenset(n for n, s in SIGNALS.items() if s.kind is SignalKind.NUMERIC)
WAVEFORM_SIGNALS: frozenset[str] = frozenset(n for n, s in SIGNALS.items() if s.kind is SignalKind.WAVEFORM)

# MDC code -> signal name, including synonyms seen on real monitors.
MDC_SYNONYMS: dict[int, str] = {s.mdc_code: s.name for s in SIGNALS.values() if s.mdc_code is not None}
MDC_SYNONYMS.update(
    {
        147842: "heart_rate",  # MDC_ECG_CARD_BEAT_RATE shares the code of MDC_ECG_HEART_RATE
        150456: "spo2",
        149546: "pulse_rate",  # MDC_PULS_RATE_NON_INV: the pulse rate of an NIBP cycle (IHE TF E.1.2)
        # 150324 MDC_SAT_O2_ART is arterial SaO2, deliberately NOT mapped to spo2
    }
)
MDC_NAME_SYNONYMS: dict[str, str] = {s.mdc_name: s.name for s in SIGNALS.values() if s.mdc_name}
MDC_NAME_SYNONYMS.update(
    {
        "MDC_ECG_CARD_BEAT_RATE": "heart_rate",
        "MDC_PULS_RATE": "pulse_rate",
        "MDC_PULS_RATE_NON_INV": "pulse_rate",
        "MDC_BLD_PULS_RATE_NONINV": "pulse_rate",
        "MDC_TEMP": "temperature",
        "MDC_RESP_RATE": "resp_rate",
        "MDC_CO2_RESP_RATE": "resp_rate",
        "MDC_TTHOR_RESP_RATE": "resp_rate",
    }
)


class Quality(StrEnum):
    VALID = "valid"
    QUESTIONABLE = "questionable"
    ARTIFACT = "artifact"
    INVALID = "invalid"


QUALITIES: frozenset[str] = frozenset(q.value for q in Quality)


def signal(name: str) -> Signal:
    """Return the catalogue entry for ``name`` or raise ``KeyError`` with the known names."""
    try:
        return SIGNALS[name]
    except KeyError:
        raise KeyError(f"unknown signal {name!r}; known: {', '.join(sorted(SIGNALS))}") from None


# Adult reference intervals (resting, the NEWS2 0-score bands where NEWS2 has one). Not alarm limits
# (those live in alerting): used where the data path must choose between two readings of one signal
# at one time (two HL7 OBX with the same code and time): the one farther outside is kept.
REFERENCE_RANGES: dict[str, tuple[float, float]] = {
    "heart_rate": (51, 90), "pulse_rate": (51, 90), "spo2": (96, 100), "resp_rate": (12, 20),
    "nibp_sys": (111, 219), "nibp_dia": (60, 90), "nibp_mean": (70, 105), "temperature": (36.1, 38.0),
    "etco2": (35, 45),
}


def abnormality(name: str, value: float) -> float:
    """How far ``value`` lies outside the reference interval of ``name``, in interval widths (0 inside)."""
    ref = REFERENCE_RANGES.get(name)
    if ref is None:
        return 0.0
    lo, hi = ref
    return max(lo - value, value - hi, 0.0) / (hi - lo)
