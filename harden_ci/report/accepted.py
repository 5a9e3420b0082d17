"""Accepted findings for `explain`: what the spec tells a gate to let through when adopting
harden-ci on an existing repository (baselines, ignored rules, a narrower workflow audit,
the spec's own Spectral ruleset). Each is an exception a reviewer should see, with where
the spec writes it."""

from __future__ import annotations

from dataclasses import dataclass

from harden_ci.load import LoadedSpec
from harden_ci.model import Spec
from harden_ci.report.spec_facts import Path_, dotted, where


@dataclass(frozen=True)
class Accepted:
    setting: str   # the spec's dotted path
    tool: str
    value: str
    effect: str
    location: str


def accepted(spec: Spec, loaded: LoadedSpec) -> list[Accepted]:
    found: list[Accepted] = []

    def add(path: Path_, tool: str, value: str, effect: str) -> None:
        found.append(Accepted(dotted(path), tool, value, effect, where(loaded, path)))

    scan = spec.gates.secret_scan if spec.gates else None
    if scan is not None and scan.tool == "gitleaks":
        found.append(Accepted("(repository)", "gitleaks", ".gitleaksignore",
                              "honoured when present at the repository root: the findings "
                              "whose fingerprints it lists pass", "-"))
    lint = spec.gates.iac_lint if spec.gates else None
    if lint is not None:
        if lint.workflows is True:
            add(("gates", "iac_lint", "workflows"), "zizmor, actionlint", "true",
                "only the workflows generated from this spec are audited; other files in "
                ".github/workflows are not (`workflows: all` audits them)")
        for framework in ("terraform", "kubernetes", "helm"):
            baseline = getattr(lint.baselines, framework) if lint.baselines else None
            if baseline:
                add(("gates", "iac_lint", "baselines", framework), "checkov", baseline,
                    f"the {framework} findings recorded in this baseline pass; new ones fail")
        for index, rule in enumerate(lint.hadolint_ignore):
            add(("gates", "iac_lint", "hadolint_ignore", index), "hadolint", rule,
                "this rule is not checked in any Dockerfile")
        if lint.hadolint_config:
            add(("gates", "iac_lint", "hadolint_config"), "hadolint", lint.hadolint_config,
                "the rules it ignores or relaxes are not enforced")
        if lint.dockerfiles:
            found.append(Accepted("(repository)", "hadolint", ".hadolint.yaml",
                                  "honoured when present at the repository root: the rules "
                                  "it ignores or relaxes are not enforced", "-"))
    contract = spec.tests.contract if spec.tests else None
    if contract is not None and contract.ruleset:
        add(("tests", "contract", "ruleset"), "Spectral", contract.ruleset,
            "OpenAPI documents are linted with this ruleset instead of Spectral's OpenAPI "
            "rules")
    return found
