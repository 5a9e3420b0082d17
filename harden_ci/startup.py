"""Start-up settings for the everyday verbs (`render`, `check`, `validate`), applied by the
entry point before anything heavy is imported. Standard library only.

Each one skips work those verbs never use, measured on a 500-service spec:

- field descriptions: pydantic reads every model class's source to turn attribute
  docstrings into field descriptions (`use_attribute_docstrings`), 35-45 ms of import.
  Only the JSON Schema, `explain`, `policy` and the docs read them, so the model reads
  `FIELD_DESCRIPTIONS` when its classes are built;
- pydantic's plugin scan: a walk of every installed distribution's entry points on the
  first model class (pydantic's documented PYDANTIC_DISABLE_PLUGINS switch);
- interpreter teardown: freeing every module and object at exit (60-75 ms at 500
  services). Once the verb has returned and its output is flushed, the process ends with
  `os._exit`; the writer has closed and renamed every file by then.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import NoReturn

# Read by harden_ci.model.base when the model's classes are built (once per process).
FIELD_DESCRIPTIONS = True

# The verbs that read no field description and need no teardown.
LEAN_VERBS = frozenset({"render", "check", "validate"})


def lean(args: list[str]) -> bool:
    """Whether the command line is one of the lean verbs (its options aside)."""
    return bool(args) and args[0] in LEAN_VERBS


def prepare() -> None:
    """Skip what the lean verbs never use; call before the model is imported."""
    global FIELD_DESCRIPTIONS
    if "pydantic" in sys.modules:  # too late to change how the classes are built
        return
    FIELD_DESCRIPTIONS = False
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _exit_code(code: object) -> int:
    """SystemExit's code as the process's status, as the interpreter would set it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def run_then_exit(main: Callable[[], object]) -> NoReturn:
    """Run `main`, flush the output, and end the process without the interpreter's
    teardown. A failed flush (a closed pipe) is reported the way Python reports it."""
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or 120  # what the interpreter exits with when it cannot flush
    os._exit(code)
