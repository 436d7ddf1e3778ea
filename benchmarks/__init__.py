"""Benchmarks behind ``smartward bench NAME``: each prints figures and ratios, never pass/fail on time."""
