"""Finding 16: ``deploy/mosquitto/add-device.sh --gateway`` took the gateway name as it came, so a
newline in it appended ACL lines of the caller's choosing (e.g. ``topic readwrite #``). The gateway
name is now checked with the device-id rule before anything is written."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
ACL = "# shipped ACL\nuser sw-ingest\ntopic read smartward/v1/devices/#\n"


def add_device(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DEPLOY / "add-device.sh"), *args], capture_output=True, text=True,
                          env={**os.environ, "SMARTWARD_MOSQUITTO_DIR": str(tmp_path)}, check=False)


@pytest.mark.parametrize("gateway", ["gw-1\ntopic readwrite #", "gw-1\n\nuser sw-platform", "gw 1", "", "x" * 65,
                                     "gw/1", "gw-1\r"])
def test_gateway_name_that_is_not_an_id_is_refused_and_the_acl_untouched(tmp_path: Path, gateway: str) -> None:
    (tmp_path / "acl").write_text(ACL)
    r = add_device(tmp_path, "mon-1", "--gateway", gateway)
    assert r.returncode != 0, r.stdout
    assert "not a gateway id" in r.stderr, r.stderr
    assert (tmp_path / "acl").read_text() == ACL


def test_valid_gateway_gets_exactly_its_device(tmp_path: Path) -> None:
    (tmp_path / "acl").write_text(ACL)
    r = add_device(tmp_path, "mon-1", "--gateway", "gw-ward3.a_1")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "acl").read_text() == ACL + "\nuser gw-ward3.a_1\ntopic write smartward/v1/devices/mon-1/#\n"
