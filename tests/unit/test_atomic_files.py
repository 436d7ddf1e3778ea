"""State files are replaced whole or not at all (device_profiles.files.write_atomic)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from device_profiles import files


def test_write_replaces_the_content(tmp_path: Path) -> None:
    target = tmp_path / "ingest-workers.json"
    files.write_atomic(target, b'{"workers": 3}')
    files.write_atomic(target, b'{"workers": 1}')
    assert target.read_bytes() == b'{"workers": 1}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ingest-workers.json"]


def test_a_write_cut_short_leaves_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "ingest-workers.json"
    target.write_bytes(b'{"workers": 3}')

    def crash(fd: int) -> None:  # the process dies between writing and syncing the new content
        raise OSError("power cut")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="power cut"):
        files.write_atomic(target, b'{"workers": 1}')
    # a reader (the next start, another process) never sees an empty or half-written file
    assert target.read_bytes() == b'{"workers": 3}'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ingest-workers.json"]  # no temporary file left
