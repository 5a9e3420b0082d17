"""Package managers the runner does not ship: installed at exact, hash-checked versions.

pnpm, yarn (classic and berry) and bun are npm packages; poetry and pdm are PyPI packages.
pnpm/action-setup is excluded from the catalog (it runs on Node 20), and corepack checks a
hash only when the repository's `packageManager` field carries one (and is gone from Node
25), so harden-ci ships its own locks instead: a package-lock.json per Node manager (every
tarball with the registry's integrity, checked by `npm ci`) and a hashed requirements file
per Python manager (checked by `pip install --require-hashes`), both built from the
registries by scripts/build_manager_locks.py. The workflows carry only the locks the spec
uses, in the companion `harden-ci/package-managers.py`. uv comes from the pinned
astral-sh/setup-uv instead (it checks the download against its own checksums).
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from harden_ci.plan.context import PlanContext
from harden_ci.plan.model import Companion, Step

COMPANION = "harden-ci/package-managers.py"
COMPANION_IN_REPO = f".github/workflows/{COMPANION}"


@functools.cache
def _locks() -> dict[str, Any]:
    text = resources.files("harden_ci").joinpath("data/package-managers.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def hashed_managers(ctx: PlanContext) -> list[str]:
    """The managers the spec's services install from harden-ci's locks, in name order."""
    return sorted({s.manager_name for s in ctx.spec.services.values()
                   if s.manager is not None and s.manager.installer in ("npm", "pip")
                   and s.manager_name is not None})


def uses_setup_uv(ctx: PlanContext) -> bool:
    return any(s.manager_name == "uv" for s in ctx.spec.services.values())


def companion(ctx: PlanContext) -> Companion | None:
    names = hashed_managers(ctx)
    if not names:
        return None
    return Companion(filename=COMPANION, template="package-managers.py.j2",
                     context={"managers": {name: _reviewable(_locks()[name]) for name in names}})


def _reviewable(entry: dict[str, Any]) -> dict[str, Any]:
    # A requirements file as its lines: one hash per line in the companion's diff.
    if "requirements" in entry:
        return {**entry, "requirements": entry["requirements"].splitlines()}
    return entry


def install_manager_step(manager: str, *, if_: str | None = None) -> Step:
    """The one step that installs a hashed package manager (the lead may switch it to the
    shared hashed-tool mechanism): `manager` is a name or an expression giving one."""
    return Step(name="Install the package manager (exact version, hash-checked)",
                run=f'python3 {COMPANION_IN_REPO} "$PACKAGE_MANAGER"',
                env={"PACKAGE_MANAGER": manager}, if_=if_)


def version_of(manager: str) -> str:
    """The exact version harden-ci installs, for `explain`."""
    entry = _locks().get(manager)
    return f"{entry['package']}@{entry['version']}" if entry else ""
