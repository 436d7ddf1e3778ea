"""What ``pip install smartward`` ships: the product packages only, never test servers, test
certificates or benchmarks (issue 15 item 8); those live in the checkout's ``devservers/`` and
``benchmarks/``, and ``smartward bench`` says so when it runs without a checkout."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from setuptools import find_packages

from smartward.cli import main
from smartward.commands import bench

REPO = Path(__file__).resolve().parents[2]
DEV_ONLY = re.compile(r"(^|\.)(tests?|benchmarks|benches|devservers|servers|throwaway_pki)(\.|$)")
DEV_IMPORT = re.compile(r"^\s*(from|import)\s+(tests|benchmarks|devservers)\b|smartward\.(servers|benches|throwaway_pki)",
                        re.MULTILINE)


def shipped_packages() -> list[str]:
    """The packages a wheel of this checkout contains, found the way setuptools finds them."""
    find = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    return sorted(find_packages(str(REPO), include=find["include"], exclude=find.get("exclude", ())))


def shipped_modules() -> list[str]:
    return sorted(f"{pkg}.{py.stem}" for pkg in shipped_packages()
                  for py in (REPO / pkg.replace(".", "/")).glob("*.py"))


def test_the_wheel_holds_the_product_packages_and_no_test_or_benchmark_code() -> None:
    packages = shipped_packages()
    assert {"device_profiles", "device_profiles.hl7", "gateway_agent", "ingest", "alerting", "digital_twin",
            "dashboard_api", "smartward", "smartward.commands"} <= set(packages)
    assert [p for p in packages if DEV_ONLY.search(p)] == []
    assert [m for m in shipped_modules() if DEV_ONLY.search(m)] == []


def test_product_code_never_imports_test_or_benchmark_code() -> None:
    offenders = [f"{m}: {hit.group(0).strip()}" for m in shipped_modules()
                 for hit in DEV_IMPORT.finditer((REPO / (m.replace(".", "/") + ".py")).read_text())]
    assert offenders == []


def test_bench_without_a_checkout_says_run_from_a_source_checkout(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench, "checkout_root", lambda: None)
    assert main(["bench", "twin", "--replications", "10"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["smartward bench: benchmarks are not installed with the package; run from a source checkout"]


def test_bench_from_this_checkout_finds_the_benchmarks() -> None:
    assert bench.checkout_root() == REPO
