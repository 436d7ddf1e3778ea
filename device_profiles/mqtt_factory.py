"""The one MQTT connection factory: a broker URL in, an aiomqtt client out.

``mqtt_client("mqtts://sw-platform:pw@broker:8883?ca=/etc/smartward/ca.crt", identifier="x", mqtt_v5=False)``
gives a :class:`~device_profiles.mqtt_client.Client` with the URL's credentials and its TLS context
(:meth:`~device_profiles.mqtt_url.MqttUrl.tls_context`: the broker's certificate verified, optional client
certificate). Every aiomqtt-based component connects through here, so an ``mqtts://`` URL is never
silently used in plaintext. (Ingest's paho link takes the same TLS context from the same URL.)

:func:`stay_subscribed` is the one reconnecting subscription (hub, alerting, live-drill driver): connect,
subscribe, run the component's session on the client, and on a broker error log it and reconnect with
:class:`~device_profiles.retry.Backoff`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NoReturn

import aiomqtt

from .mqtt_client import Client
from .mqtt_url import MqttUrl, parse_mqtt_url
from .retry import Backoff

log = logging.getLogger(__name__)


def mqtt_client(url: MqttUrl | str, *, identifier: str | None, mqtt_v5: bool, **options: Any) -> Client:
    """A client for ``url``: host, port, username/password and TLS from the URL, the given client id and
    protocol (MQTT v5 or 3.1.1); ``options`` are passed to aiomqtt (``clean_session``, ``timeout``, …).
    Raises :class:`~device_profiles.ProfileError` for a bad URL or an unreadable CA/certificate."""
    u = parse_mqtt_url(url) if isinstance(url, str) else url
    return Client(u.host, u.port, username=u.username, password=u.password, identifier=identifier,
                  protocol=aiomqtt.ProtocolVersion.V5 if mqtt_v5 else aiomqtt.ProtocolVersion.V311,
                  tls_context=u.tls_context(), **options)


async def stay_subscribed(url: MqttUrl | str, filters: Sequence[tuple[str, int]],
                          session: Callable[[Client], Awaitable[None]], *, name: str, identifier: str | None,
                          mqtt_v5: bool, backoff: Backoff | None = None,
                          on_disconnect: Callable[[], None] | None = None, **options: Any) -> NoReturn:
    """Forever: connect to ``url``, subscribe ``filters`` (``(filter, qos)``), then ``await session(client)``
    (it reads ``client.messages``). A broker error (:class:`aiomqtt.MqttError`, in connecting or in the
    session) is logged as "``name``: broker URL: error; reconnecting in N s", ``on_disconnect`` runs, and
    the loop reconnects after the backoff (reset once subscribed). Cancellation ends it."""
    pace = backoff or Backoff(0.5, 30.0)
    u = parse_mqtt_url(url) if isinstance(url, str) else url  # MqttUrl prints without its password
    while True:
        try:
            async with mqtt_client(u, identifier=identifier, mqtt_v5=mqtt_v5, **options) as client:
                await client.subscribe(list(filters))
                pace.reset()
                await session(client)
        except aiomqtt.MqttError as exc:
            log.warning("%s: broker %s: %s; reconnecting in %.1f s", name, u, exc, pace.delay)
        finally:
            if on_disconnect is not None:
                on_disconnect()
        await pace.wait()
