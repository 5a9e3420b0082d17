"""`project:` and `services:`: what the repository is and what it deploys."""

from __future__ import annotations

import posixpath
import shlex
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.docker import DockerBuild
from harden_ci.model.managers import (
    DEFAULT_MANAGER,
    MANAGERS,
    Manager,
    PackageManager,
    manager_for_lockfile,
)
from harden_ci.model.release import Release
from harden_ci.model.runners import label_list_problem
from harden_ci.model.types import (
    Branch,
    Command,
    Name,
    Registry,
    RepoPath,
    RunnerLabel,
    Text,
)
from harden_ci.model.unit_env import UnitEnvironment

Language = Literal["python", "node", "go", "java", "rust", "dotnet", "ruby", "custom"]
# The stages whose job timeout `project.timeouts` sets (plan/workflows.py applies them).
StageJob = Literal["secret-scan", "iac-lint", "schema-drift", "contract", "images", "publish",
                   "e2e", "auth-e2e", "llm-checks", "soak", "deploy-preview",
                   "deploy-staging", "dependency-review", "drift-guard"]


class Project(SpecModel):
    name: Text
    """The product's name, shown in workflow names and reports."""
    default_branch: Branch = "main"
    """Pushes here run everything; pull requests against it run the checks."""
    registry: Registry | None = None
    """Where images are pushed, e.g. `ghcr.io/acme`."""
    runner: RunnerLabel = "ubuntu-24.04"
    """The runner label jobs use unless a service picks another (the `default` class)."""
    runners: dict[Name, RunnerLabel | Annotated[list[RunnerLabel], Field(min_length=1)]] = Field(
        default_factory=dict)
    """Runner classes by name: a GitHub-hosted or larger-runner label, or a list of
    self-hosted labels (a runner scale set). Services pick one with `runner:`. Labels
    GitHub does not define are written to `harden-ci/actionlint.yaml` for the workflow
    audit."""
    shared_paths: list[RepoPath] = Field(default_factory=list)
    """Paths every service depends on: a change here runs all services' jobs."""
    code_scanning: bool = True
    """Upload SARIF findings to GitHub code scanning (needs it enabled on the repository)."""
    timeouts: dict[StageJob, Annotated[int, Field(ge=1, le=360)]] = Field(default_factory=dict)
    """The longest each stage's job may run, in minutes, where the default does not fit:
    `secret-scan` (15), `iac-lint` (each `iac-*` job, 15), `schema-drift` (20), `contract`
    (the CI lint job and the preview's fuzzing, 20 each), `images` (30), `publish` (45),
    `e2e` (30), `auth-e2e` (20), `llm-checks` (60), `soak` (35), `deploy-preview` and
    `deploy-staging` (30), `dependency-review` (10), `drift-guard` (10). Unit tests take
    each service's `timeout_minutes`; the canary's follows its bake."""
    secrets_environment: Name = "ci"
    """The GitHub environment every job that reads the spec's secrets but deploys nowhere
    references: the unit tests with `test_environment.secrets`, the LLM evals with
    `tests.llm.secrets`, image publishing with `docker.secrets`, publishing and signing
    with a registry login (a registry other than `ghcr.io/...`), schedules with `secrets`
    and no `environment`, and the nightly re-analysis with a metrics `token_secret`. Store
    those secrets in this environment (Settings > Environments) and only these jobs can
    read them; a name it does not hold falls back to the repository's secret of that name.
    GitHub creates the environment on the first run if it does not exist. Give it no
    required reviewers, wait timer or branch restriction: these jobs run on pull requests
    and in the merge queue, which an environment without protection rules never holds up.
    A fork's pull request still gets no secret from it. Jobs that deploy keep their own
    environment, so this may not name one of `environments`."""
    release: Release = Field(default_factory=Release)
    """What starts the release workflow (default-branch pushes, or tags), which always
    waits for the same commit's checks to pass before publishing."""

    def class_labels(self, name: str) -> list[str]:
        """The labels of runner class `name` (one label, or a self-hosted label list)."""
        labels = self.runners[name]
        return list(labels) if isinstance(labels, list) else [labels]

    @field_validator("runners", mode="before")
    @classmethod
    def _no_empty_class(cls, runners: object) -> object:
        # Before type checks, so the message is this one rather than one per union member.
        for name, labels in (runners.items() if isinstance(runners, dict) else ()):
            if labels == []:
                raise ValueError(f"runner class `{name}` lists no labels: give one label, or "
                                 "a list of a self-hosted runner's labels")
        return runners

    @field_validator("runners")
    @classmethod
    def _one_runner_per_class(cls, runners: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for name, labels in runners.items():
            problem = label_list_problem(labels) if isinstance(labels, list) else None
            if problem:
                raise ValueError(f"runner class `{name}`: {problem}")
        return runners


class LanguageDefaults(SpecModel):
    version: str
    install: str
    test: str
    lockfiles: tuple[str, ...]


# Rust's "" is the runner's toolchain as it is: `rustup toolchain install stable` would
# need the network to update it, and a rust-toolchain file is read by rustup anyway.
_DEFAULT_VERSION = {"python": "3.12", "node": "22", "go": "1.24", "java": "21",
                    "rust": "", "dotnet": "8.0", "ruby": "3.3"}
# The files each setup action's `*-version-file` input reads (rustup's own, for rust).
_VERSION_FILES: dict[str, tuple[str, ...]] = {
    "node": (".nvmrc", ".node-version", "package.json", ".tool-versions"),
    "python": (".python-version", "pyproject.toml", ".tool-versions"),
    "go": ("go.mod", "go.work", ".go-version", ".tool-versions"),
    "java": (".java-version", ".tool-versions", ".sdkmanrc"),
    "rust": ("rust-toolchain.toml", "rust-toolchain"),
}


def _language_defaults(language: str) -> LanguageDefaults:
    manager = MANAGERS[DEFAULT_MANAGER[language]]
    return LanguageDefaults(version=_DEFAULT_VERSION[language], install=manager.install,
                            test=manager.test,
                            lockfiles=manager.lockfile_globs or (manager.lockfile,))


# What a service gets when the spec names only its language (its usual package manager's
# commands). Test commands write their reports into $HARDEN_CI_REPORTS_DIR, which the job
# uploads.
LANGUAGE_DEFAULTS: dict[str, LanguageDefaults] = {
    language: _language_defaults(language) for language in DEFAULT_MANAGER}


class Service(SpecModel):
    path: RepoPath = "."
    """The service's folder; its jobs run there and changes under it select it."""
    language: Language | None = None
    """Toolchain to set up; leave out for a container-only service (needs `dockerfile`)."""
    version: Text | None = None
    """The toolchain version (quote it: `"3.12"`); each language has a default (Rust's is
    the runner's own toolchain). Leave it out when `version_file` names one."""
    version_file: RepoPath | None = None
    """The file that declares the toolchain version, from the repository root, handed to
    the setup action's `*-version-file` input: `.nvmrc`, `.node-version` or `package.json`
    (node), `.python-version` or `pyproject.toml` (python), `go.mod` or `go.work` (go),
    `.java-version` or `.tool-versions` (java); for rust a `rust-toolchain.toml` or
    `rust-toolchain` in the service's folder or above it, which rustup honours itself."""
    setup: Command | None = None
    """For `language: custom`: the command that installs the toolchain."""
    package_manager: PackageManager | None = None
    """How dependencies are installed, tested and cached: `npm`, `pnpm`, `yarn` (classic),
    `yarn-berry`, `bun`; `pip`, `uv`, `poetry`, `pdm`; `go`; `cargo`; `maven`, `gradle`;
    `dotnet`; `bundler`. Left out, it is read from the name of `lockfile`, else it is the
    language's usual one (npm, pip, go, cargo, maven, dotnet, bundler). Installs are frozen
    to the lockfile (`npm ci`, `pnpm install --frozen-lockfile`, `uv sync --locked`...);
    pnpm, yarn, bun, poetry and pdm themselves are installed at exact, hash-checked
    versions, uv by the pinned astral-sh/setup-uv."""
    lockfile: RepoPath | None = None
    """The lockfile where it really is, from the repository root (a workspace root's
    `pnpm-lock.yaml`, say). The install runs in its folder and caches are keyed on it.
    Default: the package manager's lockfile in the service's folder."""
    install: Command | None = None
    """Installs dependencies; each package manager has a default (frozen to the lockfile)."""
    test: Command | None = None
    """Runs the unit tests; each package manager has a default (`go test -race ./...`,
    `pnpm test`, `uv run --locked pytest`...). Reports go to $HARDEN_CI_REPORTS_DIR."""
    lint: Command | None = None
    """Runs the linters in the service's folder, after the install and before the tests,
    in the unit-test job (`ruff check .`, `pnpm lint`, `golangci-lint run`)."""
    typecheck: Command | None = None
    """Runs the type checker, after `lint` and before the tests (`mypy src`, `tsc
    --noEmit`)."""
    timeout_minutes: int = Field(default=30, ge=1, le=360)
    """The longest one unit-test job of this service (one shard: install, lint, type
    check and tests) may run."""
    test_environment: UnitEnvironment | None = None
    """What the lint, type check and tests need around them: containers (`services`),
    `env`, `vars` and `secrets`. Such a service gets a unit-test job of its own."""
    shards: int = Field(default=1, ge=1, le=64)
    """Split the unit tests over this many parallel jobs."""
    dockerfile: RepoPath | None = None
    """The service's Dockerfile, if it ships as a container."""
    docker: DockerBuild | None = None
    """How the image is built: context, target, build args and secrets, platforms, name."""
    openapi: RepoPath | None = None
    """The service's OpenAPI document, for contract tests."""
    kind: Literal["app", "llm"] = "app"
    """`llm` marks a service whose answers come from a model (LLM checks, shadow traffic)."""
    runner: RunnerLabel | None = None
    """A runner class from `project.runners` (or a plain runner label) for this service."""
    watch: list[RepoPath] = Field(default_factory=list)
    """More paths whose changes select this service (libraries it uses)."""
    workspace: Name | None = None
    """The entry of `workspaces:` this service is a member of: it takes the workspace's
    language, package manager, lockfile, version and install (run once, at the lockfile's
    folder), and its own `test` runs in its own folder. A change to the workspace's
    lockfile or root manifests runs every member."""

    @model_validator(mode="after")
    def _needs_something_to_run(self) -> Service:
        if self.language is None and self.workspace is not None:
            raise ValueError(f"`workspace: {self.workspace}` gives this service no "
                             "language: no valid entry of `workspaces:` has that name")
        if self.language is None and self.dockerfile is None:
            raise ValueError("a service needs a `language`, or a `dockerfile` for a "
                             "container-only service")
        if self.language == "custom" and self.test is None:
            raise ValueError("`language: custom` needs an explicit `test` command "
                             "(and usually `setup` and `install`)")
        if self.language != "custom" and self.setup is not None:
            raise ValueError("`setup` is only for `language: custom`; other languages are "
                             "set up by harden-ci")
        if self.docker is not None and self.dockerfile is None:
            raise ValueError("`docker` settings need the service's `dockerfile`")
        if self.language is None and (self.test or self.install or self.version or self.lint
                                      or self.typecheck or self.test_environment):
            raise ValueError("`test`, `install`, `version`, `lint`, `typecheck` and "
                             "`test_environment` need a `language`")
        self._check_manager()
        self._check_version_file()
        return self

    def _check_version_file(self) -> None:
        if self.version_file is None:
            return
        if self.version is not None:
            raise ValueError("give `version` or `version_file`, not both")
        name = posixpath.basename(self.version_file)
        allowed = _VERSION_FILES.get(self.language or "")
        if allowed is None:
            raise ValueError(f"`version_file` is for node, python, go, java and rust; "
                             f"{self.language or 'a container-only service'} takes `version`")
        if name not in allowed:
            raise ValueError(f"`version_file: {self.version_file}` is not a {self.language} "
                             f"version file ({', '.join(allowed)})")
        folder = posixpath.dirname(self.version_file) or "."
        if self.language == "rust" and not (folder == "." or self.path == folder
                                            or self.path.startswith(folder + "/")):
            raise ValueError("rustup reads the toolchain file from the service's folder or "
                             f"above it, and `{self.version_file}` is not there")

    def _check_manager(self) -> None:
        if self.language in (None, "custom") and (self.package_manager or self.lockfile):
            raise ValueError("`package_manager` and `lockfile` need a `language` other "
                             "than `custom`")
        manager = self.manager
        if manager is not None and self.package_manager and \
                manager.language != self.language:
            raise ValueError(f"`package_manager: {self.package_manager}` is a "
                             f"{manager.language} package manager, not {self.language}")
        from_lockfile = manager_for_lockfile(self.lockfile or "")
        if self.package_manager and from_lockfile and \
                from_lockfile.removesuffix("-berry") != self.package_manager.removesuffix("-berry"):
            raise ValueError(f"`lockfile: {self.lockfile}` is {from_lockfile}'s lockfile, "
                             f"not {self.package_manager}'s")
        if self.package_manager is None and from_lockfile and \
                MANAGERS[from_lockfile].language != self.language:
            raise ValueError(f"`lockfile: {self.lockfile}` is {from_lockfile}'s lockfile, "
                             f"which does not install {self.language}")

    def runner_labels(self, project: Project) -> list[str]:
        """The `runs-on` labels of this service's jobs."""
        chosen = self.runner or "default"
        if chosen in project.runners:
            return project.class_labels(chosen)
        if chosen == "default":
            return [project.runner]
        return [chosen]

    def defaults(self) -> LanguageDefaults | None:
        return LANGUAGE_DEFAULTS.get(self.language or "")

    @property
    def manager_name(self) -> str | None:
        """The package manager: as written, else read from the lockfile, else the
        language's usual one."""
        if self.language is None or self.language == "custom":
            return None
        return (self.package_manager or manager_for_lockfile(self.lockfile or "")
                or DEFAULT_MANAGER.get(self.language))

    @property
    def manager(self) -> Manager | None:
        name = self.manager_name
        return MANAGERS[name] if name else None

    @property
    def lockfile_path(self) -> str:
        """The lockfile from the repository root ("" without a package manager)."""
        manager = self.manager
        if self.lockfile or manager is None:
            return self.lockfile or ""
        return _in(self.path, manager.lockfile)

    @property
    def cache_globs(self) -> str:
        """What a cache key hashes: the lockfile (or the manager's usual files)."""
        manager = self.manager
        if manager is None:
            return ""
        if self.lockfile is None and manager.lockfile_globs:
            return "\n".join(_in(self.path, glob) for glob in manager.lockfile_globs)
        return self.lockfile_path

    @property
    def install_dir(self) -> str:
        """Where the install runs: the lockfile's folder (a workspace root), else the
        service's folder. pip reads its requirements file from the service's folder."""
        if self.lockfile is None or self.manager_name == "pip":
            return self.path
        return posixpath.dirname(self.lockfile) or "."

    @property
    def toolchain_version(self) -> str | None:
        """The explicit version, else the language's default; None when a version file
        declares it (or the language has none)."""
        d = self.defaults()
        if self.version or self.version_file:
            return self.version
        return (d.version or None) if d else None

    @property
    def install_command(self) -> str | None:
        manager = self.manager
        if self.install or manager is None:
            return self.install
        if self.manager_name == "pip" and self.lockfile:
            requirements = posixpath.relpath(self.lockfile, self.path)
            return f"python -m pip install -r {shlex.quote(requirements)}"
        return manager.install

    @property
    def test_command(self) -> str | None:
        manager = self.manager
        return self.test or (manager.test if manager else None)


def _in(path: str, name: str) -> str:
    return name if path == "." else f"{path}/{name}"
