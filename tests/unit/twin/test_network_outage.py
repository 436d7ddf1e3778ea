"""network-outage drill: outbox fill vs outage length, loss = excess x inflow, catch-up, reconnect."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from digital_twin import ScenarioError, WardModel, example_ward_path, load_ward
from digital_twin.outbox_fill import BACKOFF_MAX_S, fill, reconnect_at
from digital_twin.runner import run
from digital_twin.scenarios.network_outage import NetworkOutage, NetworkOutageParams
from digital_twin.stats import summarize
from gateway_agent import Message, Outbox, OutboxFull


@pytest.fixture(scope="module")
def ward() -> WardModel:
    return load_ward(example_ward_path())


def once(ward: WardModel, seed: int = 0, **kw: object) -> dict[str, float]:
    return NetworkOutage().run_once(ward, NetworkOutageParams.model_validate(kw), np.random.default_rng(seed))


def test_fill_formulas() -> None:
    # 10 devices at 1 Hz into 36,000 samples: full after 3,600 s
    short = fill(36_000, 10.0, 3_000, drain=1_000)
    assert short.time_to_full_s == 3_600 and short.lost == 0 and short.backlog == 30_000
    assert short.catch_up_s == pytest.approx(30_000 / 990)
    long = fill(36_000, 10.0, 5_000, drain=1_000)
    assert long.lost == pytest.approx((5_000 - 3_600) * 10) and long.backlog == 36_000
    assert fill(36_000, 10.0, 5_000, drain=10).catch_up_s == math.inf  # drain no faster than inflow
    with pytest.raises(ValueError):
        fill(0, 1, 1, 1)


@pytest.mark.parametrize("policy", ["reject", "drop-oldest"])
def test_fill_model_matches_the_real_gateway_outbox(tmp_path: Path, policy: str) -> None:
    """The twin's loss figure is what gateway_agent's outbox really refuses (or drops) in an outage."""
    devices, capacity, outage_s = 10, 600, 90
    refused = 0
    with Outbox(tmp_path / "ob", max_entries=capacity, on_full=policy) as ob:  # type: ignore[arg-type]
        for t in range(outage_s):  # one tick per second, nothing drained: the uplink is down
            tick = [Message(f"mon-{d}", "obs", f"r/devices/mon-{d}/obs",
                            {"v": 1, "device": f"mon-{d}", "samples": [{"t": t * 1000, "heart_rate": 70}]})
                    for d in range(devices)]
            try:
                ob.append(tick)
            except OutboxFull:
                refused += len(tick)
        stats = ob.stats()
    model = fill(capacity, float(devices), outage_s, drain=1_000)
    assert refused + stats.dropped == model.lost == (outage_s - 60) * devices
    assert stats.pending == model.backlog == capacity


def test_reconnect_follows_the_publisher_backoff() -> None:
    for up in (0.0, 5.0, 600.0, 86_400.0):
        times = [reconnect_at(up, random.Random(i)) for i in range(200)]
        assert all(up <= t < up + BACKOFF_MAX_S for t in times)
    assert reconnect_at(600.0, random.Random(7)) == reconnect_at(600.0, random.Random(7))


def test_outage_shorter_than_capacity_loses_nothing_longer_loses_excess_times_inflow(ward: WardModel) -> None:
    # gw-west carries 10 monitors at 1 Hz: 36,000 samples last 60 min
    short = once(ward, outage_minutes=50, outbox_capacity=36_000, gateway="gw-west")
    assert short["samples_lost"] == 0 and math.isnan(short["first_loss_min"]) and short["gateways_losing"] == 0
    long = once(ward, outage_minutes=90, outbox_capacity=36_000, gateway="gw-west")
    disconnected = 90 * 60 + long["reconnect_s"]  # the link is back at 90 min, the publisher a few s later
    assert long["samples_lost"] == pytest.approx((disconnected - 3_600) * 10)
    assert long["first_loss_min"] == pytest.approx(60.0)
    assert long["peak_fill_pct"] == 100.0 and long["gateways_losing"] == 1
    assert long["device_minutes_lost"] == pytest.approx((disconnected - 3_600) * 10 / 60)


def test_more_outage_more_loss_and_bigger_outbox_later_loss(ward: WardModel) -> None:
    lost = [once(ward, seed=3, outage_minutes=m, outbox_capacity=100_000)["samples_lost"] for m in (30, 200, 300)]
    assert lost[0] == 0 < lost[1] < lost[2]
    first = [once(ward, seed=3, outage_minutes=600, outbox_capacity=c)["first_loss_min"] for c in (50_000, 200_000)]
    assert first[0] < first[1]
    assert first[0] == pytest.approx(50_000 / 10 / 60)


def test_catch_up_uses_the_drain_rate(ward: WardModel) -> None:
    fast = once(ward, outage_minutes=120, drain_rate=20_000, drain_cv=0)
    slow = once(ward, outage_minutes=120, drain_rate=2_000, drain_cv=0)
    backlog = 10 * (120 * 60 + fast["reconnect_s"])  # per gateway (the slowest one is reported)
    assert fast["catch_up_min"] < slow["catch_up_min"]
    assert fast["catch_up_min"] == pytest.approx(backlog / (20_000 - 10) / 60, rel=0.01)


def test_unknown_gateway_is_named(ward: WardModel) -> None:
    with pytest.raises(ScenarioError, match=r"no gateway 'gw-nope'.*gw-west"):
        once(ward, gateway="gw-nope")


def test_summary_names_each_gateway_and_the_verdict(ward: WardModel) -> None:
    sc = NetworkOutage()
    params = NetworkOutageParams(outage_minutes=90, outbox_capacity=36_000)
    rows = [sc.run_once(ward, params, np.random.default_rng(s)) for s in range(5)]
    metrics = {k: summarize([r[k] for r in rows]) for k in sc.metrics}
    text = " ".join(sc.summarize(ward, params, metrics))
    assert "gw-west" in text and "gw-east" in text and "fills its 36,000-sample outbox after 60 min" in text
    assert "loses data" in text and "Data loss starts 60 min into the outage" in text


def test_same_seed_same_report(ward: WardModel) -> None:
    a = run("network-outage", ward, replications=20, seed=11, workers=1, overrides={"outage_minutes": "300"})
    b = run("network-outage", ward, replications=20, seed=11, workers=1, overrides={"outage_minutes": "300"})
    assert a.to_json() == b.to_json()
