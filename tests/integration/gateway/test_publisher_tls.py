"""The publisher over TLS (mqtts://) to a REAL Mosquitto TLS listener with a throw-away CA; a client
that does not trust the CA is refused (and keeps its messages)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from devservers import Mosquitto, free_port
from gateway_agent import AsyncOutbox, Message, Publisher, PublisherOptions
from tests.prereq import missing

from .conftest import until

pytestmark = pytest.mark.integration


def make_pki(d: Path) -> None:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=SmartWard test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=localhost")
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "broker.crt", "-days", "2", "-extfile", "ext.cnf")


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[tuple[Mosquitto, int, Path]]:
    if not Mosquitto.available() or shutil.which("openssl") is None:
        missing("mosquitto or openssl")
    pki = tmp_path / "pki"
    pki.mkdir()
    make_pki(pki)
    port = free_port()
    m = Mosquitto(extra_conf=f"listener {port} 127.0.0.1\ncertfile {pki}/broker.crt\nkeyfile {pki}/broker.key\n"
                             f"cafile {pki}/ca.crt\nallow_anonymous true\n").start()
    yield m, port, pki
    m.close()


async def test_publisher_over_tls(tls_broker: tuple[Mosquitto, int, Path], tmp_path: Path, uid: str) -> None:
    m, tls_port, pki = tls_broker
    topic = f"t{uid}/devices/mon-1/obs"
    async with aiomqtt.Client("127.0.0.1", m.port, identifier=f"s-{uid}") as sub:  # plain listener
        await sub.subscribe(topic, qos=1)
        async with AsyncOutbox(tmp_path / "ob") as ob:
            body = {"v": 1, "device": "mon-1", "samples": [{"t": 1_763_805_600_000, "heart_rate": 70}]}
            await ob.append([Message("mon-1", "obs", topic, body)])
            untrusted = Publisher(ob, PublisherOptions(broker=f"mqtts://127.0.0.1:{tls_port}", client_id="mon-1",
                                                       devices=frozenset({"mon-1"}), backoff_max=0.2))
            task = asyncio.create_task(untrusted.run())
            await until(lambda: untrusted.failures >= 3, 15, "three refused TLS handshakes")
            assert untrusted.connects == 0 and ob.stats().pending == 1
            task.cancel()
            pub = Publisher(ob, PublisherOptions(broker=f"mqtts://127.0.0.1:{tls_port}", client_id="mon-1",
                                                 devices=frozenset({"mon-1"}), tls_ca=str(pki / "ca.crt")))
            task = asyncio.create_task(pub.run())
            async with asyncio.timeout(15):
                async for msg in sub.messages:
                    assert isinstance(msg.payload, bytes) and b'"heart_rate":70' in msg.payload
                    break
            await until(lambda: ob.stats().pending == 0, 10, "the PUBACK over TLS to clear the outbox")
            task.cancel()
