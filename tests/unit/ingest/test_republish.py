"""The attributed stream leaves in fewer messages (ingest/republish.py): what one socket read took is
merged per device and attribution, published right after the read (or, under a burst, when the
flush window ends), and nothing is lost or reordered."""

from __future__ import annotations

import asyncio

import orjson

from device_profiles import (
    AttributedObservation,
    Attribution,
    Observation,
    Sample,
    canonical,
    decode_attributed,
)
from ingest import republish
from ingest.republish import Republisher

W1 = Attribution("w1", "01", "p-1")


def obs(device: str, seq: int, t: int, who: Attribution = W1) -> AttributedObservation:
    return AttributedObservation(Observation(device, seq, [Sample(t, {"heart_rate": 60.0 + seq})]), who)


async def test_one_read_leaves_as_one_message_per_device_after_the_read() -> None:
    sent: list[tuple[str, bytes]] = []
    r = Republisher(lambda topic, body: sent.append((topic, body)))
    for seq in range(3):  # what one read handed over: two devices interleaved
        for dev in ("mon-1", "mon-2"):
            a = obs(dev, seq, 1000 * seq)
            r.obs("t/w1/obs", a, None)
    assert sent == [] and r.pending == 6  # nothing before the read is handled
    await asyncio.sleep(0)
    assert r.pending == 0 and len(sent) == 2 and r.messages == 2
    got = [decode_attributed(body) for _, body in sent]
    assert [g.obs.device for g in got] == ["mon-1", "mon-2"]  # in first-arrival order
    for g in got:
        assert [s.t for s in g.obs.samples] == [0, 1000, 2000]  # every sample, in arrival order
        assert [s.values["heart_rate"] for s in g.obs.samples] == [60.0, 61.0, 62.0]
        assert g.obs.seq == 2 and g.who == W1


async def test_a_lone_observation_keeps_its_bytes_and_attributions_are_never_mixed() -> None:
    sent: list[tuple[str, bytes]] = []
    r = Republisher(lambda topic, body: sent.append((topic, body)))
    raw = b'{"v":1,"device":"mon-9","seq":7,"samples":[{"t":5,"spo2":97}]} '  # the device's own bytes
    lone = b'{"v":1,"device":"mon-9","seq":7,"samples":[{"t":5,"spo2":97}],"ward":"w1","bed":"01","patient":"p-1"}'
    r.obs("t/w1/obs", obs("mon-9", 7, 5), raw)
    a, b = obs("mon-1", 1, 1), obs("mon-1", 2, 2, Attribution("w1", "02", "p-2"))  # moved bed between messages
    r.obs("t/w1/obs", a, None)
    r.obs("t/w1/obs", b, None)
    c = obs("mon-1", 3, 3, Attribution("w1", "02", "p-2", drill="d1"))
    r.obs("t/w1/obs", c, None)
    r.flush()
    assert sent[0] == ("t/w1/obs", lone)
    assert [(decode_attributed(x).who.bed, decode_attributed(x).who.drill) for _, x in sent[1:]] == [
        ("01", ""), ("02", ""), ("02", "d1")]


def test_a_long_read_is_cut_into_bounded_messages() -> None:
    sent: list[bytes] = []
    r = Republisher(lambda _t, body: sent.append(body))
    n = republish.MAX_MERGED * 2 + 1
    for seq in range(n):  # no running loop: each is sent at once
        a = obs("mon-1", seq, seq)
        r.obs("t/w1/obs", a, None)
    assert len(sent) == n
    loop = asyncio.new_event_loop()
    try:
        r2 = Republisher(lambda _t, body: sent2.append(body), loop)
        sent2: list[bytes] = []
        for seq in range(n):
            a = obs("mon-1", seq, seq)
            r2.obs("t/w1/obs", a, None)
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    sizes = [len(orjson.loads(b)["samples"]) for b in sent2]
    assert sizes == [republish.MAX_MERGED, republish.MAX_MERGED, 1], sizes
    assert [s["t"] for b in sent2 for s in orjson.loads(b)["samples"]] == list(range(n))


async def test_a_burst_leaves_once_per_window_and_a_quiet_stream_at_once() -> None:
    sent: list[bytes] = []
    r = Republisher(lambda _t, body: sent.append(body), window_s=0.2)
    a = obs("mon-1", 1, 1)
    r.obs("t/w1/obs", a, None)
    await asyncio.sleep(0)
    assert len(sent) == 1  # the first read after a quiet spell: right after the read
    for seq in (2, 3):  # two more reads inside the window
        b = obs("mon-1", seq, seq)
        r.obs("t/w1/obs", b, None)
        await asyncio.sleep(0)
    assert len(sent) == 1 and r.pending == 2  # held until the window ends
    await asyncio.sleep(0.3)
    assert len(sent) == 2 and r.pending == 0
    assert [s.t for s in decode_attributed(sent[1]).obs.samples] == [2, 3]  # merged, in order
    await asyncio.sleep(0.25)  # quiet for longer than the window
    c = obs("mon-1", 4, 4)
    r.obs("t/w1/obs", c, None)
    await asyncio.sleep(0)
    assert len(sent) == 3  # not held back


async def test_flush_sends_what_is_held_and_cancels_the_timer() -> None:
    sent: list[bytes] = []
    r = Republisher(lambda _t, body: sent.append(body), window_s=0.2)
    for seq in (1, 2):
        a = obs("mon-1", seq, seq)
        r.obs("t/w1/obs", a, None)
        await asyncio.sleep(0)
    assert len(sent) == 1
    r.flush()  # what the worker does before a status or device alarm: those never overtake an observation
    assert len(sent) == 2
    r.flush()
    await asyncio.sleep(0.3)
    assert len(sent) == 2  # nothing sent twice, no empty message


async def test_a_merged_message_never_exceeds_what_a_consumer_decodes() -> None:
    """A gateway's backlog: hundreds of many-signal messages of one bed in one window. Each merged
    message stays within the consumers' 64 KiB limit (alerting refused a larger one whole, leaving the
    patient unscored), and every sample is still sent once, in order."""
    sent: list[bytes] = []
    r = Republisher(lambda _t, body: sent.append(body))
    many = {s: 50.0 for s in ("heart_rate", "spo2", "resp_rate", "nibp_sys", "nibp_dia", "nibp_mean", "temperature",
                              "pulse_rate")}
    n = republish.MAX_MERGED
    for seq in range(n):
        r.obs("t/w1/obs", AttributedObservation(Observation("mon-1", seq, [Sample(1_700_000_000_000 + seq, dict(many))]),
                                                W1), None)
    assert sent == []  # all queued in this loop turn
    r.flush()
    assert len(sent) > 1 and all(len(b) <= canonical.MAX_PAYLOAD_BYTES for b in sent), [len(b) for b in sent]
    got = [decode_attributed(b) for b in sent]  # what alerting does: each one accepted
    assert [s.t - 1_700_000_000_000 for g in got for s in g.obs.samples] == list(range(n))


async def test_the_default_window_merges_a_burst_and_holds_it_briefly() -> None:
    """The default (50 ms): a burst's reads leave together, and live data is never held for long."""
    sent: list[bytes] = []
    second = asyncio.Event()

    def send(_t: str, body: bytes) -> None:
        sent.append(body)
        if len(sent) == 2:
            second.set()

    r = Republisher(send)
    loop = asyncio.get_running_loop()
    r.obs("t/w1/obs", obs("mon-1", 1, 1), None)
    await asyncio.sleep(0)
    start = loop.time()
    for seq in (2, 3):
        r.obs("t/w1/obs", obs("mon-1", seq, seq), None)
        await asyncio.sleep(0)
    assert len(sent) == 1 and r.pending == 2  # merged: not one message per read
    await asyncio.wait_for(second.wait(), 5)
    assert 0.03 <= loop.time() - start <= 0.5  # about 50 ms (a loaded machine runs timers late, never early)
    assert len(sent) == 2 and r.messages == 2


def test_each_lone_observation_counts_as_one_message() -> None:
    sent: list[bytes] = []
    r = Republisher(lambda _t, body: sent.append(body))
    for seq in range(3):  # no running loop: each leaves at once, alone
        r.obs("t/w1/obs", obs(f"mon-{seq}", seq, seq), None)
    assert len(sent) == 3 and r.messages == 3


def item(seq: int, samples: int) -> tuple[AttributedObservation, None]:
    return AttributedObservation(Observation("mon-1", seq, [Sample(1_700_000_000_000 + seq * 10_000 + k, {"heart_rate": 61.0})
                                                            for k in range(samples)]), W1), None


def test_an_oversized_merge_is_split_in_halves_into_as_few_messages_as_fit() -> None:
    items = [item(seq, 400) for seq in range(8)]  # each about 15 KB; 8 of them about twice the limit
    one = len(republish._merged(items[:1]))
    assert 3 * one < republish.MAX_MERGED_BYTES < 5 * one
    bodies = republish._bounded(items)
    assert [len(orjson.loads(b)["samples"]) for b in bodies] == [1600, 1600]  # two halves, not three pieces
    assert all(len(b) <= republish.MAX_MERGED_BYTES for b in bodies)


def test_a_single_observation_is_never_split_or_dropped() -> None:
    big = [item(1, 2000)]  # over the limit alone (re-encoded with its attribution): sent whole
    bodies = republish._bounded(big)
    assert len(bodies) == 1 and len(orjson.loads(bodies[0])["samples"]) == 2000
