"""Why an alarm is on, as a message key + parameters and as alerting's English sentence.

Every reason alerting writes is a :class:`Reason`: a key of the screens' message catalogues
(``dashboard_api/static/i18n/*.json``, keys ``reason.*`` and the terms they nest), its parameters, and its
English text rendered here from :data:`TEXTS` (the same templates as the English catalogue, checked by
``tests/contract/test_reason_keys.py``). The alarm event carries both (``reason`` and ``reason_key`` +
``reason_params``, see :mod:`device_profiles.alarm_event`), so a screen writes the reason in the reader's
language from the key, and stored events, the API and FHIR keep the English.

A parameter is a string inserted as it is (a number already formatted as alerting writes it, a device
name, a device's own text), a nested :class:`Reason`, a :class:`Term` (a word alerting writes as it is in
English that a catalogue may translate, e.g. an escalation role) or a list of those (joined by ", ").

>>> say("reason.offline", device="mon-1").text
'device mon-1 offline'
>>> then(say("reason.signalBack"), say("reason.latched", at="10:02")).to_json()["params"]["b"]
{'key': 'reason.latched', 'params': {'at': '10:02'}}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from device_profiles import SIGNALS

from .news2 import PARAMETERS, Risk


class Term:
    """A word alerting writes as it is (``text``, e.g. the role ``charge_nurse``) that a catalogue may
    translate under ``key`` (``role.charge_nurse``); English readers get ``text``."""

    __slots__ = ("key", "text")

    def __init__(self, key: str, text: str) -> None:
        self.key, self.text = key, text

    def to_json(self) -> dict[str, str]:
        return {"term": self.key, "text": self.text}


class Reason:
    """A message: ``key`` (``""``: no key, only the English ``text``, e.g. an alarm's reason stored before
    keys), ``params`` and the English ``text``. Build it with :func:`say` (:func:`restore`: as stored)."""

    __slots__ = ("_json", "key", "params", "text")

    def __init__(self, key: str, params: Mapping[str, Param], text: str) -> None:
        self.key, self.params, self.text = key, params, text
        self._json: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Reason({self.key!r}, {self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Reason) and (self.key, self.text, dict(self.params)) == (
            other.key, other.text, dict(other.params))

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict[str, Any]:
        """``{"key", "params"}`` as the alarm event carries it (only for a keyed reason). Made once: a reason
        never changes (and callers must not change what this returns)."""
        if self._json is None:
            self._json = {"key": self.key, "params": {k: _json(v) for k, v in self.params.items()}}
        return self._json

    def json_params(self) -> dict[str, Any]:
        params: dict[str, Any] = self.to_json()["params"]
        return params


Param = str | Reason | Term | list[str | Reason | Term]


def _json(v: Param) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return [_json(x) for x in v]
    return v.to_json()


def _english(v: Param) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return ", ".join(_english(x) for x in v)
    return v.text


def _keyed(v: Param) -> bool:
    if isinstance(v, Reason):
        return bool(v.key)
    if isinstance(v, list):
        return all(_keyed(x) for x in v)
    return True


def say(key: str, **params: Param) -> Reason:
    """The reason ``key`` with ``params``; its English text from :data:`TEXTS`. A reason nesting a keyless
    one is keyless too (the screens then read its English). On the engine's hot path (a limit alarm's
    text is made for every sample while it holds): one pass over the parameters."""
    template = TEXTS[key]
    if not params:
        return Reason(key, params, template)
    english: dict[str, str] = {}
    keyed = True
    for name, v in params.items():
        if type(v) is str:
            english[name] = v
        elif type(v) is Reason:
            english[name] = v.text
            keyed = keyed and bool(v.key)
        else:
            english[name] = _english(v)
            keyed = keyed and _keyed(v)
    return Reason(key if keyed else "", params, template.format_map(english))


def verbatim(text: str) -> Reason:
    """A reason known only by its English text (stored before keys, written by a test)."""
    return Reason("", {}, text)


def restore(key: str, params: Any, text: str) -> Reason:
    """A reason as the state DB keeps it (its key, its parameters as :meth:`Reason.to_json` wrote them, its
    English ``text``) as a message again: the same key and parameters, ``text`` as stored. Nested messages
    get their English from :data:`TEXTS`. Without a key, or with a key or a shape this release does not
    write (a newer release's, altered by hand), it is ``verbatim(text)``: the screens read the English.

    >>> r = restore("reason.offline", {"device": "mon-1"}, "device mon-1 offline")
    >>> (r.key, r.json_params(), r.text)
    ('reason.offline', {'device': 'mon-1'}, 'device mon-1 offline')
    >>> restore("", {}, "as it was").key
    ''
    """
    if not key or key not in TEXTS or not isinstance(params, dict):
        return verbatim(text)
    try:
        return Reason(key, {name: _param(v) for name, v in params.items()}, text)
    except (KeyError, TypeError, ValueError):
        return verbatim(text)


def _param(v: Any) -> Param:
    """One parameter from its JSON (the inverse of ``_json``); ``ValueError`` for a shape it never has."""
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        items = [_param(x) for x in v]
        if any(isinstance(x, list) for x in items):
            raise ValueError("a list inside a list")
        return items  # type: ignore[return-value]
    if isinstance(v, dict) and set(v) == {"term", "text"}:
        if not isinstance(v["term"], str) or not isinstance(v["text"], str):
            raise ValueError(f"not a term: {v!r}")
        return Term(v["term"], v["text"])
    if isinstance(v, dict) and set(v) == {"key", "params"} and isinstance(v["params"], dict):
        inner = say(v["key"], **{name: _param(x) for name, x in v["params"].items()})
        if not inner.key:
            raise ValueError("a keyless message nested in a keyed one")
        return inner
    raise ValueError(f"not a reason parameter: {v!r}")


def then(*parts: Reason) -> Reason:
    """Clauses one after the other: "a; b; c". Nested as a balanced tree, so the message nests about
    log2(n) deep: a chain nested one level per clause, and an alarm grouping eight conditions went past
    what a screen accepts (``device_profiles.alarm_event.MAX_DEPTH``)."""
    if len(parts) == 1:
        return parts[0]
    mid = len(parts) // 2
    return say("reason.then", a=then(*parts[:mid]), b=then(*parts[mid:]))


def label(signal: str) -> Reason:
    """A signal as alarm texts name it ("SpO2", "Temp")."""
    return _SIG[signal]


def term(key: str) -> Reason:
    """A reason without parameters (a word of the catalogues: "reason.param.spo2", "news2.risk.high"),
    made once."""
    r = _TERMS.get(key)
    if r is None:
        r = _TERMS[key] = say(key)
    return r


def memo(cache: dict[Any, Reason], key: Any, make: Callable[[], Reason]) -> Reason:
    """``cache[key]``, else ``make()`` kept there (a bounded memo of reasons that repeat: "SpO2 88 %",
    " for 15 s"; cleared when it grows past 4,096)."""
    r = cache.get(key)
    if r is None:
        if len(cache) >= 4096:
            cache.clear()
        r = cache[key] = make()
    return r


_TERMS: dict[str, Reason] = {}


# Marks where conditions.set writes how long the condition has held (" for 15 s"), once it raises.
HELD = Term("reason.held", "")

# English templates of every key alerting writes (= the English catalogue's, word for word).
TEXTS: dict[str, str] = {
    "reason.then": "{a}; {b}",
    "reason.with": "with {reason}",
    "reason.value": "{label} {v} {unit}",
    "reason.below": "{value} below {limit}{held}{worst}",
    "reason.above": "{value} above {limit}{held}{worst}",
    "reason.belowCritical": "{value} below critical limit {limit}{held}{worst}",
    "reason.aboveCritical": "{value} above critical limit {limit}{held}{worst}",
    "reason.held": " for {s} s",
    "reason.lowest": " (lowest {v})",
    "reason.highest": " (highest {v})",
    "reason.backAbove": "{value}{worst}: back above the {limit} limit, not yet clear of it (hysteresis){held}",
    "reason.backAboveCritical":
        "{value}{worst}: back above the critical limit {limit} limit, not yet clear of it (hysteresis){held}",
    "reason.backBelow": "{value}{worst}: back below the {limit} limit, not yet clear of it (hysteresis){held}",
    "reason.backBelowCritical":
        "{value}{worst}: back below the critical limit {limit} limit, not yet clear of it (hysteresis){held}",
    "reason.backWithin": "{value} back within limits{worst}",
    "reason.noCurrent": "no current {label} data",
    "reason.stale": "no {label} data for {s} s (sensor off or device offline)",
    "reason.quality": "{label} quality {quality}{held}",
    "reason.implausible": "{label} {v} is implausible: artefact suspected",
    "reason.what.spo2Zero": "SpO2 0 %",
    "reason.what.pulseZero": "pulse rate 0 /min",
    "reason.what.hrInvalid": "HR invalid",
    "reason.what.hrZero": "HR 0",
    "reason.probeOff": "{what}: SpO2 probe off or no pulse signal (check the probe), not a desaturation",
    "reason.probeAndLeadsOff": "{what} and ECG leads off: the patient's heart is not monitored - check the "
                               "patient, the SpO2 probe and the ECG leads",
    "reason.leadOffPulse": "{what} while the pulse rate {pr}/min is valid: ECG lead off (not asystole)",
    "reason.leadOffLeads": "{what} while the ECG leads were off: ECG lead off (not asystole)",
    "reason.unconfirmedZero": "{what} and no valid pulse to confirm it: ECG leads and SpO2 probe off or patient "
                              "deteriorating - check the patient",
    "reason.signalBack": "signal back",
    "reason.qualityValid": "quality valid again",
    "reason.plausible": "plausible again",
    "reason.dataAgain": "data again",
    "reason.conditionEnded": "condition ended",
    "reason.handedOver": "device {device} now attributed elsewhere (ADT)",
    "reason.offline": "device {device} offline",
    "reason.online": "device {device} online",
    "reason.battery": "device {device} battery {n} %",
    "reason.batteryNow": "battery {n} %",
    "reason.reports": "device {device} reports {code}",
    "reason.resolved": "{code} resolved",
    "reason.deviceSays": "device {device}: {text}",
    "reason.deviceCleared": "device {device}: {code} cleared",
    "reason.drillEnded": "drill ended",
    "reason.unusual": "unusual for this patient: {what}",
    "reason.deviationAbove": "{signal} {v} is {z} SD above this patient's baseline {baseline} ± {spread}",
    "reason.deviationBelow": "{signal} {v} is {z} SD below this patient's baseline {baseline} ± {spread}",
    "reason.multivariate": "multivariate pattern unlike this patient's baseline",
    "reason.baseline": "back to this patient's baseline",
    "reason.latched": "condition ended at {at}, latched until acknowledged",
    "reason.acknowledgedBy": "acknowledged by {by}",
    "reason.ackAfterEnd": "acknowledged after the condition ended",
    "reason.silencedBy": "silenced for {min} min by {by}",
    "reason.silenceExpired": "silence expired: {reason}",
    "reason.clearedBy": "cleared by {by}",
    "reason.escalated": "{why}: escalated to {role} ({reason})",
    "reason.escalatedBy": "escalated by {by}",
    "reason.unacknowledged": "unacknowledged for {s} s",
    "reason.joinedNews2": "now part of the NEWS2 alarm ({reason})",
    "reason.news2Total": "NEWS2 {total}",
    "reason.news2Floor": "NEWS2 at least {total} (incomplete, missing {missing})",
    "reason.news2FloorNote": "NEWS2 at least {total} (incomplete, missing {missing} (confusion not confirmed as new))",
    "reason.news2": "{head}: {risk} risk",
    "reason.news2Tail": "{main}, {tail}",
    "reason.news2Suspended": "NEWS2 suspended: {why}",
    "reason.suspendedWhy": "patient {what} (ward setting news2.suspend_sedated)",
    "reason.suspended.ventilated": "ventilated",
    "reason.suspended.sedated": "sedated",
    "reason.suspended.both": "ventilated and sedated",
    "reason.response.zero": "continue routine NEWS monitoring",
    "reason.response.low": "inform registered nurse; ward-based response",
    "reason.response.lowMedium": "urgent ward-based response",
    "reason.response.medium": "key threshold for urgent response",
    "reason.response.high": "urgent or emergency response",
    "reason.freq.12h": "minimum 12-hourly",
    "reason.freq.4to6h": "minimum 4-6-hourly",
    "reason.freq.1h": "minimum 1-hourly",
    "reason.freq.continuous": "continuous monitoring of vital signs",
    "reason.obtain": "obtain the missing observations ({missing})",
    "reason.obtainNow": "obtain the missing observations ({missing}) now",
    "reason.notLow": "obtain the missing observations ({missing}): an incomplete score is not a low score",
    "reason.holdsOne": "within {n} point of the alarm band: the alarm holds (hysteresis)",
    "reason.holdsMany": "within {n} points of the alarm band: the alarm holds (hysteresis)",
    "reason.belowBand": "below the alarm band (clears after {after} below it)",
    "reason.after.s": "{s} s",
    "reason.after.sAndObs": "{s} s and {n} observations",
    "reason.after.obs": "{n} observations",
    "reason.observations": "observations {freq}",
    # terms nested in reasons: signals as alarm texts name them, NEWS2 parameters and risk bands, qualities
    **{f"reason.sig.{name}": s.display or name for name, s in SIGNALS.items() if s.kind == "numeric"},
    **{f"reason.param.{p}": p for p in PARAMETERS},
    **{f"news2.risk.{r.value}": r.value for r in Risk},
    "quality.invalid": "invalid",
    "quality.artifact": "artifact",
    "quality.questionable": "questionable",
}
_SIG = {name: say(f"reason.sig.{name}") for name, s in SIGNALS.items() if s.kind == "numeric"}
