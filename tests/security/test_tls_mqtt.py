"""Finding 11 (MQTT): given an ``mqtts://`` URL the dashboard hub and alerting connected in PLAINTEXT
(only ingest and the gateway used TLS). All clients now take host, credentials and TLS from one factory.
Here the whole platform runs against a real Mosquitto whose only listener is TLS, with a CA and
certificate made by the fixture: ingest, alerting and the hub must all connect (real handshakes,
the broker's certificate verified against that CA) and a device's observation must reach the
central-station tiles and raise an alarm."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import httpx
import orjson
import pytest

from device_profiles import ProfileError, parse_mqtt_url
from device_profiles.mqtt_factory import mqtt_client
from devservers import Mosquitto
from tests.integration.dashboard.conftest import api_secret, obs, running_platform, until
from tests.prereq import missing

pytestmark = pytest.mark.integration
__all__ = ["api_secret"]


@pytest.fixture
def tls_mosquitto() -> Iterator[Mosquitto]:
    if not Mosquitto.available():
        missing("mosquitto")
    m = Mosquitto(tls=True).start()
    yield m
    m.close()


async def test_platform_connects_over_tls_only(tls_mosquitto: Mosquitto, topic_root: str, tmp_path: Path,
                                               api_secret: str) -> None:
    m = tls_mosquitto
    assert m.url.startswith("mqtts://")
    # the listener really is TLS-only: a plaintext client is not served
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client("127.0.0.1", m.port, timeout=3):
            pass
    async with running_platform(m.url, m.port, f"sqlite:///{tmp_path}/vitals.sqlite3", topic_root, tmp_path) as run:
        checks = await run.platform.readiness()
        assert checks == {**checks, "ingest": True, "alerting": True, "dashboard-hub": True}, checks
        run.add_user("cn", "charge_nurse", ("w1",))
        async with httpx.AsyncClient(base_url=run.base, timeout=10) as c:
            cn = await run.login(c, "cn")
            assert (await c.post("/api/v1/adt/admit", headers=cn, json={"patient_id": "p-1", "ward": "w1",
                                                                         "bed": "01"})).status_code == 200
            assert (await c.post("/api/v1/devices/mon-1/assign", headers=cn, json={"ward": "w1", "bed": "01"})
                    ).status_code == 200
            await run.ingest_knows("mon-1", "w1")
            async with mqtt_client(m.url, identifier="mon-1", mqtt_v5=True) as dev:
                body = obs("mon-1", 1, int(time.time() * 1000), heart_rate=71, nibp_sys=60)
                await dev.publish(f"{topic_root}/devices/mon-1/obs", orjson.dumps(body), qos=1)

            async def tile() -> bool:
                beds = (await c.get("/api/v1/wards/w1/beds", headers=cn)).json()["beds"]
                return any(b["bed"] == "01" and b["vitals"].get("heart_rate", {}).get("value") == 71 for b in beds)

            await until(tile, "the observation on the central station's tile (ingest -> hub over TLS)", 20)

            async def alarm() -> bool:
                r = (await c.get("/api/v1/wards/w1/alarms", headers=cn)).json()
                return any(a["signal"] == "nibp_sys" and a["patient"] == "p-1" for a in r)

            await until(alarm, "alerting's alarm over TLS on the dashboard", 20)


async def test_client_that_does_not_trust_the_ca_is_refused(tls_mosquitto: Mosquitto) -> None:
    m = tls_mosquitto
    # the system CAs do not know the test CA: verification fails, no silent fallback to plaintext
    with pytest.raises(aiomqtt.MqttError) as err:
        async with mqtt_client(f"mqtts://127.0.0.1:{m.port}", identifier="x", mqtt_v5=True, timeout=5):
            pass
    assert isinstance(err.value.__cause__, ssl.SSLError) or "certificate" in str(err.value).lower(), err.value


def test_tls_url_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    u = parse_mqtt_url("mqtts://sw-platform:pw@broker.example:8883?ca=/etc/smartward/ca.crt")
    assert (u.tls, u.ca, u.cert, str(u)) == (True, "/etc/smartward/ca.crt", None, "mqtts://sw-platform@broker.example:8883")
    for bad in ("mqtt://h?ca=/x", "mqtts://h?cafile=/x", "mqtts://h?key=/k"):
        with pytest.raises(ProfileError):
            parse_mqtt_url(bad)
    with pytest.raises(ProfileError, match="CA file"):
        parse_mqtt_url(f"mqtts://h?ca={tmp_path}/missing.crt").tls_context()
    monkeypatch.setenv("SMARTWARD_MQTT_CA", str(tmp_path / "missing-too.crt"))
    with pytest.raises(ProfileError, match="missing-too"):
        parse_mqtt_url("mqtts://h").tls_context()
    assert parse_mqtt_url("mqtt://h").tls_context() is None
