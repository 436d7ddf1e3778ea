"""Entry point of an ingest worker process: ``python -m ingest.worker_main`` with its config JSON as the
first line on stdin (never in argv: credentials in argv are visible to every local user in ``ps``).

Started by :class:`smartward.compose.IngestProcesses`. SIGTERM/SIGINT make the worker flush, ack and
exit 0. The parent holds the write end of our stdin: when it dies (even by SIGKILL), stdin reaches
EOF and the worker shuts down the same clean way, so no orphan keeps a session busy. On stdout the
worker writes ``ready`` once subscribed, ``not-ready`` when it loses the broker, and
``receiving <unix time>`` with the time of its first device message (benchmarks time the stream
from there).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys

import orjson

from device_profiles.child_process import stop_on_signal_or_parent_exit


async def _main(cfg_json: str) -> int:
    from .config import IngestConfig
    from .worker import IngestWorker

    cfg = IngestConfig.from_json(orjson.loads(cfg_json))
    def state_line(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def state(ready: bool) -> None:  # the parent reads these lines for /readyz
        state_line("ready" if ready else "not-ready")

    worker = IngestWorker(cfg, on_state=state)
    task = asyncio.current_task()
    assert task is not None
    stop_on_signal_or_parent_exit(task)
    async def announce_first() -> None:
        await worker.first_message.wait()
        state_line(f"receiving {worker.first_message_at:.6f}")

    first = asyncio.create_task(announce_first())
    try:
        await worker.run()
    except asyncio.CancelledError:
        return 0
    finally:
        first.cancel()
    return 0


def main() -> int:
    logging.basicConfig(level=os.environ.get("SMARTWARD_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    cfg = sys.stdin.buffer.readline()  # unbuffered enough: the parent writes this one line, then waits
    if not cfg.strip():
        sys.stderr.write("ingest.worker_main: expected the config JSON as the first line on stdin\n")
        return 2
    quiet_gc()
    return asyncio.run(_main(cfg.decode()))


def quiet_gc() -> None:
    """A worker holds up to a batch (5,000 observations) of young objects at a time, and allocates a few
    per message: with the default thresholds (700, 10, 10) the collector ran every few dozen messages and
    walked the open batch each time (about a tenth of the worker's CPU under a burst, py-spy). The
    modules and tables loaded at start are frozen out of its sight, and it runs every 20,000
    allocations. Nothing here makes reference cycles on the hot path, so garbage is still freed at once
    by reference counting; the collector only bounds what cycles there are."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


if __name__ == "__main__":
    sys.exit(main())
