"""How each service's toolchain and dependencies are set up, for `explain`: language,
package manager and how it reaches the runner, lockfile, where the install runs, version
(or the file that declares it) and workspace."""

from __future__ import annotations

from dataclasses import dataclass

from harden_ci.model import Spec
from harden_ci.plan.managers import version_of


@dataclass(frozen=True)
class Toolchain:
    service: str
    language: str
    package_manager: str
    installed_by: str
    lockfile: str
    install_dir: str
    version: str
    workspace: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"service": self.service, "language": self.language,
                "package_manager": self.package_manager, "installed_by": self.installed_by,
                "lockfile": self.lockfile, "install_dir": self.install_dir,
                "version": self.version, "workspace": self.workspace}


def _installed_by(manager: str, installer: str) -> str:
    if installer in ("npm", "pip"):
        check = "npm ci, integrity-checked" if installer == "npm" else "pip --require-hashes"
        return f"{version_of(manager)} from harden-ci's lock ({check})"
    if installer == "setup-uv":
        return "astral-sh/setup-uv (pinned)"
    return "the toolchain itself"


def toolchains(spec: Spec) -> list[Toolchain]:
    found = []
    for name, service in spec.services.items():
        manager = service.manager
        if service.language is None:
            continue
        if service.version_file:
            version = f"from {service.version_file}"
        else:
            version = service.toolchain_version or "the runner's"
        found.append(Toolchain(
            service=name, language=service.language,
            package_manager=service.manager_name or "(custom setup)",
            installed_by=_installed_by(service.manager_name or "", manager.installer)
            if manager else "the spec's `setup` command",
            lockfile=service.lockfile_path or "(none)", install_dir=service.install_dir,
            version=version, workspace=service.workspace))
    return found


@dataclass(frozen=True)
class UnitTests:
    """What a service's unit-test job runs and holds, for a security review."""

    service: str
    job: str
    checks: list[str]  # lint, type check, tests: which the job runs, in order
    timeout_minutes: int
    containers: list[str]  # `name: image (runner:container ports)`
    env: list[str]
    vars: list[str]
    secrets: list[str]  # handed to the test step on trusted events only

    def as_dict(self) -> dict[str, object]:
        return {"service": self.service, "job": self.job, "checks": self.checks,
                "timeout_minutes": self.timeout_minutes, "containers": self.containers,
                "env": self.env, "vars": self.vars, "secrets": self.secrets}


def unit_tests(spec: Spec) -> list[UnitTests]:
    found = []
    for name, service in spec.services.items():
        if service.language is None:
            continue
        unit = service.test_environment
        own = unit is not None and unit.needs_own_job
        checks = [label for label, command in (("lint", service.lint),
                                               ("type check", service.typecheck))
                  if command] + ["tests"]
        found.append(UnitTests(
            service=name, job=f"unit-tests-{name}" if own else "unit-tests (shared matrix)",
            checks=checks, timeout_minutes=service.timeout_minutes,
            containers=[f"{c}: {box.image}" + (f" ({', '.join(box.ports)})" if box.ports else "")
                        for c, box in unit.services.items()] if unit else [],
            env=sorted(unit.env) if unit else [], vars=list(unit.vars) if unit else [],
            secrets=list(unit.secrets) if unit else []))
    return found
