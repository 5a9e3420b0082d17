"""How generated jobs get harden-ci itself: by hash, from the spec's `harden_ci:` source.

The companion `harden-ci/requirements.txt` holds harden-ci's own line (the committed wheel
with the sha256 read when rendering, or the index's wheel with the spec's sha256) and the
shipped lock of its dependencies; for a git source, the hashed build backend instead of
harden-ci's line, and the job builds the pinned commit. Each job that runs harden-ci
installs that file with `--require-hashes --no-deps --only-binary :all:` into
`$RUNNER_TEMP/harden-ci` and calls the venv's `harden-ci` by absolute path.
"""

from __future__ import annotations

from harden_ci.model import Spec
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.locks import Locked, lock, npm_lock
from harden_ci.plan.model import Companion, Step, Workflow
from harden_ci.plan.tools import NPM_TOOLSETS, PIP_TOOLSETS, NpmToolset, PipToolset

COMPANION = "harden-ci/requirements.txt"
COMPANION_IN_REPO = f".github/workflows/{COMPANION}"
INSTALL_SCRIPT = "install-harden-ci.sh"
BUILD_SCRIPT = "build-harden-ci.sh"
NO_SOURCE_SCRIPT = "no-harden-ci-source.sh"
# No companion without a source: it would hold no line for harden-ci itself.
_INSTALLERS = frozenset({INSTALL_SCRIPT, BUILD_SCRIPT})
# The runtime lock and, for a git source, the build backend (scripts/lock_runtime.py).
RUNTIME_LOCK = "harden-ci.txt"
BUILD_LOCK = "build.txt"


def source_kind(spec: Spec) -> str:
    """`wheel`, `index`, `git`, or `none` (no source: the install step fails closed)."""
    source = spec.harden_ci
    if source is None:
        return "none"
    return "wheel" if source.wheel else "index" if source.index else "git"


def describe_source(spec: Spec) -> str:
    """One line for people (`explain`, the companion's comment): where harden-ci comes from
    and how it is pinned."""
    source = spec.harden_ci
    if source is None:
        return ("no source set (`harden_ci:`): the jobs that need harden-ci stop with an "
                "error, because harden-ci is not on a public index and an unhashed name is "
                "never installed")
    if source.wheel:
        return f"the wheel committed at {source.wheel}, pinned by its sha256"
    if source.index:
        return f"the wheel from {source.index.url}, pinned by sha256 {source.index.sha256}"
    assert source.git is not None
    return (f"built from {source.git.url} at commit {source.git.commit} with the hashed "
            "build backend")


def self_requirement(ctx: PlanContext) -> Locked | None:
    """harden-ci's own line of the companion (None for git, built in the job, and none)."""
    source = ctx.spec.harden_ci
    if source is None or source.git is not None:
        return None
    if source.wheel:
        if ctx.harden_ci_wheel_sha256 is None:
            raise AssertionError("rendering a spec with harden_ci.wheel needs the wheel's "
                                 "sha256 (pipeline.render_spec reads it)")
        # pip reads a local path in a requirements file from the working directory: the
        # workspace root, where the installing step runs.
        return Locked(f"./{source.wheel}", (ctx.harden_ci_wheel_sha256,))
    assert source.index is not None
    return Locked(f"harden-ci=={ctx.version}", (source.index.sha256,))


def requirements(ctx: PlanContext) -> list[Locked]:
    """Every entry of the companion, each with its hashes."""
    own = self_requirement(ctx)
    entries = [own] if own else []
    if source_kind(ctx.spec) == "git":
        entries += lock(BUILD_LOCK)
    names = {e.name for e in entries}
    entries += [e for e in lock(RUNTIME_LOCK) if e.name not in names]
    return entries


def companion(ctx: PlanContext) -> Companion:
    lines = [line for entry in requirements(ctx) for line in entry.lines()]
    return Companion(filename=COMPANION, template="requirements.txt.j2",
                     context={"what": "harden-ci itself: " + describe_source(ctx.spec),
                              "lines": lines})


def tool_companion_name(toolset: PipToolset | NpmToolset) -> str:
    if isinstance(toolset, NpmToolset):
        return f"harden-ci/{toolset.lock_file.removesuffix('.json')}-lock.txt"
    return f"harden-ci/{toolset.lock_file}"


def tool_companions(workflows: list[Workflow]) -> list[Companion]:
    """One hashed lock beside the workflows for each tool set a job installs."""
    # A job names the lock it installs in a step's env (install-tools.sh, python-sbom.sh).
    used = {value for wf in workflows for job in wf.jobs for step in job.steps
            for value in step.env.values()}
    companions = []
    for toolset in PIP_TOOLSETS.values():
        filename = tool_companion_name(toolset)
        if f".github/workflows/{filename}" not in used:
            continue
        lines = [line for entry in lock(toolset.lock_file) for line in entry.lines()]
        companions.append(Companion(filename=filename, template="requirements.txt.j2", context={
            "what": f"{', '.join(toolset.requirements)} (harden_ci/plan/tools.py)",
            "lines": lines}))
    for npm in NPM_TOOLSETS.values():
        filename = tool_companion_name(npm)
        if f".github/workflows/{filename}" in used:
            what = ", ".join(f"{name}@{version}" for name, version in npm.dependencies.items())
            companions.append(Companion(filename=filename, template="npm-lock.txt.j2",
                                        context={"what": what, "lock": npm_lock(npm)}))
    return companions


def install_step(ctx: PlanContext) -> Step:
    """Install harden-ci by hash (the job must have checked out the repository first)."""
    name = "Install harden-ci by hash (runtime gates)"
    source = ctx.spec.harden_ci
    if source is None:
        return Step(name=name, run=load_script(NO_SOURCE_SCRIPT))
    env = {"HARDEN_CI_REQUIREMENTS": COMPANION_IN_REPO}
    if source.git is not None:
        env |= {"HARDEN_CI_GIT_URL": source.git.url, "HARDEN_CI_GIT_COMMIT": source.git.commit}
        return Step(name=name, run=load_script(BUILD_SCRIPT), env=env)
    if source.index is not None:
        env["HARDEN_CI_INDEX_URL"] = source.index.url
    return Step(name=name, run=load_script(INSTALL_SCRIPT), env=env)


def installs_harden_ci(workflows: list[Workflow]) -> bool:
    return any(step.run is not None and not isinstance(step.run, str)
               and step.run.name in _INSTALLERS
               for wf in workflows for job in wf.jobs for step in job.steps)
