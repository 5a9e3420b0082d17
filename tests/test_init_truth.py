"""`init` reads the truth of repositories shaped like real monorepos (tests/repo_shapes.py):
precision and recall over the facts it reports, at least 90% each per tree, printed so
the numbers can be quoted. Also: the default branch comes from git, never a constant, and
the starter spec writes what it read as spec fields (workspaces and their members, package
managers, lockfiles kept elsewhere, Docker contexts, lint and type check)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import repo_shapes

from harden_ci.errors import SpecError
from harden_ci.init import detect, starter_spec
from harden_ci.init.git import default_branch
from harden_ci.pipeline import load


def _score(name: str, tmp_path: Path) -> repo_shapes.Score:
    shape = repo_shapes.SHAPES[name]
    stack = detect(repo_shapes.build(shape, tmp_path))
    return repo_shapes.score(repo_shapes.truth_facts(shape.truth),
                             repo_shapes.detected_facts(stack))


@pytest.mark.parametrize("name", sorted(repo_shapes.SHAPES))
def test_init_gets_at_least_90_percent_of_the_facts(name: str, tmp_path: Path) -> None:
    result = _score(name, tmp_path)
    print(result.line(name))  # quoted in the note: run with -s to see it
    details = f"wrong {result.wrong}, missed {result.missed}, extra {result.extra}"
    assert len(result.right) >= 8, "a tree with few facts proves little"
    assert result.precision >= 0.9, details
    assert result.recall >= 0.9, details


def test_the_scoring_counts_what_init_gets_wrong() -> None:
    truth = {("service", "a"): True, ("path", "a"): "apps/a", ("version", "a"): "20"}
    said = {("service", "a"): True, ("path", "a"): "apps/b", ("service", "docs"): True}
    result = repo_shapes.score(truth, said)
    assert (len(result.right), len(result.wrong), len(result.missed), len(result.extra)) == (
        1, 1, 1, 1)
    assert (result.precision, result.recall) == (1 / 3, 1 / 3)
    assert repo_shapes.score({}, {}).precision == 0.0  # nothing said is not perfect


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, timeout=60)


def test_default_branch_is_origin_head_else_the_checked_out_branch(tmp_path: Path) -> None:
    assert default_branch(tmp_path) == ("main", None)  # not a repository: assumed, and said
    _git(tmp_path, "init", "-q", "-b", "trunk")
    assert default_branch(tmp_path) == ("trunk", "the checked-out branch")  # no commit yet
    _git(tmp_path, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/master")
    assert default_branch(tmp_path) == ("master", "origin/HEAD")


def test_the_starter_spec_holds_the_facts_and_hints(tmp_path: Path) -> None:
    root = repo_shapes.build(repo_shapes.TURBO, tmp_path)
    text = starter_spec(detect(root), schema="x.json")
    assert 'default_branch: "main"   # from origin/HEAD' in text
    # The workspace root installs once; its members take its toolchain and say where.
    assert ('workspaces:\n  acme:\n    path: "."\n    language: node\n'
            '    version: "20.11.1"      # from .nvmrc\n'
            '    package_manager: pnpm   # from pnpm-lock.yaml\n') in text
    assert '    workspace: acme   # installs once at "."' in text
    assert '    docker: {context: "."}   # it is built from there' in text
    # Prisma in a shared package: its schema drift is checked through a service using it.
    assert "# schema_drift: {service: api, preset: prisma" in text
    assert "#   packages/eslint-config: a config-only package" in text
    (root / "harden-ci.yaml").write_text(text, encoding="utf-8")
    _, spec = load(root / "harden-ci.yaml")
    assert spec.project.shared_paths == ["packages/database", "packages/ui", "pnpm-lock.yaml"]
    assert {n: (s.path, s.version, s.test, s.manager_name, s.workspace, s.docker.context
                if s.docker else None) for n, s in spec.services.items()} == {
        "web": ("apps/web", "20.11.1", "pnpm test", "pnpm", "acme", "."),
        "api": ("apps/api", "20.11.1", "pnpm test", "pnpm", "acme", ".")}


@pytest.mark.parametrize("name", ["gosrv", "kit"])
def test_init_validate_render_in_the_repository(name: str, tmp_path: Path) -> None:
    root = repo_shapes.build(repo_shapes.SHAPES[name], tmp_path)
    for verb in ("init", "validate", "render", "check"):
        result = subprocess.run([sys.executable, "-m", "harden_ci", verb], cwd=root,
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
    _, spec = load(root / "harden-ci.yaml")
    assert spec.project.default_branch == repo_shapes.SHAPES[name].truth["default_branch"]


def test_workflow_lines_with_expressions_or_end_to_end_suites_are_not_taken(
        tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.22\n", encoding="utf-8")
    (tmp_path / ".github/workflows/ci.yml").write_text(
        "jobs:\n  t:\n    steps:\n      - run: go test ${{ matrix.flags }} ./...\n"
        "      - run: pnpm exec playwright test\n"
        "      - run: go test -short ./...\n        working-directory: ${{ env.MODULE }}\n",
        encoding="utf-8")
    (svc,) = detect(tmp_path).services
    assert svc.detected.test is None  # the language default applies
    assert (svc.detected.version, svc.detected.version_file) == ("1.22", "go.mod")


def test_malformed_files_are_read_as_absent_never_a_crash(tmp_path: Path) -> None:
    files = {
        "package.json": "{not json", "pnpm-workspace.yaml": "packages: [unclosed",
        "apps/web/package.json": '["a list, not an object"]', "apps/web/index.js": "x\n",
        "apps/web/.nvmrc": "", "apps/web/yarn.lock": "",
        "svc/pyproject.toml": "[project\nname = ", "svc/.python-version": "system\n",
        "svc/Makefile": "lint:\n\ttrue\n",
        "rs/Cargo.toml": "[package]\nname = \"rs\"\n", "rs/rust-toolchain.toml": "toolchain = 3\n",
        "rs/src/main.rs": "fn main() {}\n",
        ".github/workflows/ci.yml": "jobs: [1, 2\n", ".github/workflows/other.yml": "- just\n- a list\n",
        "docker-compose.yml": "services:\n  a:\n    build: 7\n",
        "Dockerfile.api": "COPY\nADD --from=x a b\nCOPY [\"unterminated\n",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (tmp_path / "svc" / "binary.bin").write_bytes(bytes(range(256)))
    stack = detect(tmp_path)
    got = {s.path: (s.language, s.detected.package_manager, s.detected.version, s.detected.test)
           for s in stack.services}
    assert got == {
        "apps/web": ("node", "yarn", None, None),  # an empty .nvmrc names no version
        "svc": ("python", "pip", None, None),  # `system` is not a version; no test target
        "rs": ("rust", "cargo", None, None),
        ".": (None, None, None, None),  # Dockerfile.api: container-only, built from the root
    }
    assert starter_spec(stack, schema="x.json")  # and the starter spec still writes


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(repo_shapes.SHAPES))
def test_the_starter_for_each_shape_renders_with_zero_validator_findings(
        name: str, tmp_path: Path) -> None:
    import validators

    root = repo_shapes.build(repo_shapes.SHAPES[name], tmp_path)
    for verb in ("init", "render"):
        result = subprocess.run([sys.executable, "-m", "harden_ci", verb], cwd=root,
                                capture_output=True, text=True, timeout=120, check=False)
        assert result.returncode == 0, result.stderr
    # Only harden-ci's files: the shapes' own workflows are the repositories' business.
    ours = [p for p in sorted((root / ".github" / "workflows").glob("*.y*ml"))
            if p.read_text("utf-8").startswith("# Generated by harden-ci")]
    assert ours
    results = validators.all_validators(ours)
    assert all(not findings for findings in results.values()), validators.report(results)


# Each row: files → (language, package manager, yarn variant, version, version file, test).
ECOSYSTEMS = {
    "npm": ({"package.json": '{"name": "a", "scripts": {"start": "node ."}}',
             "package-lock.json": "{}", ".node-version": "20.9.0\n", "index.js": ""},
            ("node", "npm", None, "20.9.0", ".node-version", None)),
    "npm placeholder test": ({"package.json": '{"scripts": {"test": "echo \\"Error: no test '
                                              'specified\\" && exit 1"}}', "index.js": ""},
                             ("node", "npm", None, None, None, None)),
    "bun": ({"package.json": '{"name": "a", "scripts": {"test": "bun test"}}', "bun.lock": "{}",
             "index.ts": ""}, ("node", "bun", None, None, None, "bun run test")),
    "bun binary lock": ({"package.json": '{"name": "a"}', "bun.lockb": "x", "index.ts": ""},
                        ("node", "bun", None, None, None, None)),
    "yarn classic": ({"package.json": '{"name": "a", "engines": {"node": "^18.19"}, '
                                      '"scripts": {"test": "jest"}}',
                      "yarn.lock": "# yarn lockfile v1\n", "index.js": ""},
                     ("node", "yarn", "classic", "18.19", "package.json", "yarn test")),
    "corepack only": ({"package.json": '{"name": "a", "packageManager": "pnpm@9.1.0"}',
                       "index.js": ""}, ("node", "pnpm", None, None, None, None)),
    "node with a Makefile": ({"package.json": '{"name": "a"}', "index.js": "",
                              "Makefile": "test: build\n\tnode --test\n"},
                             ("node", "npm", None, None, None, "make test")),
    "pdm": ({"pyproject.toml": '[project]\nname = "a"\nrequires-python = "~=3.12"\n',
             "pdm.lock": "", "pytest.ini": "[pytest]\n"},
            ("python", "pdm", None, "3.12", "pyproject.toml", "pdm run pytest")),
    "pip": ({"requirements-dev.txt": "pytest\n", "requirements.txt": "flask\n",
             "conftest.py": ""},
            ("python", "pip", None, None, None, "python -m pytest")),
    "poetry without a lock": ({"pyproject.toml": '[tool.poetry]\nname = "a"\n'},
                              ("python", "poetry", None, None, None, None)),
    "gradle": ({"build.gradle.kts": "plugins {}\n"}, ("java", "gradle", None, None, None, None)),
    "maven": ({"pom.xml": "<project/>\n"}, ("java", "maven", None, None, None, None)),
    "rust-toolchain file": ({"Cargo.toml": '[package]\nname = "a"\n', "rust-toolchain": "1.80\n",
                             "src/main.rs": ""}, ("rust", "cargo", None, "1.80", "rust-toolchain",
                                                  None)),
}


@pytest.mark.parametrize("case", sorted(ECOSYSTEMS))
def test_each_ecosystem_is_read_from_its_own_files(case: str, tmp_path: Path) -> None:
    files, expected = ECOSYSTEMS[case]
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    (svc,) = detect(tmp_path).services
    found = svc.detected
    assert (svc.language, found.package_manager, found.variant, found.version,
            found.version_file, found.test) == expected


@pytest.mark.parametrize(("manifest", "text", "members"), [
    ("Cargo.toml", '[workspace]\nmembers = ["crates/*"]\nexclude = ["crates/old"]\n',
     ["crates/api"]),
    ("pyproject.toml", '[tool.uv.workspace]\nmembers = ["apps/*"]\n', ["apps/api"]),
])
def test_cargo_and_uv_workspaces_list_their_members(tmp_path: Path, manifest: str, text: str,
                                                    members: list[str]) -> None:
    (tmp_path / manifest).write_text(text, encoding="utf-8")
    if manifest == "Cargo.toml":
        for crate, main in (("api", "src/main.rs"), ("old", "src/main.rs"), ("core", "src/lib.rs")):
            (tmp_path / "crates" / crate / "src").mkdir(parents=True)
            (tmp_path / "crates" / crate / "Cargo.toml").write_text(
                f'[package]\nname = "{crate}"\n', encoding="utf-8")
            (tmp_path / "crates" / crate / main).write_text("", encoding="utf-8")
        (tmp_path / "Cargo.lock").write_text("version = 3\n", encoding="utf-8")
    else:
        (tmp_path / "apps/api").mkdir(parents=True)
        (tmp_path / "apps/api/pyproject.toml").write_text('[project]\nname = "api"\n',
                                                         encoding="utf-8")
        (tmp_path / "uv.lock").write_text("version = 1\n", encoding="utf-8")
    stack = detect(tmp_path)
    members_found = [s.path for s in stack.services if s.detected.workspace == "."]
    assert members_found == members
    (svc,) = [s for s in stack.services if s.path == members[0]]
    assert svc.detected.lockfile in ("Cargo.lock", "uv.lock")  # found at the workspace root
    assert svc.detected.lockfile in stack.shared_paths


def test_workspace_membership_is_relative_to_its_root() -> None:
    from harden_ci.init.workspaces import Workspace

    nested = Workspace("frontend", "pnpm", ["apps/*", "!apps/legacy"])
    assert nested.has_member("frontend/apps/web")
    assert not nested.has_member("frontend/apps/legacy")
    assert not nested.has_member("apps/web")  # outside the workspace's folder
    assert not nested.has_member("frontend")  # the root lists itself only with `.`
    assert Workspace("go", "go", [".", "tools"]).has_member("go")
    assert Workspace(".", "cargo", ["crates/**"]).has_member("crates/a/b")


def test_what_init_leaves_out_it_says_and_why(tmp_path: Path) -> None:
    root = repo_shapes.build(repo_shapes.LEAVE_OUT, tmp_path)
    left_out = dict(detect(root).left_out)
    assert left_out == {
        ".": "a workspace root",
        "apps/docs/package.json": "under `docs/`",
        "mkdocs-site": "a docs site",
        "packages/eslint-config-kit": "a config-only package",
        "packages/tailwind-preset": "a config-only package",
        "packages/tsconfig": "a config-only package",
        "examples/basic/package.json": "under `examples/`",
        "examples/basic/Dockerfile": "under `examples/`",
        "packages/create-kit/templates/api/package.json": "under `templates/`",
        "packages/create-kit/templates/api/Dockerfile": "under `templates/`",
        "apps/server/test/fixtures/broken/Dockerfile": "under `test/`",
        "apps/server/__fixtures__/app/package.json": "under `__fixtures__/`",
    }  # and .devcontainer/Dockerfile is not even looked at
    result = subprocess.run([sys.executable, "-m", "harden_ci", "init"], cwd=root,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "  left out mkdocs-site: a docs site\n" in result.stdout
    assert ("  server: apps/server, node, yarn (berry), version 18.17 from package.json, "
            "test `yarn test` from apps/server/package.json, apps/server/Dockerfile "
            "(context apps/server)\n") in result.stdout


def test_a_dockerfile_kept_elsewhere_belongs_to_the_service_it_builds(tmp_path: Path) -> None:
    files = {
        "services/api/pyproject.toml": '[project]\nname = "api"\n',
        "services/worker/go.mod": "module w\n\ngo 1.22\n",
        "services/worker/main.go": "package main\n",
        # copies the api's folder, from the repository root
        ".docker/backend/Dockerfile": "FROM python:3.12\nCOPY services/api /app\n",
        # named after the service it builds; `COPY . .` from a folder of Dockerfiles only
        # copies the repository
        "docker/worker.Dockerfile": "FROM golang:1.22\nCOPY . .\n",
        "docker/Dockerfile.dev": "FROM alpine\n",  # a developer image, not a service's
        ".devcontainer/Dockerfile": "FROM alpine\n",
    }
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    got = {s.name: (s.path, s.dockerfile, s.detected.docker_context)
           for s in detect(tmp_path).services}
    assert got == {"api": ("services/api", ".docker/backend/Dockerfile", "."),
                   "worker": ("services/worker", "docker/worker.Dockerfile", ".")}


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    return tmp_path


def test_lint_and_type_check_come_from_the_workflow_before_the_manifest(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "web/package.json": '{"scripts": {"lint": "eslint .", "typecheck": "tsc -p ."}}',
        "web/pnpm-lock.yaml": "lockfileVersion: '9.0'\n",
        ".github/workflows/ci.yml": (
            "jobs:\n  t:\n    defaults:\n      run:\n        working-directory: web\n"
            "    steps:\n      - run: pnpm exec eslint --max-warnings=0 .\n"
            "      - run: pnpm tsc --noEmit --watch\n")})
    (svc,) = detect(root).services
    found = svc.detected
    assert (found.lint, found.lint_source) == ("pnpm exec eslint --max-warnings=0 .",
                                              ".github/workflows/ci.yml")
    # `tsc --watch` never ends: not a CI command, so the script is taken instead.
    assert (found.typecheck, found.typecheck_source) == ("pnpm typecheck", "web/package.json")
    spec = starter_spec(detect(root), schema="x.json")
    assert '    lint: "pnpm exec eslint --max-warnings=0 ."   # from .github/workflows/ci.yml' in spec
    assert '    typecheck: "pnpm typecheck"   # from web/package.json' in spec


def test_ruff_and_mypy_are_taken_only_when_the_install_provides_them(tmp_path: Path) -> None:
    configured_only = ("[project]\nname = \"a\"\n\n[tool.ruff]\nline-length = 99\n\n"
                       "[tool.mypy]\nstrict = true\n")
    root = _tree(tmp_path, {"a/pyproject.toml": configured_only, "a/uv.lock": "version = 1\n",
                            "b/pyproject.toml": configured_only.replace(
                                "name = \"a\"", "name = \"b\"\n\n[dependency-groups]\n"
                                "dev = [\"ruff==0.6.9\", \"mypy>=1\"]"),
                            "b/poetry.lock": "\n"})
    found = {s.path: (s.detected.lint, s.detected.typecheck) for s in detect(root).services}
    assert found == {"a": (None, None),  # configured, never installed: a red first run
                     "b": ("poetry run ruff check .", "poetry run mypy .")}


def test_a_starter_with_lint_and_type_check_validates(tmp_path: Path) -> None:
    root = repo_shapes.build(repo_shapes.SHAPES["fullstack"], tmp_path)
    spec = root / "harden-ci.yaml"
    spec.write_text(starter_spec(detect(root), schema="x.json"), encoding="utf-8")
    backend = load(spec)[1].services["backend"]
    assert (backend.lint, backend.typecheck) == ("uv run ruff check .", "uv run mypy .")


def test_a_rust_toolchain_file_is_written_as_the_version_file(tmp_path: Path) -> None:
    """rustup reads the file with its components; a `version` would install the toolchain
    bare and override the file (no clippy for `cargo clippy`)."""
    files = {"Cargo.toml": '[package]\nname = "a"\n', "src/main.rs": "",
             "rust-toolchain.toml": '[toolchain]\nchannel = "1.95"\ncomponents = ["clippy"]\n'}
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    text = starter_spec(detect(tmp_path), schema="x.json")
    assert '    version_file: "rust-toolchain.toml"   # rustup reads it: 1.95\n' in text
    (tmp_path / "harden-ci.yaml").write_text(text, encoding="utf-8")
    service = load(tmp_path / "harden-ci.yaml")[1].services["a"]
    assert (service.version, service.version_file) == (None, "rust-toolchain.toml")


_SERVICES_WORKFLOW = """\
jobs:
  lint:
    runs-on: ubuntu-latest
    services:
      redis: {image: redis:7}
    steps:
      - run: go vet ./...
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: IMAGE
        env: {POSTGRES_PASSWORD: ci, POSTGRES_DB: app, PGTOKEN: "${{ secrets.PG }}"}
        ports: [5433:5432, "127.0.0.1:6000:6000"]
        volumes: [/data]
        options: >-
          --health-cmd "pg_isready -U postgres" --health-interval 10s
    env: {DATABASE_URL: "postgres://postgres:ci@localhost:5433/app", DEBUG: true}
    steps:
      - run: go test ./...
        env: {TEST_SEED: 7, API_KEY: "${{ secrets.API_KEY }}"}
"""
_DIGEST = "postgres:16@sha256:" + "ab" * 32


@pytest.mark.parametrize("image", ["postgres:16", _DIGEST])
def test_the_test_jobs_containers_are_carried_into_the_starter(image: str,
                                                               tmp_path: Path) -> None:
    (tmp_path / ".github/workflows").mkdir(parents=True)
    (tmp_path / ".github/workflows/ci.yml").write_text(
        _SERVICES_WORKFLOW.replace("IMAGE", image), encoding="utf-8")
    (tmp_path / "go.mod").write_text("module x\n\ngo 1.22\n", encoding="utf-8")
    (tmp_path / "main.go").write_text("package main\n", encoding="utf-8")
    text = starter_spec(detect(tmp_path), schema="x.json")
    # The test job's containers, not the lint job's; what the spec cannot hold is said.
    assert "    # From .github/workflows/ci.yml (job `test`): the containers" in text
    assert "redis" not in text
    for left_out in ("service postgres port 127.0.0.1:6000:6000", "service postgres volumes",
                     "service postgres env PGTOKEN (an expression",
                     "test step env API_KEY (an expression"):
        assert f"    # Left out: {left_out}" in text
    prefix = "    " if image == _DIGEST else "    # "
    block = [f"{prefix}test_environment:", f"{prefix}  services:", f"{prefix}    postgres:",
             f'{prefix}      image: "{image if image == _DIGEST else image + "@sha256:<digest>"}"',
             f'{prefix}      ports: ["5433:5432"]',
             f'{prefix}      env: {{"POSTGRES_PASSWORD": "ci", "POSTGRES_DB": "app"}}',
             f'{prefix}      health: "pg_isready -U postgres"',
             f'{prefix}  env: {{"DATABASE_URL": "postgres://postgres:ci@localhost:5433/app", '
             '"DEBUG": "true", "TEST_SEED": "7"}']
    assert "\n".join(block) + "\n" in text
    (tmp_path / "harden-ci.yaml").write_text(text, encoding="utf-8")
    service = next(iter(load(tmp_path / "harden-ci.yaml")[1].services.values()))
    if image == _DIGEST:  # carried as it is, and valid
        assert service.test_environment is not None
        assert service.test_environment.services["postgres"].ports == ["5433:5432"]
    else:  # commented out until its digest is in: the starter still validates
        assert service.test_environment is None
        assert "docker buildx imagetools inspect postgres:16" in text
        # Uncommented with the digest still to fill in, it is refused, and says how to pin.
        (tmp_path / "harden-ci.yaml").write_text(
            text.replace("\n".join(block), "\n".join(line.replace("# ", "", 1) for line in block)),
            encoding="utf-8")
        with pytest.raises(SpecError) as refused:
            load(tmp_path / "harden-ci.yaml")
        assert refused.value.field == "services.x.test_environment.services.postgres.image"
        assert "docker buildx imagetools inspect" in (refused.value.hint or "")
