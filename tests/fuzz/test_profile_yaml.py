"""Target 4: profile YAML as vendors write it: arbitrary documents and mutated shipped profiles
compile or are refused with a :class:`ProfileError` whose issues name a key (never a raw pydantic,
YAML, KeyError or TypeError traceback)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from benchmarks.fuzz_targets import check_profile, profile_texts, shipped_profiles
from tests.fuzz import FUZZ_PROFILE


def test_shipped_profiles_compile() -> None:
    assert all(check_profile(text) is None for _name, text, _doc in shipped_profiles())


@pytest.mark.parametrize("text", ["\x07", "id: acme\x1f\n", "vendor: \x85\x86\n"])
def test_control_character_is_refused_with_its_position(text: str) -> None:
    assert check_profile(text) is not None


@settings(settings.get_profile(FUZZ_PROFILE), max_examples=100)  # ~20 ms per compile
@given(profile_texts())
def test_profile_yaml_compiles_or_names_the_key(text: str) -> None:
    check_profile(text)
