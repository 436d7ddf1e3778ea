"""Real Mosquitto, InfluxDB and PostgreSQL servers as subprocesses, and throw-away certificates, for tests and benchmarks.

Not part of the installed package (``pyproject.toml`` installs the product packages only): it is
imported from a source checkout by ``tests/`` (session fixtures) and ``benchmarks/`` (``smartward
bench``), which both need the same servers and neither should import the other for them.
"""

from .pki import ThrowawayPki, make_test_pki
from .servers import InfluxDB, Mosquitto, PostgreSQL, ServiceUnavailable, free_port

__all__ = ["InfluxDB", "Mosquitto", "PostgreSQL", "ServiceUnavailable", "ThrowawayPki", "free_port", "make_test_pki"]
