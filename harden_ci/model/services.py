"""`project:` and `services:`: what the repository is and what it deploys."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from harden_ci.model.base import SpecModel
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

Language = Literal["python", "node", "go", "java", "rust", "dotnet", "ruby", "custom"]


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


# What a service gets when the spec names only its language. Test commands write their
# reports into $HARDEN_CI_REPORTS_DIR, which the job uploads.
LANGUAGE_DEFAULTS: dict[str, LanguageDefaults] = {
    "python": LanguageDefaults(
        version="3.12",
        install="python -m pip install -r requirements.txt",
        test='python -m pytest -q --junitxml="$HARDEN_CI_REPORTS_DIR/junit.xml"',
        lockfiles=("requirements*.txt", "pyproject.toml"),
    ),
    "node": LanguageDefaults(
        version="22", install="npm ci", test="npm test --", lockfiles=("package-lock.json",),
    ),
    "go": LanguageDefaults(
        version="1.24", install="go mod download", test="go test -race", lockfiles=("go.sum",),
    ),
    "java": LanguageDefaults(
        version="21", install="mvn -B -ntp dependency:go-offline", test="mvn -B -ntp verify",
        lockfiles=("pom.xml",),
    ),
    "rust": LanguageDefaults(
        version="stable", install="cargo fetch --locked", test="cargo test --locked",
        lockfiles=("Cargo.lock",),
    ),
    "dotnet": LanguageDefaults(
        version="8.0", install="dotnet restore --locked-mode", test="dotnet test --no-restore",
        lockfiles=("packages.lock.json",),
    ),
    "ruby": LanguageDefaults(
        version="3.3", install="bundle install --jobs 4", test="bundle exec rake test",
        lockfiles=("Gemfile.lock",),
    ),
}


class Service(SpecModel):
    path: RepoPath = "."
    """The service's folder; its jobs run there and changes under it select it."""
    language: Language | None = None
    """Toolchain to set up; leave out for a container-only service (needs `dockerfile`)."""
    version: Text | None = None
    """The toolchain version (quote it: `"3.12"`); each language has a default."""
    setup: Command | None = None
    """For `language: custom`: the command that installs the toolchain."""
    install: Command | None = None
    """Installs dependencies; each language has a default."""
    test: Command | None = None
    """Runs the unit tests; each language has a default. Reports go to $HARDEN_CI_REPORTS_DIR."""
    shards: int = Field(default=1, ge=1, le=64)
    """Split the unit tests over this many parallel jobs."""
    dockerfile: RepoPath | None = None
    """The service's Dockerfile, if it ships as a container."""
    openapi: RepoPath | None = None
    """The service's OpenAPI document, for contract tests."""
    kind: Literal["app", "llm"] = "app"
    """`llm` marks a service whose answers come from a model (LLM checks, shadow traffic)."""
    runner: RunnerLabel | None = None
    """A runner class from `project.runners` (or a plain runner label) for this service."""
    watch: list[RepoPath] = Field(default_factory=list)
    """More paths whose changes select this service (libraries it uses)."""

    @model_validator(mode="after")
    def _needs_something_to_run(self) -> Service:
        if self.language is None and self.dockerfile is None:
            raise ValueError("a service needs a `language`, or a `dockerfile` for a "
                             "container-only service")
        if self.language == "custom" and self.test is None:
            raise ValueError("`language: custom` needs an explicit `test` command "
                             "(and usually `setup` and `install`)")
        if self.language != "custom" and self.setup is not None:
            raise ValueError("`setup` is only for `language: custom`; other languages are "
                             "set up by harden-ci")
        if self.language is None and (self.test or self.install or self.version):
            raise ValueError("`test`, `install` and `version` need a `language`")
        return self

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
    def toolchain_version(self) -> str | None:
        d = self.defaults()
        return self.version or (d.version if d else None)

    @property
    def install_command(self) -> str | None:
        d = self.defaults()
        return self.install or (d.install if d else None)

    @property
    def test_command(self) -> str | None:
        d = self.defaults()
        return self.test or (d.test if d else None)
