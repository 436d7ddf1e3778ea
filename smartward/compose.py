"""Process composition: ingest workers + alerting + the HTTP app, in one command (``serve``, ``demo``).

Every part is a :class:`Component`: ``name``, ``async run()`` (until cancelled; clean up on
cancellation) and ``ready() -> bool``. :func:`run_platform` runs them all in one TaskGroup; the
caller turns SIGTERM/SIGINT into cancellation (:func:`run_until_signal`).

The parts are hard dependencies, imported normally (a missing one is an ImportError, not a
quietly smaller platform):
- alerting: ``alerting.create_service(platform) -> Component``;
- dashboard: ``dashboard_api.create_app(platform, api_config) -> ASGI app``;
- ``smartward demo``: ``run_platform(config, extra_components=[broker, simulator])`` with
  ``ingest_workers=0`` (ingest and alerting in-process). ``serve`` (``ingest_workers`` > 0) runs the
  ingest workers and alerting as child processes (:class:`IngestProcesses`, :class:`AlertingProcess`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from device_profiles import parse_mqtt_url, topics
from device_profiles.files import write_atomic
from device_profiles.retry import Backoff
from smartward.settings import Settings, load_settings

if TYPE_CHECKING:  # ingest is imported at run time only after prepare_metrics_dir (prometheus_client)
    from ingest import Attributions, IngestConfig, VitalsStore
    from ingest.platform import Component

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PlatformConfig:
    broker: str
    store: str
    state: str
    data_dir: str
    http: str | None = "127.0.0.1:8000"
    topic_root: str = topics.ROOT
    ingest_workers: int = 2  # 0: ingest runs inside this process
    auto_assign: str | None = None
    profiles: tuple[str, ...] = ()
    client_prefix: str = ""
    mqtt_v5: bool = True
    republish_qos: int = 1  # QoS of the attributed stream ingest republishes on {root}/wards/…
    tls_cert: str | None = None  # HTTPS: certificate chain (PEM) for the HTTP bind
    tls_key: str | None = None  # and its private key
    extra: dict[str, Any] = field(default_factory=dict)
    # everything else the environment says (SMARTWARD_*), read once; components get their part of it
    settings: Settings = field(default_factory=load_settings, repr=False)

    def ingest_config(self, index: int = 0, drain: bool = False) -> IngestConfig:
        from ingest import IngestConfig

        return IngestConfig(broker=self.broker, store=self.store, state=self.state, data_dir=self.data_dir,
                            topic_root=self.topic_root, index=index, client_prefix=self.client_prefix,
                            auto_assign=self.auto_assign, profiles=self.profiles, mqtt_v5=self.mqtt_v5,
                            drain=drain, republish_qos=self.republish_qos,
                            shared_group=topics.SHARED_INGEST_GROUP if self.ingest_workers > 1 else "",
                            deadletters=self.settings.deadletter_policy())


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class Platform:
    """What the HTTP app and the components share: config, the read store, ADT, readiness
    (implements :class:`ingest.platform.PlatformServices`)."""

    config: PlatformConfig
    store: VitalsStore
    attributions: Attributions
    components: list[Component] = field(default_factory=list)

    async def broker_reachable(self) -> bool:
        url = parse_mqtt_url(self.config.broker)
        try:
            _r, w = await asyncio.wait_for(asyncio.open_connection(url.host, url.port), 2.0)
        except (OSError, TimeoutError):
            return False
        w.close()
        with contextlib.suppress(OSError):
            await w.wait_closed()
        return True

    async def readiness(self) -> dict[str, bool]:
        checks = {"broker": await self.broker_reachable(), "store": await self.store.ping()}
        for c in self.components:
            checks[c.name] = c.ready()
        return checks


def worker_state(line: bytes, ready: bool) -> bool:
    """A worker's readiness after one line of its stdout: ``ready`` / ``not-ready`` set it; any other
    line (``receiving <t>``, the time of its first device message) leaves it as it was (issue 14: it
    turned ``/readyz`` 503 for good at the first message)."""
    word = line.strip()
    if word == b"ready":
        return True
    if word == b"not-ready":
        return False
    return ready


async def _stop_child(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM, then up to 25 s to finish its in-flight work, then SIGKILL."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(25):
                await asyncio.shield(proc.wait())
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def _keep_child(label: str, module: str, settings: bytes, on_line: Callable[[bytes], None],
                      on_down: Callable[[], None]) -> None:
    """Run ``python -m module`` (``settings`` on stdin) until cancelled: each stdout line to ``on_line``,
    ``on_down()`` when it stops; restarted with backoff if it exits; SIGTERM on cancellation."""
    from ingest.metrics import mark_dead

    async def follow(proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        async for line in proc.stdout:
            on_line(line)

    backoff = Backoff(0.5, 10.0)
    while True:
        proc = await _spawn_worker(settings, stdout=asyncio.subprocess.PIPE, module=module)
        reading = asyncio.create_task(follow(proc))
        try:
            rc = await proc.wait()
        except asyncio.CancelledError:
            await _stop_child(proc)
            raise
        finally:
            on_down()
            reading.cancel()
        mark_dead(proc.pid)
        log.error("%s (pid %d) exited with %s; restarting in %.1fs", label, proc.pid, rc, backoff.delay)
        await backoff.wait()


class IngestProcesses:
    """N ingest worker processes (``python -m ingest.worker_main``), restarted if one dies."""

    name = "ingest"

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self._ready: dict[int, bool] = {}

    def ready(self) -> bool:
        """Every worker process is running and subscribed."""
        return sum(self._ready.values()) == self.config.ingest_workers

    async def _supervise(self, index: int) -> None:
        def on_line(line: bytes) -> None:
            self._ready[index] = worker_state(line, self._ready.get(index, False))

        def on_down() -> None:
            self._ready[index] = False

        await _keep_child(f"ingest worker {index}", "ingest.worker_main",
                          orjson.dumps(self.config.ingest_config(index).to_json()), on_line, on_down)

    # -- scaling down ------------------------------------------------------------------------------
    # Mosquitto keeps routing a share of the stream to the persistent session of a worker that no
    # longer runs. So the worker count is recorded; started with fewer workers than last time, serve
    # runs the surplus ones once in drain mode: unsubscribe, take what their sessions hold, end them.
    def _state_file(self) -> Path:
        return Path(self.config.data_dir) / "ingest-workers.json"

    def _previous_workers(self) -> int:
        try:
            doc = orjson.loads(self._state_file().read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return 0
        same = doc.get("client_id") == self.config.ingest_config(0).client_id
        return int(doc.get("workers", 0)) if same else 0

    def _record_workers(self, n: int) -> None:
        # Whole or not at all: an empty file after a crash would read as "no surplus sessions", and
        # the share of the stream Mosquitto still routes to them would never be drained.
        write_atomic(self._state_file(), orjson.dumps({"client_id": self.config.ingest_config(0).client_id,
                                                       "workers": n}))

    async def _drain(self, first: int, previous: int) -> None:
        async def one(index: int) -> int:
            cfg = orjson.dumps(self.config.ingest_config(index, drain=True).to_json())
            proc = await _spawn_worker(cfg, stdout=asyncio.subprocess.DEVNULL)
            try:
                return await proc.wait()
            except asyncio.CancelledError:
                await _stop_child(proc)
                raise

        log.info("ingest: %d workers before, %d now: draining sessions %d..%d", previous, first, first, previous - 1)
        rcs = await asyncio.gather(*(one(i) for i in range(first, previous)))
        if all(rc == 0 for rc in rcs):
            await asyncio.to_thread(self._record_workers, first)
            log.info("ingest: surplus sessions drained and ended")
        else:
            log.error("ingest: draining surplus sessions failed (%s); retried at the next start", rcs)

    async def run(self) -> None:
        n = self.config.ingest_workers
        previous = await asyncio.to_thread(self._previous_workers)
        await asyncio.to_thread(self._record_workers, max(n, previous))
        async with asyncio.TaskGroup() as tg:
            for i in range(n):
                tg.create_task(self._supervise(i))
            if previous > n:
                tg.create_task(self._drain(n, previous))


async def _spawn_worker(cfg: bytes, stdout: int, module: str = "ingest.worker_main") -> asyncio.subprocess.Process:
    """``python -m ingest.worker_main`` (or ``module``) with its config (broker and store credentials
    included) as the first line on stdin, never in argv (``ps`` shows argv to every local user). stdin
    then stays open: its EOF tells the child the parent is gone."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", module,
                                                stdin=asyncio.subprocess.PIPE, stdout=stdout)
    assert proc.stdin is not None
    proc.stdin.write(cfg + b"\n")
    with contextlib.suppress(ConnectionError):  # a worker that died at once is restarted by the caller
        await proc.stdin.drain()
    return proc


class AlertingProcess:
    """Alerting in a process of its own (``python -m alerting.service_main``), restarted if it dies.

    ``serve`` runs it so when ingest runs as worker processes: alerting reads the whole attributed
    stream, and in the HTTP app's process it took about a quarter of that event loop at 1,000 beds
    (``smartward bench api``), delaying every request behind it. It only talks to the rest of the
    platform through MQTT and the state DB, so nothing else changes. A restarted alerting restores its
    open alarms, overrides and policies from the state DB, as after any restart."""

    name = "alerting"

    def __init__(self, config: PlatformConfig) -> None:
        self.config = config
        self._ready = False

    def ready(self) -> bool:
        """The process runs, has loaded the state DB and is subscribed."""
        return self._ready

    def settings_line(self) -> bytes:
        c = self.config
        return orjson.dumps({"broker": c.broker, "state": c.state, "data_dir": c.data_dir, "topic_root": c.topic_root,
                             "client_prefix": c.client_prefix, "extra": c.extra})

    def _line(self, line: bytes) -> None:
        self._ready = worker_state(line, self._ready)

    def _down(self) -> None:
        self._ready = False

    async def run(self) -> None:
        await _keep_child("alerting", "alerting.service_main", self.settings_line(), self._line, self._down)


class HttpServer:
    """uvicorn serving an ASGI app on ``host:port`` inside our loop (signals stay with the caller)."""

    name = "http"

    def __init__(self, app: Any, bind: str, tls_cert: str | None = None, tls_key: str | None = None) -> None:
        import uvicorn

        class _Server(uvicorn.Server):
            def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
                return contextlib.nullcontext()

        host, _, port = bind.rpartition(":")
        self.bind = bind
        self.server = _Server(uvicorn.Config(app, host=host or "127.0.0.1", port=int(port), log_level="warning",
                                             lifespan="on", access_log=False,
                                             # client addresses come from SMARTWARD_TRUSTED_PROXIES
                                             # (dashboard_api.proxies), never from uvicorn's default
                                             # trust of X-Forwarded-For from 127.0.0.1
                                             proxy_headers=False,
                                             # central-station frames are small and many: deflating
                                             # every send for every screen costs more CPU than the
                                             # LAN bandwidth it saves (bench fanout: -20 % CPU)
                                             ws_per_message_deflate=False,
                                             ssl_certfile=tls_cert, ssl_keyfile=tls_key))
        self.scheme = "https" if tls_cert else "http"

    def ready(self) -> bool:
        return bool(self.server.started)

    async def run(self) -> None:
        task = asyncio.create_task(self.server.serve())
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            self.server.should_exit = True
            await task
            raise


def prepare_metrics_dir(data_dir: str) -> None:
    """Multiprocess Prometheus metrics: a fresh directory, set before prometheus_client is imported."""
    d = Path(data_dir) / "metrics"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(d)


async def run_platform(config: PlatformConfig, extra_components: Sequence[Component] = (),
                       on_ready: Callable[[Platform], Awaitable[None] | None] | None = None) -> None:
    """Run ingest, alerting and the HTTP app (when ``config.http``) until cancelled."""
    from alerting import create_service
    from dashboard_api import create_app
    from ingest import Attributions, IngestWorker, make_engine, make_store

    api = config.settings.api_config() if config.http else None  # a weak secret: refused before anything starts
    await asyncio.to_thread(Path(config.data_dir).mkdir, parents=True, exist_ok=True)
    store = make_store(config.store)
    attributions = Attributions(make_engine(config.state))
    platform = Platform(config, store, attributions)
    if config.ingest_workers > 0:  # serve: ingest and alerting in processes of their own
        platform.components += [IngestProcesses(config), AlertingProcess(config)]
    else:  # demo, tests: everything in this process
        platform.components += [IngestWorker(config.ingest_config(0)), create_service(platform)]
    platform.components.extend(extra_components)
    if config.http and api is not None:
        platform.components.append(HttpServer(create_app(platform, api), config.http, config.tls_cert, config.tls_key))
    try:
        with contextlib.suppress(Exception):  # reads work once the store is up; ingest retries on its own
            await store.open()
        async with asyncio.TaskGroup() as tg:
            for c in platform.components:
                tg.create_task(c.run(), name=c.name)
            if on_ready is not None:
                res = on_ready(platform)
                if res is not None:
                    await res
    finally:
        await store.close()
        attributions.engine.dispose()


async def run_until_signal(coro: Awaitable[None]) -> int:
    """Run ``coro``; SIGTERM/SIGINT cancel it (components then flush, ack and stop). Returns 0."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(coro)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        log.info("stopped")
    return 0


def is_loopback(bind: str) -> bool:
    """``host:port`` binds to a loopback address only (``127.0.0.1``, ``[::1]``, ``localhost``)."""
    host = bind.rpartition(":")[0].strip("[]") or "127.0.0.1"
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_refusal(config: PlatformConfig, environment: str, allow_plain_http: bool) -> str | None:
    """Why production must not serve this config over plain HTTP, or ``None``. Passwords and tokens
    cross the network: off the loopback, production serves HTTPS (``--tls-cert``/``--tls-key``) unless
    a TLS-terminating reverse proxy in front is declared with ``--allow-plain-http``."""
    if (environment != "production" or not config.http or config.tls_cert or allow_plain_http
            or is_loopback(config.http)):
        return None
    return (f"refusing plain HTTP on {config.http} in production: give --tls-cert FILE --tls-key FILE, bind "
            "127.0.0.1, or --allow-plain-http behind a TLS-terminating reverse proxy (deploy/nginx/)")
