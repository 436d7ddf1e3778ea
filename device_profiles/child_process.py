"""What a platform child process (an ingest worker, alerting under ``serve``) does to end cleanly.

The parent (``smartward.compose``) writes the child's settings as the first line of its stdin and keeps
that pipe open. :func:`stop_on_signal_or_parent_exit` cancels ``task`` on SIGTERM/SIGINT, or when stdin
reaches EOF: the parent is gone, even by SIGKILL, so no orphan keeps an MQTT session busy. The task then
finishes its in-flight work (flush, store, acknowledge) the same way in every case.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys


def stop_on_signal_or_parent_exit(task: asyncio.Task[object]) -> None:
    """Cancel ``task`` on SIGTERM/SIGINT or at EOF on stdin (call from the running loop)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    if sys.stdin.isatty():
        return
    fd = sys.stdin.fileno()

    def _stdin_ready() -> None:
        if not os.read(fd, 4096):  # EOF: the parent is gone
            loop.remove_reader(fd)
            task.cancel()

    loop.add_reader(fd, _stdin_ready)
