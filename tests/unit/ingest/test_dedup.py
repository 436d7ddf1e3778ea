from __future__ import annotations

from ingest.dedup import SeqWindow


def test_seen_within_window_per_device() -> None:
    w = SeqWindow(per_device=3)
    assert [w.seen("a", s) for s in (1, 2, 1, 3, 4)] == [False, False, True, False, False]
    assert not w.seen("b", 1)  # per device
    assert not w.seen("a", 1)  # fell out of the window of 3
