"""Fuzz targets in CI (issue 13): Hypothesis over the strategies of ``benchmarks.fuzz_targets``.

The settings profile (registered in ``conftest.py``) is ``fuzz-ci`` under ``CI=true`` (200 inputs per
target, fewer for the slow ones; derandomized: the same inputs every run) and ``fuzz-dev`` elsewhere
(random ones);
``SMARTWARD_FUZZ_PROFILE`` picks one explicitly.
"""

import os

FUZZ_PROFILE = os.environ.get("SMARTWARD_FUZZ_PROFILE", "fuzz-ci" if os.environ.get("CI") == "true" else "fuzz-dev")
