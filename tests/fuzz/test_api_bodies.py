"""Target 5: request bodies of every body-taking route of the real app (found in its OpenAPI schema),
sent by a logged-in admin (so bodies are parsed and acted upon) to the real platform against a real
Mosquitto: arbitrary JSON, near-valid objects with the schema's keys and wrong values, garbage bytes,
HL7/YAML text. Never a 5xx; every 4xx is JSON with a ``detail``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_targets import ApiHarness, Route, api_bodies, body_routes
from devservers import Mosquitto
from tests.fuzz import FUZZ_PROFILE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api(mosquitto: Mosquitto, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiHarness]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SMARTWARD_SECRET_KEY", "fuzz-" + "k7Qx9Lm2Rt5Wz8Np3Vb6Yc1Hd4Jf0Gs" * 2)
        mp.setenv("SMARTWARD_ENVIRONMENT", "development")  # production needs keys other helpers are adding
        h = ApiHarness(mosquitto.url, tmp_path_factory.mktemp("fuzz-api")).start()
        try:
            yield h
        finally:
            h.close()


def test_every_body_route_is_fuzzed(api: ApiHarness) -> None:
    templates = {r.template for r in body_routes(api.openapi)}
    assert {"/api/v1/adt/admit", "/api/v1/patients/{patient}/spot", "/api/v1/adt/hl7", "/api/v1/device-profiles",
            "/api/v1/drills", "/api/v1/twin/runs"} <= templates


@pytest.mark.parametrize("body", [b'{"patient_id": NaN}', b'{"minutes": Infinity}', b"[-Infinity]"])
def test_nan_literal_in_a_body_is_a_422(api: ApiHarness, body: bytes) -> None:
    routes = {r.template: r for r in body_routes(api.openapi)}
    statuses = [api.client.post(routes[t].path, content=body, headers={**api.headers, "Content-Type": "application/json"})
                .status_code for t in ("/api/v1/adt/admit", "/api/v1/alarms/{alarm_id}/silence", "/api/v1/drills")]
    assert statuses == [422, 422, 422], statuses


def test_control_character_in_a_profile_upload_is_a_422(api: ApiHarness) -> None:
    routes = {r.template: r for r in body_routes(api.openapi)}
    r = api.client.post(routes["/api/v1/device-profiles/validate"].path, content=b"\n\x0b",
                        headers={**api.headers, "Content-Type": "application/yaml"})
    assert r.status_code < 500, r.status_code


def test_api_bodies_get_4xx_with_detail_never_5xx(api: ApiHarness) -> None:
    routes = body_routes(api.openapi)

    @settings(settings.get_profile(FUZZ_PROFILE), max_examples=50 * len(routes))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        route: Route = data.draw(st.sampled_from(routes), "route")
        api.check(route, data.draw(api_bodies(route), "body"))

    run()


# found by the 100,000-input run: the 422 answer echoed the text and could not encode it (HTTP 500, connection reset)
@pytest.mark.parametrize("body", [b'{"patient_id": "\\u00ed\\udbdee7"}',
                                  b'{"patient_id": "P-\\udbde", "ward": "w1", "bed": "b1", "to_ward": "w1", "to_bed": "b2"}',
                                  b'{"\\udc00": 1}'])
def test_lone_surrogate_in_a_json_string_is_a_422_naming_where(api: ApiHarness, body: bytes) -> None:
    routes = {r.template: r for r in body_routes(api.openapi)}
    answers = [api.client.post(routes[t].path, content=body, headers={**api.headers, "Content-Type": "application/json"})
               for t in ("/api/v1/adt/admit", "/api/v1/adt/transfer")]
    assert [a.status_code for a in answers] == [422, 422], [a.text for a in answers]
    assert all("not Unicode text" in a.json()["detail"][0]["msg"] for a in answers)
