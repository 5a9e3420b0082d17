"""A monorepo of 300 services: it renders clean, deterministically, and the CI it writes
keeps the jobs of a small spec; at the model's maximum (1,000 services) every file fits
GitHub's workflow file limit.

The spec is generated: every language (and `custom`, and container-only services), sharded
services, Dockerfiles, OpenAPI documents, `watch` paths, shared paths, and runner classes
(the default runner, a larger-runner label, and a self-hosted label list). Its shards and
images stay within one matrix chunk each (<= 256 entries), so the CI workflow has exactly
the jobs of a 3-service spec with the same sections; chunking itself is tested in
test_affected.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import validators
import yaml

from harden_ci.model.spec import Spec
from harden_ci.verify import WORKFLOW_FILE_LIMIT, check_workflow

SPEC_FILE = "harden-ci.yaml"
WORKFLOWS = Path(".github") / "workflows"
CI_FILE = "harden-ci.yml"
JOB_OUTPUTS_LIMIT = 1024 * 1024  # GitHub: a job's outputs, at most 1 MB (as UTF-16)

# Labels actionlint knows without a config file: a larger hosted runner and a self-hosted
# label set. (Custom labels need `.github/actionlint.yaml` in the user's repository.)
RUNNERS = {"large": "ubuntu-latest-8-cores", "gpu": ["self-hosted", "linux", "x64", "arm64"]}
DEFAULT_RUNNER = "ubuntu-24.04"
_LANGUAGES = ("python", "node", "go", "java", "rust", "dotnet", "ruby", "custom")
_VERSIONS = {"python": "3.12", "node": "22", "go": "1.24", "java": "21", "rust": "stable",
             "dotnet": "8.0", "ruby": "3.3"}


def service(i: int) -> dict[str, Any]:
    """The i-th service of the generated monorepo (a pure function of i)."""
    language = None if i % 5 == 4 else _LANGUAGES[i % len(_LANGUAGES)]
    path = f"services/s{i:03d}"
    entry: dict[str, Any] = {"path": path}
    if language is None:  # container-only
        entry["dockerfile"] = f"{path}/Dockerfile"
    else:
        entry["language"] = language
        if i % 4 == 0 and language != "custom":
            entry["version"] = _VERSIONS[language]
        if language == "custom":
            entry |= {"setup": "make toolchain", "install": "make deps",
                      "test": "make test SHARD=$HARDEN_CI_SHARD_INDEX"}
        if i % 3 == 0:
            entry["dockerfile"] = f"{path}/Dockerfile"
        if i % 50 == 1:
            entry["shards"] = 3
    if i % 50 == 3 and language is not None:
        entry["openapi"] = f"{path}/openapi.yaml"
    if i % 7 == 2:
        entry["runner"] = "large"
    elif i % 11 == 5:
        entry["runner"] = "gpu"
    if i % 13 == 4:
        entry["watch"] = ["libs/common", f"protos/s{i:03d}"]
    return entry


def spec(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": 1,
        "project": {"name": "monorepo", "registry": "ghcr.io/acme", "runner": DEFAULT_RUNNER,
                    "runners": RUNNERS, "shared_paths": ["libs/shared", "Makefile"]},
        "services": services,
        "gates": {"secret_scan": {"tool": "gitleaks"},
                  "iac_lint": {"dockerfiles": True, "workflows": True},
                  "schema_drift": {"service": SCHEMA_DRIFT_SERVICE, "command": "make migrations-check"},
                  "vulnerabilities": {"fail_on": "high"}},
        "supply_chain": {"sbom": "cyclonedx", "sign": "keyless", "provenance": True},
        "tests": {"contract": {"breaking_changes": "fail"}},
    }


BIG = {f"s{i:03d}": service(i) for i in range(300)}
SCHEMA_DRIFT_SERVICE = "s002"  # a Go service on the `large` runner class
# Three services that between them use every section the big spec uses: the schema-drift
# service, a Java service with a Dockerfile and an OpenAPI document, a container-only one.
SMALL = {name: BIG[name] for name in (SCHEMA_DRIFT_SERVICE, "s003", "s004")}


def write_spec(folder: Path, data: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPEC_FILE
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harden_ci", *args], cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=600)


def rendered_files(root: Path) -> dict[str, bytes]:
    out = root / WORKFLOWS
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.load(path.read_text("utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if True in data:
        data["on"] = data.pop(True)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale") / "repo"
    write_spec(root, spec(BIG))
    result = cli(root, "render")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scale-small") / "repo"
    write_spec(root, spec(SMALL))
    result = cli(root, "render")
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def test_the_generated_spec_covers_what_it_claims() -> None:
    languages = {s.get("language") for s in BIG.values()}
    assert languages == {*_LANGUAGES, None}
    assert {s.get("runner") for s in BIG.values()} == {None, "large", "gpu"}
    shards = sum(s.get("shards", 1) for s in BIG.values() if "language" in s)
    images = sum(1 for s in BIG.values() if "dockerfile" in s)
    assert 256 - 10 < shards <= 256 and 100 < images <= 256, (shards, images)
    assert any(s.get("watch") for s in BIG.values())
    assert any(s.get("openapi") for s in SMALL.values())
    assert {s.get("language") for s in SMALL.values()} == {"go", "java", None}
    assert any("dockerfile" in s and "language" in s for s in SMALL.values())
    assert BIG[SCHEMA_DRIFT_SERVICE].get("runner") == "large"


@pytest.mark.slow
def test_300_services_render_with_zero_validator_findings(big: Path) -> None:
    # Ignore comments count as harden-ci writes them: only for recorded exceptions, which
    # the render's own invariant checks (here: the spec's self-hosted runner class).
    results = validators.all_validators(big, honor_ignores=True)
    assert all(not findings for findings in results.values()), validators.report(results)


def test_render_is_deterministic(big: Path, tmp_path: Path) -> None:
    again = tmp_path / "elsewhere" / "repo"
    shutil.copytree(big, again, ignore=shutil.ignore_patterns(".github"))
    result = cli(again, "render")
    assert result.returncode == 0, result.stderr
    assert rendered_files(again) == rendered_files(big)
    # A second render in place changes nothing and says so; check agrees.
    before = {p: p.stat().st_mtime_ns for p in (big / WORKFLOWS).rglob("*") if p.is_file()}
    result = cli(big, "render")
    assert result.returncode == 0 and "up to date" in result.stdout, result.stdout
    assert {p: p.stat().st_mtime_ns for p in (big / WORKFLOWS).rglob("*") if p.is_file()} == before
    assert cli(big, "check").returncode == 0


def test_the_ci_workflow_has_the_jobs_of_a_3_service_spec(big: Path, small: Path) -> None:
    jobs_big = load_workflow(big / WORKFLOWS / CI_FILE)["jobs"]
    jobs_small = load_workflow(small / WORKFLOWS / CI_FILE)["jobs"]
    assert len(jobs_big) == len(jobs_small), (sorted(jobs_big), sorted(jobs_small))
    assert list(jobs_big) == list(jobs_small)


def test_every_workflow_file_is_small_enough_for_github_to_run(big: Path) -> None:
    """GitHub refuses to start a run of a workflow file over 500 KB. The PR workflow keeps
    its jobs whatever the number of services and grows only by a few lines of data per
    service (the affected-services filters, one hadolint input naming every Dockerfile);
    the release workflow publishes every image from one matrix, so it grows by one matrix
    row (well under 1 KB) per image. The model's maximum is tested below."""
    sizes = {p.name: p.stat().st_size for p in sorted((big / WORKFLOWS).glob("*.yml"))}
    over = {name: size for name, size in sizes.items() if size > WORKFLOW_FILE_LIMIT}
    assert not over, f"over GitHub's 500 KB workflow file limit: {over} (all: {sizes})"
    images = sum(1 for s in BIG.values() if "dockerfile" in s)
    assert images > 0
    release = load_workflow(big / WORKFLOWS / "harden-ci-release.yml")
    rows = [row for job in release["jobs"].values()
            for row in ((job.get("strategy") or {}).get("matrix") or {}).get("include") or []
            if isinstance(row, dict)]
    assert sorted(row["service"] for row in rows) == sorted(
        name for name, s in BIG.items() if "dockerfile" in s), "one publish row per image"
    assert sizes["harden-ci-release.yml"] / images * 1000 < WORKFLOW_FILE_LIMIT, (
        f"{sizes['harden-ci-release.yml']} bytes for {images} images: 1,000 images would "
        "pass GitHub's limit")


def test_runner_classes_reach_the_matrix_entries(big: Path, tmp_path: Path) -> None:
    """A full run of the `changes` script: each service's entries run on its class's
    labels (a self-hosted label list stays a list), and the outputs fit GitHub's limit."""
    output = tmp_path / "output"
    env = {"PATH": os.environ["PATH"], "GITHUB_EVENT_NAME": "push",
           "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": os.devnull}
    result = subprocess.run(["python3", ".github/workflows/harden-ci/affected.py"], cwd=big,
                            env=env, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in output.read_text("utf-8").splitlines())
    assert json.loads(outputs["services"]) == sorted(BIG)
    tests = json.loads(outputs["tests-1"])
    images = json.loads(outputs["images-1"])
    assert len(tests) == sum(s.get("shards", 1) for s in BIG.values() if "language" in s)
    assert len(images) == sum(1 for s in BIG.values() if "dockerfile" in s)

    def labels(name: str) -> list[str]:
        chosen = BIG[name].get("runner")
        value = RUNNERS[chosen] if chosen else DEFAULT_RUNNER
        return value if isinstance(value, list) else [value]

    for entry in tests + images:
        assert entry["runs_on"] == labels(entry["service"]), entry
    size = sum(len((k + v).encode("utf-16-le")) for k, v in outputs.items())
    assert size <= JOB_OUTPUTS_LIMIT, size


def test_runner_classes_resolve_to_labels_in_every_job(big: Path) -> None:
    """A job's `runs-on` is its class's labels (or the matrix's), never the class name."""
    allowed = [DEFAULT_RUNNER, RUNNERS["large"], RUNNERS["gpu"], [DEFAULT_RUNNER],
               [RUNNERS["large"]]]
    wrong = []
    for path in sorted((big / WORKFLOWS).glob("*.yml"), key=lambda p: (p.name != CI_FILE, p.name)):
        for job_id, job in load_workflow(path)["jobs"].items():
            if "uses" in job:  # a reusable workflow: no runs-on of its own
                continue
            runs_on = job.get("runs-on")
            if runs_on == "${{ matrix.runs_on }}" or runs_on in allowed:
                continue
            wrong.append(f"{path.name}: {job_id}: runs-on {runs_on!r}")
    assert not wrong, "\n".join(wrong[:10]) + f"\n({len(wrong)} jobs)"


# --------------------------------------------------------------------------- at the maximum

_DOMAINS = ("payments", "identity", "catalog", "fulfilment", "notifications", "search",
            "analytics", "billing", "inventory", "recommendations")
_PARTS = ("reconciliation-worker", "gateway-api", "event-consumer", "scheduler", "admin-ui",
          "ledger-service", "webhook-dispatcher", "read-model-projector")


def realistic_service(i: int) -> tuple[str, dict[str, Any]]:
    """The i-th service of a large organisation's monorepo: long names and nested paths,
    every one with a Dockerfile, many sharded or on another runner class."""
    domain, part = _DOMAINS[i % len(_DOMAINS)], _PARTS[(i // len(_DOMAINS)) % len(_PARTS)]
    name = f"{domain}-{part}"[:34].rstrip("-") + f"-{i:04d}"  # the model allows 40
    path = f"services/{domain}/{part}-{i:04d}"
    entry = service(i)
    entry["path"] = path
    entry["dockerfile"] = f"{path}/deploy/Dockerfile"
    if "openapi" in entry:
        entry["openapi"] = f"{path}/api/openapi.yaml"
    if "watch" in entry:
        entry["watch"] = [f"libs/{domain}/common", f"protos/{domain}/{part}"]
    return name, entry


def test_verify_refuses_an_oversized_workflow_and_says_where(small: Path) -> None:
    text = (small / WORKFLOWS / CI_FILE).read_text("utf-8")
    assert check_workflow(text, CI_FILE) == []
    # Grow the last job (a comment block, so the YAML still means the same) past the limit.
    padding = "# padding\n" * ((WORKFLOW_FILE_LIMIT - len(text.encode())) // 10 + 1)
    at_limit = text + padding[: WORKFLOW_FILE_LIMIT - len(text.encode())]
    assert len(at_limit.encode()) == WORKFLOW_FILE_LIMIT
    assert check_workflow(at_limit, CI_FILE) == [], "exactly at the limit still runs"
    over = at_limit + "#\n"
    problems = check_workflow(over, CI_FILE)
    assert len(problems) == 1, problems
    last_job = list(load_workflow(small / WORKFLOWS / CI_FILE)["jobs"])[-1]
    line = next(n for n, row in enumerate(over.splitlines(), start=1) if row == f"  {last_job}:")
    assert problems[0].startswith(f"{CI_FILE}:1: {WORKFLOW_FILE_LIMIT + 2:,} bytes, over GitHub's")
    assert f"the largest job is `{last_job}` (line {line}," in problems[0]


@pytest.mark.slow
def test_every_file_fits_github_at_the_models_maximum(tmp_path: Path) -> None:
    """The model's maximum number of services, with realistic names and every service
    holding a Dockerfile: the render passes verify (which refuses oversized files) and
    each workflow file is under GitHub's limit."""
    maximum = Spec.model_fields["services"].metadata
    (limit,) = [m.max_length for m in maximum if getattr(m, "max_length", None)]
    services = dict(realistic_service(i) for i in range(limit))
    assert len(services) == limit == 1000
    root = tmp_path / "repo"
    write_spec(root, spec(services) | {"gates": {**spec(services)["gates"],
                                                 "schema_drift": {"service": next(iter(services)),
                                                                  "command": "make migrations-check"}}})
    result = cli(root, "render")
    assert result.returncode == 0, result.stdout + result.stderr
    sizes = {p.name: p.stat().st_size for p in sorted((root / WORKFLOWS).glob("*.yml"))}
    assert CI_FILE in sizes and "harden-ci-release.yml" in sizes
    over = {name: size for name, size in sizes.items() if size > WORKFLOW_FILE_LIMIT}
    assert not over, f"over GitHub's workflow file limit: {over} (all: {sizes})"
    print(f"\nat {limit} services: " + ", ".join(f"{n} {s:,} B" for n, s in sizes.items()))


def test_only_the_self_hosted_runner_lines_silence_an_audit(big: Path) -> None:
    ignores = [line.strip() for path in sorted((big / ".github" / "workflows").glob("*.yml"))
               for line in path.read_text(encoding="utf-8")
               .splitlines() if "zizmor: ignore" in line]
    assert ignores, "the scale spec has a self-hosted runner class"
    assert all(line.startswith('runs-on: ["self-hosted"')
               and "# zizmor: ignore[self-hosted-runner]" in line for line in ignores), ignores
