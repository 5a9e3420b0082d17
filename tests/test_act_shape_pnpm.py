"""A repository shape from the field, end to end: a pnpm workspace run by turbo.

The shape (tests/fixtures/shapes/pnpmturbo) is a pnpm monorepo: `pnpm-workspace.yaml` with
`apps/*` and `packages/*`, the root package.json pinning `packageManager: pnpm@...` and
running `turbo run test` / `turbo run lint`, a turbo.json, and a pnpm-lock.yaml written by
pnpm itself (the version harden-ci pins in harden_ci/data/package-managers.json) from the
npm registry. Two apps, `apps/api` (a JSON API) and `apps/web` (the storefront pages), each
with a Dockerfile built from the repository root (`docker build -f apps/api/Dockerfile .`,
copying the lockfile and the workspace manifests); `packages/db`, the shared library with
a Prisma schema and its SQL migrations; `packages/tsconfig`, config only; and the project's
own .github/workflows/ci.yml (pnpm/action-setup, setup-node with the pnpm cache,
`pnpm install --frozen-lockfile`, `pnpm turbo run lint test`). The tests are `node --test`.

The Prisma CLI and its engines are not in the fixture: they download their engines from
Prisma's own host, which this machine cannot reach. So `packages/db` holds the schema and
migrations as a real project would, and its code is plain JavaScript (an in-memory store of
the schema's rows) that the api's tests use; nothing in the fixture runs `prisma`.

The spec is init's, with the same changes as tests/test_act_repo_shapes.py: where
harden-ci itself comes from (a wheel built from this checkout), and two jobs turned off
because they reach GitHub itself, which this offline harness cannot stand in for: the
workflow lint builds actionlint from its source repository, and the dependency review asks
GitHub's dependency-graph API. The workspace install (turbo and its platform binary package
`@turbo/linux-64`) comes from the npm registry, as in a real run. The project's own ci.yml
is not run (act runs harden-ci.yml only), so its pnpm/action-setup needs no stub.

Both images are built from the root (`docker: {context: "."}`); a change in one app's
folder still selects only that app (its tests and its image), as a member of the workspace.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import act_harness as act
import pytest
from helpers import build_wheel
from shape_adoption import adopt

SHAPE = Path(__file__).resolve().parent / "fixtures" / "shapes" / "pnpmturbo"
APP = "apps/api/src/app.js"

pytestmark = pytest.mark.slow

# node --test's own summary: TAP (`# pass 3`) or, when it sees a terminal as under act's
# host runner, its spec reporter, which puts an information sign (U+2139) where TAP has `#`;
# a failing test is TAP's `not ok N - name` or the spec reporter's cross (U+2716) and name.
PASS, FAIL = r"(?:#|\u2139) pass {n}\b", r"(?:#|\u2139) fail {n}\b"
NOT_OK = r"(?:not ok \d+ - |\u2716 ){name}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


def _shop(wheel: Path, tmp_path: Path) -> act.FixtureRepo:
    missing = [tool for tool in ("node", "npm", "go") if shutil.which(tool) is None]
    if missing:  # go: the secret scan builds gitleaks from source
        pytest.fail(f"the pnpm shape needs {', '.join(missing)} (scripts/test.sh installs them)")
    repo = act.FixtureRepo(tmp_path / "repo")
    shutil.copytree(SHAPE, repo.path, dirs_exist_ok=True)
    repo.commit("The shop as it was before harden-ci")
    adopt(repo, wheel)
    return repo


def _app(repo: act.FixtureRepo) -> str:
    return (repo.path / APP).read_text(encoding="utf-8")


def _legs(run: act.ActRun, job_id: str) -> list[str]:
    return sorted(str(job.matrix.get("service")) for job in run.jobs if job.job_id == job_id)


def _installs(run: act.ActRun) -> list[str]:
    return [line for line in run.output("unit-tests").splitlines()
            if re.search(r"Running: .*pnpm install", line)]


def test_init_reads_the_workspace_as_it_is(wheel: Path, tmp_path: Path) -> None:
    repo = _shop(wheel, tmp_path)
    spec = (repo.path / "harden-ci.yaml").read_text(encoding="utf-8")
    workspaces = spec.split("\nworkspaces:\n")[1].split("\nservices:\n")[0]
    assert re.search(r'path: "\."\n\s+language: node\n\s+version: "20"\s+# from \.nvmrc\n'
                     r"\s+package_manager: pnpm", workspaces), workspaces
    services = spec.split("\nservices:\n")[1].split("\ngates:\n")[0]
    names = re.findall(r"^  (\w[\w-]*):$", services, re.MULTILINE)
    assert names == ["api", "web"], services  # not packages/db (a library), not tsconfig
    for app in ("api", "web"):
        block = services.split(f"  {app}:\n")[1].split("\n  # found")[0]
        assert f'path: "apps/{app}"' in block
        assert f'test: "pnpm test"   # from apps/{app}/package.json' in block
        assert f'lint: "pnpm lint"   # from apps/{app}/package.json' in block
        assert f'dockerfile: "apps/{app}/Dockerfile"' in block
        assert 'docker: {context: "."}' in block  # built from the repository root
    assert "packages/tsconfig: a config-only package" in spec
    assert '"packages/db"' in spec.split("shared_paths:")[1].split("\n")[0]
    assert "prisma" in spec  # the schema is seen (its drift check needs a database: left off)


def test_an_api_pull_request_is_green_and_tests_and_builds_only_the_api(
        wheel: Path, tmp_path: Path) -> None:
    repo = _shop(wheel, tmp_path)
    pr = repo.open_pull_request({APP: _app(repo).replace(
        "// The shop's JSON API:", "// The shop's JSON API, over HTTP:")})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run")
    assert run.returncode == 0, run.explain()
    assert run.result("required") == "success", run.explain()
    # Affected only: the web app's tests and image are not selected for an api change.
    assert _legs(run, "unit-tests") == ["api"], run.explain()
    assert _legs(run, "images") == ["api"], run.explain()
    tests = run.output("unit-tests")
    installs = _installs(run)
    assert len(installs) == 1 and "--frozen-lockfile" in installs[0], run.explain()
    assert re.search(PASS.format(n=3), tests), run.explain()
    assert re.search(FAIL.format(n=0), tests), run.explain()
    assert "lint: 3 files, 0 problems" in tests, run.explain()
    assert not re.search(PASS.format(n=4), tests) and "an empty shop says so" not in tests
    builds = [rec for rec in run.stub_log if rec["action"] == "docker/build-push-action"]
    assert [(b["inputs"].get("context"), b["inputs"].get("file")) for b in builds] == [
        (".", "apps/api/Dockerfile")], builds


def test_a_pull_request_breaking_an_api_test_is_red(wheel: Path, tmp_path: Path) -> None:
    repo = _shop(wheel, tmp_path)
    pr = repo.open_pull_request({APP: _app(repo).replace('padStart(2, "0")',
                                                         'padStart(1, "0")')})
    run = act.run_act(repo, "pull_request", act.pull_request_event(pr), sha=pr.merge_sha,
                      folder=tmp_path / "run")
    assert run.returncode != 0, run.explain()
    assert run.result("unit-tests") == "failure", run.explain()
    assert run.result("required") == "failure", run.explain()
    tests = run.output("unit-tests")
    assert re.search(NOT_OK.format(name="prices are shown in whole units and cents"),
                     tests), run.explain()
    assert re.search(FAIL.format(n=1), tests), run.explain()


def test_a_push_to_main_is_green_and_tests_every_app(wheel: Path, tmp_path: Path) -> None:
    repo = _shop(wheel, tmp_path)
    pr = repo.open_pull_request({"README.md": _readme(repo) + "\nSee apps/*/README.\n"})
    before, after = repo.land(pr)
    run = act.run_act(repo, "push", act.push_event(before, after,
                                                   commits=repo.pushed(before, after)),
                      sha=after, folder=tmp_path / "run")
    assert run.returncode == 0, run.explain()
    assert run.result("required") == "success", run.explain()
    assert _legs(run, "unit-tests") == ["api", "web"], run.explain()
    tests = run.output("unit-tests")
    assert re.search(PASS.format(n=3), tests), run.explain()  # api
    assert re.search(PASS.format(n=4), tests), run.explain()  # web
    assert not re.search(FAIL.format(n="[1-9]"), tests), run.explain()


def _readme(repo: act.FixtureRepo) -> str:
    return (repo.path / "README.md").read_text(encoding="utf-8")
