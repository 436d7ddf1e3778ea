"""The collector as the platform's processes run it (device_profiles.process_gc)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from device_profiles.process_gc import THRESHOLDS, quiet_gc


@pytest.fixture
def restore_gc() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_start_up_objects_are_frozen_and_collections_are_rare(restore_gc: None) -> None:
    quiet_gc()
    assert gc.get_freeze_count() > 1000  # the modules and tables loaded so far
    assert gc.get_threshold() == THRESHOLDS
    assert THRESHOLDS[0] >= 10_000  # not every few hundred allocations


def test_cycles_made_later_are_still_collected(restore_gc: None) -> None:
    import weakref

    quiet_gc()

    class Node:
        other: object = None

    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None
