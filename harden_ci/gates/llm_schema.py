"""JSON Schema (draft 2020-12) for LLM outputs, through the `jsonschema` library, with the
guards a gate needs on files it did not write:

* the schema is checked against the draft 2020-12 meta-schema when it is loaded (exit 2);
* a keyword that draft 2020-12 does not define is refused (exit 2): the standard says to
  ignore it, but a typo such as `requird` would then let through what the author meant
  to reject;
* `$ref` resolves inside the document only: nothing is fetched over the network, and a
  reference that does not resolve is refused (exit 2);
* `pattern` and `patternProperties` run on the `regex` engine with a time limit
  (harden_ci/gates/bounded_input.py): a pattern prone to catastrophic backtracking stops the
  gate with exit 2 instead of hanging it;
* `format` is an annotation (the draft 2020-12 default), as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TypeGuard

import jsonschema
import referencing
import referencing.exceptions
import referencing.jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError, best_match

from harden_ci.errors import Location, SpecError
from harden_ci.gates.bounded_input import PatternTimeout, compile_pattern, search

MAX_DEPTH = 64


def json_equal(a: object, b: object) -> bool:
    """JSON equality: 1 == 1.0, but true != 1 and key order does not matter."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def type_name(value: object) -> str:
    """The JSON type of a decoded value, as error messages name it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def describe(value: object) -> str:
    """`null`, `true`, or the type and a short rendering: `string "abc"`."""
    if value is None or isinstance(value, bool):
        return short(value)
    return f"{type_name(value)} {short(value, 40)}"


def short(value: object, limit: int = 60) -> str:
    """A value as compact JSON, cut to `limit` characters for messages."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the schema ---------------------------------------------------------------------------

# Where a schema holds subschemas (so that the keyword check below walks only schemas, never
# property names or `const` values).
_ONE = ("additionalProperties", "propertyNames", "items", "contains", "not", "if", "then", "else",
        "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema")
_MANY = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
ANNOTATIONS = frozenset({
    "$schema", "$id", "$anchor", "$dynamicAnchor", "$vocabulary", "$comment", "title",
    "description", "default", "examples", "readOnly", "writeOnly", "deprecated", "format",
    "contentMediaType", "contentEncoding", "contentSchema", "definitions", "$defs",
    "then", "else",  # read by `if`
})
KEYWORDS = frozenset(Draft202012Validator.VALIDATORS) | ANNOTATIONS


def _subschemas(schema: dict[str, Any], where: str) -> Iterator[tuple[object, str]]:
    for key in _ONE:
        if key in schema:
            yield schema[key], f"{where}/{key}"
    for key in _MANY:
        if isinstance(schema.get(key), list):
            yield from ((sub, f"{where}/{key}/{i}") for i, sub in enumerate(schema[key]))
    for key in _NAMED:
        if isinstance(schema.get(key), dict):
            yield from ((sub, f"{where}/{key}/{name}") for name, sub in schema[key].items())


def _bounded(validator: Any, pattern: str, instance: object, schema: object) -> Iterator[ValidationError]:
    if isinstance(instance, str) and not search(compile_pattern(pattern, "pattern"), instance):
        yield ValidationError(f"{short(instance, 40)} does not match pattern {pattern!r}")


def _bounded_properties(validator: Any, patterns: dict[str, Any], instance: object,
                        schema: object) -> Iterator[ValidationError]:
    if not isinstance(instance, dict):
        return
    for pattern, subschema in patterns.items():
        compiled = compile_pattern(pattern, "patternProperties")
        for name, value in instance.items():
            if search(compiled, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


_Validator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _bounded, "patternProperties": _bounded_properties})


class SchemaValidator:
    """Checks decoded JSON values against one schema; `errors()` lists every violation."""

    def __init__(self, schema: object, source: str = "schema") -> None:
        self.source = source
        if not isinstance(schema, dict | bool):
            raise self._bad("#", f"a schema is an object or a boolean, not {type_name(schema)}")
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = "#/" + "/".join(str(p) for p in exc.path)
            raise self._bad(where.rstrip("/"), exc.message) from None
        self._check(schema, "#", 0)
        resource = referencing.Resource.from_contents(
            schema, default_specification=referencing.jsonschema.DRAFT202012)
        # An empty registry that retrieves nothing: a remote $ref is refused, never fetched.
        registry: referencing.Registry[Any] = referencing.Registry().with_resource("", resource)
        self._validator = _Validator(schema, registry=registry)
        self._root = schema

    def _bad(self, where: str, message: str) -> SpecError:
        return SpecError(f"JSON Schema {where}: {message}", location=Location(self.source),
                         hint="harden-ci reads JSON Schema draft 2020-12, references inside the "
                              "document only")

    def _check(self, schema: object, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self._bad(where, f"nested deeper than {MAX_DEPTH} levels")
        if not isinstance(schema, dict):
            return
        unknown = sorted(set(schema) - KEYWORDS)
        if unknown:
            raise self._bad(where, f"unknown keyword {unknown[0]!r} (not in draft 2020-12); "
                                   "a validator would ignore it")
        if isinstance(schema.get("pattern"), str):
            compile_pattern(schema["pattern"], f"the pattern at {where}")
        for name in schema.get("patternProperties", {}) or {}:
            compile_pattern(name, f"the patternProperties key at {where}")
        ref = schema.get("$ref")
        if isinstance(ref, str) and not (ref == "#" or ref.startswith("#")):
            raise self._bad(f"{where}/$ref", f"only references inside the document (#…) are "
                                             f"supported, not {short(ref)}")
        for sub, at in _subschemas(schema, where):
            self._check(sub, at, depth + 1)

    # --- validating ---------------------------------------------------------------------

    def errors(self, instance: object, limit: int = 20) -> list[str]:
        """Every violation as `<path>: <message>` (path `$` is the whole value), up to `limit`.
        SpecError when the schema cannot be applied (an unresolved reference, a pattern that
        ran past its time limit, a reference loop)."""
        found: list[str] = []
        try:
            for error in self._validator.iter_errors(instance):
                # For anyOf/oneOf, the deepest, most relevant error of the alternatives says
                # more than "is not valid under any of the given schemas".
                error = best_match([error]) or error
                found.append(f"{error.json_path}: {error.message}")
                if len(found) >= limit:
                    break
        except referencing.exceptions.Unresolvable as exc:
            raise self._bad("#", f"a $ref does not resolve ({exc})") from None
        except PatternTimeout as exc:
            raise self._bad("#", f"{exc}; simplify the pattern") from None
        except RecursionError:
            raise self._bad("#", "the schema's references loop without consuming the value") \
                from None
        return sorted(found, key=_path_order)

    def is_valid(self, instance: object) -> bool:
        return not self.errors(instance, limit=1)


def _path_order(error: str) -> str:
    return error.split(": ", 1)[0]
