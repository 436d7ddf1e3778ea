"""A durable, ordered on-disk spool of encoded batches (one fsynced file per batch).

When the store is down, a batch goes here before its messages are acknowledged; the writer drains
the spool in order once the store answers again. Files are ``{seq:016d}.batch`` in one directory per
worker; a half-written file (crash during write) has a ``.tmp`` suffix and is ignored on restart,
because its messages were never acknowledged and the broker redelivers them.
"""

from __future__ import annotations

import os
from pathlib import Path

from device_profiles.files import fsync_dir

SUFFIX = ".batch"


class DiskSpool:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        for tmp in self.dir.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
        self._files = sorted(self.dir.glob(f"*{SUFFIX}"))
        self._next = int(self._files[-1].stem) + 1 if self._files else 1
        self.bytes = sum(f.stat().st_size for f in self._files)

    def __len__(self) -> int:
        return len(self._files)

    def append(self, data: bytes) -> None:
        """Write ``data`` durably (file + directory fsync) before returning."""
        final = self.dir / f"{self._next:016d}{SUFFIX}"
        tmp = final.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        fsync_dir(self.dir)
        self._next += 1
        self._files.append(final)
        self.bytes += len(data)

    def peek(self) -> bytes | None:
        """The oldest batch, or ``None`` when empty."""
        return self._files[0].read_bytes() if self._files else None

    def pop(self) -> None:
        """Remove the oldest batch (after the store accepted it)."""
        f = self._files.pop(0)
        self.bytes -= f.stat().st_size
        f.unlink()
