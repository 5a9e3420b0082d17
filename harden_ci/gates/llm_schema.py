"""A small JSON Schema validator for LLM outputs: the keywords such schemas use, clear errors.

harden-ci's runtime dependencies do not include the `jsonschema` package, so this module
implements the subset below (draft 2020-12 semantics, which agree with drafts 6-7 here):

* assertions: `type` (a name or a list; `integer` accepts 1.0), `enum`, `const`,
  `required`, `properties`, `additionalProperties` (true, false or a schema),
  `minProperties`, `maxProperties`, `items` (one schema for every element), `minItems`,
  `maxItems`, `uniqueItems`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`
  (numbers), `minLength`, `maxLength` (code points), `pattern` (Python `re.search`, which
  agrees with ECMA-262 for the usual patterns);
* combinators: `anyOf`, `oneOf`, `allOf`, `not`;
* references: `$ref` to the same document (`#`, `#/$defs/…`, `#/definitions/…`);
* annotations, accepted and ignored: `$schema`, `$id`, `$comment`, `$defs`, `definitions`,
  `title`, `description`, `default`, `examples`, `format`, `readOnly`, `writeOnly`,
  `deprecated`, `contentMediaType`, `contentEncoding`.

Any other keyword is refused when the schema is loaded (exit 2): ignoring it would let
outputs through that the schema's author meant to reject.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeGuard

from harden_ci.errors import Location, SpecError

TYPES = ("string", "number", "integer", "boolean", "null", "object", "array")
ANNOTATIONS = frozenset({
    "$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default",
    "examples", "format", "readOnly", "writeOnly", "deprecated", "contentMediaType",
    "contentEncoding",
})
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
_COUNT_KEYS = ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties")
SUPPORTED = frozenset({
    "type", "enum", "const", "required", "properties", "additionalProperties", "items",
    "uniqueItems", "pattern", "anyOf", "oneOf", "allOf", "not", "$ref", *_NUMBER_KEYS,
    *_COUNT_KEYS,
})
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


def _has_type(value: object, name: str) -> bool:
    actual = type_name(value)
    return actual == name or (name == "number" and actual == "integer")


def describe(value: object) -> str:
    """`null`, `true`, or the type and a short rendering: `string "abc"`."""
    if value is None or isinstance(value, bool):
        return short(value)
    return f"{type_name(value)} {short(value, 40)}"


def _depth(error: str) -> int:
    where = error.split(": ", 1)[0]
    return where.count(".") + where.count("[")


def _none_matched(path: str, keyword: str, results: list[list[str]]) -> str:
    """The error for a value no alternative accepts. When one alternative got further into
    the value than the others (its first error is deeper), that error is the useful one."""
    best = max(range(len(results)), key=lambda i: (_depth(results[i][0]), -len(results[i])))
    if _depth(results[best][0]) > _depth(path + ": "):
        return results[best][0]
    return f"{path}: matches none of the {keyword} alternatives; nearest [{best}]: {results[best][0]}"


def short(value: object, limit: int = 60) -> str:
    """A value as compact JSON, cut to `limit` characters for messages."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SchemaValidator:
    """Checks decoded JSON values against one schema; `errors()` lists every violation."""

    def __init__(self, schema: object, source: str = "schema") -> None:
        self.source = source
        self._root = schema
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._check(schema, "#", 0)

    # --- loading ------------------------------------------------------------------------

    def _bad(self, where: str, message: str) -> SpecError:
        return SpecError(f"JSON Schema {where}: {message}", location=Location(self.source),
                         hint="supported keywords: " + ", ".join(sorted(SUPPORTED)))

    def _check(self, schema: object, where: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self._bad(where, "nested too deeply")
        if isinstance(schema, bool):
            return
        if not isinstance(schema, dict):
            raise self._bad(where, f"a schema must be an object or a boolean, not {type_name(schema)}")
        unknown = sorted(set(schema) - SUPPORTED - ANNOTATIONS)
        if unknown:
            raise self._bad(where, f"unsupported keyword {unknown[0]!r}; harden-ci refuses schemas "
                                   "it cannot fully enforce")
        self._check_values(schema, where)
        for key in ("items", "not", "additionalProperties"):
            if key in schema:
                self._check(schema[key], f"{where}/{key}", depth + 1)
        for key in ("properties", "$defs", "definitions"):
            for name, sub in schema.get(key, {}).items():
                self._check(sub, f"{where}/{key}/{name}", depth + 1)
        for key in ("anyOf", "oneOf", "allOf"):
            for i, sub in enumerate(schema.get(key, [])):
                self._check(sub, f"{where}/{key}/{i}", depth + 1)

    def _check_values(self, schema: dict[str, Any], where: str) -> None:
        types = schema.get("type", "string")
        for name in [types] if isinstance(types, str) else types if isinstance(types, list) else [None]:
            if name not in TYPES:
                raise self._bad(f"{where}/type", f"{short(name)} is not one of {', '.join(TYPES)}")
        for key in _NUMBER_KEYS:
            if key in schema and not is_number(schema[key]):
                raise self._bad(f"{where}/{key}", "must be a number")
        for key in _COUNT_KEYS:
            value = schema.get(key, 0)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
                raise self._bad(f"{where}/{key}", "must be a non-negative integer")
        required = schema.get("required", [])
        if not (isinstance(required, list) and all(isinstance(r, str) for r in required)):
            raise self._bad(f"{where}/required", "must be a list of property names")
        for key in ("properties", "$defs", "definitions"):
            if not isinstance(schema.get(key, {}), dict):
                raise self._bad(f"{where}/{key}", "must be an object of schemas")
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema and not (isinstance(schema[key], list) and schema[key]):
                raise self._bad(f"{where}/{key}", "must be a non-empty list of schemas")
        if "enum" in schema and not isinstance(schema["enum"], list):
            raise self._bad(f"{where}/enum", "must be a list")
        if "uniqueItems" in schema and not isinstance(schema["uniqueItems"], bool):
            raise self._bad(f"{where}/uniqueItems", "must be true or false")
        if "pattern" in schema:
            pattern = schema["pattern"]
            try:
                self._patterns[pattern] = re.compile(pattern)
            except (TypeError, re.error) as exc:
                raise self._bad(f"{where}/pattern", f"not a valid regular expression ({exc})") from None
        if "$ref" in schema:
            self._resolve(schema["$ref"], where)

    def _resolve(self, ref: object, where: str) -> object:
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            raise self._bad(f"{where}/$ref", f"only references inside the document (#/…) are "
                                             f"supported, not {short(ref)}")
        node: object = self._root
        for raw in ref[2:].split("/") if ref != "#" else []:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise self._bad(f"{where}/$ref", f"{ref} does not resolve")
        return node

    # --- validating ---------------------------------------------------------------------

    def errors(self, instance: object, limit: int = 20) -> list[str]:
        """Every violation as `<path>: <message>` (path `$` is the whole value), up to `limit`."""
        found: list[str] = []
        self._validate(self._root, instance, "$", found, 0)
        return found[:limit]

    def is_valid(self, instance: object) -> bool:
        return not self.errors(instance, limit=1)

    def _validate(self, schema: object, value: object, path: str, out: list[str], depth: int) -> None:
        if depth > MAX_DEPTH:
            out.append(f"{path}: schema recursion deeper than {MAX_DEPTH} levels")
            return
        if schema is True:
            return
        if schema is False or not isinstance(schema, dict):
            out.append(f"{path}: no value is allowed here")
            return
        if "$ref" in schema:
            self._validate(self._resolve(schema["$ref"], "#"), value, path, out, depth + 1)
        for check in (self._v_type, self._v_number, self._v_string, self._v_array, self._v_object,
                      self._v_combinators):
            check(schema, value, path, out, depth)

    def _v_type(self, s: dict[str, Any], v: object, path: str, out: list[str], _: int) -> None:
        if "type" in s:
            names = [s["type"]] if isinstance(s["type"], str) else s["type"]
            if not any(_has_type(v, n) for n in names):
                out.append(f"{path}: expected {' or '.join(names)}, got {describe(v)}")
        if "enum" in s and not any(json_equal(v, e) for e in s["enum"]):
            out.append(f"{path}: {short(v, 40)} is not one of {short(s['enum'])}")
        if "const" in s and not json_equal(v, s["const"]):
            out.append(f"{path}: expected {short(s['const'])}, got {short(v, 40)}")

    def _v_number(self, s: dict[str, Any], v: object, path: str, out: list[str], _: int) -> None:
        if not is_number(v):
            return
        n = float(v)
        if math.isnan(n):
            out.append(f"{path}: NaN is not a JSON number")
        bounds = {"minimum": (n.__ge__, "≥"), "maximum": (n.__le__, "≤"),
                  "exclusiveMinimum": (n.__gt__, ">"), "exclusiveMaximum": (n.__lt__, "<")}
        for key, (ok, word) in bounds.items():
            if key in s and not ok(float(s[key])):
                out.append(f"{path}: {short(v)} is not {word} {s[key]} ({key})")

    def _v_string(self, s: dict[str, Any], v: object, path: str, out: list[str], _: int) -> None:
        if not isinstance(v, str):
            return
        if "minLength" in s and len(v) < s["minLength"]:
            out.append(f"{path}: string of {len(v)} characters is shorter than minLength {s['minLength']}")
        if "maxLength" in s and len(v) > s["maxLength"]:
            out.append(f"{path}: string of {len(v)} characters is longer than maxLength {s['maxLength']}")
        if "pattern" in s and not self._patterns[s["pattern"]].search(v):
            out.append(f"{path}: {short(v, 40)} does not match pattern {s['pattern']!r}")

    def _v_array(self, s: dict[str, Any], v: object, path: str, out: list[str], depth: int) -> None:
        if not isinstance(v, list):
            return
        if "minItems" in s and len(v) < s["minItems"]:
            out.append(f"{path}: {len(v)} items, fewer than minItems {s['minItems']}")
        if "maxItems" in s and len(v) > s["maxItems"]:
            out.append(f"{path}: {len(v)} items, more than maxItems {s['maxItems']}")
        if s.get("uniqueItems"):
            for i, item in enumerate(v):
                if any(json_equal(item, other) for other in v[:i]):
                    out.append(f"{path}[{i}]: duplicate item {short(item, 40)} (uniqueItems)")
                    break
        if "items" in s:
            for i, item in enumerate(v):
                self._validate(s["items"], item, f"{path}[{i}]", out, depth + 1)

    def _v_object(self, s: dict[str, Any], v: object, path: str, out: list[str], depth: int) -> None:
        if not isinstance(v, dict):
            return
        for name in s.get("required", []):
            if name not in v:
                out.append(f"{path}: missing required property {name!r}")
        if "minProperties" in s and len(v) < s["minProperties"]:
            out.append(f"{path}: {len(v)} properties, fewer than minProperties {s['minProperties']}")
        if "maxProperties" in s and len(v) > s["maxProperties"]:
            out.append(f"{path}: {len(v)} properties, more than maxProperties {s['maxProperties']}")
        properties: dict[str, object] = s.get("properties", {})
        for name, item in v.items():
            where = f"{path}.{name}" if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else \
                f"{path}[{json.dumps(name, ensure_ascii=False)}]"
            if name in properties:
                self._validate(properties[name], item, where, out, depth + 1)
            elif s.get("additionalProperties") is False:
                out.append(f"{path}: property {name!r} is not allowed (additionalProperties: false)")
            elif "additionalProperties" in s:
                self._validate(s["additionalProperties"], item, where, out, depth + 1)

    def _v_combinators(self, s: dict[str, Any], v: object, path: str, out: list[str], depth: int) -> None:
        for sub in s.get("allOf", []):
            self._validate(sub, v, path, out, depth + 1)
        if "anyOf" in s:
            results = [self._sub_errors(sub, v, path, depth) for sub in s["anyOf"]]
            if all(results):
                out.append(_none_matched(path, "anyOf", results))
        if "oneOf" in s:
            results = [self._sub_errors(sub, v, path, depth) for sub in s["oneOf"]]
            matched = [i for i, r in enumerate(results) if not r]
            if not matched:
                out.append(_none_matched(path, "oneOf", results))
            elif len(matched) > 1:
                out.append(f"{path}: matches oneOf alternatives {matched}; exactly one is allowed")
        if "not" in s and not self._sub_errors(s["not"], v, path, depth):
            out.append(f"{path}: {short(v, 40)} matches the schema under `not`")

    def _sub_errors(self, schema: object, value: object, path: str, depth: int) -> list[str]:
        found: list[str] = []
        self._validate(schema, value, path, found, depth + 1)
        return found
