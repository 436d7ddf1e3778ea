"""A free TCP port on the loopback interface (the demo's embedded broker when ``--mqtt-port`` is not given;
the test fixtures' servers)."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_FALLBACK_EPHEMERAL_LOW = 32768


def _ephemeral_low() -> int:
    """The lowest port the kernel hands out to outgoing connections (Linux ``ip_local_port_range``)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return _FALLBACK_EPHEMERAL_LOW


def free_port() -> int:
    """A port nobody listens on at 127.0.0.1 right now (another process may still take it later).

    Chosen below the kernel's ephemeral range: a port the OS picks with ``bind(0)`` comes from the range it
    also gives every outgoing connection, so between this call and the server's own bind a client socket
    (an HTTP or MQTT connection anywhere on the machine) could take it ("address already in use"). Below
    that range only listeners bind, so the window is left to other callers of this function, who pick at
    random among thousands of ports.
    """
    high = min(_ephemeral_low(), 65536)
    low = 20000 if high > 21000 else 1024
    rng = random.SystemRandom()
    for _ in range(64):
        port = rng.randrange(low, high)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # a crowded machine: let the OS choose
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
