"""Entry point of an ingest worker process: ``python -m ingest.worker_main`` with its config JSON as the
first line on stdin (never in argv: credentials in argv are visible to every local user in ``ps``).

Started by :class:`smartward.compose.IngestProcesses`. SIGTERM/SIGINT make the worker flush, ack and
exit 0. The parent holds the write end of our stdin: when it dies (even by SIGKILL), stdin reaches
EOF and the worker shuts down the same clean way, so no orphan keeps a session busy. On stdout the
worker writes ``ready`` once subscribed, ``not-ready`` when it loses the broker, and
``receiving <unix time> <cpu s>`` with the time of its first device message and the CPU it had used
by then (benchmarks time the stream, and count the worker's CPU, from there).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

import orjson

from device_profiles.child_process import stop_on_signal_or_parent_exit
from device_profiles.process_gc import quiet_gc


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
        state_line(f"receiving {worker.first_message_at:.6f} {worker.first_message_cpu:.3f}")

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


if __name__ == "__main__":
    sys.exit(main())
