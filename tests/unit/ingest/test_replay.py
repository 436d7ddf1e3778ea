"""Dead letters a profile could not decode are stored after the profile is fixed (issue 3 item 3)."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from device_profiles import PayloadError
from ingest import Batch, Pipeline, open_store
from ingest.attribution import Attributions, make_engine
from ingest.deadletters import DeadLetterStore, NewDeadLetter
from ingest.replay import replay

ROOT = "r/smartward/v1"
PROFILE = """schema_version: 2
id: acme-test
vendor: Acme
model: T1
transport: mqtt-json
mqtt:
  topic: "acme/{serial}/vitals"
  device_id: "acme-{serial}"
time: {source: payload, path: ts, format: epoch_ms}
fields:
  - {signal: heart_rate, path: hr}
"""


async def test_replay_stores_what_now_decodes_and_keeps_the_rest(tmp_path: Path) -> None:
    now = int(time.time() * 1000)
    state = f"sqlite:///{tmp_path}/state.sqlite3"
    letters = DeadLetterStore(tmp_path / "deadletters.sqlite3")
    vendor = orjson.dumps({"ts": now - 1000, "hr": 71})
    pipe = Pipeline(ROOT, Attributions(make_engine(state)))
    with pytest.raises(PayloadError, match="no decoder claims topic") as info:  # no profile claims it yet
        pipe.handle("acme/SN1/vitals", vendor, now, Batch())
    letters.add_many([NewDeadLetter(now, "acme/SN1/vitals", vendor, info.value.field, str(info.value))])
    letters.add_many([NewDeadLetter(now, "acme/SN2/vitals", b'{"ts": 1, "hr": 70}', "topic", "no profile")])
    store = await open_store(f"sqlite:///{tmp_path}/vitals.sqlite3")
    try:
        report = await replay(letters, store, state, ROOT)
        assert (report.stored, report.still_rejected) == (0, 2)  # nothing fixed yet
        profiles = tmp_path / "profiles"
        profiles.mkdir()
        (profiles / "acme.yaml").write_text(PROFILE)
        report = await replay(letters, store, state, ROOT, [str(profiles)])
        assert (report.stored, report.still_rejected) == (1, 1)
        rows = await store.query_vitals(device="acme-SN1", from_ms=now - 2000, to_ms=now)
        assert [r.values for r in rows] == [{"heart_rate": 71.0}]
        (left,) = list(letters.list())
        assert left.topic == "acme/SN2/vitals" and left.attempts == 2 and "ts" in left.reason
    finally:
        await store.close()
