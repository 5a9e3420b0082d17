"""`harden_ci:`: where the generated jobs get harden-ci itself (its runtime gates, the drift
guard), always by hash.

Every job that runs harden-ci installs it with `pip install --require-hashes --no-deps
--only-binary :all:` from a companion lock (`harden-ci/requirements.txt`): the dependency
lock harden-ci ships plus one line for harden-ci itself, taken from here. A release cannot
carry its own wheel's hash (the hash covers the file that holds the lock), so the source of
harden-ci is the user's pin: a wheel committed to the repository, a wheel on an index with
its sha256, or a git commit.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, model_validator

from harden_ci.model.base import SpecModel
from harden_ci.model.types import RepoPath, Url

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
CommitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]

# A wheel file name (PEP 427): name-version(-build)?-python-abi-platform.whl
_WHEEL_NAME = re.compile(r"harden_ci-[A-Za-z0-9._+]+-[A-Za-z0-9._]+-[A-Za-z0-9._]+-[A-Za-z0-9._]+\.whl")


def _check_wheel(value: str) -> str:
    name = value.rsplit("/", 1)[-1]
    if not _WHEEL_NAME.fullmatch(name):
        raise ValueError(f"`{value}` is not a harden-ci wheel file name "
                         "(harden_ci-VERSION-py3-none-any.whl, as `python -m build --wheel` "
                         "writes it)")
    if " " in value:
        raise ValueError("the wheel's path may not hold spaces (pip reads it from a "
                         "requirements file)")
    return value


WheelPath = Annotated[RepoPath, AfterValidator(_check_wheel)]


def _check_https(value: str) -> str:
    if not value.startswith("https://"):
        raise ValueError("the URL must be https://")
    return value


HttpsUrl = Annotated[Url, AfterValidator(_check_https)]


class IndexSource(SpecModel):
    """harden-ci's wheel from a package index (a private one, or a public one once
    harden-ci is published there)."""

    url: HttpsUrl
    """The index's simple API (PEP 503), e.g. `https://pypi.example.com/simple`. The
    dependencies come from it too, each checked against the shipped lock's hashes."""
    sha256: Sha256
    """The sha256 of the harden-ci wheel the index serves for this release
    (`pip hash harden_ci-VERSION-py3-none-any.whl`); pip refuses any other file."""


class GitSource(SpecModel):
    """harden-ci built from a git repository at one commit, with hashed build tools."""

    url: HttpsUrl
    """The repository to clone (https)."""
    commit: CommitSha
    """The full 40-hex commit to build; the job checks that the clone is at exactly it."""


class HardenCiSource(SpecModel):
    """Where CI gets harden-ci: exactly one of `wheel`, `index` or `git`. Without this
    section the jobs that need harden-ci stop with an error naming this setting (harden-ci
    is not on a public index yet, and an unhashed name is never installed)."""

    wheel: WheelPath | None = None
    """A harden-ci wheel committed to the repository (from `python -m build --wheel`); its
    sha256 is read when rendering, so a new wheel is drift until re-rendered."""
    index: IndexSource | None = None
    """harden-ci's wheel from a package index, pinned by its sha256."""
    git: GitSource | None = None
    """harden-ci built from a git commit (the build tools come from the shipped lock)."""

    @model_validator(mode="after")
    def _exactly_one(self) -> HardenCiSource:
        given = [name for name in ("wheel", "index", "git") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("`harden_ci` takes exactly one of `wheel`, `index` or `git`"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self
