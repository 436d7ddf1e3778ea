"""Dead-letter replay: re-process kept messages through the current decoders (e.g. after a profile
fix) and store what now decodes; stored letters are deleted, the others keep their (new) reason.

Replayed observations are written to the store only; they are not republished on the ward topics
(they are history by then, and alerting must not alarm on them as if they were live).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from device_profiles import PayloadError, ProfileRegistry, now_ms

from .attribution import Attributions, make_engine
from .deadletters import DeadLetterStore
from .decoding import Decoder, RegistryDecoder
from .errors import StoreError
from .pipeline import Pipeline
from .records import Batch
from .stores import VitalsStore
from .worker import STORE_REJECTED_TOPIC
from .writer import LATE_AFTER_MS, Ranges, backfill_ranges, late_ranges, merge_ranges

log = logging.getLogger(__name__)


@dataclass
class ReplayReport:
    stored: int = 0
    still_rejected: int = 0
    reasons: list[tuple[int, str]] = field(default_factory=list)  # (letter id, reason) of the ones still failing


async def replay(letters: DeadLetterStore, store: VitalsStore, state_url: str, root: str,
                 profiles: Sequence[str] = (), since_ms: int | None = None, reason_contains: str | None = None,
                 extra_decoders: Sequence[Decoder] = ()) -> ReplayReport:
    engine = make_engine(state_url)
    try:
        registry = ProfileRegistry(root, profiles)
        try:
            from device_profiles.profile_store import active_texts, create_tables

            create_tables(engine)
            registry.set_stored(active_texts(engine))
        except Exception as exc:  # noqa: BLE001 - stored profiles are optional for a replay
            log.warning("stored profiles not loaded: %s", exc)
        pipeline = Pipeline(root, Attributions(engine), [RegistryDecoder(registry), *extra_decoders], publish=None)
        report = ReplayReport()
        late: Ranges = {}  # replayed samples are old: their minutes get the downsample at the end
        for letter in list(letters.list(since_ms, reason_contains)):
            if letter.topic == STORE_REJECTED_TOPIC:
                data = letter.payload
            else:
                batch = Batch()
                try:
                    pipeline.handle(letter.topic, letter.payload, letter.received_ms, batch)
                except PayloadError as exc:
                    letters.note_attempt(letter.id, exc.field, str(exc))
                    report.still_rejected += 1
                    report.reasons.append((letter.id, str(exc)))
                    continue
                data = store.encode(batch)
            try:
                await store.write(data)
            except StoreError as exc:
                letters.note_attempt(letter.id, "$store", str(exc))
                report.still_rejected += 1
                report.reasons.append((letter.id, str(exc)))
                continue
            letters.delete([letter.id])
            report.stored += 1
            if letter.topic != STORE_REJECTED_TOPIC:
                merge_ranges(late, late_ranges(batch, now_ms() - LATE_AFTER_MS))
        try:
            await backfill_ranges(store, late)
        except StoreError as exc:
            log.warning("downsample of the replayed samples failed (%d devices left): %s", len(late), exc)
        return report
    finally:
        engine.dispose()
