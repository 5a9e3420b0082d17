"""A repository shape from the field, end to end: `init` reads it, `render` writes its
pipeline, and the pipeline runs under act (tests/act_harness.py) exactly as init wrote it.

The shape (tests/fixtures/shapes/gosrv) is a Go server at the repository root: its default
branch is `master`, it has a nested module of its own (`api/client`, which the root's
`go test ./...` must not enter), SQL migrations, an OpenAPI document, a Dockerfile and its
own workflow saying how it is vetted and tested. The spec is init's, with three changes:
where harden-ci itself comes from (a wheel built from this checkout, as in
tests/test_act_pipelines.py), and two jobs turned off because they reach GitHub itself,
which this offline harness cannot stand in for: the workflow lint builds actionlint from
its source repository, and the dependency review asks GitHub's dependency-graph API.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import act_harness as act
import pytest
from helpers import build_wheel
from shape_adoption import adopt

SHAPE = Path(__file__).resolve().parent / "fixtures" / "shapes" / "gosrv"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def _go_server(wheel: Path, tmp_path: Path) -> act.FixtureRepo:
    if shutil.which("go") is None:
        pytest.fail("the Go server shape needs Go (scripts/test.sh installs golang-go)")
    repo = act.FixtureRepo(tmp_path / "repo", default_branch="master")
    shutil.copytree(SHAPE, repo.path, dirs_exist_ok=True)
    repo.commit("The Go server as it was before harden-ci")
    adopt(repo, wheel)
    return repo


def _handler(repo: act.FixtureRepo) -> str:
    return (repo.path / "internal/api/api.go").read_text(encoding="utf-8")


def test_init_reads_the_go_server_as_it_is(wheel: Path, tmp_path: Path) -> None:
    repo = _go_server(wheel, tmp_path)
    spec = (repo.path / "harden-ci.yaml").read_text(encoding="utf-8")
    assert 'default_branch: "master"' in spec
    assert 'lint: "go vet ./..."   # from .github/workflows/test.yml' in spec
    assert 'test: "go test -count=1 ./..."   # from .github/workflows/test.yml' in spec
    assert 'openapi: "api/openapi.yaml"' in spec
    assert "api/client" not in spec.split("services:")[1].split("gates:")[0].replace(
        "#", "")  # the nested module is a library of its own, not a second service
    workflow = (repo.path / ".github/workflows/harden-ci.yml").read_text(encoding="utf-8")
    assert "branches: [\"master\"]" in workflow or "- \"master\"" in workflow


def test_a_pull_request_is_green_with_vet_tests_and_the_api_contract(
        wheel: Path, tmp_path: Path) -> None:
    repo = _go_server(wheel, tmp_path)
    pr = repo.open_pull_request({"internal/api/api.go": _handler(repo).replace(
        "an email is required", "an email address is required")})
    run = act.run_act(repo, "pull_request", act.pull_request_event(
        pr, default_branch="master"), sha=pr.merge_sha, folder=tmp_path / "run")
    assert run.returncode == 0, run.explain()
    assert run.result("required") == "success", run.explain()
    tests = run.output("unit-tests")
    assert re.search(r"ok\s+example\.com/gosrv/internal/api", tests), run.explain()
    assert "example.com/gosrv/api/client" not in tests  # its own module: not the root's ./...
    assert run.result("contract-lint") == "success", run.explain()
    assert re.search(r"No results with a severity of 'error' found|0 errors",
                     run.output("contract-lint")), run.explain()


def test_a_failing_test_and_a_broken_contract_turn_it_red(wheel: Path, tmp_path: Path) -> None:
    repo = _go_server(wheel, tmp_path)
    openapi = (repo.path / "api/openapi.yaml").read_text(encoding="utf-8")
    pr = repo.open_pull_request({
        "internal/api/api.go": _handler(repo).replace("strings.ToLower(", "strings.ToUpper("),
        # A response that names a schema the document does not have: Spectral's error.
        "api/openapi.yaml": openapi.replace('"#/components/schemas/User"}\n        "400"',
                                            '"#/components/schemas/Account"}\n        "400"'),
    })
    run = act.run_act(repo, "pull_request", act.pull_request_event(
        pr, default_branch="master"), sha=pr.merge_sha, folder=tmp_path / "run")
    assert run.returncode != 0, run.explain()
    assert run.result("unit-tests") == "failure", run.explain()
    assert re.search(r"FAIL\s+example\.com/gosrv/internal/api", run.output("unit-tests"))
    assert run.result("contract-lint") == "failure", run.explain()
    assert run.result("required") == "failure", run.explain()


def test_a_push_to_master_is_green(wheel: Path, tmp_path: Path) -> None:
    repo = _go_server(wheel, tmp_path)
    pr = repo.open_pull_request({"README.md": "# gosrv\n"})
    before, after = repo.land(pr)
    run = act.run_act(repo, "push", act.push_event(before, after, branch="master",
                                                   commits=repo.pushed(before, after)),
                      sha=after, folder=tmp_path / "run")
    assert run.returncode == 0, run.explain()
    assert run.result("required") == "success", run.explain()
    assert re.search(r"ok\s+example\.com/gosrv/internal/api", run.output("unit-tests"))
