"""Issue 13, finding 4: the MLLP listener decides who may speak for which monitor.

The real listener on a free port, real sockets (plain and mutual TLS with certificates made here), the
real HL7 gateway handler and the gateway's real durable outbox: a refused message must leave nothing
in the outbox (so nothing can ever reach the broker), be answered ``AR`` naming why, and be counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import ssl
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import REGISTRY

from device_profiles import compile_profile_file, now_ms
from device_profiles.hl7 import Hl7Decoder
from device_profiles.registry import BUILTIN_DIR
from device_profiles.synth import Hl7Synthesizer
from devservers import Mosquitto, free_port
from gateway_agent import AsyncOutbox
from gateway_agent.errors import PeerListError
from gateway_agent.hl7_gateway import Hl7Gateway
from gateway_agent.mllp import END, START, MllpLimits, MllpServer, server_tls_context
from gateway_agent.mllp_peers import PeerList, load_peers

pytestmark = pytest.mark.integration

ROOT = "t13/smartward/v1"


def oru(device: str) -> bytes:
    return Hl7Synthesizer(device).message(now_ms()).encode()


def msa(ack: str) -> list[str]:
    return next(seg for seg in ack.split("\r") if seg.startswith("MSA|")).split("|")


def refused(reason: str) -> float:
    return REGISTRY.get_sample_value("smartward_gateway_mllp_refused_total", {"reason": reason}) or 0.0


async def send(port: int, message: bytes, *, source: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0), ssl=tls,
                                                   server_hostname="localhost" if tls else None)
    try:
        writer.write(START + message + END)
        await writer.drain()
        block = await asyncio.wait_for(reader.readuntil(END), 10)
        return block[1:-2].decode("utf-8")
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await writer.wait_closed()


@dataclass
class Listener:
    server: MllpServer
    outbox: AsyncOutbox
    gateway: Hl7Gateway

    @property
    def port(self) -> int:
        return self.server.port

    def stored(self) -> int:
        return self.outbox.stats().pending


MakeListener = Callable[..., contextlib.AbstractAsyncContextManager[Listener]]


@pytest.fixture
def make_listener(tmp_path: Path) -> MakeListener:
    """``async with make_listener(peers, tls) as listener``: gateway handler + real outbox + listener."""

    @contextlib.asynccontextmanager
    async def make(peers: PeerList | None, tls: ssl.SSLContext | None = None) -> AsyncIterator[Listener]:
        dec = Hl7Decoder(compile_profile_file(BUILTIN_DIR / "ihe-pcd-hl7-monitor.yaml"))
        async with AsyncOutbox(tmp_path / "outbox") as outbox:
            gw = Hl7Gateway(dec, outbox, root=ROOT, peers=peers)
            async with MllpServer(gw.handle, gw.oversize, "127.0.0.1", 0, MllpLimits(idle_timeout=10),
                                  tls=tls) as server:
                yield Listener(server, outbox, gw)
    return make


def write_peers(tmp_path: Path, text: str) -> PeerList:
    path = tmp_path / "mllp-peers.yaml"
    path.write_text(text)
    return load_peers(path)


# -- address allow-list ---------------------------------------------------------------------------

async def test_unlisted_peer_gets_ar_and_nothing_reaches_the_outbox(make_listener: MakeListener, tmp_path: Path) -> None:
    peers = write_peers(tmp_path, "peers:\n  - name: icu-monitors\n    addresses: [127.0.0.2/32]\n"
                                  "    devices: ['*']\n")
    before = refused("unknown_peer")
    async with make_listener(peers) as lst:
        ack = await send(lst.port, oru("MON-1"), source="127.0.0.1")
        assert msa(ack)[1] == "AR"
        assert "127.0.0.1 is not in the MLLP peer list" in ack
        assert lst.stored() == 0
        assert refused("unknown_peer") == before + 1
        # the listed address is served
        assert msa(await send(lst.port, oru("MON-1"), source="127.0.0.2"))[1] == "AA"
        assert lst.stored() == 1


async def test_listed_peer_naming_another_peers_device_gets_ar(make_listener: MakeListener, tmp_path: Path) -> None:
    peers = write_peers(tmp_path, """
peers:
  - name: icu-a
    addresses: ["127.0.0.1"]
    devices: ["ICU-A-*", "spare-7"]
  - name: icu-b
    addresses: ["127.0.0.2/32"]
    devices: ["ICU-B-*"]
""")
    before = refused("device_not_allowed")
    async with make_listener(peers) as lst:
        ack = await send(lst.port, oru("ICU-B-3"), source="127.0.0.1")
        assert msa(ack)[1] == "AR"
        assert "icu-a" in ack and "ICU-B-3" in ack and "may not send" in ack
        assert lst.stored() == 0
        assert refused("device_not_allowed") == before + 1
        assert msa(await send(lst.port, oru("ICU-A-1"), source="127.0.0.1"))[1] == "AA"
        assert msa(await send(lst.port, oru("spare-7"), source="127.0.0.1"))[1] == "AA"
        assert msa(await send(lst.port, oru("spare-70"), source="127.0.0.1"))[1] == "AR"  # exact id, not a prefix
        assert msa(await send(lst.port, oru("ICU-B-3"), source="127.0.0.2"))[1] == "AA"
        assert lst.stored() == 3


async def test_without_a_peer_list_loopback_senders_are_served(make_listener: MakeListener) -> None:
    async with make_listener(None) as lst:  # the demo and `profile simulate` on one host
        assert msa(await send(lst.port, oru("SIM-1")))[1] == "AA"
        assert lst.stored() == 1


# -- the peers file is strict ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("peers:\n  - name: a\n    addresses: [10.0.0.0/8]\n    devices: ['*']\n    device: x\n",
     "line 5: peers[0].device: extra"),
    ("peers:\n  - name: a\n    addresses: [10.0.0.300]\n    devices: ['*']\n",
     "line 3: peers[0].addresses[0]: '10.0.0.300' is not an IP address or network"),
    ("peers:\n  - name: a\n    addresses: [10.0.0.1/8]\n    devices: ['*']\n",
     "has host bits set"),
    ("peers:\n  - name: a\n    addresses: [10.0.0.0/8]\n    devices: []\n",
     "line 4: peers[0].devices"),
    ("peers:\n  - name: a\n    devices: ['MON-*']\n", "line 2: peers[0]: give addresses, certificate or both"),
    ("peers:\n  - name: a\n    addresses: [10.0.0.0/8]\n    devices: ['MON 1|x']\n",
     "line 4: peers[0].devices[0]"),
    ("peers:\n  - name: a\n    addresses: [10.0.0.0/8]\n    devices: ['*']\n"
     "  - name: a\n    addresses: [10.0.0.0/8]\n    devices: ['*']\n", "line 5: peers[1].name: duplicate"),
])
def test_peers_file_errors_name_the_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(PeerListError) as err:
        write_peers(tmp_path, text)
    assert expected in str(err.value)
    assert "mllp-peers.yaml" in str(err.value)


# -- mutual TLS: the client certificate is the peer -------------------------------------------------

@dataclass
class Pki:
    dir: Path
    ca: Path

    def client(self, name: str) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca))
        ctx.load_cert_chain(self.dir / f"{name}.crt", self.dir / f"{name}.key")
        return ctx


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _issue(d: Path, name: str, cn: str, ca_key: ec.EllipticCurvePrivateKey, ca_name: x509.Name,
           *, server: bool = False) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
               .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1)))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    (d / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / f"{name}.key").write_bytes(_key_pem(key))


def _ca(d: Path, name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Name]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (d / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, subject


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    d = tmp_path / "pki"
    d.mkdir()
    ca_key, ca_name = _ca(d, "ca")
    _issue(d, "server", "localhost", ca_key, ca_name, server=True)
    _issue(d, "gw-icu-a", "pic-gw-icu-a", ca_key, ca_name)
    _issue(d, "gw-other", "pic-gw-other", ca_key, ca_name)
    rogue_key, rogue_name = _ca(d, "rogue")
    _issue(d, "rogue-icu-a", "pic-gw-icu-a", rogue_key, rogue_name)  # same CN, untrusted issuer
    return Pki(d, d / "ca.crt")


async def test_mutual_tls_client_certificate_maps_to_its_devices(make_listener: MakeListener, pki: Pki,
                                                                 tmp_path: Path) -> None:
    peers = write_peers(tmp_path, "peers:\n  - name: icu-a-gateway\n    certificate: pic-gw-icu-a\n"
                                  "    devices: ['ICU-A-*']\n")
    tls = server_tls_context(pki.dir / "server.crt", pki.dir / "server.key", pki.ca)
    async with make_listener(peers, tls) as lst:
        # a real handshake; the certificate's CN is the peer
        assert msa(await send(lst.port, oru("ICU-A-1"), tls=pki.client("gw-icu-a")))[1] == "AA"
        ack = await send(lst.port, oru("ICU-B-1"), tls=pki.client("gw-icu-a"))
        assert msa(ack)[1] == "AR" and "ICU-B-1" in ack
        # a certificate of the same CA that is not in the list
        ack = await send(lst.port, oru("ICU-A-1"), tls=pki.client("gw-other"))
        assert msa(ack)[1] == "AR" and "not in the MLLP peer list" in ack
        assert lst.stored() == 1
        # the right CN from another CA, and no certificate at all: no handshake, nothing stored
        for client in (pki.client("rogue-icu-a"),
                       ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki.ca))):
            with pytest.raises((ssl.SSLError, ConnectionError, asyncio.IncompleteReadError)):
                await send(lst.port, oru("ICU-A-1"), tls=client)
        # plain TCP to the TLS port is not a way around it
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await send(lst.port, oru("ICU-A-1"))
        assert lst.stored() == 1


# -- the command refuses an open listener -----------------------------------------------------------

def test_gateway_refuses_a_non_loopback_listener_without_a_peer_list(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from smartward.cli import main

    base = ["gateway", "--broker", "mqtt://127.0.0.1:1", "--outbox", str(tmp_path / "ob")]
    assert main([*base, "--hl7-mllp", "0.0.0.0:2575"]) == 2
    err = capsys.readouterr().err
    assert "--mllp-peers" in err and "0.0.0.0" in err
    assert main([*base, "--hl7-mllp", ":2575"]) == 2  # an empty host means every address
    capsys.readouterr()
    peers = tmp_path / "peers.yaml"
    peers.write_text("peers:\n  - name: gw\n    certificate: pic-gw\n    devices: ['*']\n")
    assert main([*base, "--hl7-mllp", "0.0.0.0:2575", "--mllp-peers", str(peers)]) == 2
    assert "--mllp-tls-client-ca" in capsys.readouterr().err
    assert main([*base, "--hl7-mllp", "127.0.0.1:2575", "--mllp-tls-client-ca", str(peers)]) == 2
    assert "--mllp-tls-cert" in capsys.readouterr().err


async def test_gateway_command_serves_listed_certificates_over_mutual_tls(mosquitto: Mosquitto, pki: Pki,
                                                                           tmp_path: Path) -> None:
    """`smartward gateway` wires it all: peers file, TLS, client CA; a listed certificate is served, a
    listed certificate naming another device and an unlisted certificate are refused."""
    peers = tmp_path / "peers.yaml"
    peers.write_text("peers:\n  - name: icu-a-gateway\n    certificate: pic-gw-icu-a\n    addresses: [127.0.0.0/8]\n"
                     "    devices: ['ICU-A-*']\n")
    port = free_port()
    gw = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smartward", "gateway", "--broker", mosquitto.url, "--hl7-mllp", f"127.0.0.1:{port}",
        "--outbox", str(tmp_path / "outbox"), "--topic-root", ROOT, "--mllp-peers", str(peers),
        "--mllp-tls-cert", str(pki.dir / "server.crt"), "--mllp-tls-key", str(pki.dir / "server.key"),
        "--mllp-tls-client-ca", str(pki.ca), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert gw.stdout is not None
        assert b"MLLP listening" in await asyncio.wait_for(gw.stdout.readline(), 30)
        assert msa(await send(port, oru("ICU-A-9"), tls=pki.client("gw-icu-a")))[1] == "AA"
        assert msa(await send(port, oru("ICU-B-9"), tls=pki.client("gw-icu-a")))[1] == "AR"
        assert msa(await send(port, oru("ICU-A-9"), tls=pki.client("gw-other")))[1] == "AR"
    finally:
        gw.terminate()
        _, err = await asyncio.wait_for(gw.communicate(), 30)
    assert b"ICU-B-9" in err and b"may not send" in err  # logged: who and which device, no patient data
