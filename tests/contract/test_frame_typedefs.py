"""The checked-in frame schema (dashboard_api/static/schema/ws-frames.schema.json) is what the typed frames
of device_profiles/ws_frames.py give, and the JSDoc typedefs (dashboard_api/static/frames.js) are what
scripts/gen_frame_types.py makes of that schema: a change to a frame that is not regenerated fails here."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_frame_types", ROOT / "scripts" / "gen_frame_types.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


gen = _generator()


def test_checked_in_schema_is_what_the_python_frames_give() -> None:
    from device_profiles.ws_frames import schema

    assert gen.SCHEMA.read_text(encoding="utf-8") == gen.schema_json(schema()), "run: python scripts/gen_frame_types.py"


def test_checked_in_typedefs_match_the_schema() -> None:
    want = gen.render(json.loads(gen.SCHEMA.read_text(encoding="utf-8")))
    assert gen.OUT.read_text(encoding="utf-8") == want, "run: python scripts/gen_frame_types.py"


def test_a_discriminated_union_becomes_typedefs() -> None:
    schema = {
        "$defs": {
            "TileFrame": {"type": "object", "description": "A bed changed.",
                          "properties": {"type": {"const": "tile"}, "tile": {"$ref": "#/$defs/Tile"}},
                          "required": ["type", "tile"]},
            "Tile": {"type": "object", "properties": {
                "bed": {"type": "string"},
                "battery": {"anyOf": [{"type": "number"}, {"type": "null"}], "description": "percent"},
                "vitals": {"type": "object", "additionalProperties": {"type": "number"}},
                "alarms": {"type": "array", "items": {"enum": ["high", "low"]}}},
                "required": ["bed", "vitals", "alarms"]},
            "ResyncFrame": {"type": "object", "properties": {"type": {"const": "resync"}}, "required": ["type"]},
        },
        "oneOf": [{"$ref": "#/$defs/TileFrame"}, {"$ref": "#/$defs/ResyncFrame"}],
        "discriminator": {"propertyName": "type"},
    }
    out = gen.render(schema)
    assert "@typedef {TileFrame | ResyncFrame} WsFrame" in out
    assert " * A bed changed.\n * @typedef {object} TileFrame\n * @property {\"tile\"} type\n * @property {Tile} tile" in out
    assert " * @property {number | null} [battery] percent" in out
    assert " * @property {Record<string, number>} vitals" in out
    assert ' * @property {Array<"high" | "low">} alarms' in out
    with pytest.raises(gen.SchemaError):
        gen.type_of({"$ref": "https://example.org/other.json"})
