"""The interface's message catalogues (``dashboard_api/static/i18n/<lang>.json``), checked as a translator
would want: both languages have the same keys, each key the same ``{placeholders}`` and no empty text;
every key the pages name (``t("…")``, ``I18n.t("…")``, ``plural("…")``, ``data-i18n*="…"`` in their
HTML, and any key-shaped string of a central-station module, e.g. one arm of a ``?:``) is in both; and
every key a station module builds from a value (``t("news2.risk." + risk)``) exists for every value the
server can send, taken from where the server defines them (NEWS2 parameters and risk bands, alarm
priorities, states and actions, reading qualities, roles, waveform signals, technical alarm codes)."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest

from alerting.conditions import TECHNICAL_SIGNAL_CODES
from alerting.engine import LABELS
from alerting.news2 import PARAMETERS, Risk
from dashboard_api import ROLES, twin_config, twin_jobs
from dashboard_api.routes.catalogue import catalogue
from device_profiles import SIGNALS, Priority, Quality, SignalKind
from digital_twin import live

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "dashboard_api" / "static"
LANGS = ("en", "zh-CN")
# the central station's own modules (index.html's page) and the facility page's: their key-shaped strings
# and the keys they build are checked
STATION = ("station.js", "alarms.js", "alarmtext.js", "waves.js", "chart.js", "common.js", "catalogue.js", "session.js",
           "login.js", "facility.js")

CALL = re.compile(r"""(?<![\w$])(?:I18n\.)?(t|tr|plural|has)\(\s*(["'])([^"'`$\s]+)\2\s*[,)]""")
ATTR = re.compile(r"""data-i18n(?:-aria-label|-title)?=["']([^"']+)["']""")
LITERAL = re.compile(r"""["']([a-z][\w-]*(?:\.[\w-]+)+|[a-z][\w-]*(?:\.[\w-]+)*\.)["']""")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def load(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((STATIC / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def pages() -> list[Path]:
    return sorted(p for p in [*STATIC.glob("*.js"), *STATIC.glob("*.html")] if p.name != "frames.js")


def station_literals() -> dict[str, set[str]]:
    """Key-shaped strings of the station's modules, by file: "station.summary", "news2.risk." (a prefix)."""
    namespaces = {k.split(".")[0] for k in load("en")}
    out: dict[str, set[str]] = {}
    for name in STATION:
        text = (STATIC / name).read_text(encoding="utf-8")
        out[name] = {m for m in LITERAL.findall(text) if m.split(".")[0] in namespaces}
    return out


def alarm_actions() -> set[str]:
    """The alarm actions the API offers (POST /api/v1/alarms/{id}/<action>)."""
    src = (ROOT / "dashboard_api" / "routes" / "alarms.py").read_text(encoding="utf-8")
    return set(re.findall(r'@router\.post\("/alarms/\{alarm_id\}/(\w+)"', src))


def screen_alarm_states() -> set[str]:
    schema = json.loads((STATIC / "schema" / "ws-frames.schema.json").read_text(encoding="utf-8"))
    state = schema["$defs"]["ScreenAlarm"]["properties"]["state"]
    if "$ref" in state:  # the contract's StrEnum (device_profiles.AlarmState), a definition of its own
        state = schema["$defs"][state["$ref"].removeprefix("#/$defs/")]
    return set(state["enum"])


def technical_codes() -> set[str]:
    """The technical conditions alarms.js names (its TECH list) plus the combined probe-and-leads one."""
    src = (STATIC / "alarms.js").read_text(encoding="utf-8")
    found = re.search(r"const TECH = \[([^\]]*)\]", src)
    assert found, "alarms.js: no TECH list"
    return {*re.findall(r'"(\w+)"', found.group(1)), "probe_and_leads_off"}


# prefix -> every value the server can complete it with (None: optional, the module asks has() first
# and falls back to the server's own text)
DYNAMIC: dict[str, set[str] | None] = {
    "news2.param.": set(PARAMETERS),
    "news2.short.": set(PARAMETERS),
    "news2.risk.": {r.value for r in Risk},
    "quality.": {q.value for q in Quality},
    "alarm.priority.": {p.value for p in Priority},
    "alarm.state.": screen_alarm_states(),
    "alarm.tech.": technical_codes(),
    "alarm.techSignal.": set(TECHNICAL_SIGNAL_CODES),
    "station.act.": alarm_actions(),
    "station.done.": alarm_actions(),
    "station.notDone.": alarm_actions(),
    "station.notDoneEnded.": alarm_actions(),
    "station.conn.": {"offline", "live", "reconnecting", "lost"},  # station.js ConnWord
    "role.": set(ROLES),
    "wave.": {n for n, s in SIGNALS.items() if s.kind is SignalKind.WAVEFORM},
    "sig.": None,
    "reason.sig.": {n for n, s in SIGNALS.items() if s.kind is SignalKind.NUMERIC},
    "reason.param.": set(PARAMETERS),
    "reason.what.": None,  # alerting's phrases, recognised by their English text (test_alarm_reasons.py)
    "facility.acuity.": set(typing.get_args(live.Acuity)),
    "facility.shift.": set(typing.get_args(twin_config.Shift)),
    "facility.status.": set(typing.get_args(twin_jobs.Status)),
    "facility.censusKind.": set(typing.get_args(twin_jobs.RunRecord.model_fields["census"].annotation)),
}


def test_both_languages_have_the_same_keys_and_placeholders() -> None:
    en, zh = load("en"), load("zh-CN")
    assert sorted(set(en) - set(zh)) == [], "keys missing in zh-CN.json"
    assert sorted(set(zh) - set(en)) == [], "keys missing in en.json"
    for lang, cat in (("en", en), ("zh-CN", zh)):
        assert [k for k, v in cat.items() if not isinstance(v, str) or not v.strip()] == [], f"empty texts in {lang}"
    differ = {k: (en[k], zh[k]) for k in en if set(PLACEHOLDER.findall(en[k])) != set(PLACEHOLDER.findall(zh[k]))}
    assert differ == {}, "a translation must keep every {placeholder} of the English text (and add none)"


def test_every_key_a_page_names_is_in_both_catalogues() -> None:
    cats = {lang: load(lang) for lang in LANGS}
    missing: list[str] = []
    for path in pages():
        text = path.read_text(encoding="utf-8")
        keys = {m.group(3) for m in CALL.finditer(text) if m.group(1) != "plural"}
        keys |= {m.group(3) + form for m in CALL.finditer(text) if m.group(1) == "plural" for form in (".one", ".other")}
        keys |= set(ATTR.findall(text))
        missing += [f"{path.name}: {k} ({lang})" for k in sorted(keys) for lang in LANGS if k not in cats[lang]]
    assert missing == []


def test_every_key_string_of_the_station_is_in_both_catalogues() -> None:
    """Also the keys the simple scan above cannot see: `t(ended ? "a" : "b")`, keys kept in a table (a
    plural's key names its forms: key.one, key.other)."""
    cats = {lang: load(lang) for lang in LANGS}
    missing = [f"{name}: {k} ({lang})" for name, keys in station_literals().items() for k in sorted(keys)
               if not k.endswith(".") for lang in LANGS
               if k not in cats[lang] and not {k + ".one", k + ".other"} <= set(cats[lang])]
    assert missing == []


def test_keys_built_from_values_exist_for_every_value_the_server_sends() -> None:
    cats = {lang: load(lang) for lang in LANGS}
    prefixes = {(name, k) for name, keys in station_literals().items() for k in keys if k.endswith(".")}
    unknown = sorted(f"{name}: {p}" for name, p in prefixes if p not in DYNAMIC)
    assert unknown == [], "a key built from a value: add its prefix and the values it takes to DYNAMIC"
    for _, prefix in prefixes:
        values = DYNAMIC[prefix]
        assert values is None or values, prefix  # a source that yields nothing is a broken test
        missing = [f"{prefix}{v} ({lang})" for v in sorted(values or ()) for lang in LANGS if prefix + v not in cats[lang]]
        assert missing == [], prefix


def test_the_scan_sees_a_missing_key() -> None:
    """The scans are live: a key or a built prefix that a catalogue lacks is found."""
    assert CALL.search('el("b", {}, t("station.no_such_key"))').group(3) == "station.no_such_key"  # type: ignore[union-attr]
    assert ATTR.findall('<b data-i18n-title="station.x">') == ["station.x"]
    assert LITERAL.findall('t(a ? "news2.risk." + r : "station.y") + t("role." + x)') == ["news2.risk.", "station.y", "role."]
    assert {"station.summary", "news2.risk."} <= station_literals()["station.js"]


@pytest.mark.parametrize("lang", LANGS)
def test_a_language_writes_a_screen_label_its_own_way_only_where_it_must(lang: str) -> None:
    """sig.<signal> overrides the server's screen label: in English it is the server's label, word for word."""
    labels = {name: s.label for name, s in catalogue().signals.items()}
    own = {k.removeprefix("sig."): v for k, v in load(lang).items() if k.startswith("sig.")}
    assert set(own) <= set(labels)
    if lang == "en":
        assert own == {name: labels[name] for name in own}


def test_the_english_reason_words_are_alerting_s_own() -> None:
    """alarmtext.js recognises a signal or NEWS2 parameter in alerting's English text by the English
    catalogue's word for it: that word must be alerting's."""
    en = load("en")
    assert {k.removeprefix("reason.sig."): v for k, v in en.items() if k.startswith("reason.sig.")} == {
        n: LABELS[n] for n, s in SIGNALS.items() if s.kind is SignalKind.NUMERIC}
    assert {k.removeprefix("reason.param."): v for k, v in en.items() if k.startswith("reason.param.")} == {
        p: p for p in PARAMETERS}
