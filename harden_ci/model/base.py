"""The base every spec model shares: unknown keys are errors, and types are strict.

Patterns use pydantic's default (Rust) regex engine, whose `$` is the end of the text: with
Python's `re`, `$` also matches before a final newline, so `api\n` would pass as a name.

Strict means YAML's guesses are not silently coerced: `version: 3.10` (a float that
would become "3.1") must be quoted, and `shards: "4"` is a mistake worth hearing about.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from harden_ci import startup


class SpecModel(BaseModel):
    # Field descriptions come from attribute docstrings; `render`, `check` and `validate`
    # skip reading them (harden_ci.startup says why).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True,
                              use_attribute_docstrings=startup.FIELD_DESCRIPTIONS)
