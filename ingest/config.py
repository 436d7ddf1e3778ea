"""Options of one ingest worker (frozen; passed to worker processes as JSON)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from device_profiles import topics

from .deadletters import DeadLetterPolicy
from .mqtt_link import SESSION_EXPIRY_S

MAX_BATCH_LINES = 5000
MAX_BATCH_AGE_S = 1.0
BATCH_IDLE_S = 0.05  # a pause this long in the stream seals the open batch


def default_client_prefix(root: str) -> str:
    """Stable per topic root, so a restarted worker resumes its own session (``sw-ingest-1a2b3c4d``)."""
    if root == topics.ROOT:
        return "sw-ingest"
    return "sw-ingest-" + hashlib.sha1(root.encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class IngestConfig:
    broker: str
    store: str
    state: str
    data_dir: str
    topic_root: str = topics.ROOT
    index: int = 0
    client_prefix: str = ""
    shared_group: str = topics.SHARED_INGEST_GROUP  # "": plain subscriptions (one worker)
    auto_assign: str | None = None
    profiles: tuple[str, ...] = ()
    republish_qos: int = 1
    max_batch_lines: int = MAX_BATCH_LINES
    max_batch_age_s: float = MAX_BATCH_AGE_S
    batch_idle_s: float = BATCH_IDLE_S
    session_expiry_s: int = SESSION_EXPIRY_S
    mqtt_v5: bool = True  # False: MQTT 3.1.1, persistent session, no shared subscription (one worker)
    drain: bool = False  # True: empty this worker's session, then end it (scaling down)
    # retention and quota of the dead letters (SMARTWARD_DEADLETTER_*: Settings.deadletter_policy())
    deadletters: DeadLetterPolicy = field(default_factory=DeadLetterPolicy)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return f"{self.client_prefix or default_client_prefix(self.topic_root)}-{self.index}"

    @property
    def dir(self) -> Path:
        return Path(self.data_dir)

    @property
    def spool_dir(self) -> Path:
        return self.dir / "spool" / f"worker-{self.index}"

    @property
    def deadletters_path(self) -> Path:
        return self.dir / "deadletters.sqlite3"

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["profiles"] = list(self.profiles)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> IngestConfig:
        extra: dict[str, Any] = {"profiles": tuple(d.get("profiles", ()))}
        if isinstance(d.get("deadletters"), dict):
            extra["deadletters"] = DeadLetterPolicy(**d["deadletters"])
        return cls(**{**d, **extra})
