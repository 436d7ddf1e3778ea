"""Who may send HL7 to the MLLP listener, and for which monitors: the ``--mllp-peers`` file.

    peers:
      - name: icu-a-monitors              # named in AR acknowledgements and logs
        addresses: [10.20.30.0/24]        # IPs or CIDR networks of the senders
        devices: ["ICU-A-*"]              # device ids as published, or glob patterns (* ? [..])
      - name: picix-gateway
        certificate: picix-gw-1.example   # client certificate CN or DNS SAN (needs --mllp-tls-client-ca)
        addresses: [10.20.40.7]           # optional beside a certificate: then both must match
        devices: ["PICIX-*", "spare-7"]

A sender is listed when an entry matches its address (and its verified client certificate, when the
entry names one); it may then send for the devices of every entry it matches. The file is strict:
unknown keys, bad networks (host bits set included) and duplicate names are refused with their line.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from device_profiles.profile_yaml import LineMap, ProfileValidationError, loc_text, read_yaml

from .errors import PeerListError
from .mllp import Peer

__all__ = ["Grant", "PeerList", "PeerRule", "load_peers"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_PATTERN = re.compile(r"[A-Za-z0-9_.\-*?\[\]!]{1,64}")


def _network(text: str) -> str:
    try:
        ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        if "host bits" in str(exc):
            raise ValueError(f"{text!r} has host bits set (write the network address, e.g. 10.0.0.0/8)") from None
        raise ValueError(f"{text!r} is not an IP address or network") from None
    return text


def _device_pattern(text: str) -> str:
    if not _PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} is not a device id or glob pattern (letters, digits, _ . - and * ? [ ] !)")
    return text


class PeerRule(BaseModel):
    """One entry of the peers file (a file people write: strict)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    addresses: tuple[Annotated[str, AfterValidator(_network)], ...] = ()
    certificate: str | None = Field(default=None, min_length=1, max_length=253)
    devices: tuple[Annotated[str, AfterValidator(_device_pattern)], ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _identified(self) -> PeerRule:
        if not self.addresses and self.certificate is None:
            raise ValueError("give addresses, certificate or both: an entry must say who the sender is")
        return self


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    peers: list[PeerRule] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Grant:
    """What one sender may do: the entries it matched and their device patterns."""

    names: tuple[str, ...]
    patterns: tuple[str, ...]

    @property
    def name(self) -> str:
        return "+".join(self.names)

    def allows(self, device: str) -> bool:
        return any(fnmatchcase(device, p) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: PeerRule
    networks: tuple[Network, ...]


class PeerList:
    """The loaded allow-list: ``grant(peer)`` is ``None`` for a sender that is not listed."""

    def __init__(self, rules: Sequence[PeerRule]) -> None:
        self.rules = tuple(rules)
        self._compiled = tuple(_Compiled(r, tuple(ipaddress.ip_network(a) for a in r.addresses)) for r in rules)

    @property
    def needs_client_certificates(self) -> bool:
        return any(r.certificate is not None for r in self.rules)

    def grant(self, peer: Peer) -> Grant | None:
        try:
            ip = ipaddress.ip_address(peer.host)
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:  # a dual-stack listener
            ip = ip.ipv4_mapped
        names: list[str] = []
        patterns: list[str] = []
        for c in self._compiled:
            if c.networks and not any(ip in n for n in c.networks):
                continue
            if c.rule.certificate is not None and c.rule.certificate not in peer.names:
                continue
            names.append(c.rule.name)
            patterns.extend(c.rule.devices)
        return Grant(tuple(names), tuple(patterns)) if names else None


def _render(source: str, lines: LineMap, loc: Sequence[str | int], message: str) -> str:
    line = lines.line(loc)
    at = f"{source}, line {line}" if line else source
    return f"{at}: {loc_text(loc)}: {message}"


def _message(err: Any) -> str:
    if err["type"] == "extra_forbidden":
        return f"extra key {err['loc'][-1]!r} is not allowed (keys: name, addresses, certificate, devices)"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def load_peers(path: str | Path) -> PeerList:
    """Read and validate a peers file; raises :class:`PeerListError` naming every problem's line and key."""
    source = str(path)
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise PeerListError(f"{source}: cannot read the MLLP peers file ({exc.strerror})") from None
    try:
        data, lines = read_yaml(text, source)
    except ProfileValidationError as exc:
        raise PeerListError("\n".join(_render(source, LineMap(), (), i.message) if i.line is None
                                      else f"{source}, line {i.line}: {i.where}: {i.message}" for i in exc.issues)) from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        raise PeerListError("\n".join(_render(source, lines, e["loc"], _message(e)) for e in exc.errors())) from None
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, rule in enumerate(parsed.peers):
        if rule.name in seen:
            problems.append(_render(source, lines, ("peers", i, "name"),
                                    f"duplicate name {rule.name!r} (first at peers[{seen[rule.name]}])"))
        seen.setdefault(rule.name, i)
    if problems:
        raise PeerListError("\n".join(problems))
    return PeerList(parsed.peers)
