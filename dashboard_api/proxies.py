"""The client address of a request: the peer, or, only when the peer is a configured trusted proxy
(``SMARTWARD_TRUSTED_PROXIES``), the nearest untrusted address in ``X-Forwarded-For``.

Login throttling is keyed on this address; trusting the header from anyone would let a guesser pick
a fresh address per request, and trusting no proxy behind one gives every user one shared budget.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    """``("10.0.0.0/8", "::1")`` -> networks; ``ValueError`` names a malformed one."""
    out: list[Network] = []
    for c in cidrs:
        try:
            out.append(ipaddress.ip_network(c.strip(), strict=False))
        except ValueError:
            raise ValueError(f"SMARTWARD_TRUSTED_PROXIES: {c.strip()!r} is not an address or CIDR") from None
    return tuple(out)


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in proxies)


def client_address(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """Walk ``X-Forwarded-For`` from the right (the hop nearest to us) past trusted proxies."""
    if not forwarded_for or not _trusted(peer, proxies):
        return peer
    client = peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return client  # a malformed hop: stop at the last address we could vouch for
        client = hop
        if not _trusted(hop, proxies):
            return hop
    return client
