"""`smartward profile test`: the built-in samples pass; any mismatch fails with exit 1."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from device_profiles.registry import BUILTIN_DIR
from smartward.cli import main

SAMPLES = Path(__file__).parent / "samples"
RECEIVED = "1763805900000"


@pytest.mark.parametrize("profile", sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()))
def test_builtin_samples_pass(profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["profile", "test", str(BUILTIN_DIR / f"{profile}.yaml"), "--samples", str(SAMPLES / profile),
               "--received-at", RECEIVED])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "FAIL" not in out and "(no expected file)" not in out


def test_mismatch_and_refusal_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "s"
    shutil.copytree(SAMPLES / "home-wearable", d)
    exp = d / "batch-fever.expected.json"
    doc = orjson.loads(exp.read_bytes())
    doc["observation"]["samples"][0]["temperature"] = 101.3  # as if the °F were not converted
    exp.write_bytes(orjson.dumps(doc))
    args = ["profile", "test", str(BUILTIN_DIR / "home-wearable.yaml"), "--samples", str(d), "--received-at", RECEIVED]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "FAIL batch-fever.json" in out
    assert "mismatch $.observation.samples[0].temperature: expected 101.3, got 38.5" in out
    assert "PASS low-battery.json" in out and "2/3 samples pass" in out
    # a payload that no longer fits the profile, without an expected file, also fails
    exp.unlink()
    (d / "batch-fever.json").write_text('{"batch": {"readings": [{"ts": 1763805600000, "hr": "fast"}]}}')
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "FAIL batch-fever.json (no expected file)" in out and "refused: sample[0].hr: 'fast' is not a number" in out


def test_write_expected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SAMPLES / "home-wearable" / "low-battery.json", tmp_path)
    shutil.copy(SAMPLES / "home-wearable" / "low-battery.topic", tmp_path)
    args = ["profile", "test", str(BUILTIN_DIR / "home-wearable.yaml"), "--samples", str(tmp_path),
            "--received-at", RECEIVED, "--write-expected"]
    assert main(args) == 0
    assert orjson.loads((tmp_path / "low-battery.expected.json").read_bytes()) == \
        orjson.loads((SAMPLES / "home-wearable" / "low-battery.expected.json").read_bytes())
    assert main(["profile", "test", str(BUILTIN_DIR / "home-wearable.yaml"), "--samples", str(tmp_path / "nope")]) == 2
    capsys.readouterr()


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "list"]) == 0
    out = capsys.readouterr().out
    for pid in ("smartward-canonical", "generic-bedside-monitor", "home-wearable", "ihe-pcd-hl7-monitor"):
        assert pid in out


def test_list_includes_directory_and_stored_profiles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlalchemy as sa

    from device_profiles import profile_store as store

    text = (BUILTIN_DIR / "home-wearable.yaml").read_text().replace("id: home-wearable", "id: uploaded-one") \
        .replace("wearables/homecare/{serial}/batch", "up/{serial}/b")
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = sa.create_engine(url)
    store.create_tables(engine)
    store.activate(engine, "uploaded-one", store.store_version(engine, text, "vendor@x").version)
    d = tmp_path / "profiles"
    d.mkdir()
    (d / "broken.yaml").write_text("schema_version: 2\nid: broken\n")
    assert main(["profile", "list", "--profiles", str(d), "--state", url]) == 1  # the broken file is reported
    captured = capsys.readouterr()
    assert "uploaded-one" in captured.out and "db:uploaded-one@v1" in captured.out
    assert f"REFUSED {d / 'broken.yaml'}" in captured.err


def test_tolerance_is_absolute_and_per_signal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 14: a vendor's expected file from its own rounding passes within a stated tolerance."""
    d = tmp_path / "s"
    shutil.copytree(SAMPLES / "home-wearable", d)
    exp = d / "batch-fever.expected.json"
    doc = orjson.loads(exp.read_bytes())
    doc["observation"]["samples"][0]["temperature"] = 38.54  # the vendor rounds its own way
    exp.write_bytes(orjson.dumps(doc))
    args = ["profile", "test", str(BUILTIN_DIR / "home-wearable.yaml"), "--samples", str(d), "--received-at", RECEIVED]
    assert main(args) == 1
    assert "expected 38.54, got 38.5" in capsys.readouterr().out
    assert main([*args, "--tolerance", "temperature=0.05"]) == 0
    assert "3/3 samples pass" in capsys.readouterr().out
    assert main([*args, "--tolerance", "spo2=0.05"]) == 1  # per signal: another signal's tolerance does not apply
    assert "expected 38.54, got 38.5" in capsys.readouterr().out
    assert main([*args, "--tolerance", "temperature=0.01"]) == 1
    assert "(tolerance 0.01)" in capsys.readouterr().out
    for bad in ("temp=0.1", "temperature=-1", "temperature=x"):
        assert main([*args, "--tolerance", bad]) == 2, bad
        capsys.readouterr()
