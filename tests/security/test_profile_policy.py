"""Finding 8, without a server: the upload policy (platform tree, vendor prefix, ACL-checkable device
level), the topic grammar it relies on (``acme-{serial}`` as one level), the registry refusing a
stored profile that would decode the platform's own tree, and ``smartward profile validate``
printing the broker ACL line."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_profiles import ProfileRegistry, StoredText, compile_profile
from device_profiles.profile_policy import broker_acl, policy_issues, vendor_prefix
from device_profiles.topic_pattern import TopicPattern
from smartward.cli import main

ROOT = "smartward/v1"


def profile(topic: str, device_id: str | None, pid: str = "acme-w2") -> str:
    dev = f'\n  device_id: "{device_id}"' if device_id is not None else ""
    return (f'schema_version: 2\nid: {pid}\nvendor: ACME\nmodel: W2\ntransport: mqtt-json\n'
            f'mqtt:\n  topic: "{topic}"{dev}\ntime: {{source: receive}}\n'
            'fields:\n  - {signal: heart_rate, path: hr}\n')


def messages(topic: str, device_id: str | None, prefix: str | None = "acme") -> list[str]:
    return [i.message for i in policy_issues(compile_profile(profile(topic, device_id)), prefix, ROOT)]


def test_prefixed_capture_is_one_topic_level() -> None:
    p = TopicPattern.parse("acme/acme-{serial}/vitals")
    assert p.captures == ("serial",)
    assert p.subscription == "acme/+/vitals"
    assert p.match("acme/acme-SN1/vitals") == {"serial": "SN1"}
    assert p.match("acme/bm-SN1/vitals") is None
    assert p.match("acme/acme-/vitals") is None
    assert p.overlaps(TopicPattern.parse("acme/{x}/vitals"))
    assert p.overlaps(TopicPattern.parse("acme/acme-7/vitals"))
    assert not p.overlaps(TopicPattern.parse("acme/bm-7/vitals"))
    assert not p.overlaps(TopicPattern.parse("acme/bm-{x}/vitals"))
    assert p.overlaps(TopicPattern.parse("acme/acme-x-{y}/vitals"))
    assert p.example({"serial": "SN1"}, "sim", "x") == "acme/acme-SN1/vitals"


@pytest.mark.parametrize(("topic", "device_id"), [
    ("{root}/wards/{w}/spot", "acme-{w}"),
    ("{root}/commands/acme-{sn}", "acme-{sn}"),
    ("smartward/v1/control/acme-{sn}", "acme-{sn}"),
    ("{root}/drill/devices/acme-{sn}/obs", "acme-{sn}"),
    ("+/+/alarms/acme-{sn}", "acme-{sn}"),
    ("smartward/+/acme-{sn}", "acme-{sn}"),
    ("{sn}/#", "acme-{sn}"),
])
def test_platform_tree_outside_devices_is_refused(topic: str, device_id: str) -> None:
    assert any("platform's own topic tree" in m for m in messages(topic, device_id)), messages(topic, device_id)


def test_device_tree_and_own_prefix_pass_and_print_the_acl_line() -> None:
    assert messages("{root}/devices/acme-{sn}/raw", "acme-{sn}") == []
    assert messages("acme/{site}/acme-{sn}/vitals", "acme-{sn}") == []
    assert broker_acl(compile_profile(profile("acme/{site}/acme-{sn}/vitals", "acme-{sn}")), ROOT) == [
        "pattern write acme/+/%u/vitals"]
    assert broker_acl(compile_profile(profile("{root}/devices/acme-{sn}/raw", "acme-{sn}")), ROOT) == [
        "pattern write smartward/v1/devices/%u/raw"]


def test_foreign_device_ids_and_unchecked_topics_are_refused() -> None:
    assert any("must start with 'acme-'" in m for m in messages("acme/mon-{sn}/vitals", "mon-{sn}"))
    assert any("must start with 'acme-'" in m for m in messages("acme/{sn}/vitals", None))
    assert any("one whole topic level" in m for m in messages("acme/{sn}/vitals", "acme-{sn}"))
    assert any("one whole topic level" in m for m in messages("acme/{a}/{b}/vitals", "acme-{a}-{b}"))
    # an admin has no prefix, but the ACL rule still holds for uploads
    assert messages("acme/{sn}/vitals", None, prefix=None) == []
    assert any("one whole topic level" in m for m in messages("acme/{sn}/vitals", "mon-{sn}", prefix=None))


def test_vendor_prefix_is_the_account_name_unless_reserved() -> None:
    assert vendor_prefix("acme") == "acme"
    assert vendor_prefix("zephyr") == "zephyr"
    assert vendor_prefix("bm") is None  # the built-in bedside monitors' device ids
    assert vendor_prefix("mon") is None
    assert vendor_prefix("acme-medical") is None  # a '-' would make prefixes overlap (acme- / acme-medical-)
    assert vendor_prefix("vendor@zephyr") is None


def test_registry_refuses_a_stored_profile_on_the_platform_tree() -> None:
    reg = ProfileRegistry(ROOT)
    bad = StoredText("db:acme-w2@v1", profile("{root}/commands/acme-{sn}", "acme-{sn}"))
    reg.set_stored([bad])
    assert reg.get("acme-w2") is None
    assert "platform's own topic tree" in reg.problems["db:acme-w2@v1"]
    assert reg.resolve(f"{ROOT}/commands/acme-1") is None


def test_cli_validate_prints_the_acl_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "acme-w2.yaml"
    f.write_text(profile("acme/acme-{sn}/vitals", "acme-{sn}"))
    assert main(["profile", "validate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "pattern write acme/%u/vitals" in out
    f.write_text(profile("{root}/wards/acme-{sn}/spot", "acme-{sn}"))
    assert main(["profile", "validate", str(f)]) == 1
    assert "platform's own topic tree" in capsys.readouterr().err
    f.write_text(profile("acme/{sn}/vitals", "mon-{sn}"))
    assert main(["profile", "validate", "--vendor", "acme", str(f)]) == 1
    assert "must start with 'acme-'" in capsys.readouterr().err
