"""A live drill whose broker will not take its samples fails before the drill exists on the platform, naming
the broker and the protocol (newcomer run: MQTT v5 to the demo's MQTT 3.1.1 broker ran a silent drill that
reported ``samples: 20`` and exit 0); and ``samples`` counts what the broker acknowledged."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson
import pytest

from devservers import Mosquitto, free_port
from digital_twin.live_drill import LiveDrill, LiveDrillOptions
from smartward.commands.demo import EmbeddedBroker
from tests.integration.dashboard.conftest import PASSWORD, until
from tests.integration.twin.test_facility_api import cli
from tests.integration.twin.test_live_drill import api_secret, platform

pytestmark = pytest.mark.integration
__all__ = ["api_secret"]  # the fixture, imported for these tests


async def _drills(base: str, headers: dict[str, str]) -> list[object]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as c:
        r = await c.get("/api/v1/drills", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json())


@pytest.mark.timeout(120)
async def test_drill_start_refused_by_a_broker_without_v5_or_without_a_listener(
        mosquitto: Mosquitto, topic_root: str, tmp_path: Path, api_secret: str) -> None:
    async with platform(mosquitto, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root, tmp_path) as run:
        run.add_user("fm", "facility_manager")
        run.add_user("cn", "charge_nurse", ("w1",))  # may start drills in w1 (a ward without live beds)
        async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
            fm = await run.login(c, "fm")
        port = free_port()
        async with EmbeddedBroker("127.0.0.1", port):  # smartward demo's broker: MQTT 3.1.1 only
            rc, out, err = await cli("drill", "start", "--url", run.base, "--username", "cn", "--broker",
                                     f"mqtt://127.0.0.1:{port}", "--ward", "w1", "--beds", "1", "--scenario",
                                     "bradycardia", "--duration", "20s", "--out", str(tmp_path / "d5"),
                                     env={"SMARTWARD_TWIN_PASSWORD": PASSWORD})
        assert (rc, out) == (1, ""), (out, err)
        last = err.strip().splitlines()[-1]
        assert last.startswith(f"smartward drill start: error: the broker at mqtt://127.0.0.1:{port} did not accept "
                               "an MQTT v5 connection"), err
        assert "--mqtt311" in last, err
        assert not (tmp_path / "d5" / "report.json").exists()
        assert await _drills(run.base, fm) == []  # the drill never started on the platform

        nobody = free_port()  # nothing listens there
        rc, out, err = await cli("drill", "start", "--url", run.base, "--username", "cn", "--broker",
                                 f"mqtt://127.0.0.1:{nobody}", "--mqtt311", "--ward", "w1", "--duration", "20s",
                                 "--out", str(tmp_path / "d6"), env={"SMARTWARD_TWIN_PASSWORD": PASSWORD})
        assert (rc, out) == (1, ""), (out, err)
        assert err.strip().splitlines()[-1].startswith(
            f"smartward drill start: error: cannot connect to the broker at mqtt://127.0.0.1:{nobody} with MQTT 3.1.1: "
        ), err
        assert await _drills(run.base, fm) == []


@pytest.mark.timeout(120)
async def test_report_samples_count_what_reached_the_broker(
        mosquitto: Mosquitto, private_mosquitto: Mosquitto, topic_root: str, tmp_path: Path, api_secret: str) -> None:
    """The drill's broker goes away mid-drill: the report counts the samples it acknowledged, says how many
    were generated, and the platform's record keeps the acknowledged count."""
    async with platform(mosquitto, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root, tmp_path) as run:
        run.add_user("fm", "facility_manager")
        run.add_user("cn", "charge_nurse", ("w1",))  # may start drills in w1 (a ward without live beds)
        drill = LiveDrill(LiveDrillOptions(
            base_url=run.base, broker=private_mosquitto.url, ward="w1", username="cn", password=PASSWORD,
            root=topic_root, beds=1, duration_s=10, rate=5, settle_s=0.5))
        driver = asyncio.create_task(drill.run())
        await until(lambda: (drill._pub is not None and drill._pub.delivered >= 5) or driver.done(),
                    "the drill's first samples at its broker", 30)
        assert not driver.done()
        private_mosquitto.stop()  # the rest stays in the outbox
        report = await asyncio.wait_for(driver, 60)
        p = report["parameters"]
        assert 5 <= p["samples"] < p["samples_generated"], p
        assert drill.generated == p["samples_generated"] and drill.samples == p["samples"]
        assert report["summary"][0].startswith(f"Only {p['samples']} of the {p['samples_generated']} samples "), report
        async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
            fm = await run.login(c, "cn")
            record = (await c.get(f"/api/v1/drills/{drill.drill['id']}", headers=fm)).json()
        assert record["samples"] == p["samples"] and record["stopped"] is not None, orjson.dumps(record)


@pytest.mark.timeout(150)
async def test_drill_cli_prints_commands_to_copy_and_readable_status(
        mosquitto: Mosquitto, topic_root: str, tmp_path: Path, api_secret: str) -> None:
    """``drill start`` to its end: the stop hint carries --url/--username; afterwards ``status`` says it
    ended at its end time (its driver stopped it, not a person), ``list`` is a table, ``--json`` the record."""
    async with platform(mosquitto, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root, tmp_path) as run:
        run.add_user("cn", "charge_nurse", ("w1",))
        creds = {"SMARTWARD_TWIN_PASSWORD": PASSWORD}
        common = ("--url", run.base, "--username", "cn")
        rc, out, err = await cli("drill", "start", *common, "--broker", mosquitto.url, "--topic-root", topic_root,
                                 "--ward", "w1", "--beds", "1", "--scenario", "stable", "--duration", "10s",
                                 "--rate", "2", "--out", str(tmp_path / "d"), env=creds)
        assert rc == 0, (out, err)
        report = orjson.loads((tmp_path / "d" / "report.json").read_bytes())
        drill_id = report["drill"]
        assert f"`smartward drill stop {drill_id} --url {run.base} --username cn` ends it" in out, out
        assert PASSWORD not in out + err
        assert 15 <= report["parameters"]["samples"] <= 21, report["parameters"]  # 2/s for 10 s, acknowledged
        rc, out, err = await cli("drill", "status", drill_id, *common, env=creds)
        assert rc == 0, err
        lines = out.splitlines()
        assert lines[0].startswith(f"drill {drill_id} in ward w1: ended at its end time (20"), out
        assert "stopped by" not in out and "stop it" not in out
        assert f"smartward drill report {drill_id} --out DIR --url {run.base} --username cn" in out
        assert str(report["parameters"]["started"]) not in out  # no epoch milliseconds
        rc, out, err = await cli("drill", "status", drill_id, *common, "--json", env=creds)
        assert rc == 0 and orjson.loads(out)["started"] == report["parameters"]["started"], (out, err)
        rc, out, err = await cli("drill", "list", *common, env=creds)
        assert rc == 0, err
        head, row = out.splitlines()[:2]
        assert head.split()[:2] == ["DRILL", "WARD"] and row.startswith(drill_id) and "ended at its end time" in row
        rc, out, err = await cli("drill", "stop", drill_id, *common, env=creds)
        assert rc == 0 and "already ended: it ended at its end time at 20" in out, (out, err)
        assert f"`smartward drill report {drill_id} --out DIR --url {run.base} --username cn`" in out
