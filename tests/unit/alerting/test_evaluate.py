"""``alarms evaluate`` and the replay metrics it shares: lead window, peak priority, simulated
acknowledgement, AUROC, bootstrap intervals, outcomes, and the command on a slice of set-b."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alerting import ReplaySummary, build_config, preset
from alerting.cohort_metrics import auroc, bootstrap
from alerting.errors import InputError
from alerting.evaluate import MonitorRun, PatientRun, evaluate, run_recording
from alerting.lead_window import HOUR, AlarmTrace, in_lead_window
from alerting.outcomes import Outcomes, from_labels, read_outcomes
from alerting.recordings import Record
from alerting.replay import replay

ONSET = 24 * HOUR


@pytest.mark.parametrize(("before_onset_ms", "in_time"), [
    (12 * HOUR, True), (12 * HOUR + 1, False), (HOUR, True), (HOUR - 1, False), (4 * HOUR, True),
    (0, False), (-HOUR, False)])
def test_lead_window_is_1_to_12_hours_before_the_onset_both_ends_included(before_onset_ms: int, in_time: bool) -> None:
    t = ONSET - before_onset_ms
    assert (in_lead_window([t], ONSET) == t) is in_time


def test_an_alarm_242_hours_before_the_label_is_not_in_time() -> None:
    onset = 250 * HOUR
    assert in_lead_window([8 * HOUR], onset) is None
    assert in_lead_window([8 * HOUR, 245 * HOUR], onset) == 245 * HOUR  # the earliest alarm in the window


def test_peak_priority_follows_escalation_but_urgency_follows_the_condition() -> None:
    unanswered = AlarmTrace("limit", 0, "low")
    unanswered.see("raised", 0, "low", 0)
    unanswered.see("escalated", 120_000, "medium", 1)  # nobody acknowledged: louder, not worse
    unanswered.see("escalated", 240_000, "high", 2)
    assert unanswered.peak == "high" and unanswered.urgent_t is None
    worse = AlarmTrace("limit", 0, "low")
    worse.see("raised", 0, "low", 0)
    assert worse.see("escalated", 60_000, "high", 0) == 60_000  # same level: the condition worsened
    assert worse.peak == "high" and worse.urgent_t == 60_000
    probe = AlarmTrace("technical", 0, "medium")
    assert probe.see("raised", 0, "medium", 0) == 0  # the caller decides technical alarms never count


def _line(t: int, aid: str, event: str, priority: str, level: int = 0, kind: str = "limit",
          patient: str = "p1") -> dict[str, Any]:
    return {"t": t, "patient": patient, "id": aid, "kind": kind, "signal": "spo2", "priority": priority,
            "level": level, "event": event, "reason": ""}


def test_replay_summary_counts_each_alarm_once_at_its_peak_priority() -> None:
    s = ReplaySummary()
    s.span_ms["p1"] = [0, 86_400_000]
    for line in [_line(0, "a1", "raised", "medium"), _line(120_000, "a1", "escalated", "high", 1),
                 _line(300_000, "a1", "acknowledged", "high", 1), _line(400_000, "a1", "cleared", "high", 1),
                 _line(500_000, "a2", "raised", "low", kind="anomaly"),
                 _line(600_000, "a3", "raised", "medium", kind="technical")]:
        s.add(line)
    j = s.to_json()
    assert j["alarms"] == 3 and j["per_patient_day"] == 3.0
    assert j["by_priority"] == {"high": 1.0, "low": 1.0, "medium": 1.0}  # a1 at its peak, high
    assert j["by_kind_priority"]["limit/high"] == 1.0 and "limit/medium" not in j["by_kind_priority"]
    assert s.first_urgent == {"p1": 0}  # the technical alarm says nothing about the patient


def test_replay_summary_in_time_means_in_the_lead_window() -> None:
    s = ReplaySummary()
    s.labels = {"early": 250 * HOUR, "timely": ONSET}
    s.add(_line(8 * HOUR, "a1", "raised", "high", patient="early"))
    s.add(_line(20 * HOUR, "a1", "raised", "medium", patient="timely"))
    onset = s.to_json()["label_onset"]
    assert onset["early"]["in_time"] is False and onset["early"]["first_medium_or_high_t"] == 8 * HOUR
    assert onset["timely"]["in_time"] is True and onset["timely"]["lead_window_t"] == 20 * HOUR


def _hourly_desaturation() -> tuple[list[Record], Any]:
    config = build_config(preset("physionet2012", 3600.0), {"anomaly": {"enabled": False}, "news2": {"enabled": False}})
    records = [Record("p1", h * HOUR, {"spo2": 80.0 if 1 <= h <= 3 else 97.0}) for h in range(6)]
    return records, config


def test_without_a_nurse_a_high_alarm_stays_latched_and_escalates_only_when_data_arrives() -> None:
    records, config = _hourly_desaturation()
    lines = list(replay(records, config))
    assert [x["event"] for x in lines if x["event"] in ("acknowledged", "cleared")] == []
    assert all(x["t"] % HOUR == 0 for x in lines)


def test_simulated_nurse_acknowledges_with_a_real_command_and_the_engine_escalates_on_time() -> None:
    records, config = _hourly_desaturation()
    lines = list(replay(records, config, ack_after_s=300))
    raised = [x for x in lines if x["event"] == "raised"]
    assert len(raised) == 1 and raised[0]["t"] == HOUR and raised[0]["priority"] == "high"
    aid = raised[0]["id"]
    ack = [x for x in lines if x["event"] == "acknowledged"]
    assert [(x["id"], x["t"]) for x in ack] == [(aid, HOUR + 300_000)]
    first_step = config.policy("replay").levels[1].after_s * 1000
    escalated = [x["t"] for x in lines if x["event"] == "escalated"]
    assert escalated and escalated[0] == HOUR + first_step < HOUR + 300_000  # between two hourly records
    assert not [t for t in escalated if t > HOUR + 300_000]  # acknowledged: no further escalation
    cleared = [x for x in lines if x["event"] == "cleared"]
    # acknowledged, so it clears when SpO2 recovers: charted data, the next charted value confirms the end
    assert [x["t"] for x in cleared] == [5 * HOUR]


def test_a_worse_condition_after_the_acknowledgement_is_acknowledged_again() -> None:
    config = build_config(preset("physionet2012", 3600.0), {"anomaly": {"enabled": False}, "news2": {"enabled": False}})
    values = [97.0, 88.0, 88.0, 80.0, 80.0, 97.0]  # medium below 90, then high below the critical 85
    records = [Record("p1", h * HOUR, {"spo2": v}) for h, v in enumerate(values)]
    lines = list(replay(records, config, ack_after_s=60))  # before the first escalation step (120 s)
    acks = [x["t"] for x in lines if x["event"] == "acknowledged"]
    # charted data: 88 (not critical) alarms when the next charted value confirms it; 80 (critical) at once
    assert acks == [2 * HOUR + 60_000, 3 * HOUR + 60_000]
    assert len({x["id"] for x in lines}) == 1


def test_auroc_on_tiny_known_cases() -> None:
    y = np.array([False, False, True, True])
    assert auroc(np.array([1.0, 2.0, 3.0, 4.0]), y) == 1.0
    assert auroc(np.array([4.0, 3.0, 2.0, 1.0]), y) == 0.0
    assert auroc(np.array([1.0, 3.0, 2.0, 4.0]), y) == 0.75  # 3 of the 4 (event, non-event) pairs ordered
    assert auroc(np.array([2.0, 2.0, 2.0, 2.0]), y) == 0.5  # ties count half
    assert auroc(np.array([1.0, np.nan, 2.0, 4.0]), y) == 1.0  # a missing score is left out
    assert np.isnan(auroc(np.array([1.0, 2.0]), np.array([True, True])))


def test_bootstrap_interval_contains_the_point_estimate_and_is_seeded() -> None:
    x = np.random.default_rng(3).normal(10, 2, 200)
    stats = {"mean": lambda idx: float(x[idx].mean())}
    a = bootstrap(stats, len(x), resamples=500, seed=1)["mean"]
    b = bootstrap(stats, len(x), resamples=500, seed=1)["mean"]
    assert a == b and a.value == pytest.approx(x.mean())
    assert a.low < a.value < a.high and 0.3 < a.high - a.low < 0.8  # about 4 standard errors (0.14) wide


def _patient(pid: str, engine_urgent: list[int], naive_urgent: list[int], news2: float | None,
             engine_counts: dict[str, int], days: float = 2.0) -> PatientRun:
    naive_counts = Counter({"limit/medium": len(naive_urgent)})
    return PatientRun(pid, int(days * 86_400_000), None, {
        "engine": MonitorRun(Counter(engine_counts), engine_urgent, news2),
        "naive": MonitorRun(naive_counts, naive_urgent, float(len(naive_urgent)))})


def _cohort() -> list[PatientRun]:
    return [
        _patient("timely", [20 * HOUR], [int(23.5 * HOUR)], 7, {"news2/medium": 1, "limit/low": 1}),
        _patient("early", [8 * HOUR], [], 6, {"news2/medium": 1, "technical/medium": 2}),
        _patient("quiet1", [], [5 * HOUR], 2, {}),
        _patient("quiet2", [10 * HOUR], [], 6.5, {"limit/high": 1}),
        _patient("late", [], [], 1, {}),
    ]


def test_evaluate_on_a_synthetic_cohort_gives_the_known_figures() -> None:
    outcomes = Outcomes("sepsis", {"timely": ONSET, "early": 250 * HOUR, "late": int(0.5 * HOUR)})
    r = evaluate(_cohort(), outcomes, resamples=200, seed=5)
    c = r["cohort"]
    assert (c["patients"], c["events"], c["events_not_evaluable"], c["with_outcome"]) == (5, 2, 1, 4)
    eng, nai = r["monitors"]["engine"], r["monitors"]["naive"]
    assert eng["events_alarmed"]["value"] == 0.5 and eng["events_alarmed"]["alarmed"] == 1  # "timely" only
    assert nai["events_alarmed"]["value"] == 0.0  # 30 min before the onset is too late
    assert eng["median_lead_h"]["value"] == 4.0
    assert eng["alarms_per_patient_day"]["value"] == pytest.approx(6 / 10)
    assert eng["physiological_per_patient_day"]["value"] == pytest.approx(4 / 10)  # technical left out
    assert eng["by_peak_priority"] == {"high": 0.1, "medium": 0.4, "low": 0.1}
    # alarms per true positive: physiological alarms of patients with a known outcome / events alarmed
    assert eng["physiological_alarms_per_true_positive"]["value"] == 4.0
    assert eng["auroc"]["value"] == pytest.approx(0.75)  # NEWS2 7, 6 vs 2, 6.5: 3 of 4 pairs ("late" is out)
    assert r["engine_to_naive"]["alarms_per_patient_day"]["value"] == pytest.approx(6 / 2)
    for fig in (eng["alarms_per_patient_day"], eng["auroc"], r["engine_to_naive"]["physiological_per_patient_day"]):
        lo, hi = fig["ci95"]
        assert lo <= fig["value"] <= hi


def test_in_hospital_death_counts_an_alarm_any_time_in_the_stay_beside_the_reference_score() -> None:
    outcomes = Outcomes("in-hospital death", {"early": None, "timely": None},
                        frozenset({"early", "timely", "quiet1", "quiet2"}), "SAPS-I",
                        {"early": 20, "timely": 18, "quiet1": 10, "quiet2": 19})
    r = evaluate(_cohort(), outcomes, resamples=200)
    assert r["monitors"]["engine"]["events_alarmed"]["value"] == 1.0
    assert r["monitors"]["naive"]["events_alarmed"]["value"] == 0.5
    assert r["monitors"]["engine"]["median_lead_h"] is None  # no onset time, no lead time
    assert r["reference_auroc"]["score"] == "SAPS-I" and r["reference_auroc"]["patients"] == 4
    assert r["reference_auroc"]["value"] == pytest.approx(0.75)
    assert r["cohort"]["with_outcome"] == 4  # "late" is not in the outcomes file
    outcomes = Outcomes("in-hospital death", {"gone": None}, frozenset({"early", "gone"}))
    assert evaluate(_cohort(), outcomes, resamples=10)["cohort"]["outcomes_without_recording"] == {
        "patients": 1, "events": 1}  # a stay without vital signs is named, not silently dropped


def test_outcomes_files(tmp_path: Path) -> None:
    txt = tmp_path / "Outcomes-x.txt"
    txt.write_text("RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death\n"
                   "142675,27,14,9,7,1\n142676,-1,1,31,468,0\n")
    o = read_outcomes(txt)
    assert o.events == {"142675": None} and o.reference == {"142675": 27.0} and o.has_outcome("142676")
    assert not o.has_outcome("999")
    js = tmp_path / "events.json"
    js.write_text(json.dumps({"outcome": "sepsis", "events": {"p1": 26.5, "p2": None},
                              "reference": {"name": "SOFA", "scores": {"p1": 3}}}))
    o = read_outcomes(js)
    assert o.events == {"p1": int(26.5 * HOUR), "p2": None} and o.reference_name == "SOFA" and o.has_outcome("p9")
    js.write_text(json.dumps({"events": {"p1": "soon"}}))
    with pytest.raises(InputError, match=r"events\.p1"):
        read_outcomes(js)
    txt.write_text("RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death\n142675,27,14,9,7,yes\n")
    with pytest.raises(InputError, match="line 2"):
        read_outcomes(txt)


def test_sepsis_labels_of_physionet2019_recordings_are_the_outcome(testdata: Path) -> None:
    patients = [p for path in sorted((testdata / "physionet2019").glob("*.psv")) for p in run_recording(path)[0]]
    labels = {p.patient: p.label_onset for p in patients if p.label_onset is not None}
    assert labels == {"p000011": 24 * HOUR}
    r = evaluate(patients, from_labels(labels), resamples=100)
    assert r["cohort"]["events"] == 1 and r["method"]["lead_window_h"] == [1.0, 12.0]
    assert set(r["monitors"]) == {"engine", "naive"}


def test_cli_evaluates_a_slice_of_set_b(testdata: Path, tmp_path: Path) -> None:
    cohort = testdata / "physionet2012"
    out = tmp_path / "eval.json"
    proc = subprocess.run([sys.executable, "-m", "smartward", "alarms", "evaluate", "--input", str(cohort / "set-b"),
                           "--outcomes", str(cohort / "Outcomes-b.txt"), "--limit", "50", "--resamples", "200",
                           "--json", str(out)], capture_output=True, text=True, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    r = json.loads(out.read_text())
    assert r["run"]["recordings"] == 50 and 40 <= r["cohort"]["patients"] <= 50
    assert r["cohort"]["outcome"] == "in-hospital death" and r["cohort"]["events"] > 0
    assert r["reference_auroc"]["score"] == "SAPS-I" and 0.5 < r["reference_auroc"]["value"] <= 1
    for m in ("engine", "naive"):
        mon = r["monitors"][m]
        for fig in ("alarms_per_patient_day", "events_alarmed", "auroc"):
            lo, hi = mon[fig]["ci95"]
            assert lo <= mon[fig]["value"] <= hi, (m, fig)
        assert set(mon["by_peak_priority"]) == {"high", "medium", "low"}
    assert "engine / naive" in proc.stdout and "AUROC" in proc.stdout and "SAPS-I" in proc.stdout
    assert "\r[" not in proc.stderr  # no progress bar when stderr is not a terminal
