"""Every example's committed output, and the output of every valid spec fixture, has zero
findings from the real validators: zizmor (regular, pedantic and auditor, offline), actionlint,
the SchemaStore workflow schema and shellcheck on every run: block.

zizmor honours inline ignores here for one reason only: the SLSA generator must be called
by its release tag (a recorded exception, marked `# zizmor: ignore[unpinned-uses]`). The
test proves no other line carries an ignore, so nothing else can hide behind one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import validators

from harden_ci.pipeline import render_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*/harden-ci.yaml"))
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "specs" / "valid").glob("*.yaml"))
_IGNORE = re.compile(r"zizmor: ignore")
_SLSA_USES = re.compile(r"^\s*uses: slsa-framework/slsa-github-generator/\S+@v\d+\.\d+\.\d+ ")


def _assert_ignores_only_on_recorded_exceptions(folder: Path) -> None:
    for path in sorted(folder.glob("*.yml")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if _IGNORE.search(line):
                assert _SLSA_USES.match(line), f"{path.name}:{number}: ignore outside the SLSA pin"


def _assert_clean(folder: Path) -> None:
    workflows = sorted(folder.glob("*.yml"))
    assert workflows, f"no workflows in {folder}"
    _assert_ignores_only_on_recorded_exceptions(folder)
    results = validators.all_validators(workflows, honor_ignores=True)
    assert set(results) == set(validators.VALIDATORS)
    assert not any(results.values()), validators.report(results)


@pytest.mark.slow
@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.parent.name)
def test_committed_example_output_has_zero_findings(spec: Path) -> None:
    _assert_clean(spec.parent / ".github" / "workflows")


@pytest.mark.slow
@pytest.mark.parametrize("spec", FIXTURES, ids=lambda p: p.stem)
def test_every_valid_fixture_renders_with_zero_findings(spec: Path, tmp_path: Path) -> None:
    for name, text in render_spec(spec).files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _assert_clean(tmp_path)
