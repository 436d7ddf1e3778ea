"""Check that the broker takes a connection in the protocol a drill will publish with, BEFORE the drill
starts on the platform.

A live drill whose samples never reach the broker still runs on the platform (banner, virtual beds) and
measures nothing. :func:`probe_broker` connects once with the drill's protocol (MQTT v5 by default); when
that fails it tries MQTT 3.1.1 so the error can say what to change (``smartward demo``'s embedded broker
speaks MQTT 3.1.1 only: the drill needs ``--mqtt311`` there).
"""

from __future__ import annotations

import aiomqtt

from device_profiles import parse_mqtt_url
from device_profiles.mqtt_client import Client as MqttClient
from device_profiles.mqtt_factory import mqtt_client as connect
from device_profiles.mqtt_url import MqttUrl

from .errors import TwinError

PROBE_TIMEOUT_S = 10.0


class BrokerRefused(TwinError):
    """The broker could not be reached, or did not accept a connection in the drill's protocol."""


def protocol_name(mqtt_v5: bool) -> str:
    return "MQTT v5" if mqtt_v5 else "MQTT 3.1.1"


def mqtt_client(url: MqttUrl, *, mqtt_v5: bool, timeout_s: float = PROBE_TIMEOUT_S,
                identifier: str | None = None) -> MqttClient:
    """A client for ``url`` in the given protocol (TLS for ``mqtts://``)."""
    return connect(url, identifier=identifier, mqtt_v5=mqtt_v5, timeout=timeout_s)


async def _connect_error(url: MqttUrl, mqtt_v5: bool, timeout_s: float) -> str | None:
    """``None`` when a connection in that protocol is accepted, else why not."""
    try:
        async with mqtt_client(url, mqtt_v5=mqtt_v5, timeout_s=timeout_s):
            return None
    except aiomqtt.MqttCodeError as exc:
        return f"connection refused: {exc}" if exc.rc is not None else "the broker closed the connection"
    except aiomqtt.MqttError as exc:
        return str(exc) or type(exc).__name__


async def probe_broker(broker: str, *, mqtt_v5: bool, timeout_s: float = PROBE_TIMEOUT_S) -> None:
    """Raise :class:`BrokerRefused` naming the broker and the protocol unless it accepts a connection."""
    url = parse_mqtt_url(broker)
    why = await _connect_error(url, mqtt_v5, timeout_s)
    if why is None:
        return
    if mqtt_v5 and await _connect_error(url, False, timeout_s) is None:
        raise BrokerRefused(f"the broker at {url} did not accept an MQTT v5 connection ({why}) but accepts "
                            "MQTT 3.1.1: run the drill with --mqtt311 (smartward demo's embedded broker "
                            "speaks MQTT 3.1.1 only)")
    raise BrokerRefused(f"cannot connect to the broker at {url} with {protocol_name(mqtt_v5)}: {why}")
