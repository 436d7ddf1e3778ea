"""One ingest worker: a persistent MQTT session on the shared subscriptions, the pipeline, batching,
durable writes, then acknowledgements. ``smartward serve`` runs N of them as processes.

Flow per message (``_on_message``, synchronous, a few microseconds): decode + validate + attribute
into the open :class:`Batch` (or a dead letter), republish the attributed form, remember
(mid, qos). A batch is sealed at 5,000 points, at 1 s, or after a 50 ms pause in the stream; the commit loop stores its dead letters
(SQLite commit), writes its points (store 2xx or fsynced spool), and only then acknowledges its
messages. A kill at any moment loses nothing: unacknowledged messages are redelivered by the broker
to the same session when the worker comes back, and storage is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from device_profiles import PayloadError, ProfileRegistry, now_ms, parse_mqtt_url, topics
from device_profiles.retry import Backoff

from . import metrics
from .attribution import Attributions, control_topic, make_engine
from .config import IngestConfig
from .deadletters import DeadLetterStore, NewDeadLetter
from .decoding import Decoder, RegistryDecoder
from .errors import IngestError, StoreError
from .mqtt_link import MqttLink
from .pipeline import Pipeline
from .records import Batch
from .republish import Republisher
from .spool import DiskSpool
from .stores import VitalsStore, make_store
from .writer import LATE_AFTER_MS, BatchWriter, late_ranges

log = logging.getLogger(__name__)
STORE_REJECTED_TOPIC = "$store/rejected-batch"
REFRESH_S = 60.0
DRAIN_IDLE_S = 2.0


class _Drained(Exception):
    """A draining worker has emptied its session."""


def profiles_topic(root: str) -> str:
    return topics.control_profiles(root)


@dataclass(slots=True)
class Unit:
    """A sealed batch with its dead letters and the acknowledgements owed once both are durable."""

    batch: Batch
    dead: list[NewDeadLetter]
    acks: list[tuple[int, int]]
    counts: dict[str, int] = field(default_factory=dict)
    data: bytes = b""  # the batch encoded for the store (at seal time, while the previous write is in flight)


class IngestWorker:
    """A platform component (``run()`` until cancelled, ``ready()``)."""

    name = "ingest"

    def __init__(self, cfg: IngestConfig, decoders: list[Decoder] | None = None,
                 on_state: Callable[[bool], None] | None = None) -> None:
        self.cfg = cfg
        self.root = cfg.topic_root
        self.store: VitalsStore = make_store(cfg.store)
        self.engine = make_engine(cfg.state)
        self.attributions = Attributions(self.engine)
        self.registry = ProfileRegistry(self.root, cfg.profiles)
        self._load_stored_profiles()
        self.decoders: list[Decoder] = [RegistryDecoder(self.registry), *(decoders or [])]
        self.deadletters = DeadLetterStore(cfg.deadletters_path, cfg.deadletters)
        self.spool = DiskSpool(cfg.spool_dir)
        self.link = MqttLink(parse_mqtt_url(cfg.broker), cfg.client_id, self._on_message, self._filters,
                             cfg.session_expiry_s, on_connected=self._connected, v5=cfg.mqtt_v5,
                             on_state=on_state)
        # republishing goes over a second, MQTT 3.1.1 session: its PUBACKs cost a fraction of v5's
        self.out = MqttLink(parse_mqtt_url(cfg.broker), cfg.client_id + "-out", lambda *_a: None, list,
                            cfg.session_expiry_s, v5=False)
        # observations taken in one socket read leave as one message per device (ingest/republish.py)
        self.republisher = Republisher(self._publish)
        self.pipeline = Pipeline(self.root, self.attributions, self.decoders, self._publish_in_order, cfg.auto_assign,
                                 publish_obs=self.republisher.obs)
        self.writer = BatchWriter(self.store, self.spool, self._keep_rejected_batch)
        self._control = {control_topic(self.root), profiles_topic(self.root)}
        self._batch = Batch()
        self._dead: list[NewDeadLetter] = []
        self._acks: list[tuple[int, int]] = []
        self._counts = {"stored": 0, "duplicate": 0, "rejected": 0}
        self._units: deque[Unit] = deque()
        self._republished = 0
        self._background: set[asyncio.Task[None]] = set()
        self._sealed = asyncio.Event()
        self._opened_at = 0.0
        self._last_at = 0.0  # when the open batch took its last message
        self._opened = asyncio.Event()
        self.first_message = asyncio.Event()  # for benchmarks: when the stream started
        self.first_message_at = 0.0
        self.first_message_cpu = 0.0  # process CPU seconds at the first message (start-up's share)
        self._accepting = True
        self._store_ready = False
        self._versions = [d.version for d in self.decoders]
        self.received = 0

    # -- setup ------------------------------------------------------------------------------------
    def _load_stored_profiles(self) -> None:
        try:
            from device_profiles.profile_store import active_texts, create_tables

            create_tables(self.engine)
            self.registry.set_stored(active_texts(self.engine))
        except Exception as exc:  # noqa: BLE001 - a broken uploaded profile must not stop ingest
            log.error("stored profiles not loaded: %s", exc)

    def _shared_filters(self) -> list[str]:
        return [topics.shared(f, self.cfg.shared_group or topics.SHARED_INGEST_GROUP) for f in self.pipeline.filters()]

    @property
    def _shared(self) -> bool:
        return self.cfg.mqtt_v5 and bool(self.cfg.shared_group)

    def _filters(self) -> list[str]:
        if self.cfg.drain:
            return []
        own = [topics.control_assignments(self.root), topics.control_profiles(self.root)]
        return own + (self._shared_filters() if self._shared else self.pipeline.filters())

    def _connected(self) -> None:
        """Drop the subscriptions of the other mode (shared <-> plain) the session may still hold."""
        metrics.WORKERS.set(1)
        if self.cfg.mqtt_v5 and not self.cfg.drain:
            self.link.unsubscribe(self.pipeline.filters() if self._shared else self._shared_filters())

    def ready(self) -> bool:
        """Subscribed on the broker (the store may still be down: batches are spooled meanwhile)."""
        return self.link.connected.is_set() and self.link.subscribed

    # -- hot path ---------------------------------------------------------------------------------
    def _publish(self, topic: str, payload: bytes) -> None:
        self.out.publish(topic, payload, self.cfg.republish_qos)
        self._republished += 1

    def _publish_in_order(self, topic: str, payload: bytes) -> None:
        """A status or device alarm: the observations queued before it leave first."""
        self.republisher.flush()
        self._publish(topic, payload)

    def _on_message(self, topic: str, payload: bytes, mid: int, qos: int) -> None:
        if not self._accepting:
            return  # shutting down: not acked, the broker redelivers it to our session later
        if topic in self._control:
            self._on_control(topic)
            self.link.ack(mid, qos)
            return
        received = now_ms()
        self.received += 1
        if self.received == 1:
            self.first_message_at = time.time()
            self.first_message_cpu = time.process_time()
            self.first_message.set()
        try:
            result = self.pipeline.handle(topic, payload, received, self._batch)
        except PayloadError as exc:
            self._dead.append(NewDeadLetter(received, topic, payload, exc.field, str(exc)))
            result = "rejected"
            log.debug("rejected %s: %s", topic, exc)
        except Exception as exc:
            log.exception("internal error on %s; kept as a dead letter", topic)
            self._dead.append(NewDeadLetter(received, topic, payload, "$", f"internal error: {exc!r}"))
            result = "rejected"
        self._counts[result] += 1
        self._acks.append((mid, qos))
        self._last_at = time.monotonic()
        if len(self._acks) == 1:
            self._opened_at = self._last_at
            self._opened.set()
        if self._batch.lines >= self.cfg.max_batch_lines or len(self._dead) >= 1000:
            self._seal()

    def _on_control(self, topic: str) -> None:
        """ADT or profile change: reload off the loop (the new tables replace the old ones whole)."""
        task = asyncio.get_running_loop().create_task(self._reload(topic.endswith("/assignments")))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _reload(self, assignments: bool) -> None:
        if assignments:
            await asyncio.to_thread(self.attributions.reload)
            log.info("attributions reloaded (control message)")
        else:
            await asyncio.to_thread(self._load_stored_profiles)
            self._check_decoders()

    def _seal(self) -> None:
        if not self._acks:
            return
        # observations still waiting for the republish window leave now: a batch's messages are acked
        # once it is stored, and an acked message is never redelivered, so its republish must be out first
        self.republisher.flush()
        self._counts["republished"] = self._republished
        self._republished = 0
        self._counts["empty_batch"], self.pipeline.empty_batches = self.pipeline.empty_batches, 0
        unit = Unit(self._batch, self._dead, self._acks, self._counts)
        if unit.batch:
            try:
                unit.data = self.store.encode(unit.batch)
            except StoreError as exc:  # cannot happen with validated ids; never lose the data if it does
                log.error("batch cannot be encoded (%s): kept as a dead letter", exc)
                body = b"\n".join(a.encode() for a in unit.batch.obs)
                unit.dead.append(NewDeadLetter(now_ms(), STORE_REJECTED_TOPIC + "/unencodable", body, "$", str(exc)))
                unit.batch = Batch()
        self._units.append(unit)
        self._batch, self._dead, self._acks = Batch(), [], []
        self._opened.clear()
        self._counts = {"stored": 0, "duplicate": 0, "rejected": 0}
        metrics.UNACKED.inc(len(self._units[-1].acks))
        self._sealed.set()

    # -- loops ------------------------------------------------------------------------------------
    async def _age_loop(self) -> None:
        """Seal a batch that is 1 s old, or once no message has come for 50 ms (the size rule seals it
        earlier under load). The pause rule ends a burst's last batch at once instead of up to 1 s later:
        its data is queryable and acknowledged sooner. Under steady load (500 msg/s per worker at 1,000
        beds) pauses of 50 ms almost never occur, so batches stay large. The pause rule applies only
        while no sealed batch waits for the store: otherwise a light stream to a slow store would become
        one write per message, slower than the messages come."""
        age, idle = self.cfg.max_batch_age_s, self.cfg.batch_idle_s
        while True:
            await self._opened.wait()
            now = time.monotonic()
            pause_ends = self._last_at + idle
            if self._units:  # a batch still waits for the store: look again in a moment (a slow store gets larger batches)
                pause_ends = max(pause_ends, now + idle)
            wait = min(self._opened_at + age, pause_ends) - now
            if wait > 0:
                await asyncio.sleep(wait)
            elif self._acks:
                self._seal()

    async def _commit(self, unit: Unit) -> None:
        backoff = Backoff(0.2, 10.0)
        while unit.dead:
            try:
                await asyncio.to_thread(self.deadletters.add_many, unit.dead)
                unit.dead = []
            except IngestError as exc:
                log.error("dead letters not stored (%s); retry in %.1fs", exc, backoff.delay)
                await backoff.wait()
        if unit.batch:
            await self.writer.write(unit.data, unit.batch.lines, late_ranges(unit.batch, now_ms() - LATE_AFTER_MS))
            unit.batch, unit.data = Batch(), b""
        self.link.ack_all(unit.acks)
        metrics.UNACKED.dec(len(unit.acks))
        for result, n in unit.counts.items():
            if n and result == "republished":
                metrics.REPUBLISHED.inc(n)
            elif n and result == "empty_batch":
                metrics.EMPTY_BATCHES.inc(n)
            elif n:
                metrics.MESSAGES.labels(result=result).inc(n)
        unit.acks, unit.counts = [], {}

    async def _commit_loop(self) -> None:
        while True:
            await self._sealed.wait()
            while self._units:
                await self._commit(self._units[0])
                self._units.popleft()
            self._sealed.clear()

    async def _keep_rejected_batch(self, data: bytes, reason: str) -> None:
        """Keep a batch the store refused (4xx, e.g. a field-type conflict) as a dead letter with the
        store's reason. Returns only once the letter is durable: the batch's messages are acked after
        this returns, so while the dead-letter store fails (locked, disk full) it retries with capped
        backoff and nothing is acked; ``smartward deadletter replay`` stores it once the cause is fixed."""
        letter = NewDeadLetter(now_ms(), STORE_REJECTED_TOPIC, data, "$", reason)
        backoff = Backoff(0.2, 10.0)
        while True:
            try:
                await asyncio.to_thread(self.deadletters.add_many, [letter])
                return
            except IngestError as exc:
                log.error("refused batch not yet kept as a dead letter (%s); retry in %.1fs", exc, backoff.delay)
                await backoff.wait()

    def _check_decoders(self) -> None:
        versions = [d.version for d in self.decoders]
        if versions != self._versions:
            self._versions = versions
            if self.link.connected.is_set():
                self.link.sync_subscriptions()

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            await asyncio.to_thread(self.attributions.reload)
            self._check_decoders()

    async def _watch_profiles(self) -> None:
        await self.registry.watch(lambda _r: self._check_decoders())

    async def _open_store(self) -> None:
        backoff = Backoff(0.5, 10.0)
        while True:
            try:
                await self.store.open()
                self._store_ready = True
                return
            except StoreError as exc:
                log.warning("store %s not ready (%s); writes are spooled; retry in %.1fs", self.store.url, exc,
                            backoff.delay)
                await backoff.wait()

    # -- lifecycle --------------------------------------------------------------------------------
    async def run(self) -> None:
        log.info("ingest worker %s: broker %s, store %s, root %s", self.cfg.client_id, self.link.url,
                 self.store.url, self.root)
        out_task = asyncio.create_task(self.out.run(), name=f"mqtt-{self.cfg.client_id}-out")
        link_task = asyncio.create_task(self.link.run(), name=f"mqtt-{self.cfg.client_id}")
        try:
            async with asyncio.TaskGroup() as tg:
                if self.cfg.drain:
                    tg.create_task(self._drain_session())
                tg.create_task(self._open_store())
                tg.create_task(self._age_loop())
                tg.create_task(self._commit_loop())
                tg.create_task(self.writer.drain())
                tg.create_task(self.writer.backfill_late())
                tg.create_task(self._refresh_loop())
                tg.create_task(self._watch_profiles())
                tg.create_task(self.deadletters.prune_periodically())
                tg.create_task(self._watch_link(link_task))
        except* _Drained:
            log.info("worker %s drained its session (%d messages); ending it", self.cfg.client_id, self.received)
        finally:
            await self._shutdown(link_task, out_task)

    async def _drain_session(self) -> None:
        """Scaling down: stop the broker routing to this session, take what it holds, then end it."""
        await self.link.connected.wait()
        self.link.unsubscribe(self._shared_filters())
        last = -1
        while self.received != last or self._acks or self._units:  # until idle for DRAIN_IDLE_S
            last = self.received
            await asyncio.sleep(DRAIN_IDLE_S)
        self.link.end_session = True
        raise _Drained

    async def _watch_link(self, link_task: asyncio.Task[None]) -> None:
        await asyncio.shield(link_task)  # a fatal link error (e.g. not authorised) ends the worker

    async def _shutdown(self, link_task: asyncio.Task[None], out_task: asyncio.Task[None]) -> None:
        """Stop taking messages, make everything taken durable, acknowledge it, then disconnect."""
        self._accepting = False
        self._seal()
        try:
            async with asyncio.timeout(20):
                while self._units:
                    await self._commit(self._units[0])
                    self._units.popleft()
                self.republisher.flush()
                await self.link.flush_out()
                await self.out.flush_out()
        except TimeoutError:
            log.error("shutdown: %d batches not durable in 20 s; the broker will redeliver them", len(self._units))
        for task in (link_task, out_task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        metrics.WORKERS.set(0)
        await self.store.close()
        self.deadletters.close()
        self.engine.dispose()
        log.info("ingest worker %s stopped (%d messages received)", self.cfg.client_id, self.received)
