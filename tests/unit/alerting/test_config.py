"""``alarms.yaml``: strict validation naming the field, layering, and the documented example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from alerting import ConfigError, build_config, load_config

DOC = Path(__file__).resolve().parents[3] / "docs" / "alarm-configuration.md"


def test_the_documented_example_is_a_valid_configuration(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert block is not None
    path = tmp_path / "alarms.yaml"
    path.write_text(block.group(1))
    config = load_config(path)
    assert config.limits["spo2"].delay_s == 15 and config.patients["p-123"]["spo2"].low == 88
    assert config.policy("icu-2").levels[1].role == "intensivist"
    assert config.limits["nibp_sys"].low == 90  # untouched defaults stay


@pytest.mark.parametrize(("text", "where"), [
    ("limits:\n  spo2: {lwo: 85}\n", "alarms.yaml:2: limits.spo2.lwo: unknown key; did you mean 'low'?"),
    ("limits:\n  spo3: {low: 85}\n", "alarms.yaml:2: limits.spo3: unknown signal 'spo3'; did you mean 'spo2'?"),
    ("patients:\n  p1:\n    pulse: {low: 40}\n", "alarms.yaml:3: patients.p1.pulse: unknown signal 'pulse'"),
    ("anomaly:\n  signals: [spo2, sp02]\n", "anomaly.signals[1]: unknown signal 'sp02'"),
    ("limits:\n  heart_rate: {low: 130, high: 120}\n", "ordered"),
    ("escalation:\n  levels: [{role: a, after_s: 10}]\n", "start at after_s 0"),
    ("technical: {low_battery_percent: 120}\n", "alarms.yaml:1: technical.low_battery_percent"),
    ("anomaly: {detector: magic}\n", "anomaly.detector"),
    ("limits:\n  spo2: {low: abc}\n", "limits.spo2.low: Input should be a valid number, unable to parse string as "
                                      "a number (got 'abc')"),
    ("limits:\n  spo2: {low: 90\n", "alarms.yaml:3: YAML: while parsing a flow mapping"),
    # NaN compares false with everything, so a NaN limit would switch the alarm off without a word
    ("limits:\n  spo2: {low: .nan}\n", "alarms.yaml:2: limits.spo2.low: Input should be a finite number"),
    ("limits:\n  heart_rate: {high: .inf}\n", "limits.heart_rate.high: Input should be a finite number"),
    ("- just a list\n", "top level must be a mapping"),
])
def test_bad_files_are_refused_naming_what_is_wrong(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "alarms.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert where in str(exc.value)
    assert "Value error" not in str(exc.value) and "<unicode string>" not in str(exc.value)


def test_an_empty_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "alarms.yaml"
    path.write_text("\n")
    assert load_config(path) == build_config()


def test_layers_file_over_format_preset_over_defaults(tmp_path: Path) -> None:
    hourly = load_config(None, "physionet2019", 3600)
    assert hourly.limits["spo2"].delay_s == 0 and hourly.technical.stale_alarm is False
    assert hourly.expire_after("heart_rate") == 4 * 3600
    path = tmp_path / "a.yaml"
    path.write_text(yaml.safe_dump({"limits": {"spo2": {"delay_s": 30}}}))
    mine = load_config(path, "physionet2019", 3600)
    assert mine.limits["spo2"].delay_s == 30 and mine.limits["spo2"].low == 90
    minute = load_config(None, "wfdb", 60)
    assert minute.expire_after("heart_rate") == 150
    assert build_config().expire_after("heart_rate") == 30  # the catalogue's horizon
