"""`gates.iac_lint.terraform`: tflint is built from its release commit (no downloaded
binary), after checkov has linted the tree, so checkov never reads tflint's own source and
its Terraform test fixtures; tflint itself skips the hidden source folder."""

from __future__ import annotations

import re
from typing import Any

import pytest
from test_scripts import rendered

from harden_ci.plan.pins import catalog
from harden_ci.plan.stages.iac_lint import TFLINT_SOURCE
from harden_ci.plan.tools import TFLINT_COMMIT, TOOLS

SHA = re.compile(r"[0-9a-f]{40}")


def _steps(terraform: str) -> list[dict[str, Any]]:
    spec = {"version": 1, "project": {"name": "infra"},
            "services": {"api": {"path": ".", "language": "python"}},
            "gates": {"iac_lint": {"terraform": terraform}}}
    (job,) = [wf["jobs"]["iac-terraform"] for wf in rendered(spec).values()
              if "iac-terraform" in wf.get("jobs", {})]
    return list(job["steps"])


@pytest.mark.parametrize("terraform", ["infra/", "."])
def test_tflint_is_built_from_its_release_commit(terraform: str) -> None:
    steps = _steps(terraform)
    pins = {pin.action: pin for pin in catalog()}
    for step in steps:
        if "uses" in step:
            action, _, sha = str(step["uses"]).partition("@")
            assert action != "terraform-linters/setup-tflint", "tflint downloaded unchecked"
            assert sha == pins[action].sha, f"{step['uses']} is not the catalog's pin"
    names = [str(s["name"]) for s in steps]
    source = next(i for i, s in enumerate(steps)
                  if s.get("with", {}).get("repository") == "terraform-linters/tflint")
    assert steps[source]["with"]["ref"] == TFLINT_COMMIT and SHA.fullmatch(TFLINT_COMMIT)
    assert steps[source]["with"]["path"] == TFLINT_SOURCE and TFLINT_SOURCE.startswith(".")
    build = next(s for s in steps if s.get("env", {}).get("GO_TOOL") == "tflint")
    assert build["env"]["GO_TOOL_VERSION"] == TOOLS["tflint"].version
    assert build["working-directory"] == TFLINT_SOURCE and "-mod=readonly" in build["run"]
    lint = names.index("Lint Terraform with tflint")
    checkov = names.index("Lint Terraform with checkov")
    # checkov lints the tree before tflint's source lands in it; tflint runs after its build.
    assert checkov < source < names.index(build["name"]) < lint
    assert TOOLS["tflint"].built_from == ("terraform-linters/tflint", TFLINT_COMMIT)
    assert "NOT" not in TOOLS["tflint"].pinned
