"""What a service's `docker:` settings become: the docker/build-push-action inputs both
image jobs share (the pull-request build in `stages/images` reads them from the service's
settings, the release's publish matrix from its own rows), the build secrets, and the
paths whose changes select the service."""

from __future__ import annotations

from collections.abc import Callable

from harden_ci.model.services import Service
from harden_ci.plan.model import Scalar

# build-push-action input -> the settings key holding its value for one service.
_INPUTS = {"context": "context", "target": "target", "build-args": "build_args",
           "platforms": "platforms"}


def build_context(service: Service) -> str:
    return (service.docker.context if service.docker else None) or service.path


def settings(service: Service) -> dict[str, str]:
    """The per-service build values, as strings (an empty string leaves an input unset:
    build-push-action ignores empty inputs)."""
    docker = service.docker
    return {
        "context": build_context(service),
        "target": (docker.target if docker else None) or "",
        "build_args": "\n".join(f"{k}={v}" for k, v in (docker.args if docker else {}).items()),
        "platforms": ",".join(docker.platforms if docker else []),
    }


def build_inputs(value_of: Callable[[str], str], *, platforms: bool = True) -> dict[str, Scalar]:
    """The build-push-action inputs, each read through `value_of(settings key)` (a matrix
    or step-output expression); without `platforms`, the runner's own platform."""
    return {name: value_of(key) for name, key in _INPUTS.items()
            if platforms or name != "platforms"}


def secrets(service: Service) -> tuple[str, ...]:
    return tuple(service.docker.secrets) if service.docker else ()


def secret_inputs(names: tuple[str, ...]) -> tuple[dict[str, Scalar], dict[str, str]]:
    """The `secret-envs` input and the step env that holds the secrets: each secret's
    value reaches the build only through the step's environment, never a file or a log."""
    if not names:
        return {}, {}
    return ({"secret-envs": "\n".join(f"{n}={n}" for n in names)},
            {n: f"${{{{ secrets.{n} }}}}" for n in names})


def watched(service: Service, workspace_root: str | None = None) -> list[str]:
    """Paths outside the service's folder that its image is built from. A workspace
    member built from its workspace's root (`docker build -f apps/api/Dockerfile .` in a
    pnpm or npm monorepo) is not selected by the whole root: what its image takes from
    there is the workspace's root files and shared paths, which select it already, and
    its own folder; a change in another member's folder selects only that member."""
    paths = [service.dockerfile] if service.dockerfile else []
    context = service.docker.context if service.docker else None
    if context and context != workspace_root:
        paths.append(context)
    return paths


def image_name(service: Service, name: str) -> str:
    return (service.docker.image if service.docker else None) or name
