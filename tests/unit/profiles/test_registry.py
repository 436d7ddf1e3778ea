"""The registry: directories, run-time changes (file watch), conflicts, stored versions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa

from device_profiles import PayloadError, ProfileRegistry, ProfileValidationError
from device_profiles import profile_store as store

NOW = 1_763_805_900_000


def vendor(pid: str = "acme-w2", topic: str = "acme/{serial}/vitals", unit: str = "degF") -> str:
    return f"""schema_version: 2
id: {pid}
vendor: ACME
model: W2
transport: mqtt-json
mqtt: {{topic: "{topic}", device_id: "acme-{{serial}}"}}
time: {{path: ts}}
fields: [{{signal: temperature, path: t, unit: {unit}}}]
"""


def test_builtins_and_canonical_decode() -> None:
    reg = ProfileRegistry(root="t1/sw")
    assert {c.id for c in reg.all()} == {"smartward-canonical", "generic-bedside-monitor", "home-wearable",
                                         "ihe-pcd-hl7-monitor"}
    assert reg.subscriptions() == ["bedside/+/+/numerics", "wearables/homecare/+/batch"]
    assert "t1/sw/devices/+/obs" in reg.subscriptions(include_canonical=True)
    d = reg.decode("t1/sw/devices/m1/obs", b'{"v":1,"device":"m1","seq":1,"samples":[{"t":1763805600000,"spo2":97}]}', NOW)
    assert d.profile == "smartward-canonical" and d.observation is not None
    with pytest.raises(PayloadError, match="no profile claims topic 'x/y'"):
        reg.decode("x/y", b"{}", NOW)


def test_directory_profiles_reload_keep_last_good_and_conflicts(tmp_path: Path) -> None:
    (tmp_path / "acme.yaml").write_text(vendor())
    reg = ProfileRegistry(directories=[tmp_path])
    v = reg.version
    d = reg.decode("acme/SN1/vitals", b'{"ts": 1763805600000, "t": 98.6}', NOW)
    assert (d.device, d.observation.samples[0].values if d.observation else None) == ("acme-SN1", {"temperature": 37.0})
    # a broken edit keeps the previous good version serving, and says why
    (tmp_path / "acme.yaml").write_text(vendor(unit="furlong"))
    reg.reload()
    assert reg.version == v and "furlong" in reg.problems[str(tmp_path / "acme.yaml")]
    assert reg.decode("acme/SN1/vitals", b'{"ts": 1763805600000, "t": 98.6}', NOW).observation is not None
    # fixing it takes effect
    (tmp_path / "acme.yaml").write_text(vendor(unit="Cel"))
    reg.reload()
    assert reg.version == v + 1 and not reg.problems
    d = reg.decode("acme/SN1/vitals", b'{"ts": 1763805600000, "t": 37.5}', NOW)
    assert d.observation is not None and d.observation.samples[0].values == {"temperature": 37.5}
    # a second profile claiming an overlapping topic is refused, the first keeps working
    (tmp_path / "zzz.yaml").write_text(vendor("zzz-clone", "acme/+/{serial}"))
    reg.reload()
    assert reg.get("zzz-clone") is None and "overlaps profile 'acme-w2'" in reg.problems[str(tmp_path / "zzz.yaml")]
    # deleting the file removes the profile
    (tmp_path / "acme.yaml").unlink()
    (tmp_path / "zzz.yaml").unlink()
    reg.reload()
    assert reg.get("acme-w2") is None and reg.resolve("acme/SN1/vitals") is None


async def test_watch_picks_up_a_new_profile_without_restart(tmp_path: Path) -> None:
    reg = ProfileRegistry(directories=[tmp_path])
    changed = asyncio.Event()
    stop = asyncio.Event()

    def on_change(_r: ProfileRegistry) -> None:
        changed.set()

    async with asyncio.TaskGroup() as tg:
        tg.create_task(reg.watch(on_change, stop))
        await asyncio.sleep(0.3)  # let the inotify watch start before the file appears
        (tmp_path / "acme.yaml").write_text(vendor())
        await asyncio.wait_for(changed.wait(), 10)
        stop.set()
    assert reg.resolve("acme/SN9/vitals") is not None


def test_store_versions_and_activation(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    store.create_tables(engine)
    with pytest.raises(ProfileValidationError, match="unknown unit"):
        store.store_version(engine, vendor(unit="furlong"), "vendor@acme")
    assert store.validate(vendor(unit="furlong"))[0].where == "fields[0].unit"
    v1 = store.store_version(engine, vendor(), "vendor@acme")
    v2 = store.store_version(engine, vendor(unit="Cel"), "vendor@acme")
    assert (v1.version, v2.version, v2.active) == (1, 2, False)
    assert store.active_texts(engine) == []
    store.activate(engine, "acme-w2", 1)
    reg = ProfileRegistry()
    reg.set_stored(store.active_texts(engine))
    d = reg.decode("acme/SN1/vitals", b'{"ts": 1763805600000, "t": 98.6}', NOW)
    assert d.observation is not None and d.observation.samples[0].values == {"temperature": 37.0}
    store.activate(engine, "acme-w2", 2)
    assert [(s.version, s.active) for s in store.list_versions(engine, "acme-w2")] == [(1, False), (2, True)]
    reg.set_stored(store.active_texts(engine))
    d = reg.decode("acme/SN1/vitals", b'{"ts": 1763805600000, "t": 37.5}', NOW)
    assert d.observation is not None and d.observation.samples[0].values == {"temperature": 37.5}
    # a profile whose topic collides with a built-in cannot be activated
    clash = store.store_version(engine, vendor("clash", "wearables/homecare/{serial}/batch"), "vendor@x")
    with pytest.raises(store.ProfileStoreError, match="overlaps profile 'home-wearable'"):
        store.activate(engine, "clash", clash.version)
    with pytest.raises(store.ProfileStoreError, match="no version 9"):
        store.get_version(engine, "acme-w2", 9)
    assert store.get_version(engine, "acme-w2", 1).text == vendor()


def test_large_batch_decodes() -> None:
    reg = ProfileRegistry()
    payload = (b'{"device":{"battery":64,"signal":88},"batch":{"readings":['
               + b",".join(b'{"ts":%d,"hr":70,"spo2":0.97,"conf":1,"rr":15,"tempF":98.4}' % (1763805600000 + i * 1000)
                          for i in range(300)) + b"]}}")
    d = reg.decode("wearables/homecare/SN1/batch", payload, NOW)
    assert d.observation is not None and len(d.observation.samples) == 300
    assert d.observation.samples[-1].t == 1763805899000 and d.observation.seq == 1763805899000
