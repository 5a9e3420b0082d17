"""The starter spec `harden-ci init` writes: commented YAML built from a detected `Stack`.

Every value detected from the repository is written as a JSON string (a valid YAML
double-quoted scalar), so no file name can add a key or a line. Sections that need facts
init cannot know (a registry, deploy commands, a database image digest) are written as
comments to fill in.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from harden_ci.errors import Location, SpecError
from harden_ci.init.detect import DetectedService, Stack, slug
from harden_ci.init.toolchain import Detected
from harden_ci.model.services import LANGUAGE_DEFAULTS

SCHEMA_FILE = "harden-ci.schema.json"
_LEFT_OUT_SHOWN = 20


def schema_url() -> str:
    """The `$id` of the spec's JSON Schema (what `harden-ci schema` prints)."""
    from harden_ci.model import spec_json_schema

    return str(json.loads(spec_json_schema())["$id"])


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _manager(found: Detected) -> str | None:
    if found.package_manager == "yarn" and found.variant == "berry":
        return "yarn-berry"
    return found.package_manager


def _toolchain(language: str, found: Detected, folder: str) -> list[str]:
    """The version (from its file, or the default), the package manager and a lockfile
    kept outside `folder`, as spec fields: what a service or a workspace root sets."""
    defaults = LANGUAGE_DEFAULTS[language]
    # rustup reads a toolchain file itself, with its components and profile; a `version`
    # would install that toolchain bare and override the file (a `cargo clippy` then finds
    # no clippy), and stay behind when the file moves on.
    lines = [f"    version_file: {_q(found.version_file)}   # rustup reads it: {found.version}"
             if language == "rust" and found.version and found.version_file else
             f"    version: {_q(found.version)}      # from {found.version_file}"
             if found.version and found.version_file else
             f"    version: {_q(defaults.version)}      # the default; quote it"
             if defaults.version else "    # version: the runner's toolchain, or "
             "a rust-toolchain.toml"]
    if manager := _manager(found):
        source = f"   # from {found.lockfile}" if found.lockfile else ""
        lines.append(f"    package_manager: {manager}{source}")
    # pip's "lockfile" is a requirements file: the default install reads the folder's own.
    if (found.lockfile and manager != "pip"
            and os.path.dirname(found.lockfile) != ("" if folder == "." else folder)):
        lines.append(f"    lockfile: {_q(found.lockfile)}")
    return lines


def _checks(found: Detected) -> list[str]:
    return [f"    {kind}: {_q(command)}   # from {source}" for kind, command, source
            in (("lint", found.lint, found.lint_source),
                ("typecheck", found.typecheck, found.typecheck_source)) if command]


def _service(service: DetectedService, workspace: str | None) -> list[str]:
    found = service.detected
    lines = [f"  # found: {', '.join(service.evidence)}" if service.evidence else "",
             f"  {service.name}:", f"    path: {_q(service.path)}"]
    if service.language and workspace is not None:
        # A member takes its workspace's language, manager, version and install.
        lines += [f"    workspace: {workspace}   # installs once at {_q(found.workspace or '.')}",
                  *_checks(found), _test(service.language, found), *_test_environment(found)]
    elif service.language:
        lines += [f"    language: {service.language}",
                  *_toolchain(service.language, found, service.path),
                  "    # install: the package manager's frozen-lockfile install, the default",
                  *_checks(found),
                  _test(service.language, found),
                  *_test_environment(found),
                  "    # shards: 2                # split the unit tests over parallel jobs"]
    else:
        lines.append("    # container-only: built and scanned from its Dockerfile")
    if service.dockerfile:
        lines.append(f"    dockerfile: {_q(service.dockerfile)}")
        if found.docker_context and found.docker_context != service.path:
            lines.append(f"    docker: {{context: {_q(found.docker_context)}}}   # it is "
                         "built from there")
    if service.openapi:
        lines.append(f"    openapi: {_q(service.openapi)}")
    return [line for line in lines if line]


def _test_environment(found: Detected) -> list[str]:
    """The containers the repository's CI runs beside these tests: as they are when every
    image is pinned by digest, else commented out with the digest to fill in (the spec runs
    images only by digest, which init cannot know)."""
    env = found.test_environment
    if env is None:
        return []
    block = ["test_environment:", "  services:"]
    for c in env.containers:
        image = c.image if c.pinned else f"{c.image.split('@')[0]}@sha256:<digest>"
        fields = {"image": image, "ports": c.ports, "env": c.env, "health": c.health}
        block += [f"    {c.name}:", *(f"      {key}: {json.dumps(value, ensure_ascii=False)}"
                                      for key, value in fields.items() if value)]
    if env.env:
        block.append(f"  env: {json.dumps(env.env, ensure_ascii=False)}")
    lines = [f"    # From {env.source} (job `{env.job}`): the containers its tests run beside."]
    lines += [f"    # Left out: {what}." for what in env.left_out]
    if env.pinned:
        return lines + [f"    {line}" for line in block]
    unpinned = ", ".join(sorted({c.image for c in env.containers if not c.pinned}))
    lines += ["    # Images run only pinned by digest: put each one's in place of <digest>",
              f"    # (`docker buildx imagetools inspect {unpinned}`), then uncomment:"]
    return lines + [f"    # {line}" for line in block]


def _test(language: str, found: Detected) -> str:
    return (f"    test: {_q(found.test)}   # from {found.test_source}" if found.test else
            f"    # test: {_q(LANGUAGE_DEFAULTS[language].test)}   # the default; reports "
            "go to $HARDEN_CI_REPORTS_DIR")


def _workspace_names(stack: Stack) -> dict[str, str]:
    """Workspace root → entry name, for roots with a member service of one language."""
    names: dict[str, str] = {}
    for service in stack.services:
        root = service.detected.workspace
        if root is None or service.language is None or root in names:
            continue
        members = [s for s in stack.services if s.detected.workspace == root]
        if len({s.language for s in members}) != 1:
            continue  # a root whose members differ in language is no one toolchain
        base = slug(stack.project if root == "." else os.path.basename(root), "workspace")
        name = base if base not in names.values() else f"{base}-{len(names) + 1}"
        names[root] = name
    return names


def _workspaces(stack: Stack, names: dict[str, str]) -> list[str]:
    if not names:
        return []
    lines = ["# Monorepo roots whose one install serves their member services.", "workspaces:"]
    for root, name in names.items():
        first = next(s for s in stack.services if s.detected.workspace == root)
        assert first.language is not None
        lines += [f"  {name}:", f"    path: {_q(root)}", f"    language: {first.language}",
                  *_toolchain(first.language, first.detected, root)]
    return [*lines, ""]


def _project(stack: Stack) -> list[str]:
    branch = (f"  default_branch: {_q(stack.default_branch)}   # from {stack.branch_source}"
              if stack.branch_source else
              f"  default_branch: {_q(stack.default_branch)}   # git named none: check it")
    lines = ["project:", f"  name: {_q(stack.project)}", branch, "  runner: ubuntu-24.04",
             "  # registry: ghcr.io/OWNER   # set it to push, sign and attest images on the "
             "default branch" if stack.dockerfiles else
             "  # registry: ghcr.io/OWNER   # for services that ship as containers"]
    if stack.shared_paths:
        lines.append("  # Libraries and lockfiles the services share: a change runs them all.")
        lines.append(f"  shared_paths: [{', '.join(_q(p) for p in stack.shared_paths)}]")
    return lines


def _left_out(stack: Stack) -> list[str]:
    if not stack.left_out:
        return []
    shown, more = stack.left_out[:_LEFT_OUT_SHOWN], len(stack.left_out) - _LEFT_OUT_SHOWN
    return (["# Not services (left out):"] + [f"#   {path}: {why}" for path, why in shown]
            + ([f"#   ...and {more} more (`harden-ci init` prints them all)"] if more > 0 else []))


def _empty_repo_service() -> list[str]:
    return [
        "  # Nothing to build was found (no pyproject.toml, package.json, go.mod, pom.xml,",
        "  # Cargo.toml or Dockerfile). Replace this placeholder with your service; until",
        "  # then its test step fails on purpose, so CI never passes vacuously.",
        "  app:",
        '    path: "."',
        "    language: custom",
        '    test: "echo \'harden-ci: no tests configured yet; edit harden-ci.yaml\' >&2; exit 1"',
    ]


def _gates(stack: Stack) -> list[str]:
    lines = ["gates:",
             "  # Scan every change for committed secrets: gitleaks, built from its release",
             "  # commit in the job (no license or secret). `tool: trufflehog` builds trufflehog",
             "  # from its release commit instead.",
             "  secret_scan: {tool: gitleaks}",
             "  # Lint infrastructure code, Dockerfiles and this repository's own workflows.",
             "  iac_lint:"]
    if stack.terraform:
        lines.append(f"    terraform: {_q(stack.terraform)}")
    if stack.kubernetes:
        lines.append(f"    kubernetes: {_q(stack.kubernetes)}")
    if stack.helm:
        lines.append(f"    helm: {_q(stack.helm)}")
    if stack.dockerfiles:
        lines.append("    dockerfiles: true")
    lines += ["    workflows: true",
              "    fail_on: high",
              "  # Dependency review on pull requests, and image scans.",
              "  vulnerabilities: {fail_on: high}"]
    lines += _schema_drift(stack)
    return lines


def _schema_drift(stack: Stack) -> list[str]:
    if not stack.migrations:
        return ["  # Block changes whose models and migrations disagree, e.g.:",
                "  # schema_drift: {service: api, preset: alembic, database: postgres,",
                '  #                database_image: "postgres:17@sha256:<digest>"}']
    m, *others = stack.migrations
    also = [f"  # also found {o.evidence} ({o.preset}); schema_drift checks one service."
            for o in others]
    if m.preset == "django":
        return [f"  # found {m.evidence}: models and migrations must agree (SQLite by default;",
                "  # add `database: postgres` and a `database_image` pinned by digest if needed).",
                f"  schema_drift: {{service: {m.service}, preset: django}}", *also]
    return [f"  # found {m.evidence}: {m.preset} checks need a throwaway database. Pin its image",
            "  # by digest (`docker buildx imagetools inspect postgres:17`), then uncomment:",
            f"  # schema_drift: {{service: {m.service}, preset: {m.preset}, database: postgres,",
            '  #                database_image: "postgres:17@sha256:<digest>"}', *also]


def _contract(stack: Stack) -> list[str]:
    """The repository declares an API: its documents are linted and breaking changes fail
    every pull request (fork PRs and the merge queue too), unless `info.version` takes a
    major bump."""
    found = [s.openapi for s in stack.services if s.openapi]
    if not found:
        return []
    return [f"# found {', '.join(found)}: Spectral lints it, and a breaking change against",
            "# the base fails the pull request unless info.version takes a major bump.",
            "tests:", "  contract: {breaking_changes: fail}", ""]


def starter_spec(stack: Stack, schema: str | None = None) -> str:
    services: list[str] = []
    workspaces = _workspace_names(stack)
    for service in stack.services:
        services += _service(service, workspaces.get(service.detected.workspace or "")
                             if service.detected.workspace is not None else None)
    if not services:
        services = _empty_repo_service()
    lines = [
        f"# yaml-language-server: $schema={schema or schema_url()}",
        "# harden-ci.yaml: the one reviewed file harden-ci renders hardened GitHub Actions",
        "# workflows from. Written by `harden-ci init` from what it found here; review every",
        "# line, then run `harden-ci validate` and `harden-ci render`, and commit this file",
        "# with .github/workflows/. Keys: docs/spec-reference.md, or `harden-ci schema`.",
        f"# Detected: {stack.summary()}.",
        "version: 1",
        "",
        *_project(stack),
        "",
        *_workspaces(stack, workspaces),
        "# One entry per deployable; the name becomes part of job ids.",
        *_left_out(stack),
        "services:",
        *services,
        "",
        *_gates(stack),
        "",
        *_contract(stack),
        "# SBOM, cosign keyless signature and provenance for every pushed image (once",
        "# project.registry is set). slsa: true adds SLSA Build L3 provenance.",
        "supply_chain: {sbom: cyclonedx, sign: keyless, provenance: true}",
        "",
        "# Next, when you have them (see docs/spec-reference.md):",
        "# environments:",
        '#   staging: {deploy: "./deploy.sh staging", url: "https://staging.example.com"}',
        '#   production: {deploy: "./deploy.sh prod", url: "https://example.com", reviewers: true}',
        "# tests: {contract: {breaking_changes: fail}, e2e: {...}, llm: {...}, auth: {...}}",
        "# load: {soak: {environment: staging, duration: 15m, scripts: [load/journeys.js]}}",
        "# delivery: {canary: {environment: production, steps: [5, 25, 100], bake: 10m}}",
    ]
    return "\n".join(lines) + "\n"


def write_spec(path: Path, text: str, *, force: bool) -> None:
    """Write the starter spec atomically; refuse (SpecError, exit 2) to overwrite one."""
    if path.exists() and not force:
        raise SpecError("a spec already exists here; init writes only new specs",
                        location=Location(path.as_posix()),
                        hint="pass --force to overwrite it, or edit it by hand")
    if path.is_dir():
        raise SpecError("the spec path is a directory", location=Location(path.as_posix()))
    folder = path.parent if str(path.parent) else Path(".")
    handle, temp = tempfile.mkstemp(prefix=".harden-ci-init.", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)  # mkstemp's 0600 is for secrets; a spec is reviewed, shared text
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
