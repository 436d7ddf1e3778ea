"""``network-outage``: gateway outboxes through a loss of the uplink to the broker.

For each gateway (SimPy process): the uplink drops at t = 0 and returns after ``outage_minutes``
(all gateways, or only ``gateway``); samples keep arriving at devices * sample rate; the outbox
fills until ``outbox_capacity`` and refuses samples beyond it; the publisher reconnects at its first
retry after the link is back (gateway_agent's capped exponential backoff with jitter, drawn from the
replication's rng); then it drains the backlog at ``drain_rate`` (measured by ``smartward bench
gateway``; per replication * a lognormal factor with CV ``drain_cv``) while new samples arrive.
Formulas: :mod:`digital_twin.outbox_fill`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Generator, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import simpy
from pydantic import BaseModel, Field

from ..battery import draw_factor
from ..errors import ParamError, ScenarioError
from ..gateways import Link, links
from ..model import WardModel
from ..outbox_fill import fill, reconnect_at
from ..scenario import Metric, ScenarioParams
from ..stats import MetricSummary
from .wording import count, minutes


class NetworkOutageParams(ScenarioParams):
    outage_minutes: float = Field(240.0, ge=0, le=60 * 24 * 30, description="how long the uplink is down")
    gateway: str = Field("", description="only this gateway loses its uplink (default: every gateway of the ward)")
    outbox_capacity: int | None = Field(None, gt=0, description="samples per outbox (default: each gateway's "
                                        "outbox_capacity; gateway_agent's default is 2,000,000)")
    drain_rate: float | None = Field(None, gt=0, description="samples/s after reconnect (default: each gateway's "
                                     "drain_rate; measure with smartward bench gateway)")
    drain_cv: float = Field(0.2, ge=0, le=2, description="run-to-run variation of the drain rate (CV)")
    sample_rate_hz: float | None = Field(None, gt=0, description="samples/s per device (default: each gateway's)")


class NetworkOutage:
    name: ClassVar[str] = "network-outage"
    title: ClassVar[str] = "Network outage: gateway outbox fill, data loss and catch-up"
    Params: ClassVar[type[BaseModel]] = NetworkOutageParams
    metrics: ClassVar[Mapping[str, Metric]] = {
        "first_loss_min": Metric("min", "time until the first outbox is full (data loss starts)", lower_is_better=False,
                                 absent="no outbox filled up during the outage: no data was lost"),
        "samples_lost": Metric("samples", "samples lost (refused by full outboxes)"),
        "device_minutes_lost": Metric("device-min", "monitoring lost, in device-minutes"),
        "gateways_losing": Metric("gateways", "gateways that lost data"),
        "peak_fill_pct": Metric("%", "fullest outbox at reconnect"),
        "backlog_samples": Metric("samples", "backlog waiting at reconnect (all gateways)"),
        "reconnect_s": Metric("s", "reconnect delay after the link is back (latest gateway)"),
        "catch_up_min": Metric("min", "catch-up time after reconnect (slowest gateway)"),
    }
    references: ClassVar[Sequence[str]] = (
        "gateway_agent outbox defaults (this repository, 2026): 2,000,000 entries (DEFAULT_MAX_ENTRIES) and "
        "1 GiB (DEFAULT_MAX_BYTES), policy reject; one entry per device sample in steady state, so a "
        "10-monitor gateway at 1 Hz holds 2,000,000 / 10 s = 55.6 h.",
        "gateway_agent publisher (this repository, 2026): reconnect with capped exponential backoff, "
        "0.5 s doubling to 15 s, equal jitter; backlog merged to <= 60 samples per MQTT message.",
        "smartward bench gateway (this repository, measured 2026-11-22 on the shared 2-core build machine): "
        "batched backlog drain 27,000-51,500 samples/s to a local Mosquitto at QoS 1 (one sample per message: "
        "4,300-4,700 samples/s); the example ward's 2,000 samples/s is a conservative assumption for a "
        "remote broker.",
        "Real outages last days, not minutes: the WannaCry ransomware (May 2017) disrupted at least 81 of "
        "England's 236 NHS trusts, some for several days (National Audit Office, 'Investigation: WannaCry "
        "cyber attack and the NHS', 2018); plan for the outbox to outlast the longest outage you expect.",
    )

    def check(self, ward: WardModel, params: NetworkOutageParams) -> None:
        """The ward needs gateways; ``gateway`` must be one of them."""
        _affected(ward, params)

    def run_once(self, ward: WardModel, params: NetworkOutageParams, rng: np.random.Generator) -> dict[str, float]:
        affected = _affected(ward, params)
        env = simpy.Environment()
        outage_s = params.outage_minutes * 60.0
        results: list[dict[str, float]] = []
        for link in affected:
            seed = int(rng.integers(2**63))
            factor = draw_factor(rng, params.drain_cv)
            env.process(self._gateway(env, link, params, outage_s, random.Random(seed), factor, results))
        env.run()
        lost = sum(r["lost"] for r in results)
        per_device = sum(r["lost"] / r["rate"] for r in results if r["rate"] > 0)
        losses = [r["loss_at"] for r in results if math.isfinite(r["loss_at"])]
        return {
            "first_loss_min": min(losses) / 60.0 if losses else math.nan,
            "samples_lost": lost,
            "device_minutes_lost": per_device / 60.0,
            "gateways_losing": float(len(losses)),
            "peak_fill_pct": max((r["fill_pct"] for r in results), default=0.0),
            "backlog_samples": sum(r["backlog"] for r in results),
            "reconnect_s": max((r["reconnect_s"] for r in results), default=math.nan),
            "catch_up_min": max((r["catch_up_s"] for r in results), default=0.0) / 60.0,
        }

    @staticmethod
    def _gateway(env: simpy.Environment, link: Link, params: NetworkOutageParams, outage_s: float,
                 backoff_rng: random.Random, drain_factor: float,
                 out: list[dict[str, float]]) -> Generator[Any, Any, None]:
        capacity = float(params.outbox_capacity or link.gateway.outbox_capacity)
        rate = params.sample_rate_hz or link.gateway.sample_rate_hz
        inflow = len(link.devices) * rate
        drain = (params.drain_rate or link.gateway.drain_rate) * drain_factor
        reconnect = reconnect_at(outage_s, backoff_rng) if outage_s > 0 else 0.0
        state = fill(capacity, inflow, reconnect, drain)
        loss_at = math.inf
        if state.time_to_full_s < reconnect:  # the outbox fills up while the link is down
            yield env.timeout(state.time_to_full_s)
            loss_at = env.now
        yield env.timeout(reconnect - env.now)  # the publisher's first retry after the link is back
        if math.isfinite(state.catch_up_s):
            yield env.timeout(state.catch_up_s)  # backlog drained at drain - inflow
        out.append({"lost": state.lost, "rate": rate, "loss_at": loss_at, "backlog": state.backlog,
                    "fill_pct": 100.0 * state.backlog / capacity, "reconnect_s": reconnect - outage_s,
                    "catch_up_s": state.catch_up_s})

    def summarize(self, ward: WardModel, params: NetworkOutageParams, metrics: Mapping[str, MetricSummary]) -> list[str]:
        out: list[str] = []
        outage = params.outage_minutes
        lost = metrics["samples_lost"]
        for link in _affected(ward, params):
            capacity = params.outbox_capacity or link.gateway.outbox_capacity
            inflow = len(link.devices) * (params.sample_rate_hz or link.gateway.sample_rate_hz)
            if inflow <= 0:
                continue
            safe = capacity / inflow / 60.0
            verdict = "loses data" if safe < outage else "loses nothing"
            out.append(f"Gateway {link.gateway.id} ({count(len(link.devices), 'sending device')}) fills its "
                       f"{capacity:,}-sample outbox after {minutes(safe)}: in an outage of {minutes(outage)} it {verdict}.")
        if lost.n and lost.mean > 0:
            first = metrics["first_loss_min"]
            out.append(f"Data loss starts {minutes(first.p50)} into the outage; about {lost.mean:,.0f} samples "
                       f"({minutes(metrics['device_minutes_lost'].mean)} of monitoring across devices) never reach the "
                       "platform (bedside monitors still alarm locally). "
                       "Raise outbox_capacity on the gateways (disk: roughly 200 bytes per sample) or add "
                       "gateways so each carries fewer devices.")
        else:
            out.append(f"No data is lost in an outage of {minutes(outage)}: every outbox holds the backlog.")
        catch = metrics["catch_up_min"]
        if catch.n and math.isfinite(catch.p95):
            out.append(f"After the link returns, the slowest gateway needs {minutes(catch.p95)} (95th percentile) "
                       "to deliver its backlog; until then the central station shows data late, not lost.")
        else:
            out.append("After the link returns a gateway cannot catch up: its drain rate is not above its inflow.")
        return out


def _affected(ward: WardModel, params: NetworkOutageParams) -> list[Link]:
    all_links = links(ward)
    if not all_links:
        raise ScenarioError(f"ward {ward.id} has no gateways: the network-outage drill needs at least one")
    if not params.gateway:
        return all_links
    chosen = [lk for lk in all_links if lk.gateway.id == params.gateway]
    if not chosen:
        known = ", ".join(lk.gateway.id for lk in all_links)
        raise ParamError("network-outage", "gateway", f"no gateway {params.gateway!r} in ward {ward.id}; its gateways: "
                         f"{known}")
    return chosen
