"""``power-outage``: mains lost for ``outage_minutes``; generator transfer; devices and gateways on battery.

SimPy model (minutes; every random draw from the replication's rng):

- Mains fails at t = 0 and returns at ``outage_minutes``. The generator picks up the essential
  (emergency) branch after a transfer time drawn uniformly in [½, 1] * ``transfer_s`` (NFPA 110
  Type 10: ≤ 10 s), unless it fails to start or take the load (probability ``generator_fail_pct``);
  once running it fails at a constant rate ``generator_fail_per_hour``.
- A mains-powered device is on the emergency branch with probability ``emergency_outlet_pct``
  (else on the normal branch, dark for the whole outage). Unpowered, it runs on its battery
  (:mod:`digital_twin.battery`: Peukert, ageing drawn per replication, draw varying per replication);
  powered again, it recharges. When its battery is flat it stops; after power returns it needs
  ``device_boot_minutes`` to send again. Battery-only devices (``mains: false``) are not affected.
- A gateway is on the emergency branch behind its UPS (``ups_minutes`` at its load, ageing
  ``ups_health_*``); when the UPS is flat it stops, and every device behind it loses data until the
  gateway is powered and booted again (``gateway_boot_minutes``).
- Data lost by a device = the union of its own dark time and its gateway's, in device-minutes.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import simpy
from pydantic import BaseModel, Field

from ..battery import LEAD_ACID, LITHIUM_ION, Battery, Chemistry, draw_factor, draw_health, runtime_min
from ..gateways import gateway_of, links
from ..model import WardModel
from ..scenario import Metric, ScenarioParams
from ..stats import MetricSummary
from .wording import count, listing, minutes

Interval = tuple[float, float]


class PowerOutageParams(ScenarioParams):
    outage_minutes: float = Field(240.0, gt=0, le=60 * 24 * 14, description="how long mains is lost")
    generator_fail_pct: float = Field(2.0, ge=0, le=100, description="% of outages where the generator does not "
                                      "start or take the load (100 = no generator)")
    generator_fail_per_hour: float = Field(0.005, ge=0, description="failure rate of a running generator, per hour")
    transfer_s: float = Field(10.0, ge=0, le=600, description="longest transfer to generator (NFPA 110 Type 10)")
    emergency_outlet_pct: float = Field(100.0, ge=0, le=100, description="% of devices plugged into "
                                        "emergency-branch (red) outlets")
    battery_health_mean: float = Field(0.85, gt=0, le=1, description="mean remaining capacity of device batteries")
    battery_health_sd: float = Field(0.08, ge=0, le=0.5, description="spread of device battery health")
    ups_health_mean: float = Field(0.85, gt=0, le=1, description="mean remaining capacity of gateway UPS batteries")
    ups_health_sd: float = Field(0.1, ge=0, le=0.5, description="spread of UPS battery health")
    draw_cv: float = Field(0.15, ge=0, le=1, description="run-to-run variation of a device's power draw (CV)")
    peukert_k: float = Field(LITHIUM_ION.peukert_k, ge=1, le=1.6, description="Peukert exponent of device batteries")
    device_boot_minutes: float = Field(2.0, ge=0, description="time a device needs to send again after power returns")
    gateway_boot_minutes: float = Field(2.0, ge=0, description="the same for a gateway")


class _Supply:
    """One power branch; ``changed`` fires (and is replaced) on every switch on or off."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env, self.on = env, False
        self.changed: simpy.Event = env.event()

    def set(self, on: bool) -> None:
        if on != self.on:
            self.on = on
            old, self.changed = self.changed, self.env.event()
            old.succeed()


class PowerOutage:
    name: ClassVar[str] = "power-outage"
    title: ClassVar[str] = "Power outage: generator transfer, devices and gateways on battery"
    Params: ClassVar[type[BaseModel]] = PowerOutageParams
    metrics: ClassVar[Mapping[str, Metric]] = {
        "first_loss_min": Metric("min", "time until the first device loses data", lower_is_better=False,
                                 absent="no device lost data during the outage"),
        "devices_losing_data": Metric("devices", "devices that lose data"),
        "data_lost_device_min": Metric("device-min", "data lost, in device-minutes"),
        "gateways_down": Metric("gateways", "gateways that lose power (UPS flat)"),
        "first_gateway_down_min": Metric("min", "time until the first gateway goes down", lower_is_better=False,
                                         absent="no gateway went down during the outage"),
        "generator_failed_pct": Metric("%", "generator did not carry the outage", proportion=True),
    }
    references: ClassVar[Sequence[str]] = (
        "NFPA 110 (2022) Standard for Emergency and Standby Power Systems, Type 10: power restored to the "
        "essential loads within 10 s; NFPA 99 (2021) Health Care Facilities Code: Category 1-2 patient care "
        "spaces have critical-branch receptacles (red outlets) served by that system.",
        "NFPA 110 8.4.2: generator sets exercised monthly for at least 30 min under load; The Joint Commission "
        "EC.02.05.07 requires the same test records - failures to start are found this way, not in an outage.",
        "Emergency diesel generators in US nuclear plants (maintained to a stricter standard than hospital sets) "
        "fail to start or load on the order of 10^-3 to 10^-2 per demand and fail to run on the order of "
        "10^-3 per hour (NRC NUREG/CR-6928, 2007); the defaults here (2 % per outage, 0.005/h) are assumptions.",
        "Transport-capable bedside monitors run about 2-5 h on a full battery (manufacturer datasheets, e.g. "
        "65 Wh at 16 W); lithium-ion packs count as worn out at 80 % of rated capacity (IEEE 1188-2005 uses the "
        "same 80 % criterion for stationary batteries); Peukert exponent about 1.05 for lithium-ion, 1.1-1.3 "
        "for lead-acid (Doerffel & Sharkh 2006, J Power Sources 155:395).",
    )

    def check(self, ward: WardModel, params: PowerOutageParams) -> None:
        """Nothing in the parameters refers to the ward: any ward can lose power."""

    def run_once(self, ward: WardModel, params: PowerOutageParams, rng: np.random.Generator) -> dict[str, float]:
        env = simpy.Environment()
        emergency, normal = _Supply(env), _Supply(env)
        end = params.outage_minutes
        gen_ok = bool(rng.random() >= params.generator_fail_pct / 100.0)
        transfer = float(rng.uniform(0.5, 1.0)) * params.transfer_s / 60.0
        run_fail = (float(rng.exponential(60.0 / params.generator_fail_per_hour))
                    if params.generator_fail_per_hour > 0 else math.inf)
        env.process(_grid(env, emergency, normal, end, gen_ok, transfer, run_fail))
        gen_carried = gen_ok and transfer + run_fail >= end

        down: dict[str, list[Interval]] = {}  # device or gateway id -> intervals without data
        chem = Chemistry(peukert_k=params.peukert_k)
        occupied = {b.id for b in ward.occupied_beds()}
        devices = [d for d in ward.devices if d.bed in occupied]
        for d in devices:
            supply = emergency if rng.random() < params.emergency_outlet_pct / 100.0 else normal
            health = draw_health(rng, params.battery_health_mean, params.battery_health_sd)
            draw = d.draw_w * draw_factor(rng, params.draw_cv)
            if d.mains:
                pack = Battery(d.battery_wh, draw, d.battery_pct, chem, health)
                env.process(_powered(env, supply, pack, params.device_boot_minutes, down.setdefault(d.id, [])))
        gateway_ids = []
        for link in links(ward):
            g = link.gateway
            gateway_ids.append(g.id)
            health = draw_health(rng, params.ups_health_mean, params.ups_health_sd)
            ups = Battery(g.ups_minutes / 60.0, 1.0, 100.0, LEAD_ACID_RUNTIME, health)
            env.process(_powered(env, emergency, ups, params.gateway_boot_minutes, down.setdefault(g.id, [])))
        horizon = end + max(params.device_boot_minutes, params.gateway_boot_minutes) + 1.0
        env.run(until=horizon)

        behind = gateway_of(ward)
        lost_min, starts = [], []
        for d in devices:
            spans = _close(down.get(d.id, []), horizon) + _close(down.get(behind.get(d.id, ""), []), horizon)
            total = _union_length(spans)
            if total > 0:
                lost_min.append(total)
                starts.append(min(a for a, _ in spans))
        gw_starts = [iv[0][0] for g in gateway_ids if (iv := down.get(g))]
        return {
            "first_loss_min": min(starts) if starts else math.nan,
            "devices_losing_data": float(len(lost_min)),
            "data_lost_device_min": float(sum(lost_min)),
            "gateways_down": float(len(gw_starts)),
            "first_gateway_down_min": min(gw_starts) if gw_starts else math.nan,
            "generator_failed_pct": 0.0 if gen_carried else 100.0,
        }

    def summarize(self, ward: WardModel, params: PowerOutageParams, metrics: Mapping[str, MetricSummary]) -> list[str]:
        out: list[str] = []
        outage = params.outage_minutes
        occupied = {b.id for b in ward.occupied_beds()}
        monitored = [d for d in ward.devices if d.bed in occupied]
        mains = [d for d in monitored if d.mains]
        if not monitored:
            out.append("No device is at an occupied bed: a power outage costs no monitoring data.")
            return out
        gen = metrics["generator_failed_pct"]
        first = metrics["first_loss_min"]
        runs = first.n + first.missing
        out.append(f"In {gen.mean:.0f} % of {runs} simulated {minutes(outage)} outages the generator did not carry "
                   f"the load, and data was lost in {100.0 * first.n / max(runs, 1):.0f} % of the outages; on average "
                   f"{metrics['devices_losing_data'].mean:.1f} of {len(monitored)} monitored devices lost data, "
                   f"{metrics['data_lost_device_min'].mean:.0f} device-minutes per outage.")
        gw = metrics["first_gateway_down_min"]
        if first.n:
            cause = ""
            if gw.n and gw.p50 <= first.p50 + 1e-6:
                cause = (f"; the gateways' UPS are the weak link (first gateway down after {minutes(gw.p50)}), "
                         "so devices lose data even while their own batteries still run")
            out.append(f"When data is lost, the first device goes dark after {minutes(first.p50)} (median of "
                       f"{first.n} runs with loss){cause}.")
        chem = Chemistry(peukert_k=params.peukert_k)
        nominal = sorted(((runtime_min(d.battery_wh, d.draw_w, d.battery_pct, chem, params.battery_health_mean), d)
                          for d in mains), key=lambda x: (x[0], x[1].id))
        short = [(m, d) for m, d in nominal if m < outage]
        if short:
            beds = listing([f"{d.bed} ({minutes(m)})" for m, d in short])
            out.append(f"Without the generator, {len(short)} of {len(mains)} devices run flat within the "
                       f"outage on battery alone: beds {beds} at today's charge and {params.battery_health_mean:.0%} "
                       "battery health. Charge or replace these batteries first.")
        elif nominal:
            out.append(f"Every device's battery outlasts a {minutes(outage)} outage on its own (shortest: bed "
                       f"{nominal[0][1].bed}, {minutes(nominal[0][0])}).")
        no_battery = [d for d in mains if d.battery_wh <= 0]
        if no_battery:
            out.append(f"{count(len(no_battery), 'device')} without a battery ({listing([d.id for d in no_battery])}) "
                       f"go dark at every transfer and lose about {minutes(params.device_boot_minutes)} while rebooting.")
        ups = [(lk.gateway.ups_minutes * params.ups_health_mean, lk.gateway.id) for lk in links(ward)]
        weak = sorted((m, g) for m, g in ups if m < outage)
        if weak:
            out.append(f"Gateway UPS runtime is shorter than the outage for {listing([g for _, g in weak])} "
                       f"(about {minutes(weak[0][0])} at {params.ups_health_mean:.0%} health): if the generator fails, "
                       "every device behind them loses data from then on. Size the UPS for the outage or put the "
                       "gateways and network switches on the generator-backed branch with a tested transfer.")
        return out


# A UPS modelled as "runtime at its load": 1 W out of ``ups_minutes / 60`` Wh, linear (k = 1).
LEAD_ACID_RUNTIME = Chemistry(peukert_k=1.0, rated_hours=1.0, reserve_pct=0.0,
                              recharge_pct_per_hour=LEAD_ACID.recharge_pct_per_hour)


def _grid(env: simpy.Environment, emergency: _Supply, normal: _Supply, end: float, gen_ok: bool,
          transfer: float, run_fail: float) -> Generator[Any, Any, None]:
    """Mains off at 0; generator on the emergency branch after ``transfer`` (if it works); mains back at ``end``."""
    if gen_ok and transfer < end:
        yield env.timeout(transfer)
        emergency.set(True)
        if transfer + run_fail < end:
            yield env.timeout(run_fail)
            emergency.set(False)
    yield env.timeout(end - env.now)
    emergency.set(True)
    normal.set(True)


def _powered(env: simpy.Environment, supply: _Supply, pack: Battery, boot: float,
             down: list[Interval]) -> Generator[Any, Any, None]:
    """A load on ``supply`` bridged by ``pack``; appends each (start, end) without data to ``down``."""
    while True:
        t0 = env.now
        if supply.on:
            yield supply.changed  # switched off
            pack.charge(env.now - t0)
            continue
        left = pack.minutes_left()
        if left > 0:
            changed = supply.changed
            got = yield changed | env.timeout(left)
            pack.discharge(env.now - t0)
            if changed in got:  # power is back before the battery ran flat
                continue
        start = env.now  # flat (or no battery): dark until powered and booted again
        while not supply.on:
            yield supply.changed
        yield env.timeout(boot)
        down.append((start, env.now))


def _close(spans: list[Interval], horizon: float) -> list[Interval]:
    return [(a, min(b, horizon)) for a, b in spans if a < horizon]


def _union_length(spans: list[Interval]) -> float:
    total, cur_a, cur_b = 0.0, -math.inf, -math.inf
    for a, b in sorted(spans):
        if a > cur_b:
            total += max(0.0, cur_b - cur_a) if math.isfinite(cur_a) else 0.0
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if math.isfinite(cur_a):
        total += cur_b - cur_a
    return total

