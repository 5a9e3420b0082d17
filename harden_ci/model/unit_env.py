"""What a service's unit tests need around them: containers (a database, a cache, an
object store), environment, repository variables and secrets.

A service that declares any of these gets a unit-test job of its own (plan/stages/
build_test.py): a job's `services:`, `env:` and secrets are static, and one matrix job
shared by every service cannot give each row its own. Secrets reach trusted events only:
a fork's pull request runs without them, and its log says so.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from harden_ci.model.base import SpecModel
from harden_ci.model.types import DigestImage, Name, SecretName

# What an env value may hold: any text but line breaks of the kind `$GITHUB_ENV` splits on
# is fine (values reach the job through `env:`, never through a command line).
EnvValue = Annotated[str, StringConstraints(max_length=4000)]

# A health check becomes `--health-cmd "..."` inside the container's `options:` (one
# string the runner splits into docker arguments), so it is held to a plain alphabet: no
# quote, backslash or line break can end the argument.
HEALTH_PATTERN = r"^[A-Za-z0-9 _./:=@,+%-]{1,300}$"
HealthCommand = Annotated[str, StringConstraints(pattern=HEALTH_PATTERN)]
_PORT = re.compile(r"^([0-9]{1,5})(?::([0-9]{1,5}))?$")


def _port(value: object) -> object:
    """`5432` is `5432:5432` (runner port = container port); ints become text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


# Written as a number or as text in the spec; the JSON Schema says both.
Port = Annotated[str, BeforeValidator(_port), WithJsonSchema({"anyOf": [
    {"type": "integer", "minimum": 1, "maximum": 65535},
    {"type": "string", "pattern": r"^[0-9]{1,5}(:[0-9]{1,5})?$"}]})]


class TestContainer(SpecModel):
    """A container beside the unit-test job, reached from the tests on `localhost`."""

    image: DigestImage
    """The image, pinned by digest (`postgres:17@sha256:...`)."""
    ports: list[Port] = Field(default_factory=list)
    """Ports published on the runner: `5432` (the same port), or `15432:5432`
    (runner:container)."""
    env: dict[SecretName, EnvValue] = Field(default_factory=dict)
    """The container's environment (`POSTGRES_PASSWORD: ci`)."""
    health: HealthCommand | None = None
    """A command run inside the container until it succeeds (`pg_isready -U postgres`);
    the tests start once it does (every 5 s, up to 20 tries)."""

    @field_validator("ports")
    @classmethod
    def _ports(cls, ports: list[str]) -> list[str]:
        out = []
        for port in ports:
            match = _PORT.fullmatch(port)
            numbers = [int(n) for n in match.groups() if n is not None] if match else []
            if not numbers or not all(1 <= n <= 65535 for n in numbers):
                raise ValueError(f"`{port}` is not a port or `runner:container` ports "
                                 "(1 to 65535)")
            out.append(port if ":" in port else f"{port}:{port}")
        if len({p.split(":")[0] for p in out}) != len(out):
            raise ValueError("two containers' ports share a runner port")
        return out


class UnitEnvironment(SpecModel):
    """The environment a service's lint, type check and unit tests run in."""

    services: dict[Name, TestContainer] = Field(default_factory=dict)
    """Containers the tests talk to, by name: `postgres`, `redis`, `minio`."""
    env: dict[SecretName, EnvValue] = Field(default_factory=dict)
    """Environment of the install, lint, type check and test steps (not secret)."""
    vars: list[SecretName] = Field(default_factory=list)
    """Repository or organisation variables handed to those steps under their own names."""
    secrets: list[SecretName] = Field(default_factory=list)
    """Secrets handed to the test step only, under their own names, on trusted events
    (push, merge queue, pull requests from this repository); a fork's pull request runs the
    tests without them and says so."""
    @model_validator(mode="after")
    def _distinct(self) -> UnitEnvironment:
        names = [*self.env, *self.vars, *self.secrets]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"{', '.join(doubled)} named more than once in `env`, `vars` "
                             "and `secrets`")
        ports = [p.split(":")[0] for c in self.services.values() for p in c.ports]
        if len(set(ports)) != len(ports):
            raise ValueError("two test containers publish the same runner port")
        return self

    @property
    def needs_own_job(self) -> bool:
        return bool(self.services or self.env or self.vars or self.secrets)
