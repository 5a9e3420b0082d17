"""`services.<name>.docker:` how a service's image is built (context, target, build
arguments and secrets, platforms, image name)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from harden_ci.model.base import SpecModel
from harden_ci.model.types import RepoPath, SecretName

# A Dockerfile stage name (`FROM ... AS name`).
Stage = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
BuildArgName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")]
# One line (the loader refuses `${{` in every spec value).
BuildArgValue = Annotated[str, StringConstraints(pattern=r"^[^\r\n]{0,500}$")]
Platform = Annotated[str, StringConstraints(
    pattern=r"^linux/(amd64|arm64|arm/v6|arm/v7|386|ppc64le|s390x|riscv64)$")]
ImageName = Annotated[str, StringConstraints(
    pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")]


class DockerBuild(SpecModel):
    context: RepoPath | None = None
    """The build context, from the repository root (default: the service's `path`). Changes
    under it select the service, even outside its `path`."""
    target: Stage | None = None
    """The Dockerfile stage to build (`--target`)."""
    args: dict[BuildArgName, BuildArgValue] = Field(default_factory=dict)
    """Build arguments (`--build-arg`); plain values, never secrets."""
    secrets: list[SecretName] = Field(default_factory=list)
    """Repository secrets mounted as build secrets (`RUN --mount=type=secret,id=NAME`),
    only when the release workflow publishes on the default branch (a trusted event):
    pull-request builds, forks included, never get them, so mount them with
    `required=false` or the pull-request build fails."""
    platforms: list[Platform] = Field(default_factory=list)
    """Platforms for a multi-arch image (`linux/amd64`, `linux/arm64`...), emulated with
    QEMU; default: the runner's own."""
    image: ImageName | None = None
    """The image's name under `project.registry` (default: the service's name)."""
