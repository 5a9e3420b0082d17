"""Ramp a flagd feature flag with the canary: rewrite its `fractional` split.

flagd flag files (https://flagd.dev/reference/flag-definitions/) hold `{"flags": {KEY: {
"state", "variants", "defaultVariant", "targeting"}}}`. The ramp sets the flag's targeting
to flagd's `fractional` operation with integer weights that sum to 100:

    "targeting": {"fractional": [["on", 25], ["off", 75]]}

Without a bucketing expression flagd buckets by the flag key and the `targetingKey`, so a
user stays on the same side as the ramp rises. A bucketing expression already in the flag
(the first element, e.g. `{"cat": [{"var": "$flagd.flagKey"}, {"var": "email"}]}`) is kept.
Targeting of any other shape is refused rather than overwritten: it is someone's rule.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harden_ci.errors import SpecError
from harden_ci.gates import bounded_input

MAX_FILE = 4 * 1024 * 1024


def _load(path: Path) -> dict[str, Any]:
    # Bounded: a FIFO, a device (/dev/zero) or a huge file is refused, never read forever;
    # depth-limited JSON, so deep nesting is a clear error rather than a crash.
    text = bounded_input.read_text(path, "flagd flag", MAX_FILE)
    try:
        data = bounded_input.loads(text)
    except ValueError as exc:
        raise SpecError(f"cannot read the flagd flag file: {exc}", field=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("flags"), dict):
        raise SpecError("not a flagd flag file (no `flags` object)", field=str(path),
                        hint="see https://flagd.dev/reference/flag-definitions/")
    return data


def _bucketing(targeting: Any, flag: str) -> list[Any]:
    """The bucketing expression to keep ([] for none); refuses foreign targeting."""
    if targeting in (None, {}):
        return []
    ours = isinstance(targeting, dict) and set(targeting) == {"fractional"} \
        and isinstance(targeting["fractional"], list)
    if not ours:
        raise SpecError(f"flag `{flag}` has targeting rules other than a plain `fractional` split; "
                        "harden-ci will not overwrite them", field="targeting",
                        hint="move the rule into the application, or ramp with a command provider")
    args = targeting["fractional"]
    return [args[0]] if args and not isinstance(args[0], list) else []


def set_fraction(path: Path, flag: str, percent: int, on: str = "on", off: str = "off") -> dict[str, Any]:
    """Send `percent`% of evaluations of `flag` to variant `on`, the rest to `off`; write atomically.

    Returns the flag's new definition.
    """
    if not 0 <= percent <= 100:
        raise SpecError(f"{percent} is not a percentage (0 to 100)", field="--percent")
    if on == off:
        raise SpecError("the on and off variants must differ", field="--on-variant")
    data = _load(path)
    definition = data["flags"].get(flag)
    if not isinstance(definition, dict):
        known = ", ".join(sorted(data["flags"])) or "none"
        raise SpecError(f"flag `{flag}` is not in {path} (flags: {known})", field="--flag")
    variants = definition.get("variants")
    for option, name in (("--on-variant", on), ("--off-variant", off)):
        if not isinstance(variants, dict) or name not in variants:
            have = ", ".join(sorted(variants)) if isinstance(variants, dict) else "none"
            raise SpecError(f"flag `{flag}` has no variant `{name}` (variants: {have})", field=option)
    bucketing = _bucketing(definition.get("targeting"), flag)
    definition["targeting"] = {"fractional": [*bucketing, [on, percent], [off, 100 - percent]]}
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, path.stat().st_mode & 0o777)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise SpecError(f"cannot write the flag file: {exc}", field=str(path)) from None
    return definition
