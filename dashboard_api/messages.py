"""Plain-language messages for patients about alarms their care team received (no jargon, no
numbers they cannot act on, always saying what happens next)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

PLAIN_SIGNAL = {
    "spo2": "your oxygen level", "heart_rate": "your heart rate", "pulse_rate": "your pulse",
    "resp_rate": "your breathing rate", "temperature": "your temperature", "nibp_sys": "your blood pressure",
    "nibp_dia": "your blood pressure", "nibp_mean": "your blood pressure",
}


def plain_message(alarm: dict[str, Any]) -> dict[str, Any]:
    """One alarm row (alerting's table) as a message a patient understands."""
    kind, signal, code = alarm.get("kind"), alarm.get("signal"), str(alarm.get("code") or "")
    what = PLAIN_SIGNAL.get(str(signal), "your readings")
    if kind == "technical":
        text = "Your monitor could not read your measurements properly for a while. Please check that the " \
               "sensor is attached and the device is charged. Your care team was told."
    elif kind == "news2":
        text = "Your recent measurements together suggested you may be less well, so your care team was alerted " \
               "and will check on you."
    elif kind == "device" and "battery" in code:
        text = "Your device's battery is low. Please charge it so your care team keeps receiving your readings."
    else:
        direction = "lower" if "low" in code else "higher" if "high" in code else "different"
        text = f"Your care team was alerted because {what} was {direction} than expected. " \
               "A nurse will look at it and contact you if anything needs to change."
    if alarm.get("acknowledged_by") or alarm.get("state") in ("acknowledged", "cleared"):
        follow = "A member of your care team has seen this."
    else:
        follow = "Your care team has been notified."
    t = int(alarm.get("raised_t") or 0)
    return {"t": t, "time": datetime.fromtimestamp(t / 1000, UTC).isoformat(timespec="minutes"),
            "text": text, "status": follow, "urgent": alarm.get("priority") == "high"}
