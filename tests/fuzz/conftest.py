"""Hypothesis profiles for the fuzz targets: small and derandomized in CI (reproducible), random locally.

``smartward bench fuzz`` runs the same targets with ≥ 100,000 inputs each.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "database": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                     HealthCheck.large_base_example]}
settings.register_profile("fuzz-ci", max_examples=200, derandomize=True, **_COMMON)
settings.register_profile("fuzz-dev", max_examples=200, **_COMMON)
