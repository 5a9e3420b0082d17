"""The pin catalog: derived from the project's reference folder (reference/), and safe to use."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from harden_ci.plan.model import Uses
from harden_ci.plan.pins import PinCatalog, catalog

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "build_pin_catalog.py"
REFERENCE = REPO / "reference"
COMMITTED = REPO / "harden_ci" / "data" / "pins.json"
SLSA = "slsa-framework/slsa-github-generator/.github/workflows/"
TRIVY = "aquasecurity/trivy-action"


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_pin_catalog", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(COMMITTED.read_text(encoding="utf-8"))["pins"]
    return data


def test_committed_catalog_matches_a_fresh_build() -> None:
    # The reference is the project's own data (reference/): its absence is a failure.
    assert (REFERENCE / "action-pins.tsv").is_file(), f"reference missing at {REFERENCE}"
    fresh = _builder().build(REFERENCE)
    assert COMMITTED.read_text(encoding="utf-8") == fresh, (
        "harden_ci/data/pins.json is stale: run python scripts/build_pin_catalog.py"
    )


def test_check_flag_reports_staleness(tmp_path: Path) -> None:
    stale = tmp_path / "pins.json"
    stale.write_text(COMMITTED.read_text(encoding="utf-8").replace("v7.0.1", "v7.0.0"))
    run = [sys.executable, str(SCRIPT), "--reference", str(REFERENCE), "--check"]
    ok = subprocess.run([*run, "--output", str(COMMITTED)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = subprocess.run([*run, "--output", str(stale)], capture_output=True, text=True)
    assert bad.returncode == 1
    assert '-      "tag": "v7.0.0"' in bad.stdout and '+      "tag": "v7.0.1"' in bad.stdout


def test_every_sha_is_a_full_commit() -> None:
    for action, raw in _raw().items():
        assert re.fullmatch(r"[0-9a-f]{40}", raw["sha"]), action
    for pin in catalog():
        assert re.fullmatch(r"[0-9a-f]{40}", pin.sha), pin.action


def test_no_allowed_action_runs_on_node20_or_older() -> None:
    raw = _raw()
    excluded = [a for a, r in raw.items() if not r["allowed"]]
    assert "actions/dependency-review-action" in excluded
    assert "pnpm/action-setup" in excluded
    for action, r in raw.items():
        node = re.fullmatch(r"node(\d+)", r["runtime"])
        if node and int(node.group(1)) <= 20:
            assert not r["allowed"] and r["excluded_reason"], action
    for pin in catalog():
        assert pin.runtime not in {"node12", "node16", "node20"}, pin.action
    assert set(catalog().excluded()) == set(excluded)


def test_slsa_workflows_are_referenced_by_full_tag_with_an_exception() -> None:
    slsa = [pin for pin in catalog() if pin.action.startswith(SLSA)]
    assert {p.action.rsplit("/", 1)[-1] for p in slsa} >= {
        "generator_generic_slsa3.yml", "generator_container_slsa3.yml"
    }
    for pin in slsa:
        assert pin.ref_style == "tag"
        assert re.fullmatch(r"v\d+\.\d+\.\d+", pin.ref) and pin.ref == pin.tag
        assert pin.exception and "full" in pin.exception and "tag" in pin.exception
        assert pin.inputs == frozenset()
    others = [pin for pin in catalog() if not pin.action.startswith(SLSA)]
    for pin in others:
        assert pin.ref_style == "sha" and pin.ref == pin.sha and pin.exception is None


def test_trivy_is_sha_only_with_the_advisory_noted() -> None:
    pin = catalog().get(TRIVY)
    assert pin.ref_style == "sha" and pin.ref == pin.sha
    assert "GHSA-69fq-xp46-6x23" in pin.note and "SHA-only" in pin.note


def test_uses_returns_the_pinned_reference() -> None:
    pin = catalog().get("actions/checkout")
    assert catalog().uses("actions/checkout") == Uses(
        action="actions/checkout", ref=pin.sha, tag=pin.tag
    )
    assert "persist-credentials" in pin.inputs


def test_check_with_catches_unknown_and_missing_inputs() -> None:
    cat = catalog()
    assert cat.check_with("actions/cache", ["path", "key"]) == []
    problems = cat.check_with("actions/cache", ["path", "made-up-input"])
    assert any("unknown input 'made-up-input'" in p for p in problems)
    assert any("missing required input 'key'" in p for p in problems)
    # An input with a default is not required even when marked `required: true`.
    assert cat.check_with("docker/metadata-action", []) == []
    assert "oasdiff-token" in cat.get("oasdiff/oasdiff-action/verify").required_inputs


def test_unknown_action_raises_a_helpful_key_error() -> None:
    with pytest.raises(KeyError, match="not in the pin catalog") as info:
        catalog().get("actions/chekout")
    assert "did you mean actions/checkout" in str(info.value)
    assert "build_pin_catalog" in str(info.value)


def test_excluded_action_raises_and_says_why() -> None:
    with pytest.raises(KeyError, match="excluded") as info:
        catalog().uses("pnpm/action-setup")
    assert "node20" in str(info.value)


def test_iteration_is_sorted_and_catalog_is_cached() -> None:
    names = [pin.action for pin in catalog()]
    assert names == sorted(names) and len(names) == len(catalog())
    assert catalog() is catalog()
    assert isinstance(catalog(), PinCatalog)
