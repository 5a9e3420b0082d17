"""Steps many stages share: checkout, toolchain setup, artifact upload."""

from __future__ import annotations

from harden_ci.model.services import Service
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Scalar, Step


def action_step(ctx: PlanContext, name: str, action: str, with_: dict[str, Scalar] | None = None,
                **fields: object) -> Step:
    """A step using a pinned action; `with:` keys are checked against its action.yml."""
    with_ = dict(with_ or {})
    problems = ctx.pins.check_with(action, with_)
    if problems:
        raise AssertionError(f"{action}: " + "; ".join(problems))
    return Step(name=name, uses=ctx.pins.uses(action), with_=with_, **fields)  # type: ignore[arg-type]


def checkout(ctx: PlanContext, *, full_history: bool = False) -> Step:
    # Credentials are never left in .git/config for later steps to find.
    with_: dict[str, Scalar] = {"persist-credentials": False}
    if full_history:
        with_["fetch-depth"] = 0
    return action_step(ctx, "Check out the repository", "actions/checkout", with_)


def _lockfile_globs(service: Service) -> str:
    defaults = service.defaults()
    if defaults is None:
        return ""
    prefix = "" if service.path == "." else f"{service.path}/"
    return "\n".join(f"{prefix}{pattern}" for pattern in defaults.lockfiles)


# What each setup action is given to cache dependencies, and to cache nothing (setup-node
# caches by itself when package.json names npm, unless told not to).
_CACHE_ON: dict[str, dict[str, Scalar]] = {
    "python": {"cache": "pip"}, "node": {"cache": "npm"}, "go": {"cache": True},
    "java": {"cache": "maven"}}
_CACHE_OFF: dict[str, dict[str, Scalar]] = {
    "python": {}, "node": {"package-manager-cache": False}, "go": {"cache": False}, "java": {}}


def cache_inputs(ctx: PlanContext, language: str, lockfiles: str) -> dict[str, Scalar]:
    """The setup action's caching inputs: keyed on the lock files, or none at all when the
    context allows no cache."""
    if ctx.caches_allowed:
        return {**_CACHE_ON[language], "cache-dependency-path": lockfiles}
    return dict(_CACHE_OFF[language])


def setup_toolchain(ctx: PlanContext, service: Service) -> list[Step]:
    """Install the service's language with dependency caching keyed on its lock files."""
    version = service.toolchain_version or ""
    lockfiles = _lockfile_globs(service)
    language = service.language
    if language == "python":
        return [action_step(ctx, "Set up Python", "actions/setup-python", {
            "python-version": version, **cache_inputs(ctx, language, lockfiles)})]
    if language == "node":
        return [action_step(ctx, "Set up Node.js", "actions/setup-node", {
            "node-version": version, **cache_inputs(ctx, language, lockfiles)})]
    if language == "go":
        return [action_step(ctx, "Set up Go", "actions/setup-go", {
            "go-version": version, **cache_inputs(ctx, language, lockfiles)})]
    if language == "java":
        return [action_step(ctx, "Set up Java", "actions/setup-java", {
            "distribution": "temurin", "java-version": version,
            **cache_inputs(ctx, language, lockfiles)})]
    if language in ("rust", "dotnet", "ruby"):
        # The hosted runner images ship these toolchains; harden-ci pins no setup action
        # for them, so the version is selected with the image's own tools and the
        # dependency folders are cached with actions/cache.
        return _preinstalled_toolchain(ctx, service, version, lockfiles)
    if language == "custom" and service.setup:
        return [Step(name="Set up the toolchain", run=service.setup,
                     working_directory=service.path)]
    return []


_CACHE_PATHS = {
    "rust": "~/.cargo/registry\n~/.cargo/git",
    "dotnet": "~/.nuget/packages",
    "ruby": "vendor/bundle",
}
_SELECT_VERSION = {
    "rust": 'rustup toolchain install "$TOOLCHAIN_VERSION" --profile minimal && '
            'rustup override set "$TOOLCHAIN_VERSION"',
    "dotnet": 'dotnet --list-sdks | grep -q "^$TOOLCHAIN_VERSION" || '
              '{ echo "::error::.NET SDK $TOOLCHAIN_VERSION is not on this runner"; exit 1; }',
    "ruby": 'ruby --version | grep -q "ruby $TOOLCHAIN_VERSION" || '
            '{ echo "::error::Ruby $TOOLCHAIN_VERSION is not on this runner"; exit 1; }',
}


def _preinstalled_toolchain(ctx: PlanContext, service: Service, version: str,
                            lockfiles: str) -> list[Step]:
    language = service.language or ""
    select = Step(name=f"Select {language} {version}", run=_SELECT_VERSION[language],
                  env={"TOOLCHAIN_VERSION": version}, working_directory=service.path)
    if not ctx.caches_allowed:
        return [select]
    return [select, action_step(ctx, "Cache dependencies", "actions/cache", {
        "path": _CACHE_PATHS[language],
        "key": f"{language}-${{{{ runner.os }}}}-${{{{ hashFiles('{lockfiles.splitlines()[0]}') }}}}",
    })]


def upload_artifact(ctx: PlanContext, name: str, path: str, *, always: bool = True) -> Step:
    return action_step(
        ctx, f"Upload {name}", "actions/upload-artifact",
        {"name": name, "path": path, "if-no-files-found": "ignore", "retention-days": 14},
        if_="${{ !cancelled() }}" if always else None,
    )


# Code scanning uploads are skipped for pull requests from forks, whose token cannot
# write security events.
SAME_REPO_OR_NOT_PR = ("github.event_name != 'pull_request' || "
                       "github.event.pull_request.head.repo.full_name == github.repository")


def upload_sarif(ctx: PlanContext, sarif_file: str, category: str) -> Step:
    return action_step(
        ctx, f"Upload {category} findings to code scanning", "github/codeql-action/upload-sarif",
        {"sarif_file": sarif_file, "category": category},
        if_=f"${{{{ !cancelled() && hashFiles('{sarif_file}') != '' && ({SAME_REPO_OR_NOT_PR}) }}}}",
    )


def pip_install_step(name: str, *requirements: str) -> Step:
    """Install exact tool versions into a throwaway venv on PATH (never unpinned)."""
    return Step(name=name, run=load_script("install-tools.sh"),
                env={"REQUIREMENTS": " ".join(requirements)})


def install_harden_ci(ctx: PlanContext) -> Step:
    """The runtime gates are harden-ci's own tested code, at the version that rendered."""
    return pip_install_step("Install harden-ci (runtime gates)", ctx.harden_ci_package)


def secret_env(names: list[str]) -> dict[str, str]:
    return {name: f"${{{{ secrets.{name} }}}}" for name in names}


def var_env(names: list[str]) -> dict[str, str]:
    return {name: f"${{{{ vars.{name} }}}}" for name in names}


PR_NUMBER = "${{ github.event.pull_request.number }}"


def environment_url(url: str | None) -> str | None:
    """The URL with `{number}` bound to the pull request (the only placeholder allowed)."""
    return url.replace("{number}", PR_NUMBER) if url else None


def run_command(name: str, command: str, *, env: dict[str, str] | None = None,
                working_directory: str | None = None, id: str | None = None) -> Step:
    """A command from the spec, passed through env and run as written."""
    return Step(name=name, id=id, run=load_script("run-command.sh"),
                env={"COMMAND": command, **(env or {})}, working_directory=working_directory)


def runs_on(labels: list[str]) -> str | list[str]:
    """`runs-on:` for a runner's labels: one label as a string, several as a list."""
    return labels[0] if len(labels) == 1 else labels
