"""The HL7 v2 gateway adapter: MLLP in, canonical observations and device alarms out (durably).

For every message: decode the text (charset from MSH-18), map it with the ``hl7v2-mllp`` profile,
hand every observation and alarm to the sink (the gateway's durable outbox) and only then answer.
``AA`` therefore means "stored on disk, will reach the broker"; when the sink fails the sender gets
``AE`` (207) and resends. A problem in one OBX is named in the ACK without losing the rest.

With a peer list (``--mllp-peers``) a message is stored only when its sender is listed and may speak
for every device the message names; otherwise it is answered ``AR`` naming why, nothing of it is
stored, and the refusal is counted (``smartward_gateway_mllp_refused_total``) and logged with the
sender's address, the control id and device ids only (no patient data).

Values whose code is not in the signal catalogue (nor the profile's ``hl7.codes``) are not stored and
do not make the ACK an error; they are counted per code (``Hl7Gateway.unmapped``,
``smartward_gateway_hl7_unmapped_total{code}``), logged at INFO the first time a code is seen, and
summarised when the gateway stops. Warnings (e.g. two OBX for one signal at one time, the more
abnormal kept) are named in the ACK's ERR segments under ``AA``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import Protocol

from device_profiles import topics
from device_profiles.canonical import now_ms
from device_profiles.hl7 import APPLICATION_ERROR, Hl7Decoder, Hl7Issue, Hl7Result, build_ack, decode_text

from . import metrics
from .errors import GatewayError
from .mllp import UNKNOWN_PEER, Peer
from .mllp_peers import Grant, PeerList

log = logging.getLogger(__name__)
OFF_LOOP_BYTES = 32 * 1024
MAX_UNMAPPED_CODES = 200  # distinct codes counted by name (metric label cardinality); the rest are "other"


class Hl7GatewayError(GatewayError):
    """An HL7 adapter error (a sink that cannot store raises a :class:`GatewayError` such as ``OutboxFull``)."""


class Sink(Protocol):
    """Where decoded messages go: ``put`` returns once the message is durably accepted."""

    async def put(self, topic: str, payload: bytes, qos: int = 1) -> None: ...


class Hl7Gateway:
    """The MLLP handler: ``await gateway.handle(message_bytes, peer)`` -> ACK bytes."""

    def __init__(self, decoder: Hl7Decoder, sink: Sink, root: str = topics.ROOT,
                 clock: Callable[[], int] = now_ms, peers: PeerList | None = None) -> None:
        """``peers=None``: every sender may speak for every device (only for a loopback listener)."""
        self.decoder = decoder
        self.sink = sink
        self.root = root
        self.clock = clock
        self.peers = peers
        self.counts = {"AA": 0, "AE": 0, "AR": 0, "observations": 0, "alarms": 0, "unknown_peer": 0,
                       "device_not_allowed": 0}
        self.unmapped: collections.Counter[str] = collections.Counter()  # code^name -> OBX values not stored

    async def handle(self, data: bytes, peer: Peer = UNKNOWN_PEER) -> bytes:
        text, codec = decode_text(data)
        received = self.clock()
        grant: Grant | None = None
        if self.peers is not None:
            grant = self.peers.grant(peer)
            if grant is None:  # not even parsed: a stranger's message is answered from its MSH alone
                res = Hl7Result(control_id=_control_id(text))
                return self._refuse(res, "unknown_peer", peer, codec, received,
                                    f"sender {peer.host} is not in the MLLP peer list of this gateway")
        if len(data) > OFF_LOOP_BYTES:  # a big message would hold the loop (python-hl7 parses ~1 MB/s)
            res = await asyncio.to_thread(self.decoder.decode, text, received)
        else:
            res = self.decoder.decode(text, received)
        if grant is not None:
            denied = sorted({d.device for d in res.decoded if not grant.allows(d.device)})
            if denied:
                shown = ", ".join(denied[:5]) + (f" and {len(denied) - 5} more" if len(denied) > 5 else "")
                return self._refuse(res, "device_not_allowed", peer, codec, received,
                                    f"peer {grant.name} may not send for device {shown}")
        extra: list[Hl7Issue] = []
        if res.decoded:
            try:
                await self._store(res)
            except (OSError, GatewayError) as exc:
                log.error("HL7 %s from %s: could not store (%s); answering AE", res.control_id, peer, exc)
                extra.append(Hl7Issue("MSH", 1, None, APPLICATION_ERROR, f"could not store the message, resend ({exc})"))
        code = "AR" if res.rejected else ("AE" if res.errors or extra else "AA")
        self.counts[code] += 1
        if code != "AA":
            log.warning("HL7 %s %s from %s: %s: %s", res.message_type or "?", res.control_id or "?", peer, code,
                        "; ".join(str(i) for i in [*res.issues, *extra][:5]))
        if res.unmapped and not res.rejected:
            self._count_unmapped(res)
        ack = build_ack(res, code, extra, now_s=received / 1000)
        return ack.encode(codec, errors="replace")

    def _count_unmapped(self, res: Hl7Result) -> None:
        """Count each unmapped code; the first time a code is seen, say so (INFO) with the fix."""
        for code in res.unmapped_codes():
            key = code if code in self.unmapped or len(self.unmapped) < MAX_UNMAPPED_CODES else "other"
            if key not in self.unmapped:
                log.info("HL7: code %s is not in the signal catalogue (nor the profile's hl7.codes): its values are "
                         "not stored; counted in smartward_gateway_hl7_unmapped_total (first seen in %s)", key,
                         res.control_id or "?")
            self.unmapped[key] += 1
            metrics.HL7_UNMAPPED.labels(key).inc()
        log.debug("HL7 %s: not in the catalogue: %s", res.control_id, ", ".join(res.unmapped))

    def unmapped_summary(self) -> str:
        """``code^name xN, …`` (most frequent first), for the gateway's log."""
        return ", ".join(f"{code} x{n}" for code, n in self.unmapped.most_common())

    def _refuse(self, res: Hl7Result, reason: str, peer: Peer, codec: str, received: int, why: str) -> bytes:
        res.decoded.clear()
        res.reject("MSH", 1, None, APPLICATION_ERROR, why)
        self.counts["AR"] += 1
        self.counts[reason] += 1
        metrics.MLLP_REFUSED.labels(reason).inc()
        log.warning("HL7 %s from %s refused: %s", res.control_id or "?", peer, why)
        return build_ack(res, "AR", now_s=received / 1000).encode(codec, errors="replace")

    async def _store(self, res: Hl7Result) -> None:
        for d in res.decoded:
            if d.observation is not None:
                await self.sink.put(topics.device_obs(d.device, self.root), d.observation.encode(), 1)
                self.counts["observations"] += 1
            for alarm in d.alarms:
                await self.sink.put(topics.device_alarm(d.device, self.root), alarm.encode(), 1)
                self.counts["alarms"] += 1

    def oversize(self, size: int, peer: Peer) -> bytes:
        res = Hl7Result()
        res.reject("MSH", 1, None, APPLICATION_ERROR, f"message of {size} bytes exceeds the listener's limit")
        self.counts["AR"] += 1
        return build_ack(res, "AR", now_s=time.time()).encode("latin-1")


def _control_id(text: str) -> str:
    """MSH-10 of a message that is not parsed (the ACK's MSA-2, so the sender can match it)."""
    msh = text[:1024].split("\r", 1)[0].split("\n", 1)[0]
    if not msh.startswith("MSH") or len(msh) < 4:
        return ""
    parts = msh.split(msh[3])
    return "".join(c for c in parts[9][:64] if c.isprintable()) if len(parts) > 9 else ""
