"""Turn loaded spec data into a `Spec`, or into errors that point into the file.

Pydantic reports each problem with a path (`services.api.shards`); the loader kept the
line and column of every node, so each error names file:line:column, the field path and,
where a near miss is likely, what was probably meant.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from harden_ci.errors import SpecError, SpecErrors
from harden_ci.load import LoadedSpec
from harden_ci.model.soak_load import UNION_TAGS
from harden_ci.model.spec import Spec, dangling_references

Path_ = tuple[str | int, ...]


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _unwrap(annotation: Any, *, dict_value: bool) -> Any:
    args = getattr(annotation, "__args__", None)
    origin = getattr(annotation, "__origin__", None)
    if origin is dict and args:
        return ("dict", _unwrap(args[1], dict_value=True))
    if args:  # X | None
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return annotation


def _model_for(path: Path_) -> type[BaseModel] | None:
    # Walk the path, skipping dict keys chosen by the user (service names, env names).
    model: Any = Spec
    i = 0
    while i < len(path):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(path[i]))
        if field is None:
            # also accept aliases (e.g. `schema`)
            field = next((f for f in model.model_fields.values() if f.alias == path[i]), None)
            if field is None:
                return None
        inner = _unwrap(field.annotation, dict_value=False)
        if isinstance(inner, tuple):
            i += 1  # skip the user's key
            inner = inner[1]
        model = inner
        i += 1
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _field_names(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _spec_path(loc: Path_) -> Path_:
    # A journey entry is a tagged union (a path or an object); pydantic puts the tag in
    # the location after the list index, where no spec key is.
    return tuple(p for i, p in enumerate(loc)
                 if not (p in UNION_TAGS and i > 0 and isinstance(loc[i - 1], int)))


def _error(loaded: LoadedSpec, err: ErrorDetails) -> SpecError:
    loc: Path_ = _spec_path(tuple(err["loc"]))
    kind = err["type"]
    message = err["msg"]
    hint: str | None = None
    if loc and loc[-1] == "[key]":  # a dict key (a service or environment name) was refused
        loc = loc[:-1]
        return SpecError(f"`{loc[-1]}` is not a valid name", location=loaded.location(loc, key=True),
                         field=_dotted(loc), hint="names are lower case letters, digits, `-` and "
                         "`_`, start with a letter, and are at most 40 characters (they become "
                         "job ids)")
    if kind == "extra_forbidden":
        parent = _model_for(loc[:-1])
        names = _field_names(parent) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
        message = f"unknown key `{loc[-1]}`"
        hint = (f"did you mean `{close[0]}`?" if close else
                f"known keys here: {', '.join(sorted(names))}" if names else None)
        return SpecError(message, location=loaded.location(loc, key=True), field=_dotted(loc),
                         hint=hint)
    if kind == "missing":
        message = f"`{loc[-1]}` is required"
        return SpecError(message, location=loaded.location(loc[:-1]), field=_dotted(loc))
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in str(expected).replace(" or ", ",").split(",")]
        given = err.get("input")
        close = difflib.get_close_matches(str(given), options, n=1, cutoff=0.5)
        message = f"`{given}` is not one of {expected}"
        hint = f"did you mean `{close[0]}`?" if close else None
    elif kind == "string_type" and isinstance(err.get("input"), (int, float)):
        written = loaded.plain_text.get(loc, str(err["input"]))
        hint = f'quote it: "{written}" (YAML read it as a number)'
    elif kind == "string_pattern_mismatch":
        message = f"`{err.get('input')}` does not match the allowed form"
        hint = _pattern_hint(loc)
    elif kind == "value_error":
        message = message.removeprefix("Value error, ")
    elif kind == "dict_type" or kind == "model_type":
        message = "expected a mapping (`key: value` lines)"
    return SpecError(message, location=loaded.location(loc), field=_dotted(loc), hint=hint)


def _pattern_hint(loc: Path_) -> str | None:
    if len(loc) >= 2 and loc[0] in ("services", "environments") and len(loc) == 2:
        return "names are lower case letters, digits, `-` and `_`, starting with a letter"
    if (loc and loc[-1] in ("secrets", "vars")) or (len(loc) >= 2 and loc[-2] in ("secrets",
                                                                                 "vars")):
        return "secret and variable names are UPPER_CASE and may not start with GITHUB_"
    if loc and loc[-1] == "default_branch":
        return "a plain branch name like `main` (no globs, no `..`)"
    if loc and loc[-1] in ("image", "database_image"):
        return ("an image pinned by digest: `name:tag@sha256:` and the 64 hex digits "
                "`docker buildx imagetools inspect name:tag` prints")
    if loc and loc[-1] == "registry":
        return "a registry prefix like `ghcr.io/acme`"
    if len(loc) >= 2 and loc[-2] == "tags":
        return "a tag filter like `v*` or `release-[0-9]*`: GitHub's glob syntax, no `!`"
    return None


def parse_spec(loaded: LoadedSpec) -> Spec:
    """Validate loaded data into a Spec; raise SpecErrors listing every problem found."""
    try:
        spec = Spec.model_validate(loaded.data)
    except ValidationError as exc:
        errors = [_error(loaded, e) for e in exc.errors(include_url=False)]
        # Service and environment names are dict keys: point at the key itself.
        raise SpecErrors(_dedupe(errors)) from None
    problems = dangling_references(spec)
    if problems:
        raise SpecErrors([SpecError(msg, location=loaded.location(path), field=_dotted(path),
                                    hint=hint) for path, msg, hint in problems])
    return spec


def _dedupe(errors: list[SpecError]) -> list[SpecError]:
    seen: set[str] = set()
    unique = []
    for e in errors:
        if str(e) not in seen:
            seen.add(str(e))
            unique.append(e)
    return unique


def spec_json_schema() -> str:
    """The spec's JSON Schema as stable, pretty JSON."""
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://harden-ci.dev/schema/v1.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
