"""Broker URLs: ``mqtt://[user[:password]@]host[:port]`` (``mqtts://`` for TLS).

A TLS URL may name the CA that signed the broker's certificate and a client certificate for mutual
TLS: ``mqtts://user:pw@broker:8883?ca=/etc/smartward/ca.crt&cert=/etc/smartward/me.crt&key=/etc/smartward/me.key``.
Without ``ca`` the CA file in ``SMARTWARD_MQTT_CA`` is trusted, else the system's CAs. Every SmartWard
MQTT client builds its TLS context here (:meth:`MqttUrl.tls_context`), so ``mqtts://`` means the same
everywhere: the broker's certificate is verified, hostname included.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import ProfileError

CA_ENV = "SMARTWARD_MQTT_CA"
_PARAMS = ("ca", "cert", "key")


@dataclass(frozen=True, slots=True)
class MqttUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca: str | None = None  # CA file to verify the broker with (default: SMARTWARD_MQTT_CA, else system CAs)
    cert: str | None = None  # client certificate (mutual TLS)
    key: str | None = None  # its private key (default: in the certificate file)

    def __str__(self) -> str:  # never prints the password
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext | None:
        """The client TLS context for an ``mqtts://`` URL (``None`` for ``mqtt://``); :class:`ProfileError`
        naming the file when the CA or the client certificate cannot be loaded."""
        if not self.tls:
            return None
        ca = self.ca or os.environ.get(CA_ENV) or None
        try:
            ctx = ssl.create_default_context(cafile=ca)
        except (OSError, ssl.SSLError) as exc:
            raise ProfileError(f"broker {self}: CA file {ca} not loaded: {exc}") from exc
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.cert:
            try:
                ctx.load_cert_chain(self.cert, self.key)
            except (OSError, ssl.SSLError) as exc:
                raise ProfileError(f"broker {self}: client certificate {self.cert} not loaded: {exc}") from exc
        return ctx


def redact_url(url: str) -> str:
    """``scheme://user:***@host…``: a URL with its password (and ``token``/``password`` query values)
    replaced, for start-up lines and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{hostport}"
    query = "&".join(f"{k}=***" if k.lower() in ("token", "password", "pw", "secret") else (f"{k}={v}" if v else k)
                     for k, _, v in (p.partition("=") for p in parts.query.split("&") if p))
    return parts._replace(netloc=netloc, query=query).geturl()


def parse_mqtt_url(url: str) -> MqttUrl:
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    shown = redact_url(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp"):
        raise ProfileError(f"broker URL {shown!r}: scheme must be mqtt:// or mqtts://")
    if not parts.hostname:
        raise ProfileError(f"broker URL {shown!r}: no host")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise ProfileError(f"broker URL {shown!r}: bad port") from None
    params = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(params) - set(_PARAMS))
    if unknown:
        raise ProfileError(f"broker URL {shown!r}: unknown parameter {', '.join(unknown)} (known: ca, cert, key)")
    if params and not tls:
        raise ProfileError(f"broker URL {shown!r}: ca/cert/key need mqtts://")
    one = {k: v[-1] for k, v in params.items() if v and v[-1]}
    if "key" in one and "cert" not in one:
        raise ProfileError(f"broker URL {shown!r}: key= without cert=")
    return MqttUrl(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
        ca=one.get("ca"),
        cert=one.get("cert"),
        key=one.get("key"),
    )
