"""Per-message work, MQTT-free (the worker and dead-letter replay share it): route by topic, decode,
validate, attribute by sample time, add to the batch, republish the attributed form.

Raises :class:`device_profiles.PayloadError` (naming the field) to reject a message whole; an
observation with a sample older than the 7-day raw retention is rejected so (the store would drop
it silently), and becomes a dead letter "older than the 7-day raw retention".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

import orjson

from device_profiles import (
    AttributedObservation,
    Attribution,
    Decoded,
    DeviceAlarm,
    DeviceStatusMessage,
    Observation,
    PayloadError,
    check_id,
    decode_device_alarm,
    decode_observation,
    decode_status,
    decode_waveform,
    topics,
)
from device_profiles.canonical import MAX_PAYLOAD_BYTES, RAW_RETENTION_MS, RETENTION_REASON

from .decoding import Decoder
from .dedup import SeqWindow
from .records import AlarmEvent, Batch
from .republish import splice

log = logging.getLogger(__name__)
Publish = Callable[[str, bytes], None]
PublishObs = Callable[[str, AttributedObservation, bytes | None], None]  # topic, observation, raw (see Republisher.obs)
STORED, DUPLICATE = "stored", "duplicate"


class Attributor(Protocol):
    def lookup(self, device: str, t_ms: int) -> Attribution: ...

    def known(self, device: str) -> bool: ...

    def ended_drill(self, device: str, t_ms: int) -> str: ...

    def auto_assign(self, device: str, ward: str) -> Attribution: ...


def ward_topic(root: str, ward: str, kind: str) -> str:
    """``{root}/wards/{ward}/{kind}`` (``_unassigned`` for devices without a bed)."""
    return topics.ward_topic(ward, kind, root)


def device_filters(root: str) -> list[str]:
    """Device topics, the live-drill devices' own tree (``{root}/drill/devices/…``) and alarm events."""
    kinds = ("obs", "wave", "status", "alarm")
    drill = topics.drill_root(root)
    return ([topics.device_filter(k, root) for k in kinds] + [topics.device_filter(k, drill) for k in kinds]
            + [topics.alarm_filter(root)])


class Pipeline:
    def __init__(self, root: str, attributions: Attributor, decoders: Sequence[Decoder] = (),
                 publish: Publish | None = None, auto_assign: str | None = None, dedup: SeqWindow | None = None,
                 publish_obs: PublishObs | None = None) -> None:
        self.root = root
        self.attributions = attributions
        self.decoders = list(decoders)
        self.publish = publish
        # attributed observations (e.g. ingest.republish.Republisher.obs); else each published as it is
        self.publish_obs: PublishObs | None = publish_obs
        if publish_obs is None and publish is not None:
            self.publish_obs = lambda topic, a, raw: publish(topic, splice(raw, a.who) if raw is not None else a.encode())
        self.auto_assign = auto_assign
        self.dedup = dedup or SeqWindow()
        self._devices = topics.device_prefix(root)
        self._drill_devices = topics.device_prefix(topics.drill_root(root))
        self._alarms = topics.alarm_prefix(root)
        self.empty_batches = 0  # vendor messages whose samples list was empty (status only); the worker reports them

    def filters(self) -> list[str]:
        """Every MQTT filter the pipeline handles (without the shared-subscription prefix)."""
        out = device_filters(self.root)
        for d in self.decoders:
            out.extend(f for f in d.topic_filters() if f not in out)
        return out

    def _who(self, device: str, t: int, drill_tree: bool = False) -> Attribution:
        who = self.attributions.lookup(device, t)
        if drill_tree and not who.drill:  # the drill driver's account may publish only there: never clinical data
            raise PayloadError("topic", f"{device} published on the live-drill tree ({self._drill_devices}) but is "
                                        f"not a device of a drill running at t={t}: kept as a dead letter, never "
                                        "stored as clinical data")
        if not who.ward:  # unassigned: the cold path
            drill = self.attributions.ended_drill(device, t)
            if drill:
                raise PayloadError("device", f"{device} is a device of drill {drill}, which was not running at "
                                             f"t={t}: kept as a dead letter, never stored as clinical data")
            if self.auto_assign and not self.attributions.known(device):
                who = self.attributions.auto_assign(device, self.auto_assign)
        return who

    def handle(self, topic: str, payload: bytes, received_ms: int, batch: Batch) -> str:
        """Process one message into ``batch``; returns ``stored`` or ``duplicate``."""
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise PayloadError("$", f"payload is {len(payload)} bytes, larger than the {MAX_PAYLOAD_BYTES} byte limit")
        drill_tree = topic.startswith(self._drill_devices)
        if drill_tree or topic.startswith(self._devices):
            prefix = self._drill_devices if drill_tree else self._devices
            device, _, kind = topic[len(prefix):].partition("/")
            if kind == "obs":
                return self._observation(decode_observation(payload, device, now=received_ms), batch, received_ms,
                                         payload, drill_tree)
            check_id(device, "topic")
            if kind == "wave":
                chunk = decode_waveform(payload, device, now=received_ms)
                batch.add_wave(chunk, self._who(device, chunk.t0, drill_tree))
                return DUPLICATE if self.dedup.seen(device, chunk.seq) else STORED
            if kind == "status":
                if payload:  # empty: a retained status cleared (a drill's virtual device gone), nothing to store
                    self._status(device, decode_status(payload), received_ms, drill_tree)
                return STORED
            if kind == "alarm":
                self._device_alarm(decode_device_alarm(payload, device, now=received_ms), drill_tree)
                return STORED
        elif topic.startswith(self._alarms):
            try:
                msg = orjson.loads(payload)
            except orjson.JSONDecodeError as exc:
                raise PayloadError("$", f"not valid JSON ({exc})") from None
            batch.add_alarm(AlarmEvent.from_json(msg, received_ms))
            return STORED
        for d in self.decoders:
            decoded = d.decode(topic, payload, received_ms)
            if decoded is not None:
                return self._decoded(decoded, received_ms, batch)
        raise PayloadError("topic", f"no decoder claims topic {topic!r}")

    def _observation(self, obs: Observation, batch: Batch, received_ms: int, raw: bytes | None = None,
                     drill_tree: bool = False) -> str:
        device = obs.device
        samples = obs.samples
        cut = received_ms - RAW_RETENTION_MS
        for i, s in enumerate(samples):
            if s.t < cut:  # the store would drop it ("beyond retention policy"): a dead letter says why
                when = datetime.fromtimestamp(s.t / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                raise PayloadError(f"samples[{i}].t", f"{s.t} ({when}) is {RETENTION_REASON}: not stored")
        who = self._who(device, samples[0].t, drill_tree)
        parts = [AttributedObservation(obs, who)]
        if len(samples) > 1 and any(self.attributions.lookup(device, s.t) != who for s in samples[1:]):
            parts = []
            for s in samples:  # attribution changed inside the message: split it by sample time
                w = self._who(device, s.t, drill_tree)
                if parts and parts[-1].who == w:
                    parts[-1].obs.samples.append(s)
                else:
                    parts.append(AttributedObservation(Observation(device, obs.seq, [s]), w))
        for a in parts:
            batch.add_obs(a)
            if self.publish_obs is not None:
                self.publish_obs(ward_topic(self.root, a.who.ward, "obs"), a, raw if len(parts) == 1 else None)
        return DUPLICATE if self.dedup.seen(device, obs.seq) else STORED

    def _status(self, device: str, status: Mapping[str, object], received_ms: int, drill_tree: bool = False) -> None:
        """Republish a device's status attributed (``{root}/wards/{ward}/status``, :class:`DeviceStatusMessage`)."""
        if self.publish is None:
            return
        who = self._who(device, received_ms, drill_tree)
        msg = DeviceStatusMessage.from_device(status, device, who, received_ms)
        self.publish(ward_topic(self.root, who.ward, "status"), msg.encode())

    def _device_alarm(self, alarm: DeviceAlarm, drill_tree: bool = False) -> None:
        if self.publish is None:
            return
        who = self._who(alarm.device, alarm.t, drill_tree)
        body = {**alarm.to_json(), "ward": who.ward, "bed": who.bed, "patient": who.patient}
        if who.drill:
            body["drill"] = who.drill
        self.publish(ward_topic(self.root, who.ward, "device_alarms"), orjson.dumps(body))

    def _decoded(self, d: Decoded, received_ms: int, batch: Batch) -> str:
        check_id(d.device, "device")
        if d.dropped:
            log.debug("device %s (%s): left out %s", d.device, d.profile, "; ".join(d.dropped))
        for alarm in d.alarms:
            self._device_alarm(alarm)
        if d.status:
            self._status(d.device, d.status, received_ms)
        if d.observation is not None and d.observation.samples:
            return self._observation(d.observation, batch, received_ms)
        if d.empty_batch:
            self.empty_batches += 1
            log.debug("device %s (%s): empty batch (status only)", d.device, d.profile)
            return STORED
        if d.observation is None and not d.alarms and not d.status:
            raise PayloadError("$", f"profile {d.profile} found nothing to store in the message")
        return STORED
