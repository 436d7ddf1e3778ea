"""Settings of the facility manager's twin API (``SMARTWARD_TWIN_*``, read by ``smartward.settings``)
and the ward layouts the server knows (one YAML file per ward, indexed by the ward id inside the file)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from .errors import ConfigError

if TYPE_CHECKING:
    from digital_twin.model import WardModel

log = logging.getLogger(__name__)
DEFAULT_LAYOUTS = Path(__file__).resolve().parents[1] / "digital_twin" / "wards"
Shift = Literal["day", "night"]


class TwinSettings(BaseModel):
    """``SMARTWARD_TWIN_WARDS`` (directory or file of ward layouts; default the shipped example),
    ``…_MAX_RUNS`` (runs at once; the rest queue, at most ``…_MAX_QUEUED``), ``…_WORKERS`` (processes per run),
    ``…_MAX_REPLICATIONS``, ``…_NOW_REPLICATIONS`` / ``…_NOW_MAX_AGE_S`` / ``…_NOW_MIN_INTERVAL_S``
    ("time to evacuate now": replications, recompute after, not more often than),
    ``…_TIMEZONE`` (local time for the shift; default the server's), ``…_DAY_START`` / ``…_DAY_END``,
    ``…_ALIASES`` (``w1=medsurg-4``: platform ward ``w1`` is simulated on layout ``medsurg-4``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wards: Path = DEFAULT_LAYOUTS
    max_runs: int = Field(default=1, ge=1, le=4)
    workers: int = Field(default=1, ge=1, le=8)
    max_replications: int = Field(default=5000, ge=1)
    max_queued: int = Field(default=20, ge=1)
    now_replications: int = Field(default=1000, ge=10, le=5000)
    now_max_age_s: float = Field(default=300.0, ge=5.0)
    now_min_interval_s: float = Field(default=20.0, ge=0.0)
    timezone: str = ""
    day_start: int = Field(default=7, ge=0, le=23)
    day_end: int = Field(default=19, ge=1, le=24)
    aliases: str = Field(default="", description="platform ward=layout id, comma-separated (w1=medsurg-4)")

    def alias_map(self) -> dict[str, str]:
        """``SMARTWARD_TWIN_ALIASES="w1=medsurg-4,w2=medsurg-4"``: platform wards that use another ward's layout."""
        out: dict[str, str] = {}
        for item in filter(None, (x.strip() for x in self.aliases.split(","))):
            ward, sep, layout = (x.strip() for x in item.partition("="))
            if not sep or not ward or not layout:
                raise ConfigError(f"SMARTWARD_TWIN_ALIASES: {item!r} is not WARD=LAYOUT_ID")
            out[ward] = layout
        return out

    def shift_at(self, when: dt.datetime) -> Shift:
        """``day`` from ``day_start`` to ``day_end`` local time (07-19 by default), else ``night``."""
        local = when.astimezone(self.zone())
        return "day" if self.day_start <= local.hour < self.day_end else "night"

    def zone(self) -> dt.tzinfo | None:
        if not self.timezone:
            return None  # astimezone(None): the server's local zone
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"SMARTWARD_TWIN_TIMEZONE {self.timezone!r} is not a known time zone") from None


@dataclass
class Layouts:
    """Ward layouts by ward id, read once from a directory of ``*.yaml`` files (or one file).
    A file that does not load is logged with the loader's message and left out."""

    source: Path
    wards: dict[str, WardModel] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, source: Path, aliases: dict[str, str] | None = None) -> Layouts:
        from digital_twin import TwinError
        from digital_twin.model import load_ward

        out = cls(source)
        if not source.exists():
            raise ConfigError(f"ward layouts {source} do not exist (SMARTWARD_TWIN_WARDS)")
        paths = [source] if source.is_file() else sorted(source.glob("*.yaml")) + sorted(source.glob("*.yml"))
        for path in paths:
            try:
                ward = load_ward(path)
            except TwinError as exc:
                out.problems[str(path)] = str(exc)
                log.warning("twin: ward layout %s not loaded: %s", path, exc)
                continue
            if ward.id in out.wards:
                out.problems[str(path)] = f"ward id {ward.id!r} is also defined in {out.files[ward.id]}"
                log.warning("twin: ward layout %s ignored: id %s already in %s", path, ward.id, out.files[ward.id])
                continue
            out.wards[ward.id] = ward
            out.files[ward.id] = path
        for alias, target in (aliases or {}).items():
            base = out.wards.get(target)
            if base is None:
                raise ConfigError(f"SMARTWARD_TWIN_ALIASES: {alias}={target}: no ward layout with id {target!r} "
                                  f"in {source}")
            out.wards[alias] = base.as_ward(alias)
            out.files[alias] = out.files[target]
        return out

    def get(self, ward_id: str) -> WardModel | None:
        return self.wards.get(ward_id)
