"""The one error type harden-ci raises for anything the user can fix, and the exit codes.

Every refusal (bad YAML, a spec that fails the model, a file the writer must not touch)
is a `SpecError`. The CLI turns it into one clear paragraph on stderr and exit code 2;
anything else escaping a verb is a bug and becomes exit 3 with a short report.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """The documented exit-code table (README, "Exit codes")."""

    OK = 0
    DRIFT = 1  # `check`: the files on disk differ from a fresh render
    BAD_INPUT = 2  # the spec, an option or a file on disk is refused; nothing was written
    INTERNAL = 3  # a bug in harden-ci: please report it


@dataclass(frozen=True)
class Location:
    """Where in a file a problem sits; line and column are 1-based."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


class SpecError(Exception):
    """A problem the user can fix: where it is, what is wrong, and how to fix it."""

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.field = field
        self.hint = hint

    def __str__(self) -> str:
        parts = []
        if self.location is not None:
            parts.append(f"{self.location}: ")
        if self.field:
            parts.append(f"{self.field}: ")
        parts.append(self.message)
        if self.hint:
            parts.append(f" ({self.hint})")
        return "".join(parts)


class SpecErrors(SpecError):
    """Several problems found in one pass (validation reports them all at once)."""

    def __init__(self, errors: list[SpecError]) -> None:
        if not errors:
            raise ValueError("SpecErrors needs at least one error")
        super().__init__(errors[0].message, location=errors[0].location, field=errors[0].field,
                         hint=errors[0].hint)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)
