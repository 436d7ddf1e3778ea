"""The live census overlaid on a ward layout (digital_twin.live): occupancy, acuity from the NEWS2
band, device battery, bed matching, and ``load_live_ward`` over HTTP against a small real server."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from digital_twin.live import (
    Census,
    CensusBed,
    LiveError,
    acuity_of,
    load_live_ward,
    match_beds,
    overlay_census,
)
from digital_twin.model import WardModel, example_ward_path, load_ward


@pytest.fixture(scope="module")
def layout() -> WardModel:
    return load_ward(example_ward_path())


def census(*beds: CensusBed) -> Census:
    return Census(ward="medsurg-4", t=1_763_805_600_000, beds=list(beds))


def test_acuity_follows_the_news2_band() -> None:
    assert [acuity_of(r) for r in ("low", "low-medium", "medium", "high", None)] == \
        ["low", "medium", "high", "high", None]


def test_only_census_beds_are_occupied_with_acuity_from_news2(layout: WardModel) -> None:
    assert len(layout.occupied_beds()) == 30
    c = census(CensusBed(bed="02", occupied=True, patient="P1", news2_risk="high"),
               CensusBed(bed="05", occupied=True, patient="P2", news2_risk="low-medium"),
               CensusBed(bed="06", occupied=True, patient="P3"),  # no NEWS2 yet: layout's acuity (high)
               CensusBed(bed="07", occupied=False, news2_risk="high"))
    o = overlay_census(layout, c)
    occ = {b.id: b for b in o.ward.occupied_beds()}
    assert sorted(occ) == ["02", "05", "06"]
    assert (occ["02"].acuity, occ["05"].acuity, occ["06"].acuity) == ("high", "medium", "high")
    assert occ["02"].patient == "P1" and occ["02"].mobility == "ambulant"  # mobility from the layout
    assert o.occupied == 3 and o.no_news2 == 1 and o.acuity == {"high": 2, "medium": 1}
    assert all(b.patient is None for b in o.ward.beds if not b.occupied)
    # the layout is unchanged; the overlay is a validated ward of its own
    assert len(layout.occupied_beds()) == 30
    assert o.ward.distance("r01", "x-west") == layout.distance("r01", "x-west")


def test_battery_of_the_bed_device_and_unmapped_beds(layout: WardModel) -> None:
    c = census(CensusBed(bed="3", occupied=True, battery_pct=41.5),  # bed number matches "03"
               CensusBed(bed="31", occupied=True, news2_risk="low"),  # no such bed in the layout
               CensusBed(bed="09", occupied=False, battery_pct=12))
    o = overlay_census(layout, c)
    dev = {d.bed: d for d in o.ward.devices}
    assert dev["03"].battery_pct == 41.5 and dev["09"].battery_pct == 12
    assert dev["01"].battery_pct == 100  # not in the census: the layout's value
    assert o.batteries == 2 and o.unmapped == ["31"]
    assert [b.id for b in o.ward.occupied_beds()] == ["03"]
    assert o.summary()["unmapped_beds"] == ["31"]


def test_bed_matching_prefers_exact_ids_and_refuses_ambiguity() -> None:
    assert match_beds(["01", "02", "B3"], ["01", "2", "3", "4"]) == {"01": "01", "2": "02", "3": "B3"}
    assert match_beds(["A1", "B1"], ["1"]) == {}  # two beds numbered 1: no guess


def test_fingerprint_ignores_battery_but_not_the_band() -> None:
    a = census(CensusBed(bed="01", occupied=True, news2_risk="low", battery_pct=90))
    b = census(CensusBed(bed="01", occupied=True, news2_risk="low", battery_pct=20))
    c = census(CensusBed(bed="01", occupied=True, news2_risk="medium", battery_pct=20))
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()


class _Platform(http.server.BaseHTTPRequestHandler):
    """A tiny stand-in for the platform's census endpoint (token + census)."""

    census: ClassVar[dict[str, Any]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        form = dict(p.split("=", 1) for p in self.rfile.read(n).decode().split("&"))
        if form == {"username": "fm", "password": "s3cret-pass"}:
            self._send(200, {"access_token": "tok-fm", "token_type": "bearer"})
        else:
            self._send(401, {"detail": "wrong username or password"})

    def do_GET(self) -> None:
        if self.headers.get("Authorization") != "Bearer tok-fm":
            self._send(401, {"detail": "not authenticated"})
        elif self.path in ("/api/v1/twin/census/medsurg-4", "/api/v1/twin/census/w9"):
            self._send(200, self.census)
        elif self.path == "/api/v1/twin/wards":
            self._send(200, [{"id": "medsurg-4", "live_beds": len(self.census.get("beds", []))},
                             {"id": "demo", "live_beds": 12}])
        else:
            self._send(403, {"detail": "role nurse may not use the digital twin"})


@contextlib.contextmanager
def platform(census_doc: dict[str, Any]) -> Iterator[str]:
    handler = type("H", (_Platform,), {"census": census_doc})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_load_live_ward_over_http(layout: WardModel) -> None:
    doc = {"ward": "medsurg-4", "t": 1, "beds": [{"bed": "01", "occupied": True, "news2_risk": "medium",
                                                 "battery_pct": 33, "future_field": 1}]}
    with platform(doc) as url:
        ward = load_live_ward(url, ward_id="medsurg-4", layout=layout, username="fm", password="s3cret-pass")
        assert [(b.id, b.acuity) for b in ward.occupied_beds()] == [("01", "high")]
        assert next(d for d in ward.devices if d.bed == "01").battery_pct == 33
        same = load_live_ward(url + "/", ward_id="medsurg-4", layout=layout, token="tok-fm")
        assert same == ward
        with pytest.raises(LiveError, match=r"login as 'fm' refused \(401\): wrong username or password"):
            load_live_ward(url, ward_id="medsurg-4", layout=layout, username="fm", password="nope-nope")
        with pytest.raises(LiveError, match=r"census of ward 'icu-1' refused \(403\)"):
            load_live_ward(url, ward_id="icu-1", layout=layout, token="tok-fm")
        with pytest.raises(LiveError, match=r"token .* or a username and password"):
            load_live_ward(url, ward_id="medsurg-4", layout=layout)


def test_a_bad_census_names_the_field(layout: WardModel) -> None:
    doc = {"ward": "medsurg-4", "t": 1, "beds": [{"bed": "01", "occupied": True, "battery_pct": 140}]}
    with platform(doc) as url, pytest.raises(LiveError, match=r"beds\.0\.battery_pct: .*less than or equal to 100"):
        load_live_ward(url, ward_id="medsurg-4", layout=layout, token="tok-fm")


def test_an_unreachable_platform_is_named(layout: WardModel) -> None:
    with pytest.raises(LiveError, match=r"127\.0\.0\.1:9"):
        load_live_ward("http://127.0.0.1:9", ward_id="medsurg-4", layout=layout, token="t", timeout_s=2)


def test_census_from_the_dashboards_ward_state(layout: WardModel) -> None:
    from dashboard_api.twin_census import census_from_state
    from dashboard_api.wardstate import WardState
    from device_profiles import DeviceStatusMessage, News2Message

    now = 1_763_805_600_000
    state = WardState()
    state.set_assignments({"mon-3": ("medsurg-4", "03"), "mon-4": ("medsurg-4", "04")},
                          {("medsurg-4", "03"): "P3", ("medsurg-4", "04"): "P4", ("w1", "01"): "P9"})
    state.news2(News2Message.from_json({"ward": "medsurg-4", "bed": "03", "patient": "P3", "total": 8, "risk": "high",
                                        "complete": True}, now))
    state.news2(News2Message.from_json({"ward": "medsurg-4", "bed": "04", "patient": "P4", "total": 0, "risk": "low",
                                        "complete": True}, now))
    state.status(DeviceStatusMessage.from_json({"ward": "medsurg-4", "bed": "04", "online": True, "battery": 18, "t": now},
                                               now))
    state.observe({"ward": "medsurg-4", "bed": "04", "device": "mon-4", "patient": "P4",
                   "samples": [{"t": now - 5000, "heart_rate": 72, "spo2": 97, "resp_rate": 16}]})
    c = census_from_state(state, "medsurg-4", now, include_patients=False)
    beds = {b.bed: b for b in c.beds}
    assert sorted(beds) == ["03", "04"] and all(b.occupied for b in beds.values())
    assert all(b.patient is None for b in c.beds)  # facility managers: no patient ids
    assert beds["03"].news2_risk == "high" and beds["04"].news2_risk == "low"  # alerting's published scores
    assert beds["04"].battery_pct == 18 and beds["04"].device_online is True and beds["03"].battery_pct is None
    assert [b.patient for b in census_from_state(state, "medsurg-4", now, include_patients=True).beds] == ["P3", "P4"]
    o = overlay_census(layout, c)
    assert [(b.id, b.acuity) for b in o.ward.occupied_beds()] == [("03", "high"), ("04", "low")]
    state.set_assignments({}, {("medsurg-4", "04"): "P4"})  # P3 discharged
    c2 = census_from_state(state, "medsurg-4", now, include_patients=False)
    assert [b.bed for b in c2.beds if b.occupied] == ["04"] and c2.fingerprint() != c.fingerprint()


@pytest.mark.parametrize(("utc", "zone", "shift"), [
    ("2026-11-22T06:59:00", "UTC", "night"), ("2026-11-22T07:00:00", "UTC", "day"),
    ("2026-11-22T18:59:59", "UTC", "day"), ("2026-11-22T19:00:00", "UTC", "night"),
    ("2026-07-01T06:30:00", "Europe/London", "day"),  # 07:30 BST
    ("2026-07-01T18:30:00", "Europe/London", "night"),  # 19:30 BST
])
def test_shift_by_local_time(utc: str, zone: str, shift: str) -> None:
    import datetime as dt

    from dashboard_api.twin_config import TwinSettings

    when = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    assert TwinSettings(timezone=zone).shift_at(when) == shift


def test_an_unknown_time_zone_is_named() -> None:
    import datetime as dt

    from dashboard_api import ConfigError
    from dashboard_api.twin_config import TwinSettings

    with pytest.raises(ConfigError, match="Mars/Olympus"):
        TwinSettings(timezone="Mars/Olympus").shift_at(dt.datetime.now(dt.UTC))


def test_ward_aliases_reuse_a_layout_under_the_platforms_ward_id() -> None:
    from dashboard_api import ConfigError
    from dashboard_api.twin_config import DEFAULT_LAYOUTS, Layouts, TwinSettings

    layouts = Layouts.load(DEFAULT_LAYOUTS, TwinSettings(aliases="w1=medsurg-4, w2 = medsurg-4").alias_map())
    assert sorted(layouts.wards) == ["medsurg-4", "w1", "w2"]
    w1 = layouts.wards["w1"]
    assert w1.id == "w1" and len(w1.beds) == 30 and "(layout medsurg-4)" in w1.name
    with pytest.raises(ConfigError, match="'icu-9'"):
        Layouts.load(DEFAULT_LAYOUTS, {"w1": "icu-9"})
    with pytest.raises(ConfigError, match="not WARD=LAYOUT_ID"):
        TwinSettings(aliases="w1").alias_map()


def test_a_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard_api import ConfigError
    from smartward.settings import load_twin_settings

    monkeypatch.setenv("SMARTWARD_TWIN_MAX_RUNS", "0")
    with pytest.raises(ConfigError, match=r"SMARTWARD_TWIN_MAX_RUNS: .*greater than or equal to 1"):
        load_twin_settings()


def test_when_time_to_evacuate_now_is_recomputed() -> None:
    from dashboard_api.twin_config import TwinSettings
    from dashboard_api.twin_now import should_recompute

    s = TwinSettings(now_max_age_s=300, now_min_interval_s=20)
    a = census(CensusBed(bed="01", occupied=True, news2_risk="low")).fingerprint()
    band = census(CensusBed(bed="01", occupied=True, news2_risk="medium")).fingerprint()
    admitted = census(CensusBed(bed="01", occupied=True, news2_risk="low"),
                      CensusBed(bed="02", occupied=True)).fingerprint()
    assert should_recompute(None, a, 0, s)  # never computed
    assert not should_recompute(a, a, 299, s)  # unchanged and young
    assert should_recompute(a, a, 300, s)  # old
    assert should_recompute(a, admitted, 1, s)  # a bed occupied: at once
    assert not should_recompute(a, band, 19, s) and should_recompute(a, band, 20, s)  # acuity: not too often


def test_an_empty_live_census_is_an_error_naming_the_wards_with_beds(layout: WardModel) -> None:
    """`twin run --live` without --ward-id against the demo (beds in ward "demo"): not an empty ward."""
    with platform({"ward": "medsurg-4", "t": 1, "beds": []}) as url, pytest.raises(
            LiveError, match=r"ward 'medsurg-4' has no beds on the platform; wards with beds: demo \(choose one with --ward-id\)"):
        load_live_ward(url, ward_id="medsurg-4", layout=layout, token="tok-fm")


def test_cli_live_ward_on_another_wards_layout_is_named_as_the_server_names_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`twin run --live URL --ward-id w9` on the example layout: the report's ward is w9 with the
    server's alias name (SMARTWARD_TWIN_ALIASES=w9=medsurg-4), so CLI and page reports can match."""
    import argparse

    from dashboard_api.twin_config import Layouts
    from digital_twin.model import example_ward_path
    from smartward.commands.twin import _ward

    doc = {"ward": "w9", "t": 1, "beds": [{"bed": "01", "occupied": True, "news2_risk": "low"}]}
    monkeypatch.setenv("SMARTWARD_TWIN_TOKEN", "tok-fm")
    with platform(doc) as url:
        ward, census = _ward(argparse.Namespace(ward=None, live=url + "/", ward_id="w9", username=None))
    server = Layouts.load(example_ward_path(), {"w9": "medsurg-4"}).wards["w9"]
    assert (ward.id, ward.name) == (server.id, server.name) and ward.name.endswith("(layout medsurg-4)")
    # where the census came from, for report.json (no credentials) and report.html
    assert census == {"source": "live", "url": url, "ward": "w9", "t": 1, "time": "1970-01-01T00:00:00Z",
                      "layout": str(Path(example_ward_path()).resolve())}


def test_census_source_keeps_no_credentials_and_reads_as_a_sentence() -> None:
    """Item 2: report.json's ``census`` and the sentence report.html shows."""
    from digital_twin.census_source import describe, from_live, redact_url

    assert redact_url("https://fm:s3cret@ward.example:8443/api/?token=abc#x") == "https://ward.example:8443/api"
    assert redact_url("http://[::1]:8000/") == "http://[::1]:8000"
    block = from_live("http://u:p@10.0.0.5:8000/", "medsurg-4", 1_763_805_600_000, None)
    assert block == {"source": "live", "url": "http://10.0.0.5:8000", "ward": "medsurg-4", "t": 1_763_805_600_000,
                     "time": "2025-11-22T10:00:00Z", "layout": None}
    assert describe(block) == "Census taken live from http://10.0.0.5:8000 (ward medsurg-4) at 2025-11-22 10:00:00 UTC."
    assert describe(None) == ""
