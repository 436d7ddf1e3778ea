"""What an uploaded profile may claim: topics, device ids, and the broker ACL line that enforces it.

A profile decodes whatever is published on its topic into observations of the device ids it builds,
so an upload is a claim on part of the topic space and of the device-id space:

- **platform tree**: no profile (from any source) may capture topics under ``{root}/`` outside the
  device tree ``{root}/devices/…``: the attributed stream, spot values, commands, control and drill
  topics belong to the platform. Wildcards that could match those topics (``#``, ``+/+/wards/…``)
  are refused the same way (:func:`platform_tree_issue`, applied by the registry to every profile).
- **vendor prefix**: a vendor account's device ids start with ``{prefix}-``; the prefix is the
  account name (2-16 lower-case letters and digits, no dash, so no prefix is the start of another;
  names used by built-in profiles and platform devices are reserved) (:func:`vendor_prefix`).
- **ACL-checkable**: the device id must be one whole topic level (``acme/acme-{serial}/vitals`` with
  ``device_id: acme-{serial}``), so the broker binds it to the device's account with
  ``pattern write acme/%u/vitals`` (:func:`broker_acl`); device ids named in the payload cannot be
  checked by the broker and are refused for uploads.
"""

from __future__ import annotations

import functools
import re

from .compiler import CompiledProfile
from .profile_yaml import Issue
from .topic_pattern import TopicPattern
from .topics import ROOT

__all__ = ["broker_acl", "device_level", "platform_tree_issue", "policy_issues", "reserved_prefixes",
           "vendor_prefix"]

PREFIX_RE = re.compile(r"^[a-z0-9]{2,16}$")
# device-id namespaces of the platform itself (simulators, drills, gateways, service accounts)
PLATFORM_PREFIXES = frozenset({"mon", "sim", "drill", "sw", "smartward", "gw", "gateway", "test", "demo"})


@functools.cache
def reserved_prefixes() -> frozenset[str]:
    """Prefixes no vendor may hold: the platform's own and those of the built-in profiles."""
    from .compiler import compile_profile_file
    from .registry import BUILTIN_DIR, PROFILE_SUFFIXES

    out = set(PLATFORM_PREFIXES)
    for path in sorted(BUILTIN_DIR.iterdir()):
        if path.suffix not in PROFILE_SUFFIXES:
            continue
        c = compile_profile_file(path)
        literal = ""
        if c.decoder is not None:
            literal = c.decoder.device_id.template.split("{", 1)[0]
        elif c.profile.hl7 is not None:
            literal = c.profile.hl7.device_id_prefix
        if literal:
            out.add(literal.rstrip("-_."))
    return frozenset(out)


def vendor_prefix(username: str) -> str | None:
    """The device-id prefix of a vendor account (its name), or ``None`` when the name cannot be one."""
    if not PREFIX_RE.fullmatch(username) or username in reserved_prefixes():
        return None
    return username


def platform_tree_issue(topic: TopicPattern, root: str = ROOT) -> str | None:
    """Why ``topic`` would capture the platform's own topics (``None``: it does not)."""
    root_levels = tuple(root.split("/"))
    if not topic.overlaps(TopicPattern.parse(root + "/#", root)):
        return None
    n = len(root_levels)
    if topic.levels[:n] == root_levels and len(topic.levels) > n + 1 and topic.levels[n] == "devices":
        return None
    return (f"mqtt.topic {topic.pattern!r} would capture the platform's own topic tree ({root}/...); "
            f"only {root}/devices/... is open to device profiles")


def device_level(compiled: CompiledProfile) -> int | None:
    """The topic level that is exactly the device id (``None``: the id is not one whole level)."""
    dec = compiled.decoder
    if dec is None or dec.device_id_path is not None:
        return None
    for i, level in enumerate(dec.topic.levels):
        if level == dec.device_id.template:
            return i
    return None


def broker_acl(compiled: CompiledProfile, root: str = ROOT) -> list[str]:
    """The Mosquitto ACL lines that let each device publish only as itself on this profile's topic."""
    dec = compiled.decoder
    at = device_level(compiled)
    if dec is None or at is None:
        return []
    levels = ["%u" if i == at else ("+" if "{" in lv else lv) for i, lv in enumerate(dec.topic.levels)]
    return ["pattern write " + "/".join(levels)]


def policy_issues(compiled: CompiledProfile, prefix: str | None, root: str = ROOT) -> list[Issue]:
    """Problems of an uploaded profile (empty: acceptable). ``prefix``: the vendor's device-id prefix
    (``None``: an admin's upload, not bound to one)."""
    issues: list[Issue] = []
    dec = compiled.decoder
    need = f"{prefix}-" if prefix is not None else None
    if dec is not None:
        tree = platform_tree_issue(dec.topic, root)
        if tree is not None:
            issues.append(Issue("mqtt.topic", None, tree))
        template = dec.device_id.template
        if dec.device_id_path is not None:
            issues.append(Issue("mqtt.device_id_path", None,
                                "a device id read from the payload cannot be checked by the broker ACL; capture it "
                                "as one whole topic level instead"))
        elif need is not None and not template.startswith(need):
            issues.append(Issue("mqtt.device_id", None,
                                f"device id template {template!r} must start with {need!r} (this vendor account's "
                                f"device ids), e.g. {need}{{serial}}"))
        if dec.device_id_path is None and device_level(compiled) is None:
            example = f"{need or 'acme-'}{{serial}}"
            issues.append(Issue("mqtt.device_id", None,
                                f"device id template {template!r} must be one whole topic level so the broker ACL "
                                f"can bind it to the device's account (e.g. topic 'vendor/{example}/vitals' with "
                                f"device_id '{example}': pattern write vendor/%u/vitals)"))
    elif (compiled.profile.hl7 is not None and need is not None
          and not compiled.profile.hl7.device_id_prefix.startswith(need)):
        issues.append(Issue("hl7.device_id_prefix", None,
                            f"must start with {need!r} (this vendor account's device ids)"))
    return issues
