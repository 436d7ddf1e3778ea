"""The production Mosquitto config (deploy/mosquitto/) on a REAL Mosquitto, ports and paths substituted:
a device publishes as itself and cannot publish as another device; services and gateways get what
the ACL grants; our publisher keeps a refused message in its outbox."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import orjson
import pytest

from device_profiles.mqtt_factory import mqtt_client
from devservers import Mosquitto, free_port, make_test_pki
from gateway_agent import (
    AsyncOutbox,
    Message,
    Publisher,
    PublisherOptions,
    Simulation,
    SimulationOptions,
    WardOptions,
)
from tests.prereq import missing

from .conftest import STAY_ROOT, until

pytestmark = pytest.mark.integration
DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "mosquitto"
ROOT = "smartward/v1"


class ProdMosquitto(Mosquitto):
    """Mosquitto running deploy/mosquitto/mosquitto.conf with only ports and paths substituted; the TLS
    listeners (8883: passwords, 8884: client certificates) get a throw-away PKI (``self.pki``)."""

    def __init__(self, port: int | None = None) -> None:
        super().__init__(port=port)
        self.tls_port = free_port()
        self.mtls_port = free_port()
        self.pki = make_test_pki(self.dir / "tls")

    @property
    def tls_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.tls_port}?ca={self.pki.ca}"

    def start(self) -> ProdMosquitto:
        conf = (DEPLOY / "mosquitto.conf").read_text()
        conf = conf.replace("/etc/mosquitto/smartward/tls/broker.", "/etc/mosquitto/smartward/tls/server.")
        conf = conf.replace("/etc/mosquitto/smartward/", f"{self.dir}/").replace("/var/lib/mosquitto/", f"{self.dir}/")
        conf = re.sub(r"^listener 1883 127\.0\.0\.1$", f"listener {self.port} 127.0.0.1", conf, flags=re.M)
        conf = re.sub(r"^listener 8883$", f"listener {self.tls_port} 127.0.0.1", conf, flags=re.M)
        conf = re.sub(r"^listener 8884$", f"listener {self.mtls_port} 127.0.0.1", conf, flags=re.M)
        conf = conf.replace("log_dest syslog", "log_dest stdout")
        (self.dir / "mosquitto.conf").write_text(STAY_ROOT + conf)
        self._spawn([self.exe(), "-c", str(self.dir / "mosquitto.conf")])
        assert self.proc is not None
        from devservers.servers import _wait_port

        for port in (self.port, self.tls_port, self.mtls_port):
            _wait_port(port, self.proc, self.log)
        return self


def add(broker_dir: Path, *args: str) -> str:
    out = subprocess.run([str(DEPLOY / "add-device.sh"), *args], check=True, capture_output=True, text=True,
                         env={**os.environ, "SMARTWARD_MOSQUITTO_DIR": str(broker_dir)}).stdout
    m = re.search(r"password (\S+)", out)
    return m.group(1) if m else ""


@pytest.fixture
def prod() -> Iterator[tuple[ProdMosquitto, dict[str, str]]]:
    if not Mosquitto.available():
        missing("mosquitto")
    m = ProdMosquitto(port=free_port())
    (m.dir / "acl").write_text((DEPLOY / "acl").read_text())
    pw = {name: add(m.dir, name) for name in ("sim-a", "sim-b", "sim-w1-01", "sim-w1-02")}
    pw["sw-ingest"] = add(m.dir, "--service", "sw-ingest")
    pw["gw-1"] = add(m.dir, "--service", "gw-1")
    add(m.dir, "sim-c", "--gateway", "gw-1")
    m.start()
    yield m, pw
    m.close()


def client(m: Mosquitto, user: str | None, password: str | None, cid: str) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", m.port, username=user, password=password, identifier=cid,
                          protocol=aiomqtt.ProtocolVersion.V5)


async def test_device_publishes_only_as_itself(prod: tuple[ProdMosquitto, dict[str, str]]) -> None:
    m, pw = prod
    got: list[str] = []
    async with client(m, "sw-ingest", pw["sw-ingest"], "ingest-0") as ingest:
        await ingest.subscribe(f"$share/ingest/{ROOT}/devices/+/obs", qos=1)  # the shared group ingest uses

        async def collect() -> None:
            async for msg in ingest.messages:
                got.append(f"{msg.topic} {msg.payload!r}")

        task = asyncio.create_task(collect())
        async with client(m, "sim-a", pw["sim-a"], "sim-a") as dev:
            await dev.publish(f"{ROOT}/devices/sim-b/obs", b"forged", qos=1)  # as another device: refused
            await dev.publish(f"{ROOT}/wards/w1/obs", b"forged", qos=1)  # service topic: refused
            await dev.publish(f"{ROOT}/devices/sim-a/obs", b"own", qos=1)  # as itself: delivered
        async with client(m, "gw-1", pw["gw-1"], "gw-1") as gw:
            await gw.publish(f"{ROOT}/devices/sim-a/obs", b"gw-forged", qos=1)  # not behind this gateway
            await gw.publish(f"{ROOT}/devices/sim-c/obs", b"gw-own", qos=1)
        # each refused message was published before an allowed one on the same connection, so had it
        # passed the ACL it would have arrived before that one
        await until(lambda: len(got) >= 2, 10, "the two allowed messages")
        task.cancel()
    assert got == [f"{ROOT}/devices/sim-a/obs b'own'", f"{ROOT}/devices/sim-c/obs b'gw-own'"]


async def test_wrong_password_and_anonymous_are_refused(prod: tuple[ProdMosquitto, dict[str, str]]) -> None:
    m, pw = prod
    for user, password in (("sim-a", pw["sim-b"]), (None, None), ("nobody", "x")):
        with pytest.raises(aiomqtt.MqttError):
            async with client(m, user, password, "intruder"):
                pass


async def test_publisher_keeps_messages_the_acl_refuses(prod: tuple[ProdMosquitto, dict[str, str]],
                                                        tmp_path: Path) -> None:
    m, pw = prod
    async with AsyncOutbox(tmp_path / "ob") as ob:
        body = {"v": 1, "device": "sim-b", "samples": [{"t": 1_763_805_600_000, "heart_rate": 70}]}
        await ob.append([Message("sim-b", "obs", f"{ROOT}/devices/sim-b/obs", body)])
        # sim-a's credentials, publishing sim-b's data (a misconfigured gateway): refused, kept
        pub = Publisher(ob, PublisherOptions(broker=f"mqtt://sim-a:{pw['sim-a']}@127.0.0.1:{m.port}",
                                             client_id="sim-a", devices=None, backoff_initial=0.05, backoff_max=0.2))
        task = asyncio.create_task(pub.run())
        await until(lambda: pub.connects >= 2, 10, "a refused batch to cause a reconnect")
        assert ob.stats().pending == 1 and pub.delivered == 0
        task.cancel()
        # with sim-b's own identity the same entry is delivered and removed
        own = Publisher(ob, PublisherOptions(broker=f"mqtt://127.0.0.1:{m.port}", client_id="sim-b",
                                             devices=frozenset({"sim-b"}), username="sim-b", password=pw["sim-b"]))
        task = asyncio.create_task(own.run())
        await until(lambda: own.delivered == 1, 10, "delivery as itself")
        assert ob.stats().pending == 0
        task.cancel()


async def test_simulated_ward_with_per_device_credentials(prod: tuple[ProdMosquitto, dict[str, str]],
                                                          tmp_path: Path) -> None:
    m, pw = prod
    got: dict[str, int] = {}
    async with client(m, "sw-ingest", pw["sw-ingest"], "ingest-0") as ingest:
        await ingest.subscribe(f"$share/ingest/{ROOT}/devices/+/obs", qos=1)

        async def collect() -> None:  # samples, not messages: a backlog goes out merged (coalesce_samples)
            async for msg in ingest.messages:
                dev = str(msg.topic).split("/")[-2]
                got[dev] = got.get(dev, 0) + len(orjson.loads(msg.payload)["samples"])

        task = asyncio.create_task(collect())
        sim = Simulation(SimulationOptions(
            broker=f"mqtt://127.0.0.1:{m.port}", outbox=str(tmp_path / "ob"), rate=5.0,
            ward=WardOptions(beds=2, scenario="stable"), credentials={d: pw[d] for d in ("sim-w1-01", "sim-w1-02")}))
        summary = await sim.run(duration=2.0)
        assert summary.pending == 0 and summary.delivered == summary.samples == 20
        await until(lambda: sum(got.values()) >= 20, 10, "20 samples at the ingest account")
        task.cancel()
    assert got == {"sim-w1-01": 10, "sim-w1-02": 10}


async def test_shipped_tls_listeners(prod: tuple[ProdMosquitto, dict[str, str]]) -> None:
    """8883: a device's password over TLS; 8884: a gateway's client certificate is its identity (CN), the
    per-gateway grants apply; no certificate, or one the broker's CA did not sign, is refused."""
    m, pw = prod
    got: list[str] = []
    async with client(m, "sw-ingest", pw["sw-ingest"], "ingest-0") as ingest:
        await ingest.subscribe(f"{ROOT}/devices/+/obs", qos=1)

        async def collect() -> None:
            async for msg in ingest.messages:
                got.append(f"{msg.topic} {msg.payload!r}")

        task = asyncio.create_task(collect())
        url = f"mqtts://sim-a:{pw['sim-a']}@127.0.0.1:{m.tls_port}?ca={m.pki.ca}"
        async with mqtt_client(url, identifier="sim-a", mqtt_v5=True) as dev:
            await dev.publish(f"{ROOT}/devices/sim-a/obs", b"tls", qos=1)
        cert, key = m.pki.client("gw-1")
        async with mqtt_client(f"mqtts://127.0.0.1:{m.mtls_port}?ca={m.pki.ca}&cert={cert}&key={key}",
                               identifier="gw-1", mqtt_v5=True) as gw:
            await gw.publish(f"{ROOT}/devices/sim-a/obs", b"gw-forged", qos=1)  # not behind gw-1: refused
            await gw.publish(f"{ROOT}/devices/sim-c/obs", b"mtls", qos=1)
        await until(lambda: len(got) >= 2, 10, "the two allowed messages")
        task.cancel()
    assert got == [f"{ROOT}/devices/sim-a/obs b'tls'", f"{ROOT}/devices/sim-c/obs b'mtls'"]
    with pytest.raises(aiomqtt.MqttError):  # no client certificate on the mutual-TLS listener
        async with mqtt_client(f"mqtts://127.0.0.1:{m.mtls_port}?ca={m.pki.ca}", identifier="x", mqtt_v5=True,
                               timeout=5):
            pass
    other = make_test_pki(m.dir / "other-ca")
    cert, key = other.client("gw-1")
    with pytest.raises(aiomqtt.MqttError):  # a certificate from another CA
        async with mqtt_client(f"mqtts://127.0.0.1:{m.mtls_port}?ca={m.pki.ca}&cert={cert}&key={key}",
                               identifier="gw-1", mqtt_v5=True, timeout=5):
            pass
