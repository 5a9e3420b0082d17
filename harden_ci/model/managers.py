"""Package managers: how each one installs (frozen to its lockfile), tests and caches.

A service names its manager with `package_manager:`, or harden-ci infers it from the
`lockfile:` the spec gives (`pnpm-lock.yaml` is pnpm), or takes the language's usual one
(npm for node, pip for python). Nothing here reads the repository: the spec is the truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

PackageManager = Literal["npm", "pnpm", "yarn", "yarn-berry", "bun", "pip", "uv", "poetry",
                         "pdm", "go", "cargo", "maven", "gradle", "dotnet", "bundler"]

# How the manager itself reaches the runner: `runner` ships with the toolchain, `npm` and
# `pip` are exact versions installed from harden-ci's hashed locks
# (harden_ci/data/package-managers.json), `setup-uv` is the pinned astral-sh/setup-uv.
Installer = Literal["runner", "npm", "pip", "setup-uv"]

PYTEST = 'pytest -q --junitxml="$HARDEN_CI_REPORTS_DIR/junit.xml"'


@dataclass(frozen=True)
class Manager:
    language: str
    lockfile: str
    """The lockfile's usual name, in the folder the install runs in."""
    install: str
    """The frozen-lockfile install: it fails when the lockfile is stale or missing."""
    test: str
    installer: Installer = "runner"
    setup_cache: str = ""
    """The setup action's `cache:` value for this manager, or "" where that action cannot
    cache it at the moment it runs (the manager is installed only after it)."""
    cache_path: str = ""
    """What actions/cache keeps, for managers the setup action does not cache."""
    lockfile_globs: tuple[str, ...] = ()
    """What the cache key hashes, when that is more than the lockfile."""


MANAGERS: dict[str, Manager] = {
    # actions/setup-node `cache: npm` globs package-lock.json, npm-shrinkwrap.json and
    # yarn.lock (src/cache-utils.ts:21-29 at v7.0.0) and runs `npm config get cache`: npm
    # comes with node, so only npm may use it. `cache: pnpm` runs `pnpm store path` and
    # `cache: yarn` runs `yarn --version` (src/cache-utils.ts:30-62): both fail when the
    # manager is not on PATH yet, and here it is installed after setup-node.
    "npm": Manager("node", "package-lock.json", "npm ci", "npm test --", setup_cache="npm"),
    "pnpm": Manager("node", "pnpm-lock.yaml", "pnpm install --frozen-lockfile", "pnpm test",
                    installer="npm", cache_path="~/.local/share/pnpm/store"),
    "yarn": Manager("node", "yarn.lock", "yarn install --frozen-lockfile", "yarn test",
                    installer="npm", cache_path="~/.cache/yarn"),
    "yarn-berry": Manager("node", "yarn.lock", "yarn install --immutable", "yarn test",
                          installer="npm", cache_path="~/.yarn/berry/cache"),
    "bun": Manager("node", "bun.lock", "bun install --frozen-lockfile", "bun run test",
                   installer="npm", cache_path="~/.bun/install/cache"),
    "pip": Manager("python", "requirements.txt", "python -m pip install -r requirements.txt",
                   f"python -m {PYTEST}", setup_cache="pip",
                   lockfile_globs=("requirements*.txt", "pyproject.toml")),
    # `uv sync --locked` fails when uv.lock does not match pyproject.toml; `uv run --locked`
    # checks the same before running the tests in the project's environment.
    "uv": Manager("python", "uv.lock", "uv sync --locked", f"uv run --locked {PYTEST}",
                  installer="setup-uv"),
    # Poetry 2: `poetry sync` installs exactly the lockfile (removing extras) and fails when
    # poetry.lock is out of date with pyproject.toml.
    "poetry": Manager("python", "poetry.lock", "poetry sync", f"poetry run {PYTEST}",
                      installer="pip", cache_path="~/.cache/pypoetry"),
    # `pdm install --check` fails when pdm.lock is out of date instead of re-locking.
    "pdm": Manager("python", "pdm.lock", "pdm install --check", f"pdm run {PYTEST}",
                   installer="pip", cache_path="~/.cache/pdm"),
    # `./...`: every package of the module; `go test -race` alone tests only the root one.
    "go": Manager("go", "go.sum", "go mod download", "go test -race ./...", setup_cache="true"),
    "cargo": Manager("rust", "Cargo.lock", "cargo fetch --locked", "cargo test --locked",
                     cache_path="~/.cargo/registry\n~/.cargo/git"),
    "maven": Manager("java", "pom.xml", "mvn -B -ntp dependency:go-offline", "mvn -B -ntp verify",
                     setup_cache="maven"),
    "gradle": Manager("java", "build.gradle", "./gradlew --no-daemon dependencies",
                      "./gradlew --no-daemon test", setup_cache="gradle",
                      lockfile_globs=("*.gradle*", "gradle/wrapper/gradle-wrapper.properties",
                                      "gradle.lockfile")),
    "dotnet": Manager("dotnet", "packages.lock.json", "dotnet restore --locked-mode",
                      "dotnet test --no-restore", cache_path="~/.nuget/packages"),
    "bundler": Manager("ruby", "Gemfile.lock", "bundle install --jobs 4",
                       "bundle exec rake test", cache_path="vendor/bundle"),
}

DEFAULT_MANAGER = {"node": "npm", "python": "pip", "go": "go", "rust": "cargo",
                   "java": "maven", "dotnet": "dotnet", "ruby": "bundler"}

# A lockfile's name tells its manager (yarn.lock is read as classic yarn: berry writes the
# same name, so a berry project says `package_manager: yarn-berry`).
_BY_LOCKFILE = {
    "package-lock.json": "npm", "npm-shrinkwrap.json": "npm", "pnpm-lock.yaml": "pnpm",
    "yarn.lock": "yarn", "bun.lock": "bun", "bun.lockb": "bun", "uv.lock": "uv",
    "poetry.lock": "poetry", "pdm.lock": "pdm", "go.sum": "go", "go.work.sum": "go",
    "Cargo.lock": "cargo", "pom.xml": "maven", "build.gradle": "gradle",
    "build.gradle.kts": "gradle", "gradle.lockfile": "gradle",
    "packages.lock.json": "dotnet", "Gemfile.lock": "bundler",
}


def manager_for_lockfile(lockfile: str) -> str | None:
    name = PurePosixPath(lockfile).name
    if name.startswith("requirements") and name.endswith(".txt"):
        return "pip"
    return _BY_LOCKFILE.get(name)
