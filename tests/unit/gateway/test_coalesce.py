"""Backlog batching: merged per device, in order, within limits; canonical payloads stay valid."""

from __future__ import annotations

import random

import orjson

from device_profiles import decode_observation
from gateway_agent import Entry, backoff_delay, coalesce

T0 = 1_763_805_600_000


def entry(i: int, device: str, seq: int, kind: str = "obs") -> Entry:
    body = {"v": 1, "device": device, "seq": seq, "samples": [{"t": T0 + seq * 1000, "heart_rate": 60 + seq}]}
    return Entry(i, device, kind, f"r/devices/{device}/{kind}", orjson.dumps(body), 1, False, seq, 0)


def test_backlog_merges_per_device_keeping_order() -> None:
    entries = [entry(i, d, i // 2) for i, d in enumerate(["a", "b"] * 5)]
    out = coalesce(entries, max_samples=3)
    by_dev: dict[str, list[int]] = {}
    for m in out:
        obs = decode_observation(m.payload, now=T0 + 10**6)
        assert obs.seq == next(e.seq for e in entries if e.id == m.ids[-1])  # seq of the last merged entry
        by_dev.setdefault(obs.device, []).extend(s.t for s in obs.samples)
        assert len(obs.samples) == len(m.ids) <= 3
    assert by_dev == {d: [T0 + k * 1000 for k in range(5)] for d in "ab"}
    assert len(out) == 4  # 3 + 2 per device
    assert sorted(i for m in out for i in m.ids) == list(range(10))


def test_other_kinds_close_the_group_and_single_entries_pass_unchanged() -> None:
    entries = [entry(0, "a", 0), entry(1, "a", 1), entry(2, "a", 2, "wave"), entry(3, "a", 3)]
    out = coalesce(entries)
    assert [m.ids for m in out] == [[0, 1], [2], [3]]
    assert out[1].payload == entries[2].payload and out[2].payload == entries[3].payload
    assert [m.ids for m in coalesce(entries, max_samples=1)] == [[0], [1], [2], [3]]


def test_merged_messages_stay_under_the_byte_limit() -> None:
    entries = [entry(i, "a", i) for i in range(200)]
    out = coalesce(entries, max_samples=1000, max_bytes=2000)
    assert all(len(m.payload) <= 2100 for m in out) and len(out) > 1


def test_backoff_is_capped_exponential_with_jitter() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(a, 0.5, 8.0, rng) for a in range(10)]
    for a, d in enumerate(delays):
        full = min(8.0, 0.5 * 2**a)
        assert full / 2 <= d <= full
    assert max(delays) <= 8.0 and len(set(delays)) == len(delays)
