"""The profile registry: every profile a process knows, by topic, changeable at run time.

Sources, later ones overriding earlier ones with the same profile id:
1. built-in profiles (``device_profiles/profiles/*.yaml``);
2. profile directories (``--profiles DIR``): files are watched (inotify via ``watchfiles``), so a
   vendor drops a file in and it is live within a second, no restart;
3. profiles uploaded through the API and activated in the state database
   (:mod:`device_profiles.profile_store`); a process reloads them when told on
   ``{root}/control/profiles`` (see docs/architecture.md).
A profile that fails to load never takes the others down: the problem is logged and kept in
:attr:`ProfileRegistry.problems`, and if an earlier good version of that file was loaded, it stays.
Two profiles claiming overlapping topics are a conflict: the later one is refused. A profile whose
topic would capture the platform's own tree (``{root}/…`` outside ``{root}/devices/…``) is refused
whatever its source (:func:`device_profiles.profile_policy.platform_tree_issue`).

Uploaded versions reach this registry only once an admin has activated them (the API refuses a
vendor's activation); the state database is the truth and ``control/profiles`` only says "reload".
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .canonical import decode_observation
from .compiler import CompiledProfile, compile_profile, compile_profile_file
from .device_alarm import Decoded
from .errors import PayloadError, ProfileError
from .profile_policy import platform_tree_issue
from .topics import ROOT

log = logging.getLogger(__name__)
BUILTIN_DIR = Path(__file__).parent / "profiles"
PROFILE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class StoredText:
    """A profile text from the state database (``source`` names it in messages)."""

    source: str
    text: str


def _files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in PROFILE_SUFFIXES and p.is_file())


class ProfileRegistry:
    """Lookups and decoding run on the owning loop; reloads may run in a worker thread (serialised by a
    lock) and swap in the new tables atomically."""

    def __init__(self, root: str = ROOT, directories: Sequence[str | Path] = (), builtins: bool = True) -> None:
        self.root = root
        self.directories = [Path(d) for d in directories]
        self.builtins = builtins
        self.version = 0
        self.problems: dict[str, str] = {}
        self._stored: list[StoredText] = []
        self._by_file: dict[str, CompiledProfile] = {}  # last good compile of each file, by path
        self._profiles: dict[str, CompiledProfile] = {}
        self._mqtt: list[CompiledProfile] = []
        self._lock = threading.Lock()  # reload runs in a thread (watch) and on the loop (set_stored)
        for d in self.directories:
            if not d.is_dir():
                log.warning("profile directory %s does not exist: not loaded, not watched", d)
        self.reload()

    # -- loading ---------------------------------------------------------------------------------
    def set_stored(self, texts: Iterable[StoredText]) -> None:
        """Replace the profiles that come from the state database, then reload."""
        self._stored = list(texts)
        self.reload()

    def reload(self) -> None:
        """Rebuild from every source. Bumps :attr:`version` when the set of profiles changed."""
        with self._lock:
            self._reload()

    def _reload(self) -> None:
        problems: dict[str, str] = {}
        candidates: list[CompiledProfile] = []
        dirs = ([BUILTIN_DIR] if self.builtins else []) + self.directories
        seen_files: set[str] = set()
        for d in dirs:
            for path in _files(d):
                key = str(path)
                seen_files.add(key)
                try:
                    compiled = compile_profile_file(path, self.root)
                    self._by_file[key] = compiled
                except ProfileError as exc:
                    problems[key] = str(exc)
                    log.warning("profile %s refused: %s", key, exc)
                    if key in self._by_file:
                        log.warning("profile %s: keeping the previous good version", key)
                if key in self._by_file:
                    candidates.append(self._by_file[key])
        for gone in set(self._by_file) - seen_files:
            del self._by_file[gone]
        for st in self._stored:
            try:
                candidates.append(compile_profile(st.text, st.source, self.root))
            except ProfileError as exc:
                problems[st.source] = str(exc)
                log.warning("stored profile %s refused: %s", st.source, exc)
        profiles: dict[str, CompiledProfile] = {}
        for c in candidates:
            profiles[c.id] = c  # later sources override earlier ones
        accepted: dict[str, CompiledProfile] = {}
        for pid, c in profiles.items():
            tree = platform_tree_issue(c.decoder.topic, self.root) if c.decoder is not None else None
            if tree is not None:
                problems[c.source] = f"{c.source}: {tree}; refused"
                log.warning("%s", problems[c.source])
                continue
            clash = _conflict(c, accepted.values())
            if clash is not None:
                problems[c.source] = (f"{c.source}: mqtt.topic {c.profile.mqtt.topic if c.profile.mqtt else ''!r} "
                                      f"overlaps profile {clash.id!r} ({clash.source}); refused")
                log.warning("%s", problems[c.source])
                continue
            accepted[pid] = c
        before = {k: v.sha256 for k, v in self._profiles.items()}
        self._profiles = accepted
        self._mqtt = [c for c in accepted.values() if c.decoder is not None]
        self.problems = problems
        if {k: v.sha256 for k, v in accepted.items()} != before:
            self.version += 1
            log.info("profile registry v%s: %s", self.version, ", ".join(sorted(accepted)))

    async def watch(self, on_change: Callable[[ProfileRegistry], Awaitable[None] | None] | None = None,
                    stop: asyncio.Event | None = None) -> None:
        """Reload whenever a file in the profile directories changes (no polling; runs until ``stop``)."""
        import watchfiles

        dirs = [d for d in self.directories if d.is_dir()]
        if not dirs:
            if stop is not None:
                await stop.wait()
            return
        async for _changes in watchfiles.awatch(*dirs, stop_event=stop, debounce=200, step=50,
                                                watch_filter=lambda _c, p: p.endswith(PROFILE_SUFFIXES)):
            old = self.version
            await asyncio.to_thread(self.reload)
            if self.version != old and on_change is not None:
                result = on_change(self)
                if result is not None:
                    await result

    # -- lookup ----------------------------------------------------------------------------------
    def get(self, profile_id: str) -> CompiledProfile | None:
        return self._profiles.get(profile_id)

    def all(self) -> list[CompiledProfile]:
        return sorted(self._profiles.values(), key=lambda c: c.id)

    def subscriptions(self, include_canonical: bool = False) -> list[str]:
        """MQTT filters for every MQTT profile (vendor topics; the canonical one on request)."""
        out = []
        for c in self._mqtt:
            assert c.decoder is not None
            if c.decoder.canonical and not include_canonical:
                continue
            out.append(c.decoder.topic.subscription)
        return sorted(set(out))

    def resolve(self, topic: str) -> tuple[CompiledProfile, str] | None:
        """The profile claiming ``topic`` and the device id it names (``""``: from the payload), or ``None``."""
        for c in self._mqtt:
            assert c.decoder is not None
            try:
                device = c.decoder.device_for(topic)
            except ProfileError as exc:
                raise PayloadError("topic", f"{topic!r}: {exc}") from None
            if device is not None:
                return c, device
        return None

    def decode(self, topic: str, payload: bytes | str, received_ms: int) -> Decoded:
        """Decode a message by the profile its topic belongs to; :class:`PayloadError` says why not."""
        found = self.resolve(topic)
        if found is None:
            raise PayloadError("topic", f"no profile claims topic {topic!r}")
        c, device = found
        assert c.decoder is not None
        if c.decoder.canonical:
            return Decoded(c.id, device, decode_observation(payload, device, now=received_ms))
        return c.decoder.decode(device, payload, received_ms, topic)

    def expire_after(self, profile_id: str, signal: str) -> float | None:
        """The profile's staleness horizon for ``signal`` in seconds (``None``: catalogue default)."""
        c = self._profiles.get(profile_id)
        return None if c is None else c.expire_after.get(signal)


def _conflict(c: CompiledProfile, accepted: Iterable[CompiledProfile]) -> CompiledProfile | None:
    if c.decoder is None:
        return None
    for other in accepted:
        if other.decoder is not None and c.decoder.topic.overlaps(other.decoder.topic):
            return other
    return None
