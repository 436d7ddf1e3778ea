"""The disk spool keeps batches in order across restarts and ignores half-written files."""

from __future__ import annotations

from pathlib import Path

from ingest.spool import DiskSpool


def test_order_survives_restart_and_tmp_files_are_ignored(tmp_path: Path) -> None:
    s = DiskSpool(tmp_path)
    for i in range(3):
        s.append(f"batch {i}\n".encode())
    (tmp_path / "0000000000000099.tmp").write_bytes(b"half")
    s2 = DiskSpool(tmp_path)
    assert len(s2) == 3 and s2.bytes == 24
    out = []
    while (data := s2.peek()) is not None:
        out.append(data)
        s2.pop()
    assert out == [b"batch 0\n", b"batch 1\n", b"batch 2\n"]
    s2.append(b"later\n")
    assert DiskSpool(tmp_path).peek() == b"later\n"
    assert not list(tmp_path.glob("*.tmp"))
