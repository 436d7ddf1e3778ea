"""device_profiles.topics: every builder's topic parses back to what it names; other topics are None."""

from __future__ import annotations

import pytest

from device_profiles import topics
from device_profiles.topics import Topic, parse

R = "site-a/smartward/v1"


@pytest.mark.parametrize(("topic", "want"), [
    (topics.ward_topic("w1", "obs", R), Topic("ward", ward="w1", name="obs")),
    (topics.ward_topic("", "status", R), Topic("ward", ward="", name="status")),  # _unassigned
    (topics.ward_spot("w2", R), Topic("ward", ward="w2", name="spot")),
    (topics.alarm("w1", "a-17", R), Topic("alarm", ward="w1", name="a-17")),
    (topics.news2("w1", "p-9", R), Topic("news2", ward="w1", name="p-9")),
    (topics.device_obs("mon-3", R), Topic("device", device="mon-3", name="obs")),
    (topics.device_wave("mon-3", R), Topic("device", device="mon-3", name="wave")),
    (topics.drill_state("w1", R), Topic("drill", ward="w1")),
    (topics.alarm_commands("w1", R), Topic("alarm_commands", ward="w1")),
    (topics.control_alarms(R), Topic("control", name="alarms")),
    (topics.control_assignments(R), Topic("control", name="assignments")),
    (topics.control_profiles(R), Topic("control", name="profiles")),
])
def test_every_built_topic_parses_back(topic: str, want: Topic) -> None:
    assert parse(topic, R) == want


@pytest.mark.parametrize("topic", [
    "other/root/wards/w1/obs",  # another root
    f"{R}/wards/w1",  # too short
    f"{R}/wards//obs",  # empty level
    f"{R}/drill/devices/mon-1/obs",  # the drill devices' own tree is not a ward's drill state
    topics.drill_alarm("w1", "a1", R),
    topics.gateway_status("gw-1", R),
    f"{R}/commands/other/w1",
    f"{R}",
])
def test_other_topics_are_not_routed(topic: str) -> None:
    assert parse(topic, R) is None


def test_filters_match_what_they_name() -> None:
    assert topics.ward_filter("obs", root=R) == f"{R}/wards/+/obs"
    assert topics.alarm_filter(R) == f"{R}/alarms/+/+" and topics.news2_filter(R) == f"{R}/news2/+/+"
    assert topics.drill_state("+", R) == f"{R}/drill/+"
    assert topics.device_level(topics.device_status("mon-1", R)) == "mon-1"
