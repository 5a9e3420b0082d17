"""The containers a repository's own CI runs beside its tests, read for the starter spec's
`test_environment`: the `services:` of the workflow job init took the test command from
(image, ports, env, and the `--health-cmd` of its `options`), with the plain `env:` of that
job and of the test step (a `DATABASE_URL` pointing at the container).

What the spec cannot hold is left out and said: a value with a `${{ }}` expression (a
secret, a matrix value), a port or env name the spec refuses, other docker options. The
spec runs images only pinned by digest, which a workflow seldom names and init cannot
know: `pinned` tells the starter spec whether it can write the block as it is, or must
write it commented out with the digest to fill in.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from harden_ci.init.commands import WorkflowTest
from harden_ci.init.scan import Tree
from harden_ci.model.types import DIGEST_IMAGE_PATTERN, NAME_PATTERN, SecretName
from harden_ci.model.unit_env import EnvValue, HealthCommand

_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$")
_NAMES: TypeAdapter[str] = TypeAdapter(SecretName)
_VALUES: TypeAdapter[str] = TypeAdapter(EnvValue)
_HEALTH: TypeAdapter[str] = TypeAdapter(HealthCommand)
_PORT = re.compile(r"^([0-9]{1,5})(?::([0-9]{1,5}))?$")


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    ports: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    health: str | None = None

    @property
    def pinned(self) -> bool:
        return re.match(DIGEST_IMAGE_PATTERN, self.image) is not None


@dataclass(frozen=True)
class FoundEnvironment:
    source: str  # the workflow file
    job: str
    containers: list[Container]
    env: dict[str, str]
    left_out: list[str]  # what could not be carried, for the spec's comment

    @property
    def pinned(self) -> bool:
        return all(c.pinned for c in self.containers)


def _plain(value: object) -> str | None:
    """A workflow scalar as the runner hands it on (`true`, `5432`), or None for an
    expression or a non-scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        text = str(value)
        return None if "${{" in text else text
    return None


def _valid(adapter: TypeAdapter[str], value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def _env(raw: object, where: str, left_out: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in (raw.items() if isinstance(raw, dict) else ()):
        text = _plain(value)
        if text is None:
            left_out.append(f"{where} env {name} (an expression: a secret or variable "
                            "goes in `secrets` or `vars`)")
        elif not _valid(_NAMES, str(name)) or not _valid(_VALUES, text):
            left_out.append(f"{where} env {name} (a name or value the spec refuses)")
        else:
            env[str(name)] = text
    return env


def _health(options: object, name: str, left_out: list[str]) -> str | None:
    if not isinstance(options, str) or "${{" in options:
        return None
    try:
        words = shlex.split(options)
    except ValueError:
        left_out.append(f"service {name} options (not a docker argument list)")
        return None
    command = None
    for index, word in enumerate(words):
        if word == "--health-cmd" and index + 1 < len(words):
            command = words[index + 1]
        elif word.startswith("--health-cmd="):
            command = word.split("=", 1)[1]
    if command is not None and not _valid(_HEALTH, command):
        left_out.append(f"service {name} health command (characters the spec refuses)")
        return None
    return command


def _container(name: str, raw: dict[str, Any], left_out: list[str]) -> Container | None:
    image = raw.get("image")
    if not isinstance(image, str) or not _IMAGE.match(image) or not re.match(NAME_PATTERN, name):
        left_out.append(f"service {name} (its name or image is not one the spec can hold)")
        return None
    ports = []
    for port in raw.get("ports") or ():
        text = _plain(port) or ""
        match = _PORT.match(text)
        if match and all(1 <= int(n) <= 65535 for n in match.groups() if n is not None):
            ports.append(text if ":" in text else f"{text}:{text}")
        else:
            left_out.append(f"service {name} port {port} (only `port` or `runner:container`)")
    for key in ("credentials", "volumes"):
        if raw.get(key):
            left_out.append(f"service {name} {key}")
    return Container(name=name, image=image, ports=ports,
                     env=_env(raw.get("env"), f"service {name}", left_out),
                     health=_health(raw.get("options"), name, left_out))


def read_test_environment(tree: Tree, test: WorkflowTest) -> FoundEnvironment | None:
    """The containers and env of the job `test` was read from, if it has containers."""
    data = tree.yaml(test.source)
    jobs = data.get("jobs") if isinstance(data, dict) else None
    job = jobs.get(test.job) if isinstance(jobs, dict) else None
    services = job.get("services") if isinstance(job, dict) else None
    if not isinstance(job, dict) or not isinstance(services, dict) or not services:
        return None
    left_out: list[str] = []
    containers = [c for name, raw in services.items() if isinstance(raw, dict)
                  and (c := _container(str(name), raw, left_out)) is not None]
    if not containers:
        return None
    if job.get("container"):
        left_out.append("the job's own `container:` (there the services are reached by "
                        "name; here the tests run on the runner and reach them on localhost)")
    steps = job.get("steps")
    step = steps[test.step] if isinstance(steps, list) and 0 <= test.step < len(steps) else {}
    env = {**_env(job.get("env"), "job", left_out),
           **_env(step.get("env") if isinstance(step, dict) else None, "test step", left_out)}
    return FoundEnvironment(source=test.source, job=test.job, containers=containers, env=env,
                           left_out=left_out)
