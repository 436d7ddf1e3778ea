"""Helpers for ingest integration tests: ``smartward serve`` as a real subprocess, publishers."""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from devservers import Mosquitto, free_port
from tests.prereq import missing

REPO = Path(__file__).resolve().parents[3]


def wait_for(cond: Callable[[], object], timeout: float, what: str, every: float = 0.1) -> object:
    """Poll ``cond`` until truthy (returning its value) or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = cond()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Serve:
    """``smartward serve`` in its own process group (so a test can SIGKILL it with its workers)."""

    def __init__(self, broker: str, store: str, root: str, data_dir: Path, workers: int = 2, *extra: str) -> None:
        self.port = free_port()
        self.argv = [sys.executable, "-m", "smartward", "--log-level", "WARNING", "serve", "--broker", broker,
                     "--store", store, "--topic-root", root, "--data-dir", str(data_dir), "--http",
                     f"127.0.0.1:{self.port}", "--ingest-workers", str(workers), *extra]
        self.log = data_dir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None
        # serve runs as in production: its own secret, audit key and Prometheus scrape token
        self.scrape_token = secrets.token_urlsafe(32)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "SMARTWARD_ENVIRONMENT": "production",
                    "SMARTWARD_SECRET_KEY": secrets.token_urlsafe(32), "SMARTWARD_AUDIT_KEY": secrets.token_urlsafe(32),
                    "SMARTWARD_METRICS_TOKEN": self.scrape_token}

    def start(self) -> Serve:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as logf:
            self.proc = subprocess.Popen(self.argv, cwd=REPO, stdout=logf, stderr=subprocess.STDOUT,
                                         start_new_session=True, env=self.env)
        wait_for(self.ready, 30, "serve /readyz")
        return self

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"serve exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def metrics(self) -> dict[str, float]:
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5,
                         headers={"Authorization": f"Bearer {self.scrape_token}"}).text
        out: dict[str, float] = {}
        for line in text.splitlines():
            m = re.match(r"^(smartward_[a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$", line)
            if m:
                out[m.group(1)] = float(m.group(2))
        return out

    def messages(self, result: str) -> int:
        return int(self.metrics().get(f'smartward_ingest_messages_total{{result="{result}"}}', 0))

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def persistent_mosquitto() -> Iterator[Mosquitto]:
    """A broker of this test's own whose persistence really works when tests run as root.

    Started as root, Mosquitto drops to user ``mosquitto`` and then cannot write its database into
    the root-owned temporary directory ("Error: Permission denied" at save): sessions would not
    survive a restart. ``user root`` keeps it able to save.
    """
    if not Mosquitto.available():
        missing("mosquitto")
    m = Mosquitto().start()  # servers.Mosquitto adds "user root" when run as root
    yield m
    m.close()


@pytest.fixture
def serve_factory(tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    started: list[Serve] = []

    def make(broker: str, store: str, root: str, workers: int = 2, *extra: str, data_dir: Path | None = None) -> Serve:
        s = Serve(broker, store, root, data_dir or tmp_path / "data", workers, *extra)
        started.append(s)
        return s.start()

    yield make
    for s in started:
        if s.proc is not None and s.proc.poll() is None:
            s.stop()


def publish_lines(port: int, topic: str, payloads: Sequence[bytes]) -> subprocess.Popen[bytes]:
    """``mosquitto_pub -l`` at QoS 1: one message per line of stdin (started, not awaited)."""
    p = subprocess.Popen(["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic, "-l"], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert p.stdin is not None
    p.stdin.write(b"\n".join(payloads) + b"\n")
    p.stdin.close()
    return p


def publish_one(port: int, topic: str, payload: bytes) -> None:
    """``mosquitto_pub -s``: the whole of stdin is one message (newlines, 64 KiB+)."""
    subprocess.run(["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic, "-s"], input=payload, check=True,
                   timeout=30)


def finish(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        rc = p.wait(60)
        err = p.stderr.read() if p.stderr else b""
        if p.stderr:
            p.stderr.close()
        assert rc == 0, err
