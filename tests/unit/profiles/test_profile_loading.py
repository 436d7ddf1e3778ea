"""Loading profiles: built-ins validate; bad files are refused naming key and line; nothing executes."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import orjson
import pytest
import yaml

from device_profiles import ProfileValidationError, compile_profile, compile_profile_file, model_json_schema
from device_profiles.registry import BUILTIN_DIR
from smartward.cli import main

BUILTINS = sorted(BUILTIN_DIR.glob("*.yaml"))
SCHEMA_FILE = BUILTIN_DIR.parent / "schema" / "device-profile.v2.schema.json"

GOOD = """\
schema_version: 2
id: acme-w2
vendor: ACME
model: W2
transport: mqtt-json
mqtt:
  topic: acme/{serial}/vitals
time: {source: payload, path: ts, format: epoch_ms}
fields:
  - signal: heart_rate
    path: hr
  - signal: temperature
    path: temp
    unit: degF
"""


def issues(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ProfileValidationError) as ei:
        compile_profile(text, "p.yaml")
    return [(i.line, i.where, i.message) for i in ei.value.issues]


def test_builtin_profiles_exist_and_validate() -> None:
    assert {p.stem for p in BUILTINS} >= {"smartward-canonical", "generic-bedside-monitor", "home-wearable",
                                           "ihe-pcd-hl7-monitor"}
    for path in BUILTINS:
        c = compile_profile_file(path)
        assert c.id == path.stem


def test_good_profile_compiles() -> None:
    c = compile_profile(GOOD)
    assert c.decoder is not None and c.decoder.topic.subscription == "acme/+/vitals"


def test_unknown_key_is_named_with_its_line() -> None:
    text = GOOD.replace("    unit: degF\n", "    unit: degF\n    scael: 2\n")
    assert issues(text) == [(15, "fields[1].scael", "unknown key 'scael' in fields[1]")]


def test_unknown_top_level_key_and_missing_key() -> None:
    got = issues(GOOD.replace("vendor: ACME\n", "vendr: ACME\n"))
    assert (3, "vendr", "unknown key 'vendr'") in got
    assert any(w == "vendor" and "missing" in m for _, w, m in got)


def test_yaml_syntax_error_names_the_line() -> None:
    text = GOOD.replace("  - signal: temperature\n", "  - signal: [temperature\n")
    [(line, where, msg)] = issues(text)
    assert where == "$" and msg.startswith("YAML:") and line in (12, 13, 14)


def test_python_tag_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = GOOD + f"description: !!python/object/apply:os.system ['touch {marker}']\n"
    [(line, _, msg)] = issues(text)
    assert line == 15 and "python/object/apply:os.system" in msg and "not allowed" in msg
    assert not marker.exists()
    with pytest.raises(ProfileValidationError):
        compile_profile("!!python/name:os.system\n")
    assert not marker.exists()


def test_duplicate_keys_are_refused() -> None:
    got = issues(GOOD.replace("model: W2\n", "model: W2\nmodel: W3\n"))
    assert got == [(5, "model", "duplicate key 'model' (first on line 4)")]


def test_meaning_errors_name_key_and_line() -> None:
    text = GOOD.replace("signal: heart_rate", "signal: heart_rat").replace("unit: degF", "unit: kPa")
    got = issues(text)
    assert (10, "fields[0].signal", got[0][2]) in got and "unknown signal 'heart_rat'" in got[0][2]
    assert any(line == 14 and w == "fields[1].unit" and "cannot convert" in m for line, w, m in got)


def test_bad_topic_and_device_template() -> None:
    text = GOOD.replace("topic: acme/{serial}/vitals", "topic: acme/{serial}/#/x")
    [(line, where, msg)] = issues(text)
    assert (line, where) == (7, "mqtt.topic") and "'#'" in msg
    text = GOOD.replace("  topic: acme/{serial}/vitals\n", "  topic: acme/{serial}/vitals\n  device_id: x-{sn}\n")
    [(line, where, msg)] = issues(text)
    assert (line, where) == (8, "mqtt.device_id") and "sn" in msg


def test_reserved_transport_and_wrong_sections() -> None:
    [(_, _, msg)] = issues(GOOD.replace("transport: mqtt-json", "transport: ble"))
    assert "reserved" in msg
    [(_, where, msg)] = issues(GOOD.replace("transport: mqtt-json", "transport: carrier-pigeon"))
    assert where == "transport" and "carrier-pigeon" in msg


def test_schema_version_migration_from_v1_keeps_lines() -> None:
    v1 = """\
schema_version: 1
id: acme-old
vendor: ACME
model: W1
topic: acme/{serial}/v
timestamp: {path: ts, format: epoch_s, sorce: payload}
fields:
  - {signal: spo2, path: s}
"""
    [(line, where, msg)] = issues(v1)
    assert line == 6 and where == "time.sorce" and "unknown key" in msg
    c = compile_profile(v1.replace(", sorce: payload", ""))
    assert c.notes == ("migrated from schema_version 1 to 2",)
    assert c.decoder is not None and c.decoder.topic.pattern == "acme/{serial}/v"
    assert c.decoder.decode("d1", b'{"ts": 1763805600, "s": 97}', 1763805700000).observation is not None


def test_future_and_missing_schema_version() -> None:
    assert "newer" in issues(GOOD.replace("schema_version: 2", "schema_version: 9"))[0][2]
    assert "integer" in issues(GOOD.replace("schema_version: 2\n", ""))[0][2]


def test_published_json_schema_is_current_and_accepts_builtins() -> None:
    generated = model_json_schema()
    jsonschema.Draft202012Validator.check_schema(generated)
    assert orjson.loads(SCHEMA_FILE.read_bytes()) == orjson.loads(orjson.dumps(generated)), \
        "run `smartward profile schema --write`"
    for path in BUILTINS:
        jsonschema.validate(yaml.safe_load(path.read_text()), generated)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**yaml.safe_load(GOOD), "colour": "red"}, generated)


def test_cli_validate_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "validate", *map(str, BUILTINS)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("    path: hr\n", "    path: hr\n    colour: red\n"))
    assert main(["profile", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:12: fields[0].colour: unknown key 'colour'" in err
    clash = tmp_path / "clash.yaml"
    clash.write_text(GOOD.replace("acme/{serial}/vitals", "wearables/+/{serial}/batch"))
    assert main(["profile", "validate", str(clash)]) == 1
    assert "overlaps built-in profile 'home-wearable'" in capsys.readouterr().err


def test_alias_bombs_are_cheap_to_refuse() -> None:
    """Aliases are followed by reference, never expanded: a 'billion laughs' file is refused at once."""
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    got = issues(GOOD + "\n".join(levels) + "\n")
    assert {w for _, w, _ in got} == {f"a{i}" for i in range(10)}  # unknown keys, reported by name
