"""Steps many stages share: checkout, toolchain setup, artifact upload."""

from __future__ import annotations

from harden_ci.model.services import Service
from harden_ci.plan import managers, selfinstall
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Scalar, Step
from harden_ci.plan.tools import NpmToolset, PipToolset


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


# What each setup action is given to cache dependencies, and to cache nothing. setup-node
# caches npm by itself when package.json's packageManager names npm (src/main.ts:78-86 at
# v7.0.0) unless told not to: harden-ci always chooses explicitly.
_CACHE_ON: dict[str, dict[str, Scalar]] = {
    "python": {"cache": "pip"}, "node": {"cache": "npm", "package-manager-cache": False},
    "go": {"cache": True}, "java": {"cache": "maven"}}
_CACHE_OFF: dict[str, dict[str, Scalar]] = {
    "python": {}, "node": {"package-manager-cache": False}, "go": {"cache": False}, "java": {}}


def cache_inputs(ctx: PlanContext, language: str, lockfiles: str) -> dict[str, Scalar]:
    """The setup action's caching inputs: keyed on the lock files, or none at all when the
    context allows no cache."""
    if ctx.caches_allowed:
        return {**_CACHE_ON[language], "cache-dependency-path": lockfiles}
    return dict(_CACHE_OFF[language])


def _setup_cache(ctx: PlanContext, service: Service, language: str) -> dict[str, Scalar]:
    manager = service.manager
    if not (ctx.caches_allowed and manager and manager.setup_cache):
        return dict(_CACHE_OFF[language])
    value: Scalar = True if language == "go" else manager.setup_cache
    return {**cache_inputs(ctx, language, service.cache_globs), "cache": value}


def setup_uv(ctx: PlanContext, lockfiles: str, *, if_: str | None = None,
             cache: bool = True) -> Step:
    """uv from the pinned astral-sh/setup-uv, its cache keyed on the lockfile (`cache`
    False: a job that publishes, which no cache may reach)."""
    cached = cache and ctx.caches_allowed
    with_: dict[str, Scalar] = {"enable-cache": cached}
    if cached:
        with_["cache-dependency-glob"] = lockfiles
    return action_step(ctx, "Set up uv", "astral-sh/setup-uv", with_, if_=if_)


_SETUP_ACTIONS = {"python": ("Set up Python", "actions/setup-python", "python-version"),
                  "node": ("Set up Node.js", "actions/setup-node", "node-version"),
                  "go": ("Set up Go", "actions/setup-go", "go-version"),
                  "java": ("Set up Java", "actions/setup-java", "java-version")}


def setup_toolchain(ctx: PlanContext, service: Service) -> list[Step]:
    """Install the service's language and package manager, with dependency caching keyed
    on its lockfile (the per-service form of the unit-test job's setup steps)."""
    version = service.toolchain_version or ""
    language = service.language or ""
    if language in _SETUP_ACTIONS:
        name, action, version_input = _SETUP_ACTIONS[language]
        extra: dict[str, Scalar] = {"distribution": "temurin"} if language == "java" else {}
        # The version file, when the spec names one, is read by the setup action itself.
        chosen = ({f"{version_input}-file": service.version_file} if service.version_file
                  else {version_input: version})
        steps = [action_step(ctx, name, action, {
            **extra, **chosen, **_setup_cache(ctx, service, language)})]
    elif language in ("rust", "dotnet", "ruby"):
        steps = [_select_toolchain(service, version)]
    elif language == "custom" and service.setup:
        return [Step(name="Set up the toolchain", run=service.setup,
                     working_directory=service.path)]
    else:
        return []
    return steps + _manager_and_cache(ctx, service)


def _manager_and_cache(ctx: PlanContext, service: Service) -> list[Step]:
    manager = service.manager
    steps: list[Step] = []
    if manager is None:
        return steps
    if manager.installer in ("npm", "pip"):
        steps.append(managers.install_manager_step(service.manager_name or ""))
    elif manager.installer == "setup-uv":
        steps.append(setup_uv(ctx, service.lockfile_path))
    if ctx.caches_allowed and manager.cache_path:
        steps.append(action_step(ctx, "Cache dependencies", "actions/cache", {
            "path": manager.cache_path,
            "key": f"{service.manager_name}-${{{{ runner.os }}}}-"
                   f"${{{{ hashFiles('{service.lockfile_path}') }}}}"}))
    return steps


def _select_toolchain(service: Service, version: str) -> Step:
    """The runner image's own rust, dotnet or ruby, selected by harden-ci's toolchain.sh
    (no setup action is pinned for them)."""
    title = f"Select {service.language} {version}" if version else f"Show the {service.language} toolchain"
    return Step(name=title, run=load_script("toolchain.sh"),
                env={"LANGUAGE": service.language or "", "TOOLCHAIN_VERSION": version,
                     "SETUP_COMMAND": ""}, working_directory=service.path)


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


def pip_install_step(name: str, toolset: PipToolset) -> Step:
    """Install a set of tools by hash from its companion lock into a venv of its own, and
    put only the tools' commands on PATH (never the venv's python or pip). The job must
    have checked out the repository (the lock sits beside the workflows)."""
    return Step(name=name, run=load_script("install-tools.sh"),
                env={"HARDEN_CI_TOOL_LOCK": tool_lock_in_repo(toolset),
                     "HARDEN_CI_TOOL_COMMANDS": " ".join(toolset.commands)})


def npm_install_step(name: str, toolset: NpmToolset) -> Step:
    """Install npm tools with `npm ci --ignore-scripts` from their companion lockfile (every
    package's integrity hash) and put only their commands on PATH."""
    return Step(name=name, run=load_script("install-npm-tools.sh"),
                env={"HARDEN_CI_NPM_LOCK": tool_lock_in_repo(toolset),
                     "HARDEN_CI_TOOL_COMMANDS": " ".join(toolset.commands)})


def tool_lock_in_repo(toolset: PipToolset | NpmToolset) -> str:
    return f".github/workflows/{selfinstall.tool_companion_name(toolset)}"


def install_harden_ci(ctx: PlanContext) -> Step:
    """The runtime gates are harden-ci's own tested code, at the version that rendered,
    installed by hash from the spec's `harden_ci:` source (see selfinstall.py)."""
    return selfinstall.install_step(ctx)


def secret_env(names: list[str]) -> dict[str, str]:
    return {name: f"${{{{ secrets.{name} }}}}" for name in names}


def secrets_environment(ctx: PlanContext, reads_secrets: bool) -> str | None:
    """The environment of a job that deploys nowhere: `project.secrets_environment` when it
    reads a secret of the user's (so the secret can live in that environment and no other
    job reads it), else none. GITHUB_TOKEN does not count: GitHub scopes it to the run."""
    return ctx.spec.project.secrets_environment if reads_secrets else None


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


def go_tool_from_source(ctx: PlanContext, *, label: str, tool: str, version_text: str,
                        repository: str, commit: str, source: str, package: str,
                        module: str | None = None, if_: str | None = None) -> list[Step]:
    """A Go tool built from its release commit and put on PATH: the checkout fixes the
    source, the module's go.sum and `-mod=readonly` fix every dependency by hash, so no
    unchecked binary download is involved. `module` is the folder holding go.mod (the
    source root unless said)."""
    module = module or source
    fields: dict[str, object] = {"if_": if_} if if_ else {}
    return [
        action_step(ctx, f"Check out {label} {version_text.split(' ')[0]} source",
                    "actions/checkout", {"repository": repository, "ref": commit,
                                         "path": source, "persist-credentials": False},
                    **fields),
        # The Go the module asks for in its go.mod, with the module cache keyed on its
        # go.sum (with a release-named default branch there is no cache at all).
        action_step(ctx, f"Set up Go for {label}", "actions/setup-go", {
            "go-version-file": f"{module}/go.mod",
            **cache_inputs(ctx, "go", f"{module}/go.sum")}, **fields),
        Step(name=f"Build {label}", run=load_script("go-build-tool.sh"),
             env={"GO_TOOL": tool, "GO_TOOL_VERSION": version_text,
                  "GO_TOOL_PACKAGE": package, "GOTOOLCHAIN": "local"},
             working_directory=module, **fields),  # type: ignore[arg-type]
    ]
