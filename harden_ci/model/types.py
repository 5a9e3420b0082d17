"""Field types shared by the spec model: names, paths, commands, durations, rates.

Each type refuses what could hurt the generated workflow (a path leaving the repository,
a job id GitHub rejects, a secret name that is not an identifier) and documents itself
in the JSON Schema, so editors catch the same mistakes.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema

# Service and environment names become job ids and artifact names: GitHub accepts
# letters, digits, `-` and `_`, starting with a letter or `_`; we keep to lower case
# and a length that leaves room for prefixes like `test-`.
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]

# Secrets and variables: what GitHub accepts as a secret name, minus its reserved prefix.
SECRET_PATTERN = r"^[A-Z_][A-Z0-9_]{0,99}$"  # GITHUB_ and other reserved names: below
_RESERVED_PREFIXES = ("HARDEN_CI_", "GITHUB_", "RUNNER_", "ACTIONS_")
_RESERVED_EXTRA = frozenset({"PATH", "HOME", "SHELL", "BASE_URL", "GH_TOKEN", "CI", "SERVICE"})


@functools.cache
def reserved_env_names() -> frozenset[str]:
    """Env names harden-ci sets for its own scripts: every variable they read."""
    scripts = resources.files("harden_ci.templates").joinpath("scripts")
    names: set[str] = set(_RESERVED_EXTRA)
    for script in scripts.iterdir():
        if script.name.endswith(".sh"):
            names.update(re.findall(r"\$\{?([A-Z_][A-Z0-9_]*)", script.read_text("utf-8")))
    return frozenset(names)


def _check_secret_name(value: str) -> str:
    if value.startswith("GITHUB_"):
        raise ValueError(f"`{value}`: secret and variable names may not start with GITHUB_ "
                         "(GitHub reserves the prefix)")
    if value.startswith(_RESERVED_PREFIXES) or value in reserved_env_names():
        raise ValueError(f"`{value}` is a name harden-ci sets for its own steps; rename the "
                         "secret or variable (a prefix such as `APP_` works)")
    return value


SecretName = Annotated[str, StringConstraints(pattern=SECRET_PATTERN),
                       AfterValidator(_check_secret_name)]

# A branch name safe on a command line and in a `branches:` filter (no globs).
BRANCH_PATTERN = r"^[A-Za-z0-9_.][A-Za-z0-9._/-]{0,99}$"


def _check_branch(value: str) -> str:
    if ".." in value or value.endswith((".", "/")):
        raise ValueError("a branch name may not hold `..` or end with `.` or `/`")
    return value


Branch = Annotated[str, StringConstraints(pattern=BRANCH_PATTERN), AfterValidator(_check_branch)]

# A runner label: GitHub-hosted image names and self-hosted labels.
RUNNER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
RunnerLabel = Annotated[str, StringConstraints(pattern=RUNNER_PATTERN)]

# A container registry prefix such as ghcr.io/acme.
REGISTRY_PATTERN = r"^[a-z0-9][a-z0-9.-]*(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)*$"
Registry = Annotated[str, StringConstraints(pattern=REGISTRY_PATTERN, max_length=200)]

# A container image pinned by digest: the only way harden-ci runs an image.
DIGEST_IMAGE_PATTERN = (r"^[a-z0-9][a-z0-9._/-]*(:[0-9]{1,5}/[a-z0-9._/-]+)?(:[A-Za-z0-9._-]{1,128})?"
                        r"@sha256:[0-9a-f]{64}$")
DigestImage = Annotated[str, StringConstraints(pattern=DIGEST_IMAGE_PATTERN, max_length=300)]

# A shell command the user owns (it runs as written); multi-line allowed.
Command = Annotated[str, StringConstraints(min_length=1, max_length=8000)]
# Free text shown to people (a version string, a flag name).
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]

_PATH_CHARS = re.compile(r"^[A-Za-z0-9._/@+-][A-Za-z0-9._/@+ -]*$")


def _check_repo_path(value: str) -> str:
    """Relative, inside the repository, and plain enough to pass to any tool."""
    if not value:
        raise ValueError("a path may not be empty (use `.` for the repository root)")
    if value.startswith("/"):
        raise ValueError("paths are relative to the repository root, not absolute")
    if "\\" in value:
        raise ValueError("use `/` as the path separator")
    if not _PATH_CHARS.fullmatch(value) or value.startswith("-"):
        raise ValueError(
            "a path may hold letters, digits, `.`, `_`, `-`, `@`, `+`, `/` and spaces, "
            "and may not start with `-`"
        )
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ValueError("a path may not leave the repository (no `..`)")
    return "/".join(parts) or "."


RepoPath = Annotated[
    str,
    AfterValidator(_check_repo_path),
    WithJsonSchema({"type": "string", "pattern": r"^(?![/-])(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._/@+ -]+$",
                    "description": "a path relative to the repository root"}),
]

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def _parse_duration(value: object) -> object:
    """`15m`, `1h30m`, `90s` or a whole number of seconds → seconds."""
    if isinstance(value, bool):
        raise ValueError("a duration is a string like `15m` or a number of seconds")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise ValueError("a duration is a string like `15m` or a number of seconds")
    match = _DURATION.match(value.strip())
    if not value.strip() or not match:
        raise ValueError(f"`{value}` is not a duration; write it like `30s`, `15m` or `1h30m`")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


Seconds = Annotated[
    int,
    BeforeValidator(_parse_duration),
    Field(ge=1, le=7 * 24 * 3600),
    WithJsonSchema({
        "anyOf": [{"type": "string", "pattern": r"^(\d+h)?(\d+m)?(\d+s)?$"},
                  {"type": "integer", "minimum": 1}],
        "description": "a duration: `30s`, `15m`, `1h30m`, or whole seconds",
    }),
]


def format_seconds(seconds: int) -> str:
    """The shortest `1h30m`-style spelling of a duration, for reports."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "") + (
        f"{secs}s" if secs else "")
    return text or "0s"


def _number(value: object) -> object:
    # Strict models refuse ints where floats go; a rate of `0` or `1` is still a rate.
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


Rate = Annotated[float, BeforeValidator(_number), Field(ge=0.0, le=1.0)]  # 0.01 = 1%
Percent = Annotated[int, Field(ge=1, le=100)]
Milliseconds = Annotated[int, Field(ge=1, le=3_600_000)]

_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%!&()*+,;=:@/-]*)?$")


def _check_url(value: str) -> str:
    # `{number}` (the pull request number) may stand anywhere, the host included.
    if not _URL.fullmatch(value.replace("{number}", "0")):
        raise ValueError(f"`{value}` is not an http(s) URL")
    local = r"http://(localhost|127\.0\.0\.1)(:[0-9]+)?(/.*)?"
    if value.startswith("http://") and not re.fullmatch(local, value):
        raise ValueError("use https:// (plain http only for localhost)")
    return value


Url = Annotated[
    str,
    AfterValidator(_check_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https?://"}),
]

Severity = Literal["critical", "high", "medium", "low"]
SEVERITY_ORDER: dict[str, int] = {"low": 0, "medium": 1, "high": 2, "critical": 3}
