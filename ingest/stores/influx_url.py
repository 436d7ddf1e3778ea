"""InfluxDB store URLs: ``influxdb://[user:password@]host:port/db[?rp=raw&tls=1]`` (v1 API) and
``influxdb2://host:port/org/bucket?token=…[&tls=1]`` (v2 write API, InfluxQL reads via v1 compatibility).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from ..errors import ConfigError


@dataclass(frozen=True, slots=True)
class InfluxUrl:
    version: int
    base: str  # http(s)://host:port
    db: str  # v1 database / v2 bucket
    rp: str = "raw"
    org: str = ""
    token: str = ""
    username: str = ""
    password: str = ""
    drill_bucket: str = ""  # v2: where drill points go (default ``{bucket}_drill``)

    def __str__(self) -> str:  # printable: never the password or token
        if self.version == 1:
            user = f"{self.username}@" if self.username else ""
            return f"influxdb://{user}{self.base.split('://', 1)[1]}/{self.db}"
        return f"influxdb2://{self.base.split('://', 1)[1]}/{self.org}/{self.db}"


def parse_influx_url(url: str) -> InfluxUrl:
    parts = urlsplit(url)
    if parts.scheme not in ("influxdb", "influxdb2"):
        raise ConfigError(f"store URL {url.split('?')[0]!r}: scheme must be influxdb:// or influxdb2://")
    if not parts.hostname:
        raise ConfigError(f"store URL {url.split('?')[0]!r}: no host")
    q = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    tls = q.get("tls", "0") in ("1", "true", "yes")
    try:
        port = parts.port or 8086
    except ValueError:
        raise ConfigError(f"store URL {url.split('?')[0]!r}: bad port") from None
    base = f"{'https' if tls else 'http'}://{parts.hostname}:{port}"
    path = [unquote(p) for p in parts.path.split("/") if p]
    if parts.scheme == "influxdb":
        if len(path) != 1:
            raise ConfigError(f"store URL {url.split('?')[0]!r}: expected influxdb://host:port/DATABASE")
        return InfluxUrl(1, base, path[0], rp=q.get("rp", "raw"),
                         username=unquote(parts.username or ""), password=unquote(parts.password or ""))
    if len(path) != 2:
        raise ConfigError(f"store URL {url.split('?')[0]!r}: expected influxdb2://host:port/ORG/BUCKET?token=…")
    token = q.get("token", "")
    if not token:
        raise ConfigError(f"store URL {url.split('?')[0]!r}: the v2 API needs ?token=…")
    return InfluxUrl(2, base, path[1], rp=q.get("rp", ""), org=path[0], token=token,
                     drill_bucket=q.get("drill_bucket", ""))
