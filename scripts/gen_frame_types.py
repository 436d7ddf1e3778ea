"""Turn the websocket frame schema into JSDoc typedefs for the web pages.

    python scripts/gen_frame_types.py           # write the schema from device_profiles/ws_frames.py, then frames.js
    python scripts/gen_frame_types.py --check   # exit 1 if either checked-in file is not what the types give

The schema (``dashboard_api/static/schema/ws-frames.schema.json``) is generated from the typed frames in
Python (``device_profiles/ws_frames.py``, pydantic's JSON Schema of ``WsFrame``); this writes one ``@typedef`` per schema definition and ``WsFrame`` for the schema's root (the
union of every frame), so ``// @ts-check`` modules type what arrives on the websocket as
``import("./frames.js").WsFrame``. ``tests/contract/test_frame_typedefs.py`` fails when the checked-in
file and the schema disagree.

It reads the JSON Schema pydantic writes: ``$defs`` with ``$ref`` to them, ``anyOf``/``oneOf`` unions,
``const``/``enum`` literals, objects with ``properties``/``required`` or ``additionalProperties``,
arrays with ``items``/``prefixItems``, and ``type`` given as one name or a list. A schema it does not
know (or ``{}``) types as ``unknown``: the page must check the value before using it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "dashboard_api" / "static" / "schema" / "ws-frames.schema.json"
OUT = ROOT / "dashboard_api" / "static" / "frames.js"
ROOT_NAME = "WsFrame"
_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_PRIMITIVE = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean", "null": "null"}

Schema = dict[str, Any]


class SchemaError(ValueError):
    """The schema uses something this generator cannot type."""


def _name(key: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_$]", "_", key)
    return name if _IDENT.match(name) else "_" + name


def _ref(ref: str) -> str:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            return _name(ref.removeprefix(prefix))
    if ref == "#":
        return ROOT_NAME
    raise SchemaError(f"unsupported $ref {ref!r} (only local definitions)")


def _union(parts: list[str]) -> str:
    seen: list[str] = []
    for p in parts:
        if p not in seen:
            seen.append(p)
    if "unknown" in seen:
        return "unknown"
    return " | ".join(f"({p})" if " => " in p else p for p in seen) if seen else "never"


def _key(k: str) -> str:
    return k if _IDENT.match(k) else json.dumps(k)


def type_of(s: Schema | bool) -> str:
    """The TypeScript type (as JSDoc writes it) of one schema."""
    if s is True or s == {}:
        return "unknown"
    if s is False:
        return "never"
    assert isinstance(s, dict)
    if "$ref" in s:
        return _ref(s["$ref"])
    if "const" in s:
        return json.dumps(s["const"], ensure_ascii=False)
    if "enum" in s:
        return _union([json.dumps(v, ensure_ascii=False) for v in s["enum"]])
    for key in ("anyOf", "oneOf"):
        if key in s:
            return _union([type_of(x) for x in s[key]])
    if "allOf" in s:
        parts = [type_of(x) for x in s["allOf"]]
        return parts[0] if len(parts) == 1 else " & ".join(f"({p})" for p in parts)
    t = s.get("type")
    if isinstance(t, list):
        return _union([type_of({**s, "type": one}) for one in t])
    if t in _PRIMITIVE:
        return _PRIMITIVE[t]
    if t == "array":
        if "prefixItems" in s:
            return "[" + ", ".join(type_of(x) for x in s["prefixItems"]) + "]"
        item = type_of(s.get("items", {}))
        return f"Array<{item}>"
    if t == "object" or "properties" in s:
        props: dict[str, Schema] = s.get("properties", {})
        extra = s.get("additionalProperties")
        if not props:
            return f"Record<string, {type_of(extra) if isinstance(extra, dict) else 'unknown'}>"
        required = set(s.get("required", []))
        fields = [f"{_key(k)}{'' if k in required else '?'}: {type_of(v)}" for k, v in props.items()]
        return "{ " + "; ".join(fields) + " }"
    if t is None:
        return "unknown"
    raise SchemaError(f"unsupported type {t!r}")


def _comment(text: str) -> list[str]:
    return [" * " + line.rstrip() if line.strip() else " *" for line in text.replace("*/", "*\\/").splitlines()]


def typedef(name: str, s: Schema) -> str:
    """One ``@typedef`` block: an object with named properties, else an alias of its type."""
    lines = ["/**"]
    if s.get("description"):
        lines += _comment(s["description"])
    props: dict[str, Schema] = s.get("properties", {})
    if props and s.get("type", "object") == "object" and all(_IDENT.match(k) for k in props) \
            and not s.get("additionalProperties"):
        required = set(s.get("required", []))
        lines.append(f" * @typedef {{object}} {name}")
        for k, v in props.items():
            where = k if k in required else f"[{k}]"
            doc = (" " + " ".join(str(v["description"]).split())) if isinstance(v, dict) and v.get("description") \
                else ""
            lines.append(f" * @property {{{type_of(v)}}} {where}{doc}")
    else:
        lines.append(f" * @typedef {{{type_of(s)}}} {name}")
    lines.append(" */")
    return "\n".join(lines)


def render(schema: Schema, source: str = "schema/ws-frames.schema.json") -> str:
    """The whole ``frames.js`` for this schema (deterministic: the root, then definitions by name)."""
    defs: dict[str, Schema] = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    root = {k: v for k, v in schema.items() if k not in ("$defs", "definitions", "$schema", "$id", "title")}
    blocks = [typedef(ROOT_NAME, root)]
    blocks += [typedef(_name(k), defs[k]) for k in sorted(defs)]
    head = ("// @ts-check\n"
            f"// Generated by scripts/gen_frame_types.py from {source}: do not edit.\n"
            "// The frames the server sends on /api/v1/ws/... as JSDoc types; the pages import them with\n"
            '// /** @typedef {import("./frames.js").WsFrame} WsFrame */. Nothing here runs.\n')
    return head + "\n" + "\n\n".join(blocks) + "\n\nexport {};\n"


def schema_json(schema: Schema) -> str:
    """The schema file's text (pydantic's order, which follows the TypedDicts), one trailing newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the checked-in file instead of writing it")
    ap.add_argument("--schema", type=Path, default=SCHEMA)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from device_profiles.ws_frames import schema as frame_schema

    schema_text = schema_json(frame_schema())
    text = render(json.loads(schema_text))
    if args.check:
        stale = [str(p) for p, want in ((args.schema, schema_text), (args.out, text))
                 if not p.exists() or p.read_text(encoding="utf-8") != want]
        if stale:
            print(f"{', '.join(stale)}: not what device_profiles/ws_frames.py gives: run python scripts/gen_frame_types.py",
                  file=sys.stderr)
            return 1
        return 0
    args.schema.parent.mkdir(parents=True, exist_ok=True)
    args.schema.write_text(schema_text, encoding="utf-8")
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
