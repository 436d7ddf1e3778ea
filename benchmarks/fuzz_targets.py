"""Fuzz targets (issue 13): Hypothesis strategies and the checks each input must pass.

Shared by ``tests/fuzz`` (a few hundred inputs per target in CI) and ``smartward bench fuzz`` (the
long run, ≥ 100,000 per target). Each ``check_*`` function takes one input and returns ``None``
when it was accepted or the rejection message when it was refused the documented way
(:class:`~device_profiles.PayloadError` → dead letter, :class:`~device_profiles.ProfileError`, an
HL7 ``AR``/``AE`` ACK, :class:`~device_profiles.hl7.adt.Hl7AdtError`, an MLLP reply); any other
exception, a hang, or an accepted result that breaks the contract (a NaN value, a time outside
2000..now+5 min, an id that is not an id, something ``orjson`` cannot encode) raises
:class:`FuzzFailure` or escapes, and is a crash.

Targets: ``json`` (every shipped MQTT JSON profile), ``hl7-oru``, ``hl7-adt``, ``mllp``, ``profile-yaml``
and ``api`` (every request-body route of the real app; see :mod:`benchmarks.fuzz`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml
from hypothesis import strategies as st

from device_profiles import Decoded, PayloadError, ProfileError, ProfileRegistry
from device_profiles.canonical import DEVICE_ID_RE, FUTURE_TOLERANCE_MS, T_MIN_MS
from device_profiles.catalogue import NUMERIC_SIGNALS, SIGNALS
from device_profiles.compiler import CompiledProfile, compile_profile
from device_profiles.json_paths import JsonPath
from device_profiles.profile_model import Profile
from device_profiles.profile_yaml import ProfileValidationError
from device_profiles.registry import BUILTIN_DIR
from device_profiles.topics import ROOT

NOW = 1_763_805_900_000  # 2025-11-22T10:05:00Z: every decode runs at this receive time
REPO = Path(__file__).resolve().parents[1]
SHARED_HL7 = REPO.parent / "shared" / "testdata" / "hl7"
SAMPLES = REPO / "tests" / "unit" / "profiles" / "samples"
TARGETS = ("json", "hl7-oru", "hl7-adt", "mllp", "profile-yaml", "api")


class FuzzFailure(AssertionError):
    """An input broke a target's contract (other than by raising an unexpected exception)."""


def _expect(cond: object, what: str) -> None:
    if not cond:
        raise FuzzFailure(what)


# -- shared value strategies ---------------------------------------------------------------------

NASTY_NUMBERS = st.sampled_from([0, -1, 1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, -(10**30),
                                 1e308, -1e308, 5e-324, 0.5, 1e16, float("nan"), float("inf"), float("-inf")])
NASTY_TEXT = st.sampled_from(["", " ", "NaN", "nan", "Infinity", "-inf", "1e999", "0x10", "1_000", "٣", "72",
                              " 72 ", "true", "null", "\x00", "é", "9" * 400, "2025-11-22T10:00:00",
                              "2025-11-22T10:00:00+01:00", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+14:00",
                              "2025-11-22T10:00:00+25:00"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), NASTY_NUMBERS, st.floats(allow_nan=True),
                    st.text(max_size=20), NASTY_TEXT)


def json_values(max_leaves: int = 30) -> st.SearchStrategy[Any]:
    return st.recursive(SCALARS, lambda ch: st.lists(ch, max_size=6) | st.dictionaries(st.text(max_size=8), ch, max_size=6),
                        max_leaves=max_leaves)


def _deep(depth: int, leaf: Any) -> Any:
    out = leaf
    for i in range(depth):
        out = [out] if i % 2 else {"a": out}
    return out


JSON_VALUES = json_values()
SMALL_JSON = json_values(6)
NASTY_VALUES = st.one_of(SCALARS, json_values(8), st.builds(_deep, st.integers(1, 50), SCALARS))


def dumps(value: Any) -> bytes:
    """JSON text the way a sloppy device writes it: NaN/Infinity literals, integers of any size."""
    return json.dumps(value, allow_nan=True, default=str).encode()


# -- 1. JSON device payloads under every shipped MQTT profile --------------------------------------

@dataclass(frozen=True)
class JsonTarget:
    compiled: CompiledProfile
    topic: str
    paths: tuple[JsonPath, ...]  # every path the profile reads (for near-valid payloads)
    samples: tuple[tuple[str, Any], ...]  # real (topic, payload) examples from tests/unit/profiles/samples


def _render_topic(pattern: str, serial: str = "FZ-0001") -> str:
    text = pattern.replace("{root}", ROOT)
    levels = []
    for level in text.split("/"):
        if level.startswith("{") and level.endswith("}"):
            levels.append(serial)
        elif level == "+":
            levels.append("w1")
        elif level == "#":
            levels.append("x")
        else:
            levels.append(level)
    return "/".join(levels)


def _paths(c: CompiledProfile) -> tuple[JsonPath, ...]:
    d = c.decoder
    if d is None:
        return ()
    if d.canonical:
        return tuple(JsonPath.parse(p) for p in ("$.v", "$.device", "$.seq", "$.samples[0].t", "$.samples[0].q",
                                                  *(f"$.samples[0].{s}" for s in sorted(NUMERIC_SIGNALS)[:8])))
    out: list[JsonPath] = []
    prefix = (d.samples_path.text + "[0].") if d.samples_path is not None else ""

    def add(p: JsonPath | None) -> None:
        if p is not None:
            out.append(p if p.absolute or not prefix else JsonPath.parse(prefix + p.text))

    for f in (*d.fields, *d.series):
        add(f.path)
        add(f.quality_path)
        add(f.where_path)
    for t in d.technical:
        add(t.path)
    add(d.time.path)
    add(d.time.offset_path)
    for p in (d.seq_path, d.device_id_path, d.time.step_path, d.samples_path):
        if p is not None:
            out.append(p)
    if d.alarms is not None:
        a = d.alarms
        for p2 in (a.code, a.text, a.value, a.id, a.time, a.priority.path,
                   *(m.path for m in (a.state, a.kind, a.signal) if m is not None)):
            if p2 is not None:
                out.append(JsonPath.parse(f"{a.path.text}[0].{p2.text}") if not p2.absolute else p2)
    return tuple(out)


def json_targets() -> list[JsonTarget]:
    """One per shipped MQTT profile (``device_profiles/profiles/*.yaml``), decoded through the registry."""
    out = []
    for c in ProfileRegistry().all():
        if c.decoder is None or c.profile.mqtt is None:
            continue
        samples = []
        for f in sorted((SAMPLES / c.id).glob("*.topic")) if (SAMPLES / c.id).is_dir() else []:
            samples.append((f.read_text().strip(), orjson.loads(f.with_suffix(".json").read_bytes())))
        out.append(JsonTarget(c, _render_topic(c.profile.mqtt.topic), _paths(c), tuple(samples)))
    return out


def _set(doc: Any, path: JsonPath, value: Any) -> Any:
    if not isinstance(doc, dict):
        doc = {}
    with contextlib.suppress(TypeError, KeyError, IndexError, AttributeError):
        path.set(doc, value)  # fails where the path crosses a value of another type: the rest stays
    return doc


def _sane(path: JsonPath, draw: Callable[[st.SearchStrategy[Any]], Any]) -> Any:
    """A value that probably fits the path (a plausible number, time or code)."""
    last = path.steps[-1] if path.steps else ""
    if last in ("t", "ts", "time"):
        return draw(st.sampled_from([NOW - 1000, NOW, "2025-11-22T10:04:00+00:00", NOW // 1000]))
    if last in ("device", "sn", "serial"):
        return draw(st.sampled_from(["FZ-0001", "HW7-1", ""]))
    if last == "v":
        return 1
    return draw(st.one_of(st.integers(0, 300), st.floats(0, 300), st.sampled_from(["72", "ok", True, "HIGH"])))


@st.composite
def json_inputs(draw: Any, target: JsonTarget) -> tuple[str, bytes]:
    """(topic, payload): arbitrary bytes, arbitrary JSON, or near-valid payloads built from the
    profile's own paths and from its real examples."""
    topic = draw(json_topics(target))
    kind = draw(st.sampled_from(["bytes", "json", "near", "near", "sample", "sample", "deep", "huge"]))
    if kind == "bytes":
        return topic, draw(st.binary(max_size=200))
    if kind == "json":
        return topic, dumps(draw(JSON_VALUES))
    if kind == "deep":  # deeper than any JSON parser's recursion limit: written as text
        n = draw(st.integers(10, 5000))
        return topic, b'{"a":[' * n + dumps(draw(SCALARS)) + b"]}" * n
    if kind == "huge":
        n = draw(st.sampled_from([3_601, 10_001, 20_000]))
        return topic, b'{"batch":{"readings":[' + b",".join([b"{}"] * n) + b']},"samples":[' + b"1," * 5 + b"1]}"
    if kind == "sample" and target.samples:
        topic, doc = draw(st.sampled_from(target.samples))
        doc = orjson.loads(orjson.dumps(doc))
    else:
        doc = {}
        for p in target.paths:
            if draw(st.booleans()):
                doc = _set(doc, p, _sane(p, draw))
    for p in draw(st.lists(st.sampled_from(target.paths), max_size=4)) if target.paths else []:
        doc = _set(doc, p, draw(NASTY_VALUES))
    return topic, dumps(doc)


@st.composite
def json_topics(draw: Any, target: JsonTarget) -> str:
    if draw(st.integers(0, 9)) == 0:  # a hostile serial in the topic (device id rule, empty level, NUL)
        assert target.compiled.profile.mqtt is not None
        serial = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=70).filter(lambda s: "/" not in s))
        return _render_topic(target.compiled.profile.mqtt.topic, serial)
    return target.topic


def _check_decoded(d: Decoded) -> None:
    """What ingest may rely on for an accepted message."""
    _expect(DEVICE_ID_RE.fullmatch(d.device), f"device id {d.device!r} is not an id")
    if d.observation is not None:
        obs = d.observation
        _expect(type(obs.seq) is int and 0 <= obs.seq < 2**63, f"seq {obs.seq!r} is not a 63-bit counter")
        _expect(obs.samples, "observation without samples")
        for s in obs.samples:
            _expect(type(s.t) is int and T_MIN_MS <= s.t <= NOW + FUTURE_TOLERANCE_MS, f"sample time {s.t!r}")
            for name, v in s.values.items():
                sig = SIGNALS.get(name)
                _expect(sig is not None and name in NUMERIC_SIGNALS, f"unknown signal {name!r}")
                assert sig is not None
                _expect(type(v) in (int, float) and math.isfinite(v) and sig.low <= v <= sig.high,
                        f"{name}={v!r} outside {sig.low}..{sig.high}")
        obs.encode()
    for a in d.alarms:
        _expect(a.device == d.device or DEVICE_ID_RE.fullmatch(a.device), f"alarm device {a.device!r}")
        _expect(type(a.t) is int and T_MIN_MS <= a.t <= NOW + FUTURE_TOLERANCE_MS, f"alarm time {a.t!r}")
        _expect(a.value is None or math.isfinite(a.value), f"alarm value {a.value!r}")
        a.encode()
    if d.status is not None:
        orjson.dumps(d.status)


def _check_rejection(exc: ProfileError) -> str:
    text = str(exc)
    _expect(text.strip(), f"{type(exc).__name__} without a message")
    if isinstance(exc, PayloadError):
        _expect(exc.field and exc.message.strip(), f"PayloadError without a field or a message: {text!r}")
    return text


def check_json(target: JsonTarget, topic: str, payload: bytes) -> str | None:
    """Decode ``payload`` as ingest does (``RegistryDecoder``: resolve, then decode)."""
    from ingest.decoding import RegistryDecoder

    decoder = RegistryDecoder(_registry())
    try:
        out = decoder.decode(topic, payload, NOW)
    except PayloadError as exc:
        return _check_rejection(exc)
    if out is None:
        return "topic not claimed"
    _check_decoded(out)
    return None


_REGISTRY: list[ProfileRegistry] = []


def _registry() -> ProfileRegistry:
    if not _REGISTRY:
        _REGISTRY.append(ProfileRegistry())
    return _REGISTRY[0]


# -- 2. HL7 ORU (PCD-01/-04) and ADT ---------------------------------------------------------------

ORU_SEEDS = (
    "MSH|^~\\&|GW^0012345678901234^EUI-64|ACME|||20251122100000+0000||ORU^R01^ORU_R01|MSG1|P|2.6|||AL|NE\r"
    "PID|||P1234^^^HOSP^PI||DOE^JOHN\rPV1||I|W1^1^B1\r"
    "OBR|1|||182777000^monitoring of patient^SNOMED-CT|||20251122100000+0000\r"
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||||||0012345678901234^EUI-64\r"
    "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|72|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R\r"
    "OBX|3|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||R|||20251122095959+0000\r"
    "OBX|4|NM|18949^^MDC|1.3.1.2|15.9|kPa|||||F\r"
    "OBX|5|SN|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.3.1.1|^120|266016^MDC_DIM_MMHG^MDC|||||F\r",
    "MSH|^~\\&|ACME_GW^0012345678901234^EUI-64|ACME|||20251122100000+0000||ORU^R40^ORU_R40|AL0001|P|2.6|||AL|NE||UNICODE UTF-8\r"
    "PID|||P1234^^^HOSP^PI\rPV1||I|W1^1^B1\r"
    "OBR|1|AL0001^ACME_GW^0012345678901234^EUI-64|AL0001^ACME_GW^0012345678901234^EUI-64|196616^MDC_EVT_ALARM^MDC|||20251122100000+0000\r"
    "OBX|1|ST|196670^MDC_EVT_LO^MDC|1.2.1.1.1|SpO2 low||||||F|||20251122100000+0000||||0012345678901234^EUI-64\r"
    "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1.2|85|262688^MDC_DIM_PERCENT^MDC|90-100|L|||F\r"
    "OBX|3|ST|68481^MDC_ATTR_EVENT_PHASE^MDC|1.2.1.1.3|start||||||F\r"
    "OBX|4|ST|68482^MDC_ATTR_ALARM_STATE^MDC|1.2.1.1.4|active||||||F\r"
    "OBX|5|ST|68483^MDC_ATTR_ALARM_INACTIVATION_STATE^MDC|1.2.1.1.5|enabled||||||F\r"
    "OBX|6|ST|68484^MDC_ATTR_ALARM_PRIORITY^MDC|1.2.1.1.6|PM||||||F\r",
)
ADT_SEEDS = (
    "MSH|^~\\&|ADT|HOSP|SMARTWARD|HOSP|20261122101500||ADT^A01^ADT_A01|MSG0001|P|2.5\r"
    "EVN|A01|20261122101500|||nurse1|20261122101000\rPID|1||P1234^^^HOSP^MR||DOE^JOHN\rPV1|1|I|W1^12^B07^HOSP\r",
    "MSH|^~\\&|ADT|HOSP|SMARTWARD|HOSP|20261122101500||ADT^A02^ADT_A02|MSG0002|P|2.5\r"
    "EVN|A02|20261122101500\rPID|1||P1234^^^HOSP^MR\rPV1|1|I|W2^3\r",
    "MSH|^~\\&|ADT|HOSP|SMARTWARD|HOSP|20261122101500+0100||ADT^A03|MSG0003|P|2.5\rPID|1||P1234\rPV1|1|I\r",
)
HL7_ALPHABET = "|^~\\&\r\n0123456789.-+ MSHOBXRPIDEVNADT\x00\x0b\x1cé"


def hl7_seeds(kind: str) -> tuple[str, ...]:
    seeds = ORU_SEEDS if kind == "oru" else ADT_SEEDS
    files: list[Path] = []
    if kind == "oru":
        files += sorted(SHARED_HL7.glob("*.hl7")) if SHARED_HL7.is_dir() else []
        files += sorted((SAMPLES / "ihe-pcd-hl7-monitor").glob("*.hl7")) if SAMPLES.is_dir() else []
    return seeds + tuple(f.read_bytes().decode("latin-1") for f in files)


HL7_EDITS = st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1), st.text(HL7_ALPHABET, max_size=6)), min_size=1, max_size=8)
HL7_VALUES = st.one_of(st.text(HL7_ALPHABET, max_size=12), NASTY_TEXT,
                       st.sampled_from(["ORU^R01", "ORU^R40", "ADT^A01", "ADT^A03", "NM", "SN", "ST", "^^^", "99999999999999",
                                        "20251122100000+2500", "1.0.0.0", "x" * 70, "MDC_DIM_MMHG", "kPa", "[degF]"]))
HL7_RANDOM = st.text(alphabet=HL7_ALPHABET, max_size=300)


@st.composite
def hl7_messages(draw: Any, seeds: tuple[str, ...]) -> str:
    """Random text, byte-level and field-level mutations of real messages."""
    kind = draw(st.sampled_from(["random", "bytes", "fields", "fields", "segments"]))
    if kind == "random":
        head = draw(st.sampled_from(["", "MSH|^~\\&|", "MSH|", "MSH|^~\\&|A|B|||20250101||ORU^R01|1|P|2.6\r"]))
        return head + draw(HL7_RANDOM)  # type: ignore[no-any-return]
    text = draw(st.sampled_from(seeds))
    if kind == "bytes":
        chars = list(text)
        for op, frac, piece in draw(HL7_EDITS):
            pos = min(int(frac * len(chars)), max(len(chars) - 1, 0))
            if op == 0 and chars:
                chars[pos:pos + 1] = list(piece[:1] or " ")
            elif op == 1:
                del chars[pos:pos + 1 + len(piece) * 5]
            else:
                chars[pos:pos] = list(piece)
        return "".join(chars)
    segs = [s.split("|") for s in text.replace("\n", "\r").split("\r") if s]
    if kind == "segments":
        order = draw(st.permutations(range(len(segs))))
        keep = draw(st.lists(st.booleans(), min_size=len(segs), max_size=len(segs)))
        segs = [segs[i] for i, k in zip(order, keep, strict=True) if k or i == 0]
        if draw(st.booleans()) and segs:
            segs.append(list(draw(st.sampled_from(segs))))
    for _ in range(draw(st.integers(1, 6))):
        if not segs:
            break
        seg = segs[draw(st.integers(0, len(segs) - 1))]
        i = draw(st.integers(0, len(seg) + 2))
        value = draw(HL7_VALUES)
        while len(seg) <= i:
            seg.append("")
        seg[i] = value
    return "\r".join("|".join(s) for s in segs)


def check_oru(text: str) -> str | None:
    """PCD-01/-04 through the ihe-pcd profile's decoder; the answer is always an ACK."""
    from device_profiles.hl7 import build_ack

    res = _hl7_decoder().decode(text, NOW)
    ack = build_ack(res, now_s=NOW / 1000)
    segs = ack.split("\r")
    _expect(segs[0].startswith("MSH|^~\\&|") and segs[1].startswith("MSA|A"), f"malformed ACK {ack!r}")
    _expect(all(s.split("|")[0] in ("MSH", "MSA", "ERR", "") for s in segs), f"ACK with a foreign segment {ack!r}")
    for d in res.decoded:
        _check_decoded(d)
    if res.rejected or res.issues:
        msg = str(res.issues[0]) if res.issues else "rejected"
        _expect(msg.strip(), "an HL7 issue without text")
        return msg
    return None


_HL7: list[Any] = []


def _hl7_decoder() -> Any:
    from device_profiles.hl7 import Hl7Decoder

    if not _HL7:
        c = _registry().get("ihe-pcd-hl7-monitor")
        assert c is not None
        _HL7.append(Hl7Decoder(c))
    return _HL7[0]


def check_adt(text: str) -> str | None:
    """ADT A01/A02/A03 as ``POST /adt/hl7`` parses it: an :class:`AdtMessage` or :class:`Hl7AdtError` (→ AR)."""
    from device_profiles.hl7 import Hl7AdtError, adt_ack, parse_adt

    try:
        m = parse_adt(text)
    except Hl7AdtError as exc:
        _expect(str(exc).strip() and exc.where, "Hl7AdtError without a location")
        reply = adt_ack("", "AR", str(exc))
        _expect(reply.startswith("MSH|") and "\rMSA|AR|" in reply, f"malformed AR {reply!r}")
        return str(exc)
    _expect(m.action in ("admit", "transfer", "discharge") and re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", m.patient),
            f"accepted {m!r}")
    reply = adt_ack(m.control_id, "AA", "", m.event)
    _expect("\rMSA|AA|" in reply and reply.count("\r") == 2, f"ACK breaks out of its segments: {reply!r}")
    return None


# -- 3. MLLP framing -------------------------------------------------------------------------------

START, END = b"\x0b", b"\x1c\x0d"
MLLP_LIMIT = 2048


@st.composite
def mllp_streams(draw: Any) -> tuple[bytes, list[int]]:
    """A byte stream (frames, junk, partial and oversized frames) and the sizes it is written in."""
    parts: list[bytes] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["frame", "frame", "junk", "oversize", "partial", "bytes"]))
        body = draw(st.binary(max_size=64)).replace(END, b"")
        if kind == "frame":
            parts.append(START + body + END)
        elif kind == "junk":
            parts.append(body + START + body.replace(START, b"") + END)
        elif kind == "oversize":
            parts.append(START + b"A" * draw(st.integers(MLLP_LIMIT - 8, 3 * MLLP_LIMIT)) + END)
        elif kind == "partial":
            parts.append(START + body)
        else:
            parts.append(draw(st.binary(max_size=64)))
    data = b"".join(parts)
    cuts = draw(st.lists(st.integers(1, 512), max_size=12))
    return data, cuts


def _message_of(block: bytes) -> bytes:
    start = block.find(START)
    return block[start + 1:] if start >= 0 else block


def mllp_expected(data: bytes) -> list[set[bytes]] | None:
    """For each complete frame, the messages a correct reader may hand on; ``None`` when a frame is
    oversized (the connection then ends there, and only the bounds are checked).

    A reader may drop ASCII white space (VT, the start block, included) that arrives on its own between
    frames, so a frame's message is that of the block or of the block without such a prefix."""
    out = []
    for piece in data.split(END)[:-1]:
        if len(piece) + len(END) > MLLP_LIMIT - 16:
            return None
        ok = {_message_of(piece)}
        k = 0
        while k < len(piece) and piece[k:k + 1].isspace():
            k += 1
            ok.add(_message_of(piece[k:]))
        out.append(ok)
    return out


class MllpHarness:
    """A real :class:`gateway_agent.mllp.MllpServer` on loopback that records what its handler receives."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.oversize: list[int] = []
        self.server: Any = None

    async def start(self) -> None:
        from gateway_agent.mllp import MllpLimits, MllpServer

        async def handler(message: bytes, peer: Any) -> bytes:
            self.received.append(message)
            return b"MSH|^~\\&|ACK\rMSA|AA|" + str(len(message)).encode() + b"\r"

        def on_oversize(size: int, peer: Any) -> bytes:
            self.oversize.append(size)
            return b"MSH|^~\\&|ACK\rMSA|AR|oversize\r"

        self.server = MllpServer(handler, on_oversize, "127.0.0.1", 0, MllpLimits(
            max_message_bytes=MLLP_LIMIT, idle_timeout=5.0, frame_timeout=5.0, max_connections_per_peer=64))
        await self.server.start()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def check(self, data: bytes, cuts: list[int], limit_s: float = 8.0) -> str | None:
        self.received.clear()
        self.oversize.clear()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        replies = b""
        reset = False
        try:
            async with asyncio.timeout(limit_s):
                pos = 0
                for n in cuts:
                    if pos >= len(data):
                        break
                    writer.write(data[pos:pos + n])
                    await writer.drain()
                    await asyncio.sleep(0)  # let the server read this chunk on its own
                    pos += n
                writer.write(data[pos:])
                await writer.drain()
                writer.write_eof()
                replies = await reader.read()  # until the server closes: it must not hang
        except TimeoutError:
            raise FuzzFailure(f"MLLP connection still open {limit_s} s after EOF ({len(data)} bytes sent)") from None
        except ConnectionError:  # the server closes after an oversized frame while the sender still writes
            reset = True
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        if reset:
            _expect(self.oversize, "connection reset without an oversized frame")
            _expect(all(len(m) <= MLLP_LIMIT for m in self.received), "a message over the limit reached the handler")
            return f"{len(self.oversize)} oversized (connection closed)"
        frames = replies.split(END)
        _expect(frames[-1] == b"", f"reply not ending in a frame end: {replies[-20:]!r}")
        _expect(all(f.startswith(START) for f in frames[:-1]), "a reply that is not a frame")
        answered = len(self.received) + len(self.oversize)
        _expect(len(frames) - 1 == answered, f"{answered} messages handled, {len(frames) - 1} replies")
        _expect(all(len(m) <= MLLP_LIMIT for m in self.received), "a message over the limit reached the handler")
        expected = mllp_expected(data)
        if expected is not None:
            _expect(len(self.received) == len(expected) and all(m in ok for m, ok in zip(self.received, expected, strict=False)),
                    f"frames {self.received!r} != expected {expected!r}")
        return f"{len(self.oversize)} oversized" if self.oversize else None


# -- 4. profile YAML -------------------------------------------------------------------------------

def shipped_profiles() -> list[tuple[str, str, Any]]:
    out = []
    for f in sorted(BUILTIN_DIR.glob("*.yaml")):
        text = f.read_text()
        out.append((f.name, text, yaml.safe_load(text)))
    return out


PROFILE_KEYS = st.sampled_from(sorted({*Profile.model_fields, "signal", "path", "unit", "topic", "map", "when",
                                       "below", "equals", "plausible", "format", "source", "columnar", "max"}))
YAML_SNIPPETS = st.sampled_from(["!!python/object/apply:os.system ['true']", "&a [*a]", "{a: 1, a: 2}", "\t- x", "? [a]\n: b",
                                 "*undefined", "!!binary AAAA", ".nan", ".inf", "-.inf", "0x1F", "1e999", "~", "yes",
                                 "'unterminated", "[1, 2", "{{root}}", "- - - -", "%YAML 1.1\n---", "--- a\n--- b"])


YAML_DOCS = st.recursive(SCALARS, lambda ch: st.lists(ch, max_size=4) | st.dictionaries(
    st.one_of(PROFILE_KEYS, st.text(max_size=6)), ch, max_size=5), max_leaves=20)
SCALAR_OR_SMALL = st.one_of(SCALARS, SMALL_JSON)
TEXT_EDITS = st.lists(st.tuples(st.floats(0, 1), st.one_of(YAML_SNIPPETS, st.text(max_size=4)), st.integers(0, 20)),
                      min_size=1, max_size=4)


def _leaves(doc: Any, loc: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [loc]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _leaves(v, (*loc, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _leaves(v, (*loc, i))
    return out


def _replace(doc: Any, loc: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not loc:
        return value
    parent = doc
    for k in loc[:-1]:
        parent = parent[k]
    if delete:
        del parent[loc[-1]]
    else:
        parent[loc[-1]] = value
    return doc


@st.composite
def profile_texts(draw: Any) -> str:
    """Arbitrary YAML, structurally mutated shipped profiles and text-mutated shipped profiles."""
    shipped = shipped_profiles()
    kind = draw(st.sampled_from(["yaml", "mutate", "mutate", "mutate", "text"]))
    if kind == "yaml":
        return str(yaml.safe_dump(draw(YAML_DOCS), allow_unicode=True))
    _name, text, doc = draw(st.sampled_from(shipped))
    if kind == "text":
        chars = list(text)
        for frac, piece, cut in draw(TEXT_EDITS):
            pos = int(frac * len(chars))
            chars[pos:pos + cut] = list(piece)
        return "".join(chars)
    doc = orjson.loads(orjson.dumps(doc))
    for _ in range(draw(st.integers(1, 3))):
        locs = _leaves(doc)
        loc = draw(st.sampled_from(locs))
        op = draw(st.sampled_from(["value", "value", "delete", "add", "deep"]))
        if op == "add" and isinstance(_at(doc, loc), dict):
            _at(doc, loc)[draw(st.one_of(PROFILE_KEYS, st.text(max_size=6)))] = draw(SMALL_JSON)
            continue
        if op == "deep":
            doc = _replace(doc, loc, _deep(draw(st.integers(1, 200)), draw(SCALARS)), False)
            continue
        doc = _replace(doc, loc, draw(SCALAR_OR_SMALL), op == "delete" and bool(loc))
    if not isinstance(doc, dict | list):
        return str(yaml.safe_dump(doc))
    tail: str = draw(st.sampled_from(["", "", "\nx: 1\n"]))
    return str(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)) + tail


def _at(doc: Any, loc: tuple[Any, ...]) -> Any:
    for k in loc:
        doc = doc[k]
    return doc


def check_profile(text: str) -> str | None:
    """A profile file as a vendor writes it: compiled, or refused with a :class:`ProfileError` naming the key."""
    try:
        c = compile_profile(text, "fuzz.yaml")
    except ProfileValidationError as exc:
        _check_rejection(exc)
        _expect(exc.issues, "ProfileValidationError without issues")
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            doc = None
        keys = {str(k) for k in doc} if isinstance(doc, dict) else set()  # str: a !!binary key is bytes
        for issue in exc.issues:
            _expect(issue.message.strip(), f"issue at {issue.where} without a message")
            head = re.split(r"[.\[]", issue.where, maxsplit=1)[0]
            _expect(issue.where == "$" or head in Profile.model_fields or head in text
                    or any(issue.where.startswith(k) for k in keys),
                    f"issue names {issue.where!r}, no key of the file or the format")
        return str(exc)
    except ProfileError as exc:
        return _check_rejection(exc)
    _expect(c.profile.id and c.sha256, "compiled profile without an id")
    return None


# -- bookkeeping shared by the tests and the benchmark -------------------------------------------

_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?|\[\d+\]")


def message_kind(text: str) -> str:
    """A rejection message with its values blanked, so ``'x' is not a number`` counts once."""
    return _QUOTED.sub("…", text.split("\n", 1)[0])[:120]


@dataclass
class Tally:
    """Inputs run, crashes and rejection messages of one target."""

    inputs: int = 0
    accepted: int = 0
    crashes: list[str] = field(default_factory=list)
    messages: set[str] = field(default_factory=set)
    kinds: dict[str, int] = field(default_factory=dict)

    def record(self, fn: Callable[..., str | None], *args: Any) -> None:
        self.inputs += 1
        try:
            msg = fn(*args)
        except Exception as exc:  # noqa: BLE001  (a crash is what the benchmark counts: any exception at all)
            self.crashes.append(f"{type(exc).__name__}: {exc}"[:300] + f"  input: {args[-1]!r}"[:300])
            return
        if msg is None:
            self.accepted += 1
        else:
            self.messages.add(msg)
            k = message_kind(msg)
            self.kinds[k] = self.kinds.get(k, 0) + 1


# -- 5. API request bodies -------------------------------------------------------------------------

PATH_VALUES = {"alarm_id": "al-fuzz-1", "patient": "p-fuzz-1", "device_id": "dev-fuzz-1", "profile_id": "fuzz-profile",
               "version": "1"}
ADMIN, ADMIN_PASSWORD = "fuzz-admin", "correct horse fuzz battery"


@dataclass(frozen=True)
class Route:
    path: str  # with path parameters filled in
    template: str
    content_type: str  # application/json, or the text type of an HL7 / YAML body
    properties: tuple[str, ...]  # JSON body: the schema's property names (for near-valid bodies)


def body_routes(openapi: dict[str, Any]) -> list[Route]:
    """Every POST/PUT/PATCH route with a request body except the login form."""
    out = []
    schemas = openapi.get("components", {}).get("schemas", {})
    for template, ops in sorted(openapi["paths"].items()):
        for method, op in ops.items():
            body = op.get("requestBody")
            if method not in ("post", "put", "patch") or body is None:
                continue
            content = body["content"]
            if "application/x-www-form-urlencoded" in content:
                continue
            ctype = "application/json" if "application/json" in content else next(iter(content))
            schema = content[ctype].get("schema", {})
            ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("anyOf", []) if "$ref" in s), None)
            props = tuple(schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})) if ref else ()
            path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "x1"), template)
            out.append(Route(path, template, ctype, props))
    return out


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


@st.composite
def api_bodies(draw: Any, route: Route, avoid_known: bool = False) -> bytes:
    """Arbitrary JSON, near-valid objects with the schema's keys and nasty values, or garbage bytes.

    ``avoid_known``: no NaN/Infinity literals and no control characters in YAML bodies, the two known
    5xx causes kept as strict xfails in tests/fuzz (so that CI goes on fuzzing everything else)."""

    def enc(value: Any) -> bytes:
        return dumps(_finite(value) if avoid_known else value)

    if route.content_type != "application/json":
        text: str = draw(st.one_of(HL7_RANDOM, st.text(max_size=200)))
        if avoid_known and "yaml" in route.content_type:
            text = "".join(ch if ch.isprintable() or ch in "\t\n\r" else "?" for ch in text)
        return text.encode()
    kind = draw(st.sampled_from(["json", "near", "near", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=100))  # type: ignore[no-any-return]
    if kind == "json" or not route.properties:
        return enc(draw(JSON_VALUES))
    keys = draw(st.lists(st.sampled_from(route.properties), unique=True, min_size=1))
    return enc({k: draw(NASTY_VALUES) for k in keys})


class ApiHarness:
    """The real platform (in-process ingest, alerting and HTTP app against a real Mosquitto) in a thread
    of its own, and an admin logged in over HTTP, so that request bodies are parsed and acted upon."""

    def __init__(self, broker_url: str, workdir: Path, root: str = "fuzz/smartward/v1") -> None:
        self.broker_url = broker_url
        self.workdir = workdir
        self.root = root
        self.base = ""
        self.headers: dict[str, str] = {}
        self.openapi: dict[str, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: Any = None
        self.client: Any = None

    def start(self, timeout_s: float = 60.0) -> ApiHarness:
        import threading

        import httpx

        from dashboard_api import UserStore
        from devservers import free_port
        from ingest import make_engine
        from smartward.compose import PlatformConfig, run_platform

        port = free_port()
        state = f"sqlite:///{self.workdir}/state.sqlite3"
        cfg = PlatformConfig(broker=self.broker_url, store=f"sqlite:///{self.workdir}/vitals.sqlite3", state=state,
                             data_dir=str(self.workdir), http=f"127.0.0.1:{port}", topic_root=self.root,
                             ingest_workers=0, client_prefix="fuzz-")
        ready = threading.Event()
        failed: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._task = loop.create_task(run_platform(cfg, on_ready=lambda _p: ready.set()))
            try:
                loop.run_until_complete(self._task)
            except asyncio.CancelledError:
                pass
            except BaseException as exc:  # noqa: BLE001  (reported to the starting thread)
                failed.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=main, name="fuzz-platform", daemon=True)
        self._thread.start()
        if not ready.wait(timeout_s) or failed:
            raise RuntimeError(f"the platform did not start: {failed[0] if failed else 'timeout'}")
        UserStore(make_engine(state)).add(ADMIN, "admin", ADMIN_PASSWORD)
        self.base = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.base, timeout=30)
        import time

        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self.client.get("/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the platform never became ready")
            time.sleep(0.1)
        self.login()
        self.openapi = self.client.get("/openapi.json", headers=self.headers).json()
        return self

    def login(self) -> None:
        r = self.client.post("/api/v1/auth/token", data={"username": ADMIN, "password": ADMIN_PASSWORD})
        _expect(r.status_code == 200, f"admin login failed: {r.status_code} {r.text}")
        self.headers = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(30)

    def check(self, route: Route, body: bytes) -> str | None:
        """One request: never a 5xx; a 4xx answers JSON with a ``detail`` (HL7 routes answer an ACK)."""
        headers = {**self.headers, "Content-Type": route.content_type}
        import httpx

        try:
            r = self.client.post(route.path, content=body, headers=headers)
        except httpx.TransportError:  # a kept-alive connection the server had just closed: once more, fresh
            r = self.client.post(route.path, content=body, headers=headers)
        if r.status_code == 401:  # the access token expired during a long run
            self.login()
            r = self.client.post(route.path, content=body, headers={**self.headers, "Content-Type": route.content_type})
        _expect(r.status_code < 500, f"{route.template}: HTTP {r.status_code} {r.text[:300]}")
        if r.status_code >= 400 and route.content_type.startswith("x-application/hl7"):
            _expect(r.text.startswith("MSH|") and ("\rMSA|AR|" in r.text or "\rMSA|AE|" in r.text),
                    f"{route.template}: {r.status_code} without an HL7 AR/AE ACK: {r.text[:200]!r}")
            return f"{r.status_code} {r.text.split(chr(13))[1][:200]}"
        if r.status_code >= 400:
            _expect(r.headers.get("content-type", "").startswith("application/json"),
                    f"{route.template}: {r.status_code} without a JSON body")
            detail = r.json().get("detail")
            _expect(detail, f"{route.template}: {r.status_code} without a detail")
            return f"{r.status_code} {str(detail)[:200]}"
        return None
