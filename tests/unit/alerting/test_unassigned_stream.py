"""alerting does not decode the observations of a device bound to no bed when its config ignores them
(``unassigned: ignore``, the default): the engine would drop every sample anyway. With ``unassigned:
alarm`` they are decoded and scored as before."""

from __future__ import annotations

import orjson

from alerting import AlertingService
from alerting.config import build_config
from device_profiles import topics

T = 1_700_000_000_000


def obs(ward: str) -> bytes:
    body = {"v": 1, "device": "mon-9", "seq": 1, "samples": [{"t": T, "heart_rate": 190.0}], "ward": ward,
            "bed": "01" if ward else "", "patient": "p-9" if ward else ""}
    return orjson.dumps(body)


def test_unassigned_observations_are_counted_not_scored_and_assigned_ones_are() -> None:
    svc = AlertingService("mqtt://127.0.0.1:1", "sqlite://", config=build_config({}))
    assert svc.engine.ignores_unassigned
    svc._handle(topics.ward_obs("", topics.ROOT), obs(""))
    svc._handle(topics.ward_obs("", topics.ROOT), b"not json: never read")
    assert svc.counts["obs"] == 2 and svc.counts["rejected"] == 0 and svc.engine.observations == 0
    svc._handle(topics.ward_obs("w1", topics.ROOT), obs("w1"))
    assert svc.engine.observations == 1


def test_with_unassigned_evaluate_they_are_scored() -> None:
    svc = AlertingService("mqtt://127.0.0.1:1", "sqlite://", config=build_config({"unassigned": "evaluate"}))
    assert not svc.engine.ignores_unassigned
    svc._handle(topics.ward_obs("", topics.ROOT), obs(""))
    assert svc.engine.observations == 1
