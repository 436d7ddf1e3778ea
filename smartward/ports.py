"""A free TCP port on the loopback interface (the demo's embedded broker when ``--mqtt-port`` is not given)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nobody listens on at 127.0.0.1 right now (the OS picks it; another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
