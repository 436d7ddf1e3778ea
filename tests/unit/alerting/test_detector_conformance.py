"""One conformance suite for every anomaly detector (river-style shared checks).

Each detector, wrapped in :class:`alerting.Protected`, must: stay quiet during warm-up; rarely
flag stationary noise; flag spikes, level shifts, trend changes and dropouts in general (several
signals, several baselines, seeded noise); not learn from what it flags (protected learning); explain
every alert by naming the deviating signal against the patient's own baseline; be deterministic.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from alerting import DETECTORS, Protected, make_detector

SIGNALS = {"heart_rate": (78.0, 3.0), "spo2": (97.0, 0.8), "resp_rate": (16.0, 1.2), "nibp_sys": (125.0, 5.0)}
WARMUP = 30
THRESHOLD = 6.0


def make(name: str) -> Protected:
    return make_detector(name, THRESHOLD, WARMUP)


def stream(seed: int, n: int, change: Callable[[int, str, float], float] | None = None) -> list[dict[str, float]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        x = {}
        for k, (mu, sd) in SIGNALS.items():
            v = rng.gauss(mu, sd)
            x[k] = change(i, k, v) if change else v
        out.append(x)
    return out


def run(det: Protected, xs: list[dict[str, float]]) -> list[int]:
    return [i for i, x in enumerate(xs) if det.process_one(x).anomalous]


@pytest.fixture(params=sorted(DETECTORS))
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_warm_up_never_alerts(name: str) -> None:
    det = make(name)
    xs = stream(1, WARMUP, lambda i, k, v: v * (3 if i == 5 else 1))
    assert run(det, xs) == []
    assert det.process_one(xs[0]).warming_up is False


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stationary_noise_is_rarely_flagged(name: str, seed: int) -> None:
    flagged = run(make(name), stream(seed, 600))
    assert len(flagged) <= 3


@pytest.mark.parametrize("signal", sorted(SIGNALS))
def test_spike_is_flagged_and_explained(name: str, signal: str) -> None:
    _mu, sd = SIGNALS[signal]
    xs = stream(4, 200, lambda i, k, v: v + (12 * max(sd, 1.5) if i == 150 and k == signal else 0))
    det = make(name)
    verdicts = [det.process_one(x) for x in xs]
    assert verdicts[150].anomalous
    assert verdicts[150].deviations[0].signal == signal
    assert signal in verdicts[150].explain() and "baseline" in verdicts[150].explain()
    assert not verdicts[151].anomalous  # one spike, one alert


def test_level_shift_is_flagged_promptly_and_then_accepted(name: str) -> None:
    xs = stream(5, 400, lambda i, k, v: v - (8 if i >= 200 and k == "spo2" else 0))
    flagged = run(make(name), xs)
    assert flagged and 200 <= flagged[0] <= 202
    assert max(flagged) < 260  # re-baselined after the shift was reported: no alarm forever


def test_trend_change_is_flagged(name: str) -> None:
    xs = stream(6, 400, lambda i, k, v: v + (max(0, i - 200) * 0.6 if k == "heart_rate" else 0))
    flagged = run(make(name), xs)
    assert flagged and 200 < flagged[0] <= 260


def test_dropout_to_zero_is_flagged(name: str) -> None:
    xs = stream(7, 200, lambda i, k, v: 0.0 if 150 <= i < 155 and k == "resp_rate" else v)
    flagged = run(make(name), xs)
    assert 150 in flagged


def test_protected_learning_does_not_absorb_flagged_points(name: str) -> None:
    det = make(name)
    for x in stream(8, 200):
        det.process_one(x)
    bad = {"heart_rate": 140.0, "spo2": 97.0, "resp_rate": 16.0, "nibp_sys": 125.0}
    verdicts = [det.process_one(bad) for _ in range(5)]
    assert all(v.anomalous for v in verdicts)
    assert verdicts[-1].score >= verdicts[0].score * 0.95  # the baseline did not move towards it


def test_missing_signals_are_not_scored_as_normal_values(name: str) -> None:
    det = make(name)
    for x in stream(9, 100):
        det.process_one(x)
    v = det.process_one({"heart_rate": 78.0})
    assert not v.anomalous
    assert det.process_one({}).score == 0.0


def test_deterministic(name: str) -> None:
    xs = stream(10, 300, lambda i, k, v: v * (1.5 if i % 97 == 0 else 1))
    assert run(make(name), xs) == run(make(name), xs)


def test_river_protocol_score_then_learn(name: str) -> None:
    det = make(name)
    xs = stream(11, 200, lambda i, k, v: v + (40 if i == 150 and k == "heart_rate" else 0))
    scores = []
    for x in xs:
        scores.append(det.score_one(x))
        det.learn_one(x)
    assert max(range(len(scores)), key=scores.__getitem__) == 150
    assert scores[:WARMUP] == [0.0] * WARMUP
