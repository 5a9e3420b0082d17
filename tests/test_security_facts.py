"""The security facts of the generated workflows, read back from the YAML itself.

Nothing here asks harden-ci's plan or pin catalog what it meant to do: the workflows are
parsed as GitHub would see them, each job is classified by when it can run (its workflow's
triggers and its `if:`) and by what it does (push, log in, sign, attest, upload SARIF,
cache), and the product's promises are checked against that:

- `packages: write` only where something is pushed to a registry; `id-token: write` only
  where OIDC is used (signing, attesting); `attestations: write` only where attestations
  are written; `security-events: write` exactly where SARIF is uploaded;
- jobs that can run on `pull_request` / `merge_group` never log in to a registry, push,
  sign or hold write scopes;
- after an image is pushed, it is only ever referred to by digest, never by tag;
- jobs that publish or sign use no cache of any kind;
- every `uses:` is pinned to the reference SHA of a real release (tag in a comment), and
  the SLSA generator, referenced by its release tag, is the only exception;
- `permissions: {}` at the top; each job states its permissions and (unless it calls a
  reusable workflow) a timeout;
- every `with:` input exists in the action's own action.yml from the project's reference folder (reference/),
  and every required input is given.

The checks run on the committed learnhub example, on a fresh render of its spec, on specs
built here through the model (another registry, SLSA, no code scanning, trivy, no
vulnerability gate, no signing), and on every other example and valid spec fixture.
test_the_checks_catch_broken_workflows shows that each check fails on a broken workflow.
"""

from __future__ import annotations

import copy
import csv
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matrix
import pytest
import yaml

from harden_ci.model import Spec
from harden_ci.pipeline import render_spec
from harden_ci.render import render

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "reference"
ACTIONS_DIR = REFERENCE / "actions"
PINS_TSV = REFERENCE / "action-pins.tsv"
LEARNHUB = REPO / "examples" / "learnhub"

PR_EVENTS = ("pull_request", "merge_group")
SHA = re.compile(r"[0-9a-f]{40}")
SLSA_PREFIX = "slsa-framework/slsa-github-generator/.github/workflows/"
SLSA_CONTAINER = SLSA_PREFIX + "generator_container_slsa3.yml"
EXPRESSION = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$", re.S)

# The container generator is a reusable workflow, so the reference has no action.yml for
# it. Its interface, read from `on.workflow_call` of
# .github/workflows/generator_container_slsa3.yml at tag v2.1.0 (commit
# f7dd8c54c2067bafc12ca7a55595d5ee9b75204a, the SHA in action-pins.tsv), and what its jobs
# ask for: a caller must grant at least that, or GitHub refuses to start the run.
SLSA_CONTAINER_INTERFACE: dict[str, Any] = {
    "inputs": {"image", "digest", "registry-username", "compile-generator",
               "private-repository", "continue-on-error", "gcp-workload-identity-provider",
               "gcp-service-account", "provenance-registry-username",
               "provenance-repository"},
    "required_inputs": {"image", "digest"},
    "secrets": {"registry-username", "registry-password", "image",
                "provenance-registry-username", "provenance-registry-password"},
    "nested_permissions": {"id-token": "write", "actions": "read", "packages": "write"},
}

# Actions that use OIDC (besides signing and attesting).
CLOUD_AUTH = ("aws-actions/configure-aws-credentials", "google-github-actions/auth",
              "Azure/login", "azure/login")
ATTEST_ACTIONS = ("actions/attest-build-provenance", "actions/attest-sbom", "actions/attest")
SCANNERS = ("anchore/scan-action", "aquasecurity/trivy-action")
# Cache switches an action may have on by default (setup-go `cache`, setup-node
# `package-manager-cache`, trivy-action `cache`, setup-uv `enable-cache`, ...).
CACHE_SWITCH = re.compile(r"(enable-|package-manager-)?cache(-binary|-image|-db)?")
# docker/setup-buildx-action's `cache-binary` only matters when the action downloads
# buildx (no `version` given and buildx missing from the runner); hosted runners ship it.
# Not counted here; reported as a hardening suggestion instead.
CACHE_SWITCH_EXCEPTIONS = {("docker/setup-buildx-action", "cache-binary")}


# --------------------------------------------------------------------------- loading

@dataclass(frozen=True)
class Workflow:
    name: str
    text: str
    data: dict[str, Any]

    @property
    def triggers(self) -> set[str]:
        on = self.data.get("on")
        if isinstance(on, str):
            return {on}
        if isinstance(on, list):
            return {str(e) for e in on}
        return {str(e) for e in (on or {})}

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("jobs") or {})

    @property
    def is_pull_request_workflow(self) -> bool:
        return bool(self.triggers & set(PR_EVENTS))


def parse(name: str, text: str) -> Workflow:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), f"{name} does not parse to a mapping"
    if True in data:  # PyYAML (YAML 1.1) reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return Workflow(name=name, text=text, data=data)


def parse_files(files: dict[str, str]) -> list[Workflow]:
    # GitHub reads workflows only directly in .github/workflows; companion files live in
    # subfolders and are not workflows.
    return [parse(name, text) for name, text in sorted(files.items())
            if name.endswith((".yml", ".yaml")) and "/" not in name]


# ------------------------------------------------------------ `if:` on a given event

_TOKEN = re.compile(r"""\s*(?:
    (?P<op>&&|\|\||!(?!=)|\(|\))
  | (?P<atom>
      (?:[A-Za-z_][\w.*-]*(?:\([^()]*\))?|'[^']*'|\d+(?:\.\d+)?)
      (?:\s*(?:==|!=|<=|>=|<|>)\s*
         (?:[A-Za-z_][\w.*-]*(?:\([^()]*\))?|'[^']*'|\d+(?:\.\d+)?))?)
)""", re.X)
_EVENT_TEST = re.compile(r"github\.event_name\s*(==|!=)\s*'([^']*)'|'([^']*)'\s*(==|!=)\s*"
                         r"github\.event_name")


def may_run_on(condition: object, event: str) -> bool:
    """Whether a job-level `if:` can be true for `event`.

    Comparisons of `github.event_name` are decided; every other part of the condition
    (status functions, other contexts) may be either true or false. Anything this small
    evaluator cannot read counts as "may run", the safe answer for every check here.
    """
    if condition is None or condition is True:
        return True
    if condition is False:
        return False
    text = str(condition).strip()
    match = EXPRESSION.match(text)
    if match:
        text = match.group(1)
    pieces: list[str] = []
    unknown: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        token = _TOKEN.match(text, pos)
        if token is None or token.end() == pos:
            return True
        pos = token.end()
        if token.group("op"):
            pieces.append({"&&": " and ", "||": " or ", "!": " not "}.get(token.group("op"),
                                                                         token.group("op")))
            continue
        atom = token.group("atom").strip()
        event_test = _EVENT_TEST.fullmatch(atom)
        if event_test:
            op = event_test.group(1) or event_test.group(4)
            name = event_test.group(2) if event_test.group(2) is not None else event_test.group(3)
            pieces.append(str((name == event) == (op == "==")))
        else:
            unknown.append(atom)
            pieces.append(f"_u{len(unknown) - 1}")
    expression = "".join(pieces)
    for values in itertools.product((True, False), repeat=len(unknown)):
        names = {f"_u{i}": v for i, v in enumerate(values)}
        try:
            # Only our own tokens reach eval: True/False, _uN names, and/or/not, parentheses.
            if eval(expression, {"__builtins__": {}}, names):
                return True
        except SyntaxError:
            return True
    return False


def test_may_run_on_reads_the_conditions_harden_ci_writes() -> None:
    assert may_run_on(None, "pull_request")
    assert may_run_on("${{ github.event_name != 'push' }}", "pull_request")
    assert not may_run_on("${{ github.event_name != 'push' }}", "push")
    pr_or_queue = ("${{ github.event_name == 'pull_request' || "
                   "github.event_name == 'merge_group' }}")
    assert may_run_on(pr_or_queue, "merge_group")
    assert not may_run_on(pr_or_queue, "push")
    assert may_run_on("${{ always() }}", "push")
    assert may_run_on("${{ !cancelled() && github.event_name == 'push' }}", "push")
    assert not may_run_on("${{ !cancelled() && github.event_name == 'push' }}", "pull_request")
    assert may_run_on("${{ !(github.event_name == 'push') }}", "merge_group")
    assert not may_run_on("${{ !(github.event_name == 'push') }}", "push")
    # Unreadable conditions may run.
    assert may_run_on("${{ fromJSON('[1]')[0] == 1 }}", "pull_request")


# ------------------------------------------------------------------ classification

def action_of(uses: str) -> str:
    return uses.split("@", 1)[0]


def ref_of(uses: str) -> str:
    return uses.split("@", 1)[1] if "@" in uses else ""


def truthy(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() not in ("", "false", "0", "no", "off")


@functools.cache
def action_metadata(action: str) -> dict[str, Any] | None:
    """The action.yml of `action` from the project's reference folder (reference/) (None when absent)."""
    for name in ("action.yml", "action.yaml"):
        path = ACTIONS_DIR / action / name
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            assert isinstance(data, dict), path
            return data
    return None


def action_inputs(action: str) -> dict[str, dict[str, Any]]:
    meta = action_metadata(action)
    assert meta is not None, f"{action} has no action.yml in {ACTIONS_DIR}"
    return {str(k): (v or {}) for k, v in (meta.get("inputs") or {}).items()}


@dataclass(frozen=True)
class JobFacts:
    """One job, with what it can run on and what it does."""

    workflow: Workflow
    id: str
    job: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.workflow.name}:{self.id}"

    @property
    def job_id(self) -> str:
        """The id in the workflow (a matrix leg's `publish[api]` is job `publish`)."""
        return self.id.split("[", 1)[0]

    # ---- shape
    @property
    def reusable(self) -> str | None:
        uses = self.job.get("uses")
        return str(uses) if uses is not None else None

    @property
    def steps(self) -> list[dict[str, Any]]:
        return list(self.job.get("steps") or [])

    @property
    def permissions(self) -> dict[str, str]:
        perms = self.job.get("permissions")
        if isinstance(perms, str):  # read-all / write-all
            return {"*": perms.split("-")[0]}
        return {str(k): str(v) for k, v in (perms or {}).items()}

    def grants_write(self, scope: str) -> bool:
        return self.permissions.get(scope) == "write" or self.permissions.get("*") == "write"

    def action_steps(self, *actions: str) -> list[tuple[int, dict[str, Any]]]:
        return [(i, s) for i, s in enumerate(self.steps)
                if "uses" in s and (not actions or action_of(str(s["uses"])) in actions)]

    # ---- when it runs
    def runs_on(self, event: str) -> bool:
        return event in self.workflow.triggers and may_run_on(self.job.get("if"), event)

    @property
    def runs_on_pull_requests(self) -> bool:
        return any(self.runs_on(event) for event in PR_EVENTS)

    # ---- what it does
    @property
    def calls_slsa_container_generator(self) -> bool:
        return self.reusable is not None and action_of(self.reusable) == SLSA_CONTAINER

    @property
    def push_steps(self) -> list[tuple[int, dict[str, Any]]]:
        return [(i, s) for i, s in self.action_steps("docker/build-push-action")
                if truthy((s.get("with") or {}).get("push"))]

    @property
    def pushes(self) -> bool:
        """Writes to a registry: an image, an attestation next to it, or SLSA provenance."""
        attest_push = any(truthy((s.get("with") or {}).get("push-to-registry"))
                          for _, s in self.action_steps(*ATTEST_ACTIONS))
        return bool(self.push_steps) or attest_push or self.calls_slsa_container_generator

    @property
    def pushes_to_ghcr(self) -> bool:
        images = [v for _, s in self.push_steps for v in image_names(s)]
        # Attestations pushed next to the image write to its registry too (the signing job).
        pushed = [str((s.get("with") or {}).get("subject-name", ""))
                  for _, s in self.action_steps(*ATTEST_ACTIONS)
                  if truthy((s.get("with") or {}).get("push-to-registry"))]
        images += pushed
        if pushed and all("${{" in name for name in pushed):
            # The signing job's images come from image-digests at run time: the registry
            # it logs in to is the one it writes to.
            images += [str((s.get("with") or {}).get("registry", "")) + "/"
                       for _, s in self.action_steps("docker/login-action")]
        if self.calls_slsa_container_generator:
            images.append(str((self.job.get("with") or {}).get("image", "")))
        return any(i.startswith("ghcr.io/") for i in images)

    @property
    def logs_in(self) -> bool:
        return bool(self.action_steps("docker/login-action")) or any(
            re.search(r"\b(docker|cosign|helm|oras|crane)\s+(registry\s+)?login\b",
                      str(s.get("run", ""))) for s in self.steps)

    @property
    def signs(self) -> bool:
        return self.calls_slsa_container_generator or any(
            re.search(r"\bcosign\s+(sign|attest)\b", str(s.get("run", ""))) for s in self.steps)

    @property
    def attests(self) -> bool:
        return self.calls_slsa_container_generator or bool(self.action_steps(*ATTEST_ACTIONS))

    @property
    def uses_oidc(self) -> bool:
        return self.signs or self.attests or bool(self.action_steps(*CLOUD_AUTH))

    @property
    def uploads_sarif(self) -> bool:
        return bool(self.action_steps("github/codeql-action/upload-sarif"))

    @property
    def publishes_or_signs(self) -> bool:
        return self.pushes or self.signs or self.attests

    def caching(self, *, default_switches: bool) -> list[str]:
        """Every way this job reads or writes a cache.

        Always: actions/cache, a setup-* action with caching on (given, or on by default),
        build cache import/export. With `default_switches`: any other action whose cache
        switch is on by default and not turned off.
        """
        found: list[str] = []
        for index, step in self.action_steps():
            action = action_of(str(step["uses"]))
            given = step.get("with") or {}
            where = f"{self} step {index + 1} ({step.get('name', action)})"
            if action.startswith("actions/cache"):
                found.append(f"{where}: {action}")
                continue
            if action == "docker/build-push-action":
                found += [f"{where}: {key}: {given[key]}" for key in ("cache-from", "cache-to")
                          if truthy(given.get(key))]
                if not truthy(given.get("no-cache")):
                    found.append(f"{where}: build without no-cache: true (uses the builder's cache)")
                continue
            is_setup = action.rsplit("/", 1)[-1].startswith("setup-")
            if not (is_setup or default_switches):
                continue
            meta = action_metadata(action)
            if meta is None:
                continue
            for name, spec in action_inputs(action).items():
                if not CACHE_SWITCH.fullmatch(name) or (action, name) in CACHE_SWITCH_EXCEPTIONS:
                    continue
                if name in given:
                    if truthy(given[name]):
                        found.append(f"{where}: {name}: {given[name]}")
                elif truthy(spec.get("default")):
                    found.append(f"{where}: {name} is on by default "
                                 f"({spec.get('default')!r}) and not turned off")
        return found


def image_names(step: dict[str, Any]) -> list[str]:
    """The repositories a build step tags (without tag or digest)."""
    tags = str((step.get("with") or {}).get("tags", ""))
    names = []
    for tag in re.split(r"[\n,]", tags):  # build-push-action: newline- or comma-separated
        tag = tag.strip()
        if not tag:
            continue
        name = tag.split("@", 1)[0]
        head, sep, tail = name.rpartition(":")
        if sep and "/" not in tail:
            name = head
        names.append(name)
    return names


def classify(workflows: list[Workflow]) -> list[JobFacts]:
    """Every job, and every leg of a static matrix as a job of its own (`publish[api]`)."""
    return [JobFacts(wf, leg_id, leg) for wf in workflows for job_id, job in wf.jobs.items()
            for leg_id, leg in matrix.legs(str(job_id), job)]


# ------------------------------------------------------------------------- the cases

def _deep_merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in change.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


BASE_SPEC: dict[str, Any] = {
    "version": 1,
    "project": {"name": "facts", "default_branch": "main", "registry": "ghcr.io/acme"},
    "services": {
        "api": {"path": "services/api", "language": "python", "shards": 2,
                "dockerfile": "services/api/Dockerfile"},
        "web": {"path": "services/web", "language": "node",
                "dockerfile": "services/web/Dockerfile"},
        "worker": {"path": "services/worker", "language": "go", "shards": 3},
        "edge": {"path": "services/edge", "dockerfile": "services/edge/Dockerfile"},
    },
    "gates": {
        "secret_scan": {"tool": "gitleaks"},
        "iac_lint": {"terraform": "infra", "kubernetes": "deploy", "dockerfiles": True,
                     "workflows": True},
        "vulnerabilities": {"fail_on": "high"},
    },
    "supply_chain": {"sbom": "cyclonedx", "sign": "keyless", "provenance": True},
}
PRIVATE_REGISTRY = {"project": {"registry": "registry.example.com/acme"}}

SPEC_CHANGES: dict[str, dict[str, Any]] = {
    "private-registry": PRIVATE_REGISTRY,
    "slsa-ghcr": {"supply_chain": {"slsa": True}},
    "slsa-private-registry": {**PRIVATE_REGISTRY, "supply_chain": {"slsa": True}},
    "no-code-scanning": {"project": {"code_scanning": False}},
    "trivy": {"gates": {"vulnerabilities": {"scanner": "trivy", "fail_on": "critical"}}},
    "no-vulnerability-gate": {"gates": {"vulnerabilities": None,
                                        "secret_scan": {"tool": "trufflehog"}}},
    "unsigned": {"supply_chain": {"sbom": "none", "sign": "none", "provenance": False}},
    "sbom-only": {"supply_chain": {"sign": "none", "provenance": False}},
}
# Also every example spec and every valid spec fixture, rendered now.
EXAMPLE_SPECS = {f"example:{p.parent.name}": p for p in sorted((REPO / "examples").glob("*/harden-ci.yaml"))
                 if p.parent.name != "learnhub"}
FIXTURE_SPECS = {f"fixture:{p.stem}": p
                 for p in sorted((REPO / "tests" / "fixtures" / "specs" / "valid").glob("*.yaml"))}
CASES = ["learnhub-committed", "learnhub-rendered", *SPEC_CHANGES, *EXAMPLE_SPECS, *FIXTURE_SPECS]


def spec_data(case: str) -> dict[str, Any]:
    return _deep_merge(BASE_SPEC, SPEC_CHANGES[case])


@functools.cache
def workflows_for(case: str) -> tuple[Workflow, ...]:
    if case == "learnhub-committed":
        folder = LEARNHUB / ".github" / "workflows"
        files = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yml"))}
    elif case == "learnhub-rendered":
        files = render_spec(LEARNHUB / "harden-ci.yaml").files
    elif case in EXAMPLE_SPECS or case in FIXTURE_SPECS:
        files = render_spec({**EXAMPLE_SPECS, **FIXTURE_SPECS}[case]).files
    else:
        files = render(Spec.model_validate(spec_data(case)), "harden-ci.yaml")
    workflows = parse_files(files)
    assert workflows, f"{case}: no workflows"
    return tuple(workflows)


def jobs_for(case: str) -> list[JobFacts]:
    return classify(list(workflows_for(case)))


@pytest.fixture(params=CASES)
def case(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _fail_if(problems: list[str], what: str) -> None:
    assert not problems, f"{what}:\n  " + "\n  ".join(problems)


# ------------------------------------------------------------------- sanity of the helper

def _using(jobs: list[JobFacts], workflow: str, action: str) -> JobFacts:
    """The first job of `workflow` that uses `action`."""
    return next(j for j in jobs if j.workflow.name == workflow and j.action_steps(action))


def test_the_classifier_sees_what_learnhub_does() -> None:
    """Guard against vacuous passes: on learnhub every kind of job below exists."""
    all_jobs = jobs_for("learnhub-rendered")
    jobs = {str(j): j for j in all_jobs}
    ci, release = "harden-ci.yml", "harden-ci-release.yml"
    unit_tests = _using(all_jobs, ci, "actions/setup-go")
    assert unit_tests.runs_on("pull_request") and unit_tests.runs_on("push")
    pr_images = _using(all_jobs, ci, "docker/build-push-action")
    assert pr_images.runs_on_pull_requests and not pr_images.runs_on("push")
    assert not pr_images.pushes and not pr_images.push_steps
    assert not jobs[f"{ci}:dependency-review"].runs_on("push")
    assert jobs[f"{ci}:required"].runs_on("merge_group")
    assert jobs[f"{ci}:secret-scan"].uploads_sarif
    publish = jobs[f"{release}:publish-1[api]"]
    assert not publish.runs_on_pull_requests and publish.runs_on("push")
    assert publish.pushes and publish.pushes_to_ghcr and publish.logs_in
    # The build signs nothing: the signing job, which builds nothing, does.
    assert not publish.signs and not publish.attests and not publish.uses_oidc
    assert publish.publishes_or_signs
    sign = jobs[f"{release}:sign"]  # one job over image-digests' rows (filled at run time)
    assert sign.signs and sign.attests and sign.uses_oidc and sign.pushes_to_ghcr
    assert not sign.push_steps and not sign.runs_on_pull_requests
    assert [image_names(s) for _, s in publish.push_steps] == [["ghcr.io/acme/api"]]
    # The PR image build and the unit tests cache (fine there), and the classifier sees it.
    assert pr_images.caching(default_switches=False)
    assert unit_tests.caching(default_switches=False)  # setup-go caches by default


# ------------------------------------------------------------------------ the checks
# Each returns the broken promises it finds (empty: all hold). The tests below run them
# on every case, and test_the_checks_catch_broken_workflows proves each one can fail.

Workflows = list[Workflow]
Jobs = list[JobFacts]


def check_top_level_permissions(workflows: Workflows) -> list[str]:
    return [f"{wf.name}: top-level permissions are {wf.data.get('permissions', '(missing)')!r}"
            for wf in workflows if "permissions" not in wf.data or wf.data["permissions"] != {}]


def check_permissions_and_timeouts(jobs: Jobs) -> list[str]:
    problems = []
    for job in jobs:
        if not isinstance(job.job.get("permissions"), dict):
            problems.append(f"{job}: permissions must be an explicit mapping, got "
                            f"{job.job.get('permissions')!r}")
        if job.reusable is not None:
            continue  # a reusable workflow call cannot carry timeout-minutes
        timeout = job.job.get("timeout-minutes")
        # The shared unit-test matrix takes each row's `timeout` from the changes job's
        # table (every row has one, 1 to 360: tests/test_unit_environment.py checks it).
        include = str(((job.job.get("strategy") or {}).get("matrix") or {}).get("include", ""))
        from_rows = (timeout == "${{ matrix.timeout }}"
                     and include.startswith("${{ fromJSON(needs.changes.outputs.tests-"))
        if not from_rows and not (isinstance(timeout, int) and not isinstance(timeout, bool)
                                  and timeout > 0):
            problems.append(f"{job}: timeout-minutes is {timeout!r}")
    return problems


def check_packages_scope(jobs: Jobs) -> list[str]:
    problems = []
    for job in jobs:
        if job.grants_write("packages") and not job.pushes:
            problems.append(f"{job}: packages: write but pushes nothing")
        # GitHub Packages needs the scope; any other registry gets its own credentials, so
        # the scope would only be an unused write token. The one exception is a call of
        # the SLSA container generator: its nested job asks for packages: write, and a
        # caller must grant at least what a called workflow asks for.
        if job.push_steps and job.pushes_to_ghcr and not job.grants_write("packages"):
            problems.append(f"{job}: pushes to ghcr.io without packages: write")
        if (job.grants_write("packages") and not job.pushes_to_ghcr
                and not job.calls_slsa_container_generator):
            problems.append(f"{job}: packages: write for a registry that is not ghcr.io")
    return problems


def check_oidc_and_attestation_scopes(jobs: Jobs) -> list[str]:
    problems = []
    for job in jobs:
        if job.grants_write("id-token") and not job.uses_oidc:
            problems.append(f"{job}: id-token: write but signs/attests/authenticates nothing")
        if job.grants_write("attestations") and not job.action_steps(*ATTEST_ACTIONS):
            problems.append(f"{job}: attestations: write but writes no attestation")
        if (job.signs or job.attests) and not job.grants_write("id-token"):
            problems.append(f"{job}: signs or attests without id-token: write")
        if job.action_steps(*ATTEST_ACTIONS) and not job.grants_write("attestations"):
            problems.append(f"{job}: attests without attestations: write")
    return problems


def check_security_events_scope(jobs: Jobs) -> list[str]:
    problems = []
    for job in jobs:
        if job.grants_write("security-events") and not job.uploads_sarif:
            problems.append(f"{job}: security-events: write but uploads no SARIF")
        if job.uploads_sarif and not job.grants_write("security-events"):
            problems.append(f"{job}: uploads SARIF without security-events: write")
    return problems


WRITE_SCOPES = ("packages", "id-token", "attestations", "contents", "deployments", "actions",
                "pull-requests", "issues", "statuses", "checks")


def check_pull_request_jobs(jobs: Jobs) -> list[str]:
    problems = []
    for job in jobs:
        if not job.runs_on_pull_requests:
            continue
        if job.logs_in:
            problems.append(f"{job}: logs in to a registry")
        if job.pushes:
            problems.append(f"{job}: pushes to a registry")
        if job.signs or job.attests:
            problems.append(f"{job}: signs or attests")
        problems += [f"{job}: {scope}: write" for scope in WRITE_SCOPES
                     if job.grants_write(scope)]
        text = yaml.safe_dump(job.job)
        problems += [f"{job}: reads registry secret {secret}"
                     for secret in re.findall(r"secrets\.(\w+)", text)
                     if secret.startswith("REGISTRY_")]
    return problems


def _values(mapping: object) -> Iterator[tuple[str, str]]:
    if isinstance(mapping, dict):
        for key, value in mapping.items():
            yield str(key), str(value)


def check_digests_after_push(jobs: Jobs) -> tuple[list[str], int]:
    """Problems, and how many image references were looked at (to rule out vacuity)."""
    problems: list[str] = []
    checked = 0
    for job in jobs:
        pushes = job.push_steps
        if pushes:
            first = pushes[0][0]
            build_ids = [str(s["id"]) for _, s in pushes if s.get("id")]
            if len(build_ids) != len(pushes):
                problems.append(f"{job}: a push step has no id, so its digest cannot be used")
            digests = {f"${{{{ steps.{i}.outputs.digest }}}}" for i in build_ids}
            names = sorted({n for _, s in pushes for n in image_names(s)})
            # Later jobs get the digest only through the recorded artifact (image-digests).
            recorded = any(v in digests for s in job.steps[first + 1:]
                           for _, v in _values(s.get("env")))
            uploads = [s for _, s in job.action_steps("actions/upload-artifact")
                       if str((s.get("with") or {}).get("name", "")).startswith("digest-")]
            if not (recorded and uploads):
                problems.append(f"{job}: the pushed digest is not recorded for later jobs")
            for index, step in enumerate(job.steps[first + 1:], start=first + 1):
                where = f"{job} step {index + 1} ({step.get('name')})"
                values = [*_values(step.get("with")), *_values(step.get("env"))]
                if isinstance(step.get("run"), str):
                    values.append(("run", str(step["run"])))
                gives_digest = any(v in digests for _, v in values)
                checked += gives_digest  # handing on the pushed digest is a checked reference
                for key, value in values:
                    for name in names:
                        for m in re.finditer(re.escape(name) + r"(?![\w.-])([:@]?)", value):
                            checked += 1
                            sep, rest = m.group(1), value[m.end():]
                            if sep == ":":
                                problems.append(f"{where}: {key} refers to {name} by tag: "
                                                f"{value}")
                            elif sep == "@" and not any(rest.startswith(d) for d in digests):
                                problems.append(f"{where}: {key}: {value} is not the pushed "
                                                "digest")
                            elif sep == "" and not gives_digest:
                                problems.append(f"{where}: {key} names {name} without its "
                                                "digest")
        if job.calls_slsa_container_generator:
            checked += 1
            problems += _slsa_digest_problems(job, jobs)
        elif not pushes and (job.signs or job.attests):
            found, count = _signing_digest_problems(job, jobs)
            problems += found
            checked += count
    return problems, checked


_CHECKED_DIGEST = re.compile(r"\$\{\{ steps\.([\w-]+)\.outputs\.digest \}\}")
_DIGEST_MAP = re.compile(r"\$\{\{ needs\.([\w-]+)\.outputs\.digests \}\}")


def _signing_digest_problems(job: JobFacts, jobs: Jobs) -> tuple[list[str], int]:
    """A job that signs or attests without building: every cosign call and attestation
    names the digest from the map of a needed job that gathered every push."""
    problems: list[str] = []
    checked = 0
    needs = job.job.get("needs") or []
    needs = [needs] if isinstance(needs, str) else list(needs)
    pushers = {j.job_id for j in jobs if j.workflow is job.workflow and j.push_steps}
    for index, step in enumerate(job.steps):
        where = f"{job} step {index + 1} ({step.get('name')})"
        if "uses" in step and action_of(str(step["uses"])) in ATTEST_ACTIONS:
            digest = str((step.get("with") or {}).get("subject-digest", ""))
        elif re.search(r"\bcosign\s+(sign|attest)\b", str(step.get("run", ""))):
            digest = str((step.get("env") or {}).get("DIGEST", ""))
        else:
            continue
        checked += 1
        # The digest a checking step before it picked from a needed job's digest map.
        picked = _CHECKED_DIGEST.fullmatch(digest)
        picker = next((s for s in job.steps[:index] if picked and s.get("id") == picked.group(1)),
                      None)
        source = _DIGEST_MAP.fullmatch(str((picker or {}).get("env", {}).get("DIGESTS", "")))
        if source is None or source.group(1) not in needs:
            problems.append(f"{where}: {digest!r} is not a pushed digest from a needed job")
            continue
        gatherer = next((j for j in jobs if j.workflow is job.workflow
                         and j.id == source.group(1)), None)
        if gatherer is None or not pushers <= set(gatherer.job.get("needs") or []):
            problems.append(f"{where}: {source.group(1)} does not wait for every push")
    return problems, checked


def _slsa_digest_problems(job: JobFacts, jobs: Jobs) -> list[str]:
    """The SLSA call's rows (image, digest) come from the job that gathered the recorded
    digests, which waits for every job that pushes."""
    given = job.job.get("with") or {}
    needs = job.job.get("needs") or []
    needs = [needs] if isinstance(needs, str) else list(needs)
    if given.get("image") != "${{ matrix.image }}" or given.get("digest") != "${{ matrix.digest }}":
        return [f"{job}: SLSA image/digest are not the matrix row's: {given}"]
    include = str(((job.job.get("strategy") or {}).get("matrix") or {}).get("include", ""))
    source = re.fullmatch(r"\$\{\{ fromJSON\(needs\.([\w-]+)\.outputs\.images-\d+\) \}\}", include)
    if source is None or source.group(1) not in needs:
        return [f"{job}: SLSA rows {include!r} do not come from a needed job"]
    gatherer = next((j for j in jobs if j.id == source.group(1)), None)
    pushers = {j.job_id for j in jobs if j.workflow is job.workflow and j.push_steps}
    gathered_from = set(gatherer.job.get("needs") or []) if gatherer else set()
    if gatherer is None or not pushers or not pushers <= gathered_from:
        return [f"{job}: {source.group(1)} does not wait for every push ({sorted(pushers)})"]
    if not gatherer.action_steps("actions/download-artifact"):
        return [f"{job}: {source.group(1)} does not read the recorded digests"]
    return []


def check_no_cache_where_publishing(jobs: Jobs, *, default_switches: bool = False) -> list[str]:
    return [p for job in jobs if job.publishes_or_signs
            for p in job.caching(default_switches=default_switches)]


def check_release_build_cache(workflows: Workflows) -> list[str]:
    problems = []
    for wf in workflows:
        if wf.is_pull_request_workflow:
            continue
        for job_id, job in wf.jobs.items():
            for index, step in enumerate(job.get("steps") or []):
                for key in ("cache-from", "cache-to"):
                    if key in (step.get("with") or {}):
                        problems.append(f"{wf.name}:{job_id} step {index + 1}: {key}: "
                                        f"{step['with'][key]}")
    return problems


@functools.cache
def reference_pins() -> dict[str, dict[str, str]]:
    with PINS_TSV.open(encoding="utf-8", newline="") as handle:
        return {row["action"]: row for row in csv.DictReader(handle, delimiter="\t")}


_USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")


def check_uses_pins(workflows: Workflows) -> tuple[list[str], int]:
    """Every `uses:` line: the reference SHA with its tag as the comment, or the SLSA
    generator by its release tag. Read from the text (the comment is not in the YAML)
    and cross-checked with the parsed YAML."""
    pins = reference_pins()
    problems: list[str] = []
    seen = 0
    for wf in workflows:
        parsed = sorted(
            [str(s["uses"]) for j in wf.jobs.values() for s in j.get("steps") or [] if "uses" in s]
            + [str(j["uses"]) for j in wf.jobs.values() if "uses" in j])
        from_text = []
        for line_no, line in enumerate(wf.text.splitlines(), start=1):
            m = _USES_LINE.match(line)
            if not m:
                continue
            seen += 1
            uses, comment = m.group("ref").strip("\"'"), (m.group("comment") or "").strip()
            from_text.append(uses)
            where = f"{wf.name}:{line_no}"
            action, ref = action_of(uses), ref_of(uses)
            pin = pins.get(action)
            if pin is None:
                problems.append(f"{where}: {action} is not in the reference pins")
                continue
            if SHA.fullmatch(ref):
                if action.startswith(SLSA_PREFIX):
                    problems.append(f"{where}: the SLSA generator must be referenced by tag")
                if ref != pin["sha"]:
                    problems.append(f"{where}: {action}@{ref} is not the reference SHA "
                                    f"{pin['sha']} ({pin['tag']})")
                if comment != pin["tag"]:
                    problems.append(f"{where}: comment {comment!r} should name the tag "
                                    f"{pin['tag']}")
            elif action.startswith(SLSA_PREFIX):
                if ref != pin["tag"] or not re.fullmatch(r"v\d+\.\d+\.\d+", ref):
                    problems.append(f"{where}: {uses} is not the release tag {pin['tag']}")
            else:
                problems.append(f"{where}: {uses} is not pinned to a commit SHA")
        if sorted(from_text) != parsed:
            problems.append(f"{wf.name}: `uses:` lines in the text and the parsed YAML differ")
    return problems, seen


def _required_inputs(inputs: dict[str, dict[str, Any]]) -> set[str]:
    """Inputs the action needs from the caller: `required: true` with no default (the
    runner fills in a default itself, so a required input with one is not missing)."""
    return {name for name, spec in inputs.items()
            if truthy(spec.get("required")) and "default" not in spec}


def check_action_inputs(jobs: Jobs) -> list[str]:
    problems: list[str] = []
    for job in jobs:
        if job.reusable is not None:
            action = action_of(job.reusable)
            if action != SLSA_CONTAINER:
                problems.append(f"{job}: calls {action}, whose interface this test does not "
                                "know")
                continue
            given = set(job.job.get("with") or {})
            secrets = set(job.job.get("secrets") or {})
            iface = SLSA_CONTAINER_INTERFACE
            problems += [f"{job}: unknown input {k!r} of {action}"
                         for k in sorted(given - iface["inputs"])]
            problems += [f"{job}: missing required input {k!r}"
                         for k in sorted(iface["required_inputs"] - given)]
            problems += [f"{job}: unknown secret {k!r} of {action}"
                         for k in sorted(secrets - iface["secrets"])]
            for scope, level in iface["nested_permissions"].items():
                granted = job.permissions.get(scope)
                if granted != level and not (level == "read" and granted == "write"):
                    problems.append(f"{job}: the generator's jobs need {scope}: {level}, "
                                    f"the call grants {granted!r}")
            continue
        for index, step in job.action_steps():
            action = action_of(str(step["uses"]))
            where = f"{job} step {index + 1} ({step.get('name', action)})"
            if action_metadata(action) is None:
                problems.append(f"{where}: {action} has no action.yml in the reference")
                continue
            inputs = action_inputs(action)
            given = set(step.get("with") or {})
            problems += [f"{where}: {action} has no input {k!r}"
                         for k in sorted(given - set(inputs))]
            problems += [f"{where}: {action} needs input {k!r}"
                         for k in sorted(_required_inputs(inputs) - given)]
            problems += [f"{where}: input {k!r} of {action} is deprecated: "
                         f"{inputs[k].get('deprecationMessage')}"
                         for k in sorted(given & set(inputs))
                         if inputs[k].get("deprecationMessage")]
    return problems


def check_verify_before_deploy(jobs: Jobs) -> tuple[list[str], int]:
    """In a release that signs its images, every job deploying them (a step reads a
    HARDEN_CI_DIGEST_ variable) waits for every signing job and runs `cosign verify` before
    its first deploy step, and logs out of the registry before the checkout (nothing of the
    repository runs with the login). Problems, and how many deploying jobs were looked at."""
    problems: list[str] = []
    checked = 0
    by_workflow: dict[str, list[JobFacts]] = {}
    for job in jobs:
        by_workflow.setdefault(job.workflow.name, []).append(job)
    for group in by_workflow.values():
        signers = {job.job_id for job in group
                   if any("cosign sign " in str(step.get("run", "")) for step in job.steps)}
        for job in group:
            deploys = [i for i, step in enumerate(job.steps)
                       if any(key.startswith("HARDEN_CI_DIGEST_") for key in step.get("env") or {})]
            if not deploys or not signers:
                continue
            checked += 1
            verifies = [i for i, step in enumerate(job.steps)
                        if "cosign verify " in str(step.get("run", ""))]
            if not verifies or verifies[0] > deploys[0]:
                problems.append(f"{job}: deploys signed images without verifying them first")
            missing = signers - set(job.job.get("needs") or [])
            if missing:
                problems.append(f"{job}: may start before {sorted(missing)} signed the images")
            logouts = [i for i, step in enumerate(job.steps)
                       if "docker logout" in str(step.get("run", ""))]
            checkouts = [i for i, _ in job.action_steps("actions/checkout")] or [len(job.steps)]
            logins = [i for i, _ in job.action_steps("docker/login-action")]
            if logins and (not logouts or logouts[0] > min(checkouts[0], deploys[0])):
                problems.append(f"{job}: the registry login is still in place when the "
                                "repository's code runs")
    return problems, checked


# ------------------------------------------------------------------------ the facts

def test_top_level_permissions_are_empty(case: str) -> None:
    _fail_if(check_top_level_permissions(list(workflows_for(case))),
             f"{case}: top-level permissions")


def test_every_job_states_permissions_and_a_timeout(case: str) -> None:
    _fail_if(check_permissions_and_timeouts(jobs_for(case)),
             f"{case}: jobs without explicit permissions or timeout")


def test_packages_write_only_where_something_is_pushed(case: str) -> None:
    _fail_if(check_packages_scope(jobs_for(case)), f"{case}: packages: write out of place")


def test_id_token_and_attestations_only_in_signing_or_attesting_jobs(case: str) -> None:
    _fail_if(check_oidc_and_attestation_scopes(jobs_for(case)),
             f"{case}: OIDC or attestation scopes out of place")


def test_security_events_write_exactly_where_sarif_is_uploaded(case: str) -> None:
    _fail_if(check_security_events_scope(jobs_for(case)),
             f"{case}: security-events out of place")


def test_deploys_verify_the_signed_images_first(case: str) -> None:
    problems, _ = check_verify_before_deploy(jobs_for(case))
    _fail_if(problems, f"{case}: deploys that do not verify the signed images first")


def test_the_verify_before_deploy_fact_is_not_vacuous() -> None:
    _, checked = check_verify_before_deploy(jobs_for("learnhub-rendered"))
    assert checked >= 2, "learnhub deploys staging and the canary from signed images"


def test_pull_request_runs_never_log_in_push_or_sign(case: str) -> None:
    _fail_if(check_pull_request_jobs(jobs_for(case)),
             f"{case}: pull-request/merge-queue jobs with registry or write access")


def test_images_are_referred_to_by_digest_after_the_push(case: str) -> None:
    jobs = jobs_for(case)
    problems, checked = check_digests_after_push(jobs)
    _fail_if(problems, f"{case}: images referred to by tag after the push")
    if any(j.push_steps and j.push_steps[-1][0] < len(j.steps) - 1 for j in jobs):
        assert checked, f"{case}: steps follow a push but none names the image (vacuous?)"


def test_jobs_that_publish_or_sign_use_no_cache(case: str) -> None:
    _fail_if(check_no_cache_where_publishing(jobs_for(case)),
             f"{case}: caching in jobs that publish or sign")


def test_release_workflows_use_no_build_cache(case: str) -> None:
    _fail_if(check_release_build_cache(list(workflows_for(case))),
             f"{case}: build cache in a release workflow")


def test_no_action_in_a_publishing_job_caches_by_default(case: str) -> None:
    """Actions with their own cache switch on by default (trivy-action's `cache`, which
    restores its vulnerability DB through actions/cache; setup-go's `cache`; ...) must
    have it turned off where an image is published or signed."""
    _fail_if(check_no_cache_where_publishing(jobs_for(case), default_switches=True),
             f"{case}: default-on caches in jobs that publish or sign")


def test_every_uses_is_a_reference_sha_and_only_slsa_is_a_tag(case: str) -> None:
    problems, seen = check_uses_pins(list(workflows_for(case)))
    assert seen, f"{case}: no uses: found"
    _fail_if(problems, f"{case}: uses: not pinned as promised")


def test_every_with_input_exists_and_required_inputs_are_given(case: str) -> None:
    _fail_if(check_action_inputs(jobs_for(case)),
             f"{case}: with: inputs that the actions do not declare")


# ------------------------------------------------------- the checks can fail at all

def _mutated(change: Any) -> tuple[list[Workflow], list[JobFacts]]:
    """learnhub's workflows (a fresh render) with `change(data_by_file)` applied."""
    data = {wf.name: copy.deepcopy(wf.data) for wf in workflows_for("learnhub-rendered")}
    change(data)
    workflows = [Workflow(name, yaml.safe_dump(d, sort_keys=False), d) for name, d in data.items()]
    return workflows, classify(workflows)


def _step(data: dict[str, Any], wf: str, job: str, name_prefix: str) -> dict[str, Any]:
    for step in data[wf]["jobs"][job]["steps"]:
        if str(step.get("name", "")).startswith(name_prefix):
            found: dict[str, Any] = step  # the mapping itself: mutations change it in place
            return found
    raise KeyError(f"{wf}:{job}: no step named {name_prefix}...")


def _job_using(data: dict[str, Any], wf: str, action: str) -> dict[str, Any]:
    for job in data[wf]["jobs"].values():
        if any(action_of(str(s.get("uses", ""))) == action for s in job.get("steps") or []):
            found: dict[str, Any] = job
            return found
    raise KeyError(f"{wf}: no job uses {action}")


def _step_using(data: dict[str, Any], wf: str, action: str) -> dict[str, Any]:
    job = _job_using(data, wf, action)
    found: dict[str, Any] = next(s for s in job["steps"]
                                 if action_of(str(s.get("uses", ""))) == action)
    return found


CI, RELEASE = "harden-ci.yml", "harden-ci-release.yml"
LOGIN = {"name": "Log in", "uses": "docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121",
         "with": {"registry": "ghcr.io", "username": "u", "password": "${{ secrets.REGISTRY_PASSWORD }}"}}

MUTATIONS: dict[str, tuple[Any, Any]] = {
    "top-level write-all": (
        lambda d: d[CI].__setitem__("permissions", "write-all"),
        lambda wfs, jobs: check_top_level_permissions(wfs)),
    "job without timeout": (
        lambda d: d[CI]["jobs"]["iac-terraform"].pop("timeout-minutes"),
        lambda wfs, jobs: check_permissions_and_timeouts(jobs)),
    "job without permissions": (
        lambda d: d[CI]["jobs"]["drift-guard"].pop("permissions"),
        lambda wfs, jobs: check_permissions_and_timeouts(jobs)),
    "packages: write on a test job": (
        lambda d: d[CI]["jobs"]["drift-guard"]["permissions"].__setitem__("packages", "write"),
        lambda wfs, jobs: check_packages_scope(jobs)),
    "ghcr push without packages: write": (
        lambda d: d[RELEASE]["jobs"]["publish-1"]["permissions"].pop("packages"),
        lambda wfs, jobs: check_packages_scope(jobs)),
    "id-token on a lint job": (
        lambda d: d[CI]["jobs"]["iac-workflows"]["permissions"].__setitem__("id-token", "write"),
        lambda wfs, jobs: check_oidc_and_attestation_scopes(jobs)),
    "attestations without attest steps": (
        lambda d: d[RELEASE]["jobs"]["sign"].__setitem__("steps", [
            s for s in d[RELEASE]["jobs"]["sign"]["steps"]
            if "attest" not in str(s.get("uses", ""))]),
        lambda wfs, jobs: check_oidc_and_attestation_scopes(jobs)),
    "signing without id-token": (
        lambda d: d[RELEASE]["jobs"]["sign"]["permissions"].pop("id-token"),
        lambda wfs, jobs: check_oidc_and_attestation_scopes(jobs)),
    "security-events without SARIF": (
        lambda d: d[CI]["jobs"]["dependency-review"]["permissions"].__setitem__(
            "security-events", "write"),
        lambda wfs, jobs: check_security_events_scope(jobs)),
    "SARIF without security-events": (
        lambda d: d[CI]["jobs"]["secret-scan"]["permissions"].pop("security-events"),
        lambda wfs, jobs: check_security_events_scope(jobs)),
    "login in a PR job": (
        lambda d: _job_using(d, CI, "docker/build-push-action")["steps"].insert(
            1, copy.deepcopy(LOGIN)),
        lambda wfs, jobs: check_pull_request_jobs(jobs)),
    "push in a merge-queue-only job": (
        lambda d: (_job_using(d, CI, "docker/build-push-action").__setitem__(
            "if", "${{ github.event_name == 'merge_group' }}"),
            _step_using(d, CI, "docker/build-push-action")["with"].__setitem__("push", True)),
        lambda wfs, jobs: check_pull_request_jobs(jobs)),
    "scan by tag after the push": (
        lambda d: _step(d, RELEASE, "publish-1", "Scan")["with"].__setitem__(
            "image", "ghcr.io/acme/api:${{ github.sha }}"),
        lambda wfs, jobs: check_digests_after_push(jobs)[0]),
    "sign by name only": (
        lambda d: _step(d, RELEASE, "sign", "Sign")["env"].__setitem__(
            "DIGEST", "latest"),
        lambda wfs, jobs: check_digests_after_push(jobs)[0]),
    "setup-python cache in a publish job": (
        lambda d: _step(d, RELEASE, "publish-1", "Set up Python")["with"].__setitem__(
            "cache", "pip"),
        lambda wfs, jobs: check_no_cache_where_publishing(jobs)),
    "setup-go (caches by default) in a publish job": (
        lambda d: d[RELEASE]["jobs"]["publish-1"]["steps"].insert(1, {
            "name": "Set up Go",
            "uses": "actions/setup-go@b7ad1dad31e06c5925ef5d2fc7ad053ef454303e",
            "with": {"go-version": "1.24"}}),
        lambda wfs, jobs: check_no_cache_where_publishing(jobs)),
    "actions/cache in a publish job": (
        lambda d: d[RELEASE]["jobs"]["publish-1"]["steps"].insert(1, {
            "uses": "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae",
            "with": {"path": "x", "key": "y"}}),
        lambda wfs, jobs: check_no_cache_where_publishing(jobs)),
    "cache-from in the release workflow": (
        lambda d: _step(d, RELEASE, "publish-1", "Build and push")["with"].__setitem__(
            "cache-from", "type=gha"),
        lambda wfs, jobs: check_release_build_cache(wfs)),
    "unknown input": (
        lambda d: _step(d, CI, "secret-scan", "Check out")["with"].__setitem__(
            "fetch-dept", 0),
        lambda wfs, jobs: check_action_inputs(jobs)),
    "missing required input": (
        lambda d: _step_using(d, CI, "actions/upload-artifact")["with"].pop("path"),
        lambda wfs, jobs: check_action_inputs(jobs)),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_the_checks_catch_broken_workflows(mutation: str) -> None:
    change, check = MUTATIONS[mutation]
    workflows, jobs = _mutated(change)
    assert check(workflows, jobs), f"{mutation!r} went unnoticed"
    # ... and the unmutated example is clean for the same check.
    assert not check(list(workflows_for("learnhub-rendered")), jobs_for("learnhub-rendered"))


@pytest.mark.parametrize("replace", [
    ("actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
     "actions/checkout@v7.0.1"),
    ("actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1",
     "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v6.0.0"),
    ("actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
     "actions/checkout@0000000000000000000000000000000000000000"),
])
def test_the_pin_check_catches_unpinned_uses(replace: tuple[str, str]) -> None:
    old, new = replace
    workflows = []
    for wf in workflows_for("learnhub-committed"):
        assert wf.name != CI or old in wf.text
        text = wf.text.replace(old, new, 1)
        workflows.append(parse(wf.name, text))
    problems, _ = check_uses_pins(workflows)
    assert problems

# --------------------------------------------------------- facts of particular specs

def test_learnhub_committed_matches_a_fresh_render() -> None:
    committed = {wf.name: wf.text for wf in workflows_for("learnhub-committed")}
    rendered = {wf.name: wf.text for wf in workflows_for("learnhub-rendered")}
    assert committed == rendered, "examples/learnhub is stale: re-render it"


def test_ghcr_publishing_uses_the_workflow_token() -> None:
    for case in ("learnhub-committed", "slsa-ghcr"):
        publishers = [j for j in jobs_for(case) if j.push_steps]
        assert publishers, case
        for job in publishers:
            login = job.action_steps("docker/login-action")
            assert len(login) == 1, f"{case}/{job}: expected one registry login"
            given = login[0][1]["with"]
            assert given["registry"] == "ghcr.io"
            assert given["username"] == "${{ github.actor }}"
            assert given["password"] == "${{ secrets.GITHUB_TOKEN }}"
            assert job.grants_write("packages")


@pytest.mark.parametrize("case", ["private-registry", "slsa-private-registry"])
def test_another_registry_uses_its_own_secrets_and_no_packages_scope(case: str) -> None:
    jobs = jobs_for(case)
    publishers = [j for j in jobs if j.push_steps]
    assert publishers
    for job in publishers:
        (_, login), = job.action_steps("docker/login-action")
        assert login["with"] == {"registry": "registry.example.com",
                                 "username": "${{ secrets.REGISTRY_USERNAME }}",
                                 "password": "${{ secrets.REGISTRY_PASSWORD }}"}, str(job)
        assert all(n.startswith("registry.example.com/acme/")
                   for _, s in job.push_steps for n in image_names(s))
    problems = [f"{j}: packages: {j.permissions.get('packages')}" for j in jobs
                if "packages" in j.permissions and not j.calls_slsa_container_generator]
    _fail_if(problems, f"{case}: packages scope with a registry that is not ghcr.io")
    for job in jobs:
        if job.calls_slsa_container_generator:
            assert job.job.get("secrets") == {
                "registry-username": "${{ secrets.REGISTRY_USERNAME }}",
                "registry-password": "${{ secrets.REGISTRY_PASSWORD }}"}, str(job)
            assert "registry-username" not in (job.job.get("with") or {})
    for wf in workflows_for(case):
        if wf.is_pull_request_workflow:
            assert "REGISTRY_" not in wf.text, f"{wf.name}: registry secrets in PR checks"


@pytest.mark.parametrize("case", ["slsa-ghcr", "slsa-private-registry"])
def test_slsa_provenance_for_every_published_image(case: str) -> None:
    jobs = jobs_for(case)
    publishers = {j.job_id for j in jobs if j.push_steps}
    slsa = [j for j in jobs if j.calls_slsa_container_generator]
    assert publishers and slsa
    problems, _ = check_digests_after_push(jobs)
    _fail_if(problems, f"{case}: SLSA provenance not tied to the pushed digests")
    tag = reference_pins()[SLSA_CONTAINER]["tag"]
    for job in slsa:
        assert job.reusable == f"{SLSA_CONTAINER}@{tag}"
        assert not job.runs_on_pull_requests
        assert "steps" not in job.job and "runs-on" not in job.job
    # Without slsa: no generator anywhere.
    for other in ("private-registry", "trivy", "unsigned"):
        assert not any(j.reusable for j in jobs_for(other)), other


def test_no_code_scanning_means_no_security_events_anywhere() -> None:
    jobs = jobs_for("no-code-scanning")
    assert any(j.id.startswith("iac-") for j in jobs), "the SARIF producers still run"
    problems = [f"{j}: {p}" for j in jobs for p in
                (["security-events in permissions"] if "security-events" in j.permissions
                 else []) + (["uploads SARIF"] if j.uploads_sarif else [])]
    _fail_if(problems, "code_scanning: false")


def test_trivy_replaces_grype_everywhere() -> None:
    jobs = jobs_for("trivy")
    scans = [(j, s) for j in jobs for _, s in j.action_steps(*SCANNERS)]
    assert scans
    assert all(action_of(s["uses"]) == "aquasecurity/trivy-action" for _, s in scans)
    for job, step in scans:
        given = step["with"]
        assert given["severity"] == "CRITICAL", f"{job}: fail_on critical scans {given['severity']}"
        assert str(given["exit-code"]) == "1", str(job)
        if job.push_steps:
            assert re.fullmatch(r"registry\.example\.com/acme/\w+@\$\{\{ steps\.build\.outputs"
                                r"\.digest \}\}|ghcr\.io/acme/\w+@\$\{\{ steps\.build\.outputs"
                                r"\.digest \}\}", given["image-ref"]), given["image-ref"]
    assert {j.workflow.name for j, _ in scans} == {"harden-ci.yml", "harden-ci-release.yml"}


def test_without_a_vulnerability_gate_nothing_scans() -> None:
    jobs = jobs_for("no-vulnerability-gate")
    assert not [str(j) for j in jobs for _ in j.action_steps(*SCANNERS)]
    assert "dependency-review" not in {j.id for j in jobs}
    # The images are still built on pull requests and still published and signed.
    assert any(j.action_steps("docker/build-push-action") and not j.push_steps for j in jobs)
    assert any(j.push_steps for j in jobs) and any(j.signs for j in jobs)


def test_unsigned_publishing_holds_no_oidc_or_attestation_scope() -> None:
    jobs = jobs_for("unsigned")
    publishers = [j for j in jobs if j.push_steps]
    assert publishers
    for job in publishers:
        assert not job.signs and not job.attests, str(job)
        assert "id-token" not in job.permissions and "attestations" not in job.permissions
        assert job.grants_write("packages")  # ghcr.io: pushing still needs it


def test_sbom_only_attests_the_sbom_without_cosign() -> None:
    jobs = jobs_for("sbom-only")
    assert [j for j in jobs if j.push_steps]
    publishers = [j for j in jobs if j.attests]
    assert publishers
    for job in publishers:
        assert not job.signs and not job.push_steps, str(job)
        attests = [action_of(s["uses"]) for _, s in job.action_steps(*ATTEST_ACTIONS)]
        assert attests and set(attests) == {"actions/attest-sbom"}, attests
        assert job.grants_write("id-token") and job.grants_write("attestations")


def test_a_release_named_default_branch_gets_no_cache_anywhere() -> None:
    """Pushes to a default branch named like a release branch publish from it, so a cache
    they save would reach the next release build: no job of any workflow caches, and the
    same spec on `main` does (so the check is not vacuous)."""
    release_branch = jobs_for("fixture:release_default_branch")
    _fail_if([found for job in release_branch for found in job.caching(default_switches=True)],
             "caching with a release-named default branch")
    data = yaml.safe_load(FIXTURE_SPECS["fixture:release_default_branch"].read_text("utf-8"))
    data["project"]["default_branch"] = "main"
    on_main = classify(parse_files(render(Spec.model_validate(data), "harden-ci.yaml")))
    assert [found for job in on_main for found in job.caching(default_switches=False)]
