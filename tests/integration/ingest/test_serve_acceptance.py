"""Issue 2 acceptance through ``smartward serve`` (a subprocess) with real Mosquitto and InfluxDB."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from devservers import InfluxDB, Mosquitto

from .conftest import Serve, finish, publish_lines, publish_one, wait_for

pytestmark = pytest.mark.integration
DEVICES = 20
PER_DEVICE = 500
DUPLICATED = 50  # per device: 20 x 50 = 1,000 messages published twice


def canonical(device: str, seq: int, t: int) -> bytes:
    return orjson.dumps({"v": 1, "device": device, "seq": seq,
                         "samples": [{"t": t, "heart_rate": 60 + seq % 40, "spo2": 90 + seq % 10}]})


def count(influx: InfluxDB, db: str) -> int:
    try:
        rows = influx.query('SELECT count("heart_rate") FROM "raw"."vitals"', db)
    except Exception:  # noqa: BLE001 - InfluxDB restarting or the database not created yet
        return -1
    return int(rows[0]["count"]) if rows else 0  # type: ignore[call-overload]


def test_10k_messages_stored_exactly_once_across_influxdb_restart_and_duplicates(
        mosquitto: Mosquitto, private_influxdb: InfluxDB, topic_root: str, influx_db: str,
        serve_factory: Callable[..., Serve]) -> None:
    serve = serve_factory(mosquitto.url, private_influxdb.store_url(influx_db), topic_root, 2)
    t0 = int(time.time() * 1000) - 20 * 60_000
    msgs = {f"dev-{d:02d}": [canonical(f"dev-{d:02d}", k, t0 + k * 1000 + d) for k in range(PER_DEVICE)]
            for d in range(DEVICES)}
    half = PER_DEVICE // 2

    finish([publish_lines(mosquitto.port, f"{topic_root}/devices/{dev}/obs", m[:half]) for dev, m in msgs.items()])
    wait_for(lambda: count(private_influxdb, influx_db) >= 1000, 20, "first points in InfluxDB")
    private_influxdb.stop()  # InfluxDB down mid-stream
    pubs = [publish_lines(mosquitto.port, f"{topic_root}/devices/{dev}/obs", m[half:] + m[:DUPLICATED])
            for dev, m in msgs.items()]
    finish(pubs)
    processed = DEVICES * (PER_DEVICE + DUPLICATED)
    wait_for(lambda: serve.messages("stored") + serve.messages("duplicate") == processed, 30,
             "every message processed and acknowledged while InfluxDB is down")
    assert serve.metrics()["smartward_ingest_spool_batches"] > 0  # durable on disk, waiting
    private_influxdb.start()
    wait_for(lambda: count(private_influxdb, influx_db) == DEVICES * PER_DEVICE, 30, "all 10,000 points")
    wait_for(lambda: serve.metrics()["smartward_ingest_spool_batches"] == 0, 15, "spool drained")
    assert count(private_influxdb, influx_db) == DEVICES * PER_DEVICE  # exactly once
    assert serve.messages("rejected") == 0
    # each duplicate that reached the worker holding the original is counted; storage is exact anyway
    assert 0 < serve.messages("duplicate") <= DEVICES * DUPLICATED
    assert serve.stop() == 0


def hostile(root: str, now: int) -> list[tuple[str, bytes]]:
    """200 hostile messages covering every rejection rule and line-protocol injection attempts."""
    def obs(device: str = "h-1", topic_device: str | None = None, **over: object) -> tuple[str, bytes]:
        msg: dict[str, object] = {"v": 1, "device": device, "seq": 1, "samples": [{"t": now, "heart_rate": 72}]}
        msg.update(over)
        return f"{root}/devices/{topic_device or device}/obs", orjson.dumps(msg)

    def sample(**s: object) -> tuple[str, bytes]:
        return obs(samples=[{"t": now, **s}])

    t = f"{root}/devices/h-1/obs"
    rules: list[tuple[str, bytes]] = [
        (t, b"{not json"), (t, b"[1,2,3]"), (t, b'"a string"'), (t, b"42"), (t, b"\xff\xfe\x00garbage"),
        obs(v=2), obs(v="1"), obs(v=None), obs(v=1.0),
        obs(device="h-2", topic_device="h-1"), obs(device="a,ward=evil"), obs(device="h 1"),
        obs(device='x" heart_rate=1'), obs(device="d\\"), obs(device="x" * 65), obs(device="", topic_device="h-1"),
        obs(device="tab\tdev", topic_device="h-1"), obs(seq=-1), obs(seq="7"),
        sample(), sample(t="2025-01-01T00:00:00Z", heart_rate=70), sample(t=1.7e12, heart_rate=70),
        obs(samples=[{"t": 946_684_799_999, "heart_rate": 70}]),
        obs(samples=[{"t": now + 6 * 60_000, "heart_rate": 70}]), obs(samples=[{"t": -5, "heart_rate": 70}]),
        sample(blood_sugar=5), sample(**{"heart_rate,ward=x": 5}), sample(**{"heart_rate 1": 5}),
        sample(heart_rate="72"), sample(heart_rate=True), sample(heart_rate=None), sample(heart_rate=[72]),
        sample(heart_rate=-1), sample(spo2=100.5), sample(temperature=90), sample(resp_rate=1000),
        sample(heart_rate=72, q={"heart_rate": "meh"}), sample(heart_rate=72, q={"foo": "valid"}),
        obs(samples=[]), obs(samples={"t": now}), obs(samples=["x"]),
        (t, b'{"v":1,"device":"h-1","seq":1,"samples":[{"t":%d,"heart_rate":NaN}]}' % now),
        (t, b'{"v":1,"device":"h-1","seq":1,"samples":[{"t":%d,"heart_rate":Infinity}]}' % now),
        (t, b'{"v":1,"device":"h-1","seq":1,"samples":[{"t":%d,"heart_rate":-Infinity}]}' % now),
        (t, b'{"v":1,"device":"h-1","seq":1,"samples":[{"t":%d,"heart_rate":1e999}]}' % now),
        (f"{root}/devices/h-1/status", b'{"online": "yes"}'),
        (f"{root}/devices/h-1/status", b'{"online": true, "battery": 300}'),
        (f"{root}/devices/h-1/wave", orjson.dumps({"v": 1, "device": "h-1", "seq": 1, "signal": "ecg_ii", "fs": -1,
                                                   "t0": now, "samples": [0.1]})),
        (f"{root}/devices/h-1/wave", orjson.dumps({"v": 1, "device": "h-1", "seq": 1, "signal": "heart_rate",
                                                   "fs": 250, "t0": now, "samples": [0.1]})),
        (f"{root}/alarms/w1/a1", orjson.dumps({"id": "a1", "ward": "w1 evil=1", "event": "raised", "t": now})),
        (f"{root}/alarms/w1/a1", orjson.dumps({"id": "a\n1", "ward": "w1", "event": "raised", "t": now})),
        (f"{root}/devices/h-1/alarm", b'{"v":1,"device":"h-1","t":1,"priority":"urgent"}'),
    ]
    big = [obs(pad="x" * (64 * 1024)), (t, b'{"v":1,' + b" " * 70_000 + b"}"),
           (t, b'{"v": 1,\n "device": "h-1\\nvitals,device=x heart_rate=1 1"}')]
    out = big + rules
    i = 0
    while len(out) < 200:  # fill to 200 by varying the seq of every rule
        topic, payload = rules[i % len(rules)]
        out.append((topic, payload.replace(b'"seq":1', b'"seq":%d' % (1000 + i)) if b'"seq":1' in payload else payload))
        i += 1
    return out


def test_200_hostile_payloads_rejected_counted_kept_and_service_keeps_running(
        mosquitto: Mosquitto, influxdb: InfluxDB, topic_root: str, influx_db: str, tmp_path: Path,
        serve_factory: Callable[..., Serve]) -> None:
    serve = serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 2)
    now = int(time.time() * 1000)
    bad = hostile(topic_root, now)
    assert len(bad) == 200
    by_topic: dict[str, list[bytes]] = {}
    for topic, payload in bad:
        if b"\n" in payload or len(payload) > 60_000 or b"\xff" in payload:  # not for `mosquitto_pub -l`
            publish_one(mosquitto.port, topic, payload)
        else:
            by_topic.setdefault(topic, []).append(payload)
    finish([publish_lines(mosquitto.port, topic, payloads) for topic, payloads in by_topic.items()])
    wait_for(lambda: serve.messages("rejected") == 200, 20, "200 rejections counted")
    # still running and still storing
    finish([publish_lines(mosquitto.port, f"{topic_root}/devices/ok-1/obs", [canonical("ok-1", 1, now)])])
    wait_for(lambda: count(influxdb, influx_db) == 1, 15, "a good message after the hostile ones")
    assert serve.messages("rejected") == 200 and serve.messages("stored") == 1
    with sqlite3.connect(tmp_path / "data" / "deadletters.sqlite3") as db:
        rows = db.execute("SELECT topic, payload, field, reason FROM dead_letters").fetchall()
    assert len(rows) == 200
    assert sorted(bytes(r[1]) for r in rows) == sorted(p for _t, p in bad)  # kept whole, byte for byte
    assert all(r[2] and r[3] for r in rows)  # every one says which field and why
    tags = influxdb.query('SHOW TAG VALUES FROM "raw"."vitals" WITH KEY = "device"', influx_db)
    assert [r["value"] for r in tags] == ["ok-1"]  # nothing injected
    assert serve.stop() == 0
    listed = subprocess.run([sys.executable, "-m", "smartward", "deadletter", "list", "--data-dir",
                             str(tmp_path / "data"), "--reason-contains", "physical range"], capture_output=True, check=True)
    assert b"200 dead letters" not in listed.stderr and listed.stdout.count(b"\n") >= 1
    listed = subprocess.run([sys.executable, "-m", "smartward", "deadletter", "list", "--data-dir",
                             str(tmp_path / "data")], capture_output=True, check=True)
    assert b"200 dead letters" in listed.stderr


def test_sigkill_mid_stream_loses_nothing(mosquitto: Mosquitto, influxdb: InfluxDB, topic_root: str,
                                          influx_db: str, tmp_path: Path, serve_factory: Callable[..., Serve]) -> None:
    data = tmp_path / "data"
    serve = serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 2, data_dir=data)
    t0 = int(time.time() * 1000) - 20 * 60_000
    # enough before the kill that ingest is still at work when it comes (15,000 were all stored before a
    # kill once serve got faster: the test then no longer killed anything mid-stream)
    devices, per, first = 10, 6000, 5000
    msgs = {f"k-{d}": [canonical(f"k-{d}", k, t0 + k * 100) for k in range(per)] for d in range(devices)}
    pubs = [publish_lines(mosquitto.port, f"{topic_root}/devices/{dev}/obs", m[:first]) for dev, m in msgs.items()]
    wait_for(lambda: count(influxdb, influx_db) >= 1, 20, "ingest under way", every=0.02)
    serve.kill()  # SIGKILL to serve and every worker mid-stream: no flush, no ack
    stored_at_kill = count(influxdb, influx_db)
    finish(pubs)
    # published while ingest is dead: queued in the workers' persistent sessions
    finish([publish_lines(mosquitto.port, f"{topic_root}/devices/{dev}/obs", m[first:]) for dev, m in msgs.items()])
    assert stored_at_kill < devices * first
    again = serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 2, data_dir=data)
    wait_for(lambda: count(influxdb, influx_db) == devices * per, 30,
             f"every message after the restart (killed at {stored_at_kill})")
    assert again.messages("rejected") == 0
    # everything is acknowledged: a third start gets nothing redelivered, only a fresh marker message
    assert again.stop() == 0
    third = serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 2, data_dir=data)
    finish([publish_lines(mosquitto.port, f"{topic_root}/devices/k-0/obs", [canonical("k-0", per, t0 + per * 100)])])
    wait_for(lambda: count(influxdb, influx_db) == devices * per + 1, 15, "the marker message")
    wait_for(lambda: third.messages("stored") == 1, 5, "the marker counted")
    assert third.messages("duplicate") == 0


def test_fewer_workers_after_a_restart_still_get_every_message(
        mosquitto: Mosquitto, influxdb: InfluxDB, topic_root: str, influx_db: str, tmp_path: Path,
        serve_factory: Callable[..., Serve]) -> None:
    data = tmp_path / "data"
    assert serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 3, data_dir=data).stop() == 0
    t0 = int(time.time() * 1000) - 10 * 60_000
    # published while nothing runs: Mosquitto spreads them over the three offline sessions
    finish([publish_lines(mosquitto.port, f"{topic_root}/devices/s-{d}/obs",
                          [canonical(f"s-{d}", k, t0 + k * 100) for k in range(300)]) for d in range(6)])
    serve = serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 1, data_dir=data)
    wait_for(lambda: count(influxdb, influx_db) == 1800, 30, "messages held by the sessions of workers 1 and 2")
    wait_for(lambda: orjson.loads((data / "ingest-workers.json").read_bytes())["workers"] == 1, 15,
             "the surplus sessions ended")
    # new messages now all reach the one remaining worker
    finish([publish_lines(mosquitto.port, f"{topic_root}/devices/s-9/obs",
                          [canonical("s-9", k, t0 + k * 100) for k in range(90)])])
    wait_for(lambda: count(influxdb, influx_db) == 1890, 15, "messages after scaling down")
    assert serve.stop() == 0


def test_broker_restart_while_ingest_is_down_loses_nothing_with_one_worker(
        persistent_mosquitto: Mosquitto, influxdb: InfluxDB, topic_root: str, influx_db: str, tmp_path: Path,
        serve_factory: Callable[..., Serve]) -> None:
    # one worker subscribes without $share: Mosquitto 2.0.11 restores plain subscriptions of a
    # persistent session after a restart but not shared ones, so what devices publish while ingest
    # is away waits in its session (a whole-host reboot: broker and ingest both restart)
    m, data = persistent_mosquitto, tmp_path / "data"
    serve = serve_factory(m.url, influxdb.store_url(influx_db), topic_root, 1, data_dir=data)
    t0 = int(time.time() * 1000) - 10 * 60_000
    msgs = [canonical("r-1", k, t0 + k * 100) for k in range(200)]
    finish([publish_lines(m.port, f"{topic_root}/devices/r-1/obs", msgs[:100])])
    wait_for(lambda: count(influxdb, influx_db) == 100, 15, "before the restart")
    assert serve.stop() == 0
    m.stop()
    m.start()
    finish([publish_lines(m.port, f"{topic_root}/devices/r-1/obs", msgs[100:])])  # ingest not running
    serve_factory(m.url, influxdb.store_url(influx_db), topic_root, 1, data_dir=data)
    wait_for(lambda: count(influxdb, influx_db) == 200, 20, "messages published while ingest was away")


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_workers_stop_when_serve_itself_is_killed(mosquitto: Mosquitto, influxdb: InfluxDB, topic_root: str,
                                                  influx_db: str, serve_factory: Callable[..., Serve]) -> None:
    import os
    import signal

    serve = serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 2)
    assert serve.proc is not None
    workers = _children(serve.proc.pid)
    assert len(workers) == 3  # two ingest workers and alerting
    os.kill(serve.proc.pid, signal.SIGKILL)  # the parent only: its children see stdin close
    serve.proc.wait()
    wait_for(lambda: not any(Path(f"/proc/{w}").exists() for w in workers), 20, "orphaned children to exit")


def test_ready_stays_ready_after_device_traffic(mosquitto: Mosquitto, influxdb: InfluxDB, topic_root: str,
                                                influx_db: str, serve_factory: Callable[..., Serve]) -> None:
    """Issue 14: each worker prints ``receiving <t>`` at its first message; /readyz turned 503 for good."""
    serve = serve_factory(mosquitto.url, influxdb.store_url(influx_db), topic_root, 2)
    t0 = int(time.time() * 1000) - 60_000
    finish([publish_lines(mosquitto.port, f"{topic_root}/devices/rdy-{d}/obs",
                          [canonical(f"rdy-{d}", k, t0 + k * 1000) for k in range(20)]) for d in range(8)])
    wait_for(lambda: serve.messages("stored") == 160, 20, "160 messages stored")
    time.sleep(0.5)  # the workers' "receiving" lines have reached the parent
    assert serve.ready(), "/readyz after device traffic"
    for _ in range(5):
        time.sleep(0.2)
        assert serve.ready()
    assert serve.stop() == 0
