"""Fixtures for the digital twin's unit tests: the shipped example ward, parsed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from digital_twin import WardModel, example_ward_path, load_ward


@pytest.fixture(scope="session")
def example_ward() -> WardModel:
    """The shipped 30-bed medical-surgical ward (full census)."""
    return load_ward(example_ward_path())


@pytest.fixture(scope="session")
def example_ward_text() -> str:
    return Path(example_ward_path()).read_text(encoding="utf-8")
