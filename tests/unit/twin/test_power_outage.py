"""power-outage drill: battery discharge model, generator transfer, gateway UPS, loss vs outage length."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digital_twin import WardModel, example_ward_path, load_ward
from digital_twin.battery import LITHIUM_ION, Battery, Chemistry, full_runtime_h, runtime_min
from digital_twin.runner import run
from digital_twin.scenarios.power_outage import PowerOutage, PowerOutageParams
from digital_twin.stats import summarize

EXACT = {"battery_health_sd": 0, "ups_health_sd": 0, "draw_cv": 0}  # no per-run spread: exact figures


@pytest.fixture(scope="module")
def ward() -> WardModel:
    return load_ward(example_ward_path())


def with_ups(ward: WardModel, minutes: float) -> WardModel:
    return ward.with_overrides(gateways=[g.model_copy(update={"ups_minutes": minutes}) for g in ward.gateways])


def once(ward: WardModel, seed: int = 0, **kw: object) -> dict[str, float]:
    return PowerOutage().run_once(ward, PowerOutageParams.model_validate(kw), np.random.default_rng(seed))


def test_battery_runtime_peukert_and_partial_charge() -> None:
    linear = Chemistry(peukert_k=1.0, reserve_pct=0.0)
    assert runtime_min(60, 20, 100, linear) == pytest.approx(180.0)  # 60 Wh at 20 W
    assert runtime_min(60, 20, 50, linear) == pytest.approx(90.0)
    assert runtime_min(60, 20, 100, linear, health=0.8) == pytest.approx(144.0)
    # Peukert: drawing faster than the rated 5-hour rate costs extra capacity, slower gains some
    assert full_runtime_h(65, 16, LITHIUM_ION) < 65 / 16
    assert full_runtime_h(65, 5, LITHIUM_ION) > 65 / 5
    assert runtime_min(65, 16, LITHIUM_ION.reserve_pct, LITHIUM_ION) == 0.0
    assert runtime_min(65, 0, 50, LITHIUM_ION) == math.inf
    pack = Battery(60, 20, 100, linear, 1.0)
    pack.discharge(90)
    assert pack.soc == pytest.approx(50.0) and pack.minutes_left() == pytest.approx(90.0)
    pack.charge(60)
    assert pack.soc == pytest.approx(50.0 + linear.recharge_pct_per_hour)


def test_generator_that_starts_loses_nothing(ward: WardModel) -> None:
    r = once(ward, generator_fail_pct=0, generator_fail_per_hour=0, outage_minutes=600)
    assert r["devices_losing_data"] == 0 and r["data_lost_device_min"] == 0 and math.isnan(r["first_loss_min"])
    assert r["generator_failed_pct"] == 0 and r["gateways_down"] == 0


def test_without_generator_the_ups_is_the_first_loss(ward: WardModel) -> None:
    r = once(ward, generator_fail_pct=100, outage_minutes=120, **EXACT)
    ups = 30 * PowerOutageParams().ups_health_mean  # example gateways: 30 min UPS at 85 % health
    assert r["first_gateway_down_min"] == pytest.approx(ups) and r["first_loss_min"] == pytest.approx(ups)
    assert r["devices_losing_data"] == 30 and r["gateways_down"] == 3 and r["generator_failed_pct"] == 100
    # every device is dark from the UPS running flat until mains + gateway boot
    assert r["data_lost_device_min"] == pytest.approx(30 * (120 + 2 - ups))


def test_with_big_ups_the_weakest_battery_is_the_first_loss(ward: WardModel) -> None:
    big = with_ups(ward, 10_000)
    params = PowerOutageParams.model_validate({"generator_fail_pct": 100, "outage_minutes": 600, **EXACT})
    r = PowerOutage().run_once(big, params, np.random.default_rng(1))
    chem = Chemistry(peukert_k=params.peukert_k)
    weakest = min(runtime_min(d.battery_wh, d.draw_w, d.battery_pct, chem, params.battery_health_mean)
                  for d in big.devices)
    assert r["first_loss_min"] == pytest.approx(weakest) and r["gateways_down"] == 0


def test_more_outage_more_loss(ward: WardModel) -> None:
    big = with_ups(ward, 10_000)
    lost = [PowerOutage().run_once(big, PowerOutageParams(generator_fail_pct=100, outage_minutes=m),
                                   np.random.default_rng(5))["data_lost_device_min"] for m in (60, 180, 360)]
    assert lost[0] == 0 < lost[1] < lost[2]


def test_devices_without_battery_lose_the_transfer_and_reboot(ward: WardModel) -> None:
    no_battery = ward.with_overrides(devices=[d.model_copy(update={"battery_wh": 0.0}) for d in ward.devices])
    r = once(no_battery, generator_fail_pct=0, generator_fail_per_hour=0, outage_minutes=60, transfer_s=10)
    assert r["devices_losing_data"] == 30
    per_device = r["data_lost_device_min"] / 30
    assert 2 + 5 / 60 <= per_device <= 2 + 10 / 60  # transfer (5-10 s) + 2 min boot


def test_summary_names_the_beds_to_charge_first(ward: WardModel) -> None:
    sc = PowerOutage()
    params = PowerOutageParams(outage_minutes=150)
    rows = [sc.run_once(ward, params, np.random.default_rng(s)) for s in range(20)]
    metrics = {k: summarize([r[k] for r in rows]) for k in sc.metrics}
    text = " ".join(sc.summarize(ward, params, metrics))
    # the example's 60 % and 70 % charged monitors (beds 09, 19, 29, 07, 17, 27) run flat within 150 min
    assert "beds 09 (1 h 52 min), 19 (1 h 52 min), 29 (1 h 52 min), 07" in text
    assert "gw-west" in text and "UPS" in text


def test_same_seed_same_report(ward: WardModel) -> None:
    a = run("power-outage", ward, replications=30, seed=5, workers=1)
    b = run("power-outage", ward, replications=30, seed=5, workers=1)
    assert a.to_json() == b.to_json()
