"""Plain-language messages for patients about alarms their care team received (no jargon, no
numbers they cannot act on, always saying what happens next and whom to call).

Each message carries a stable ``key`` and ``params`` that the portal renders in the reader's language
from the one set of catalogues (``static/i18n/<lang>.json``, key ``msg.<key>``); ``text`` and
``status`` are the English rendering, kept for API clients without the catalogues. ``action`` says
what happens next: ``"call_now"`` (the patient should phone the ward's number now) or
``"nurse_will_call"`` (the care team acts; the number is for when the patient feels worse).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

DEFAULT_CALL_NUMBER = "112"

PLAIN_SIGNAL = {
    "spo2": "your oxygen level", "heart_rate": "your heart rate", "pulse_rate": "your pulse",
    "resp_rate": "your breathing rate", "temperature": "your temperature", "nibp_sys": "your blood pressure",
    "nibp_dia": "your blood pressure", "nibp_mean": "your blood pressure",
}
SIGNAL_KEY = {"nibp_dia": "nibp_sys", "nibp_mean": "nibp_sys"}

ENGLISH = {
    "technical": "Your monitor could not read your measurements properly for a while. Please check that the "
                 "sensor is attached and the device is charged. Your care team was told.",
    "news2": "Your recent measurements together suggested you may be less well, so your care team was alerted "
             "and will check on you.",
    "battery": "Your device's battery is low. Please charge it so your care team keeps receiving your readings.",
    "limit": "Your care team was alerted because {what} was {direction} than expected. "
             "A nurse will look at it and contact you if anything needs to change.",
    "seen": "A member of your care team has seen this.",
    "notified": "Your care team has been notified.",
    "call_now": "Call {number} now if you feel unwell, short of breath or have chest pain.",
    "nurse_will_call": "Your nurse will call you. If you feel worse before then, call {number}.",
}


def plain_message(alarm: dict[str, Any], call_number: str = DEFAULT_CALL_NUMBER) -> dict[str, Any]:
    """One alarm row (alerting's table) as a message a patient understands; ``call_number`` is the
    number set for the patient's ward."""
    kind, signal, code = alarm.get("kind"), alarm.get("signal"), str(alarm.get("code") or "")
    params: dict[str, str] = {"number": call_number}
    if kind == "technical":
        key = "technical"
    elif kind == "news2":
        key = "news2"
    elif kind == "device" and "battery" in code:
        key = "battery"
    else:
        key = "limit"
        params["signal"] = SIGNAL_KEY.get(str(signal), str(signal)) if str(signal) in PLAIN_SIGNAL else "other"
        params["direction"] = "lower" if "low" in code else "higher" if "high" in code else "different"
    seen = bool(alarm.get("acknowledged_by")) or alarm.get("state") in ("acknowledged", "cleared")
    status = "seen" if seen else "notified"
    urgent = alarm.get("priority") == "high" and not seen and key in ("limit", "news2")
    action = "call_now" if urgent else "nurse_will_call"
    text = ENGLISH[key].format(what=PLAIN_SIGNAL.get(str(signal), "your readings"),
                               direction=params.get("direction", ""))
    t = int(alarm.get("raised_t") or 0)
    return {"t": t, "time": datetime.fromtimestamp(t / 1000, UTC).isoformat(timespec="minutes"),
            "key": key, "params": params, "status_key": status, "action": action, "call_number": call_number,
            "text": text, "status": ENGLISH[status], "what_next": ENGLISH[action].format(number=call_number),
            "urgent": urgent}
