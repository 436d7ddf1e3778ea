"""A ward's live-drill state, published retained (QoS 1) on ``{root}/drill/{ward}``.

One definition for every process it crosses: the dashboard's drills API publishes it when a drill starts
(``active`` true) and when it ends (``active`` false, with ``stopped``; ``dashboard_api.drills.Drill.state_message``);
the dashboard hub shows the DRILL banner from it (``WardState.set_drill``), alerting clears an ended drill's
alarms, and the live-drill driver (``digital_twin.live_drill``) stops when someone else ended its drill.
An empty retained payload clears the state (not a message).

On the wire the state is the boolean ``active`` (a drill is running or it is not), so there is no state enum
to add without changing the payload. :meth:`DrillStateMessage.from_json` is strict per field and tolerant of
what may be missing (an ended drill's message needs only ``drill`` and ``active``);
:class:`~device_profiles.errors.PayloadError` names the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .canonical import check_id
from .errors import PayloadError
from .payload_fields import as_object, flag, id_list, millis, optional_id, text_list


@dataclass(frozen=True, slots=True)
class DrillStateMessage:
    """The retained state of a ward's live drill."""

    drill: str  # the drill id ("drill-<8 hex>")
    active: bool  # False: the drill ended (stopped, or past its end)
    ward: str = ""
    started: int | None = None  # ms; always given while ``active``
    ends: int | None = None  # ms, the planned end; always given while ``active``
    beds: tuple[str, ...] = ()  # the drill's virtual beds ("DRILL-01", ...)
    scenarios: tuple[str, ...] | None = None  # the simulator scenarios it runs (None: not said)
    stopped: int | None = None  # when it was stopped (ms): only in the message that ends it

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"drill": self.drill, "ward": self.ward, "active": self.active, "started": self.started,
                               "ends": self.ends, "beds": list(self.beds),
                               "scenarios": None if self.scenarios is None else list(self.scenarios)}
        if self.stopped is not None:
            out["stopped"] = self.stopped
        return out

    def encode(self) -> bytes:
        return orjson.dumps(self.to_json())

    @classmethod
    def from_json(cls, msg: Any) -> DrillStateMessage:
        """Validate a drill state; :class:`PayloadError` names the field.

        Required: ``drill`` (an id) and ``active``; while ``active`` also ``started`` and ``ends``. Times are
        integer milliseconds (``ends`` lies ahead, so no clock check); ``beds`` and ``scenarios`` are lists of
        ids and names. Fields it does not know are ignored."""
        m = as_object(msg, "drill state")
        drill = check_id(m.get("drill"), "drill")  # type: ignore[arg-type]
        active = flag(m.get("active"), "active")
        times: dict[str, int | None] = {}
        for key in ("started", "ends", "stopped"):
            value = m.get(key)
            times[key] = millis(value, key) if value is not None or (active and key != "stopped") else None
        scenarios = m.get("scenarios")
        if active and times["ends"] is not None and times["started"] is not None and times["ends"] < times["started"]:
            raise PayloadError("ends", f"{times['ends']} is before started {times['started']}")
        return cls(drill=drill, active=active, ward=optional_id(m.get("ward"), "ward"), started=times["started"],
                   ends=times["ends"], beds=id_list(m.get("beds"), "beds"),
                   scenarios=None if scenarios is None else text_list(scenarios, "scenarios"), stopped=times["stopped"])
