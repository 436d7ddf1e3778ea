"""The one MQTT connection factory: a broker URL in, an aiomqtt client out.

``mqtt_client("mqtts://sw-platform:pw@broker:8883?ca=/etc/smartward/ca.crt", identifier="x", mqtt_v5=False)``
gives a :class:`~device_profiles.mqtt_client.Client` with the URL's credentials and its TLS context
(:meth:`~device_profiles.mqtt_url.MqttUrl.tls_context`: the broker's certificate verified, optional client
certificate). Every aiomqtt-based component connects through here, so an ``mqtts://`` URL is never
silently used in plaintext. (Ingest's paho link takes the same TLS context from the same URL.)
"""

from __future__ import annotations

from typing import Any

import aiomqtt

from .mqtt_client import Client
from .mqtt_url import MqttUrl, parse_mqtt_url


def mqtt_client(url: MqttUrl | str, *, identifier: str | None, mqtt_v5: bool, **options: Any) -> Client:
    """A client for ``url``: host, port, username/password and TLS from the URL, the given client id and
    protocol (MQTT v5 or 3.1.1); ``options`` are passed to aiomqtt (``clean_session``, ``timeout``, …).
    Raises :class:`~device_profiles.ProfileError` for a bad URL or an unreadable CA/certificate."""
    u = parse_mqtt_url(url) if isinstance(url, str) else url
    return Client(u.host, u.port, username=u.username, password=u.password, identifier=identifier,
                  protocol=aiomqtt.ProtocolVersion.V5 if mqtt_v5 else aiomqtt.ProtocolVersion.V311,
                  tls_context=u.tls_context(), **options)
