"""Hypothesis strategies for harden-ci specs (a helper for tests, not a test file).

`specs()` draws VALID spec dicts: plain data, exactly what `harden_ci.load` hands the
model (str/int/float/bool/None, dicts and lists; `schema` spelt by its alias). It covers
the whole model: 1-8 services over every language including `custom` and container-only,
1-64 shards, every optional section, and cross-references that resolve.

Two kinds of string:

- FREE TEXT (`Text` and `Command` fields, listed in FREE_TEXT_FIELDS) draws from a
  hostile alphabet: line breaks, quotes, YAML indicators, YAML 1.1 words, Unicode line
  and paragraph separators, bidi overrides, BOM, emoji, RTL text, leading and trailing
  blanks. It never holds `${{` nor a C0/C1 control character other than tab and newline,
  because the loader refuses those (tests/test_properties.py asserts the refusal).
- CONSTRAINED fields (names, paths, secret names, URLs, branch, runner, registry, image,
  cron, port-forward) draw from the forms harden_ci/model/types.py and the validators
  allow, including their awkward corners (YAML words as names and secret names, spaces
  and `@`/`+` in paths, `{number}` anywhere in a preview URL, cron fields split by any
  Unicode whitespace, runner classes with labels GitHub does not define). Secret names are checked
  against the model's own type, which refuses the names harden-ci's steps use. They are
  drawn from the intended forms only: a pattern's `$` also matching before a trailing
  newline is a separate property (test_constrained_fields_refuse_line_breaks).

Literal options are read from the model (`choices`), so an added option is drawn at once;
a new field fails test_strategy_covers_the_model until it is drawn here.

Presence of optional fields is decided by a 0..9 draw (see `present`), and every
sub-strategy is built once: generation stays fast (tens of milliseconds a spec).
"""

from __future__ import annotations

import copy
import functools
import re
import string
import typing
from collections.abc import Callable, Iterator
from typing import Any

import yaml
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from harden_ci import __version__ as _HARDEN_CI_VERSION
from harden_ci.model import base as _base
from harden_ci.model import cron as _cron
from harden_ci.model import delivery as _delivery
from harden_ci.model import environments as _environments_model
from harden_ci.model import gates as _gates
from harden_ci.model import managers as _managers
from harden_ci.model import runners as _runners
from harden_ci.model import services as _services
from harden_ci.model import types as _types
from harden_ci.model import verification as _verification

EXPRESSION_OPENER = "${{"


def choices(model: type[BaseModel], field: str) -> tuple[Any, ...]:
    """The values of a `Literal[...]` (or `Literal[...] | None`) field, read from the model,
    so an option added to or dropped from the model needs no change here."""
    annotation = model.model_fields[field].annotation
    for arg in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(arg) is typing.Literal:
            return typing.get_args(arg)
    raise TypeError(f"{model.__name__}.{field} is not a Literal field")


LANGUAGES: tuple[str, ...] = choices(_services.Service, "language")
SEVERITIES: tuple[str, ...] = choices(_gates.IacLint, "fail_on")
# Read at import: `_services` is rebound to the service strategy below.
STAGE_JOBS: tuple[str, ...] = typing.get_args(_services.StageJob)

Path_ = tuple[str | int, ...]
SpecDict = dict[str, Any]

# --------------------------------------------------------------------------- free text

# Fragments that have broken YAML emitters, shells or GitHub before. Joined at random.
HOSTILE_PIECES: tuple[str, ...] = (
    # line structure and blanks
    "\n", "\n\n", "\t", " ", "  ", "\n  ", "\n- ", "\n  - run: evil", "\nname: evil",
    "\njobs:\n  pwn:\n    runs-on: x", "\n---\n", "\n...\n", "\n#",
    # quotes and escapes
    "'", '"', "''", '""', '"""', "\\", "\\n", '\\"', "\\u2028", "\\x85", "\\0",
    # YAML indicators
    "#", " #", "# x", ":", ": ", "::", "*", "*a", "&", "&a", "|", "|-", ">", ">-", "{", "}",
    "[", "]", "{}", "[]", "%", "%YAML 1.2", "@", "`", "!", "!!str", "!!python/object:os.system",
    "?", "? ", "-", "- ", ",", "<<", "=",
    # YAML 1.1 and 1.2 words and numbers
    "on", "off", "yes", "no", "y", "n", "Yes", "NO", "null", "Null", "~", "true", "false",
    "True", "---", "...", "0o17", "0x1F", "017", "1e3", "3.10", ".inf", "-.inf", ".nan",
    "12:30:00", "2001-12-14", "+1",
    # shells, Jinja, GitHub
    "$", "${", "${ {", "$ {{", "{{", "}}", "{{ x }}", "{% raw %}", "{#", "$(id)", "`id`",
    "$HOME", "${HOME}", "::error::x", "::add-mask::x", "; rm -rf /", "&&", "||", "2>&1",
    # Unicode
    "é", "ñ", "Ω", "ß", "e\u0301", "中文", "日本語", "한국어", "😀", "👩\u200d💻", "🇫🇷",
    "שלום", "مرحبا", "\u2028", "\u2029", "\ufeff", "\u202e", "\u202d", "\u2066", "\u2069",
    "\u200b", "\u200d", "\u00a0", "\u3000", "\u1680", "\U0001d54f", "\ufffd", "\ufffe",
    "\uffff", "\u0378", "\ue000", "\U0010fffd",
)
# Any code point except surrogates and controls (tab and newline come from the pieces).
_ANY_CHAR = st.characters(exclude_categories=("Cs", "Cc"))
_PLAIN_PIECE = st.text(alphabet="abcxyz0123 -_./=", min_size=1, max_size=8)
_PIECE = st.one_of(
    _PLAIN_PIECE,
    st.sampled_from(HOSTILE_PIECES),
    st.text(_ANY_CHAR, min_size=1, max_size=4),
)
_EDGE_BLANKS = st.sampled_from(("", "", " ", "  ", "\t", "\n", " \n", "\n "))


def loader_safe(text: str, max_size: int) -> str:
    """`text` without `${{` (the loader refuses it), at most `max_size` code points."""
    text = text[:max_size]
    while EXPRESSION_OPENER in text:
        text = text.replace(EXPRESSION_OPENER, "${ {")[:max_size]
    return text


@functools.cache
def hostile_text(*, max_size: int = 200, max_pieces: int = 10) -> st.SearchStrategy[str]:
    """Free text the loader accepts: non-empty, hostile, never `${{`, no controls."""
    body = st.lists(_PIECE, min_size=1, max_size=max_pieces).map("".join)
    framed = st.tuples(_EDGE_BLANKS, body, _EDGE_BLANKS).map("".join)
    return framed.map(lambda s: loader_safe(s, max_size))


@functools.cache
def text_field() -> st.SearchStrategy[str]:
    """A `Text` field (1-200 code points): a version string, a flag or metric name."""
    return st.one_of(
        st.sampled_from(("3.12", "22", "1.24", "stable", "new-checkout", "llm_cost_usd",
                         # whole values YAML 1.1 or 1.2 would read as something else
                         "on", "yes", "no", "null", "~", "true", "3.10", "0o17", "1e3",
                         ".inf", "2001-12-14", "12:30", "-", "*a", "&a", "!x", "#", "'")),
        hostile_text(max_size=200),
    )


@functools.cache
def command_field() -> st.SearchStrategy[str]:
    """A `Command` field (1-8000 code points): shell text the user owns, multi-line."""
    return st.one_of(
        st.sampled_from(("pytest -q", "npm test", "./deploy.sh up", "make check", "true",
                         "on", "null", "- run: evil", "a: b", "|", "> x", "[x]", "{x: y}")),
        hostile_text(max_size=8000, max_pieces=12),
        # a long one: a line far past any emitter's preferred width
        st.tuples(hostile_text(max_pieces=4), st.integers(20, 120)).map(
            lambda t: loader_safe(t[0] * t[1], 8000)),
    )


# --------------------------------------------------------------------------- constrained

_LOWER = string.ascii_lowercase
_UPPER = string.ascii_uppercase
# YAML words and near-misses that are valid names, and so become job ids and keys.
_NAME_WORDS = ("api", "web", "on", "off", "yes", "no", "y", "n", "null", "true", "false",
               "nan", "inf", "e2e", "required", "drift-guard", "secret-scan", "test",
               "preview", "staging", "production", "a" * 40)


@functools.cache
def names() -> st.SearchStrategy[str]:
    """Service and environment names: ^[a-z][a-z0-9_-]{0,39}$."""
    drawn = st.tuples(st.sampled_from(_LOWER),
                      st.text(alphabet=_LOWER + string.digits + "_-", max_size=12))
    return st.one_of(st.sampled_from(_NAME_WORDS), drawn.map("".join))


# Names harden-ci itself passes to its scripts through env (a secret of the same name
# must not replace them), names the runner relies on, and YAML words.
_SECRET_WORDS = ("DEPLOY_TOKEN", "_", "A", "HARDEN_CI_URL", "HARDEN_CI_ENVIRONMENT",
                 "HARDEN_CI_PR_NUMBER", "HARDEN_CI_SEED", "HARDEN_CI_PROMETHEUS_URL",
                 "COMMAND", "TEST_COMMAND", "SETUP_COMMAND", "TEARDOWN_COMMAND",
                 "SHIFT_COMMAND", "ROLLBACK_COMMAND", "FLAG_COMMAND", "LLM_COMMAND",
                 "SCHEMA_CHECK", "DATABASE_URL", "URL_TEMPLATE", "IMAGE", "DIGEST",
                 "REQUIREMENTS", "GH_TOKEN", "GITLEAKS_LICENSE", "PATH", "HOME", "CI",
                 "ACTIONS_RUNTIME_TOKEN", "GITHUBTOKEN", "GITHUB", "RUNNER_TEMP",
                 "ON", "YES", "NO", "Y", "NULL", "TRUE", "FALSE")


def _secret_name_ok(name: str) -> bool:
    """What the model accepts as a secret or variable name (it refuses the names
    harden-ci's own steps use, and that list grows with the scripts)."""
    try:
        _SECRET_NAME.validate_python(name)
    except ValidationError:
        return False
    return True


# The model's own type, with the model's regex engine.
_SECRET_NAME: TypeAdapter[str] = TypeAdapter(_types.SecretName, config=ConfigDict(
    strict=True, regex_engine=_base.SpecModel.model_config.get("regex_engine", "rust-regex")))


@functools.cache
def colliding_secret_names() -> st.SearchStrategy[str]:
    """Only the awkward names the model accepts: YAML words, runner and tool names, and
    whatever of harden-ci's own env names it does not refuse."""
    return st.sampled_from([n for n in _SECRET_WORDS if _secret_name_ok(n)])


@functools.cache
def secret_names() -> st.SearchStrategy[str]:
    """Secret and variable names: ^[A-Z_][A-Z0-9_]{0,99}$, minus the reserved ones."""
    drawn = st.tuples(st.sampled_from(_UPPER + "_"),
                      st.text(alphabet=_UPPER + string.digits + "_", max_size=12)).map("".join)
    return st.one_of(colliding_secret_names(), drawn.filter(_secret_name_ok))


def _repair_branch(raw: str) -> str:
    while ".." in raw:
        raw = raw.replace("..", "._")
    if raw[0] in ".-/":
        raw = "b" + raw
    if raw.endswith((".", "/")):
        raw += "x"
    return raw


@functools.cache
def branches() -> st.SearchStrategy[str]:
    """A default branch: ^[A-Za-z0-9_][A-Za-z0-9._/-]{0,99}$, no `..`, not ending in `.`
    or `/`."""
    drawn = st.text(alphabet=string.ascii_letters + string.digits + "._/-",
                    min_size=1, max_size=30).map(_repair_branch)
    return st.one_of(st.sampled_from(("main", "master", "on", "yes", "null", "true", "_",
                                      "release/1.x", "feature/a-b_c", "v1.0", "_x")), drawn)


@functools.cache
def runners() -> st.SearchStrategy[str]:
    """A runner label: ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$."""
    drawn = st.tuples(st.sampled_from(string.ascii_letters + string.digits),
                      st.text(alphabet=string.ascii_letters + string.digits + "._-",
                              max_size=12)).map("".join)
    return st.one_of(st.sampled_from(("ubuntu-24.04", "ubuntu-latest", "ubuntu-22.04",
                                      "ubuntu-24.04-arm", "self-hosted", "on", "yes")), drawn)


@functools.cache
def registries() -> st.SearchStrategy[str]:
    """A registry prefix: ^[a-z0-9][a-z0-9.-]*(:[0-9]{1,5})?(/[a-z0-9][a-z0-9._-]*)*$."""
    host = st.one_of(
        st.sampled_from(("ghcr.io", "docker.io", "localhost", "registry.example.com",
                         "123456789012.dkr.ecr.eu-west-1.amazonaws.com")),
        st.tuples(st.sampled_from(_LOWER + string.digits),
                  st.text(alphabet=_LOWER + string.digits + ".-", max_size=20)).map("".join),
    )
    port = st.one_of(st.just(""), st.integers(0, 99999).map(lambda p: f":{p}"))
    part = st.tuples(st.sampled_from(_LOWER + string.digits),
                     st.text(alphabet=_LOWER + string.digits + "._-", max_size=12)).map("".join)
    parts = st.lists(part, max_size=3).map(lambda ps: "".join("/" + p for p in ps))
    return st.tuples(host, port, parts).map("".join).filter(lambda s: len(s) <= 200)


_PATH_COMPONENT_CHARS = string.ascii_letters + string.digits + "._@+ -"


def _path_from(components: list[str], lead_dot: bool, trail_slash: bool) -> str:
    path = "/".join(components)
    if path[0] in " -":  # the first character may be neither
        path = "p" + path
    if lead_dot:
        path = "./" + path
    return path + ("/" if trail_slash else "")


@functools.cache
def repo_paths() -> st.SearchStrategy[str]:
    """A path inside the repository: relative, no `..`, no backslash, plain characters."""
    component = st.text(alphabet=_PATH_COMPONENT_CHARS, min_size=1, max_size=8).filter(
        lambda c: c.strip(" ") != ".." and c != "..")
    drawn = st.builds(_path_from, st.lists(component, min_size=1, max_size=3),
                      st.booleans(), st.booleans())
    return st.one_of(
        st.sampled_from((".", "services/api", "./svc/", "a b/c d", "@scope/pkg", "a+b",
                         "...", ".hidden/x", "on", "yes/no", "x//y", "deploy/")),
        drawn.filter(lambda p: ".." not in p.split("/")),
    )


_URL_HOST_CHARS = string.ascii_letters + string.digits + ".-"
_URL_PATH_CHARS = string.ascii_letters + string.digits + "._~%!&()*+,;=:@/-"


@functools.cache
def urls(*, pr_number: bool = False) -> st.SearchStrategy[str]:
    """An https URL (plain http only for localhost); with `pr_number`, `{number}` may
    stand anywhere, the host included."""
    label = st.text(alphabet=_URL_HOST_CHARS, min_size=1, max_size=8)
    if pr_number:
        label = st.one_of(label, st.sampled_from(("pr-{number}", "{number}", "x{number}y")))
    host = st.one_of(st.sampled_from(("example.com", "prom.example.com")),
                     st.lists(label, min_size=1, max_size=3).map(".".join))
    port = st.one_of(st.just(""), st.integers(0, 99999).map(lambda p: f":{p}"))
    segment = st.text(alphabet=_URL_PATH_CHARS, max_size=8)
    if pr_number:
        segment = st.one_of(segment, st.just("{number}"))
    path = st.one_of(st.just(""), st.lists(segment, min_size=1, max_size=3).map(
        lambda ss: "/" + "/".join(ss)))
    https = st.tuples(st.just("https://"), host, port, path).map("".join)
    local = st.tuples(st.sampled_from(("http://localhost", "http://127.0.0.1")), port,
                      path).map("".join)
    return st.one_of(https, local)


@functools.cache
def digest_images() -> st.SearchStrategy[str]:
    """An image pinned by digest: name[:port/path][:tag]@sha256:<64 hex>."""
    name = st.sampled_from(("postgres", "mysql", "library/postgres", "docker.io/library/mysql",
                            "registry.example.com:5000/db/pg", "ghcr.io/acme/db", "a"))
    tag = st.one_of(st.just(""), st.sampled_from((":17", ":8.4", ":latest", ":17-alpine",
                                                  ":on", ":A._-1")))
    digest = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
    return st.tuples(name, tag, st.just("@sha256:"), digest).map("".join)


@functools.cache
def durations(longest: int = 7 * 24 * 3600) -> st.SearchStrategy[int | str]:
    """1 second to `longest` (7 days unless said): whole seconds, or `1h30m`-style text."""
    part = st.one_of(st.none(), st.integers(0, 200))
    spelled = st.tuples(part, part, part).filter(
        lambda hms: any(p is not None for p in hms)
        and 1 <= (hms[0] or 0) * 3600 + (hms[1] or 0) * 60 + (hms[2] or 0) <= longest
    ).map(lambda hms: "".join(f"{v}{u}" for v, u in zip(hms, "hms", strict=True)
                              if v is not None))
    usual = [text for text, seconds in (("15m", 900), ("10m", 600), ("1h30m", 5400),
                                        ("90s", 90)) if seconds <= longest]
    return st.one_of(*([st.sampled_from(usual)] if usual else []), spelled,
                     st.integers(1, longest))


@functools.cache
def rates() -> st.SearchStrategy[float | int]:
    return st.one_of(st.sampled_from((0.01, 0.05, 0.1, 0, 1, 0.0, 1.0)),
                     st.floats(min_value=0.0, max_value=1.0, allow_nan=False))


@functools.cache
def milliseconds() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from((300, 1500)), st.integers(1, 3_600_000))


@functools.cache
def canary_steps() -> st.SearchStrategy[list[int]]:
    """Strictly rising percentages ending at 100."""
    return st.lists(st.integers(1, 99), max_size=5, unique=True).map(
        lambda xs: [*sorted(xs), 100])


@functools.cache
def crons() -> st.SearchStrategy[str]:
    """Five valid cron fields (each item in its field's range: `*`, `N`, `N-M`, with or
    without `/STEP`, comma lists of them), split by any whitespace (the model splits on
    Unicode whitespace, line breaks included, and rejoins with spaces). Schedules GitHub
    would refuse (under 5 minutes apart, a date that never occurs) are filtered out."""
    gap = st.one_of(st.just(" "), st.sampled_from(("  ", "\t", "\n", " \n ", "\u3000",
                                                   "\u2028", "\u00a0")))
    fields = [_cron_field(lowest, highest) for _, lowest, highest in _cron.FIELDS]
    return st.tuples(_EDGE_BLANKS, fields[0], gap, fields[1], gap, fields[2], gap, fields[3],
                     gap, fields[4], _EDGE_BLANKS).map("".join).filter(
        lambda cron: _cron.cron_problem(cron) is None)


def _cron_field(lowest: int, highest: int) -> st.SearchStrategy[str]:
    number = st.integers(lowest, highest)
    step = st.integers(1, highest + 1).map(lambda n: f"/{n}")
    span = st.tuples(number, number).map(lambda ab: f"{min(ab)}-{max(ab)}")
    item = st.one_of(st.just("*"), number.map(str), span,
                     st.tuples(st.sampled_from(("*",)) | span, step).map("".join))
    return st.one_of(st.just("*"), number.map(str),
                     st.lists(item, min_size=1, max_size=3).map(",".join))


@functools.cache
def port_forwards() -> st.SearchStrategy[str]:
    """`kubectl port-forward` target: (svc|service|deploy|deployment|pod)/NAME L:R."""
    kind = st.sampled_from(("svc", "service", "deploy", "deployment", "pod"))
    name = st.tuples(st.sampled_from(_LOWER + string.digits),
                     st.text(alphabet=_LOWER + string.digits + ".-", max_size=10)).map("".join)
    port = st.integers(0, 99999).map(str)
    return st.tuples(kind, st.just("/"), name, st.just(" "), port, st.just(":"), port).map(
        "".join)


@functools.cache
def cost_budgets() -> st.SearchStrategy[SpecDict]:
    """`{max: > 0}`: a float, an int, or infinity (the model accepts all three)."""
    return st.fixed_dictionaries({"max": st.one_of(
        st.floats(min_value=0.0, exclude_min=True, allow_nan=False, allow_infinity=False),
        st.integers(1, 10**6), st.just(float("inf")))})


# Presence and null decisions. Hypothesis' fresh draws would include an optional field
# half the time, and nesting halves it again at every level (gates -> iac_lint -> helm),
# so deep fields would be rare within a CI-sized budget. A draw from 0..9 keeps a field
# with probability 0.7 instead, while 0 (what Hypothesis shrinks towards) still means
# "absent": failing examples shrink to small specs.
_DIE = st.integers(0, 9)


def present(draw: st.DrawFn, p: float = 0.7) -> bool:
    return draw(_DIE) >= round(10 * (1 - p))


@st.composite
def _fields(draw: st.DrawFn, required: dict[str, st.SearchStrategy[Any]],
            optional: dict[str, st.SearchStrategy[Any]], p: float) -> SpecDict:
    out = {key: draw(strategy) for key, strategy in required.items()}
    for key, strategy in optional.items():
        if present(draw, p):
            out[key] = draw(strategy)
    return out


def fields(required: dict[str, st.SearchStrategy[Any]] | None = None,
           optional: dict[str, st.SearchStrategy[Any]] | None = None,
           p: float = 0.7) -> st.SearchStrategy[SpecDict]:
    """A mapping with every `required` key and each `optional` key with probability p."""
    return _fields(required or {}, optional or {}, p)


@st.composite
def _nullable(draw: st.DrawFn, strategy: st.SearchStrategy[Any]) -> Any:
    return None if draw(_DIE) == 9 else draw(strategy)


def _maybe_null(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A `X | None` field spelt out: mostly X, one time in ten an explicit `~`."""
    return _nullable(strategy)


# --------------------------------------------------------------------------- sections
# Sub-strategies are built once (functools.cache, module constants): building strategy
# objects inside a composite on every draw costs more than drawing from them.


@functools.cache
def projects() -> st.SearchStrategy[SpecDict]:
    return fields(
        {"name": text_field()},
        optional={"default_branch": branches(), "registry": _maybe_null(registries()),
                  "runner": runners(), "code_scanning": st.booleans(),
                  "runners": runner_classes(), "secrets_environment": names(),
                  "shared_paths": st.lists(repo_paths(), max_size=3),
                  "release": st.one_of(
                      fields(optional={"trigger": st.just("branch"),
                                       "checks_timeout": st.sampled_from(("90m", 60, "5h55m"))}),
                      fields({"trigger": st.just("tags")}, optional={
                          "tags": st.lists(st.sampled_from(("v*", "release-[0-9]*", "v**",
                                                            "a+b", "x/y?")), max_size=3),
                          "checks_timeout": st.integers(1, 355 * 60)})),
                  "timeouts": st.dictionaries(st.sampled_from(STAGE_JOBS),
                                              st.integers(1, 360), max_size=3)},
    )


@functools.cache
def runner_classes() -> st.SearchStrategy[dict[str, str | list[str]]]:
    """`project.runners`: class name -> one label, or a list of self-hosted labels (one
    or more, none twice, no GitHub-hosted image among several). `default` overrides
    `project.runner`."""
    labels = st.one_of(runners(), st.lists(runners(), min_size=1, max_size=3, unique=True).filter(
        lambda found: _runners.label_list_problem(found) is None))
    return st.dictionaries(st.one_of(st.just("default"), names()), labels, max_size=3)


_SERVICE_OPTIONAL = fields(optional={
    "path": repo_paths(),
    "shards": st.one_of(st.sampled_from((1, 2, 64)), st.integers(1, 64)),
    "openapi": _maybe_null(repo_paths()),
    "kind": st.sampled_from(choices(_services.Service, "kind")),
    "runner": _maybe_null(runners()),
    "watch": st.lists(repo_paths(), max_size=3),
})


_STAGES = st.one_of(st.sampled_from(("build", "runtime", "on", "A._-1")),
                   st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True))
_IMAGE_PART = st.from_regex(r"[a-z0-9]{1,6}([._-][a-z0-9]{1,6}){0,2}", fullmatch=True)
_BUILD_ARG_VALUES = st.one_of(
    st.sampled_from(("", "1", "on", "null", "a b", "x=y", "'\"", "#")),
    hostile_text(max_size=500).map(lambda v: v.replace("\r", " ").replace("\n", " ")))
_DOCKER = fields(optional={
    "context": repo_paths(),
    "target": _maybe_null(_STAGES),
    "args": st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,20}", fullmatch=True),
                            _BUILD_ARG_VALUES, max_size=3),
    "secrets": st.lists(secret_names(), max_size=3, unique=True),
    "platforms": st.lists(st.sampled_from(tuple(
        "linux/" + arch for arch in ("amd64", "arm64", "arm/v6", "arm/v7", "386", "ppc64le",
                                     "s390x", "riscv64"))), max_size=3, unique=True),
    "image": _maybe_null(st.lists(_IMAGE_PART, min_size=1, max_size=3).map("/".join)),
})
# The files each language's setup takes as `version_file` (the model's own table).
_VERSION_FILES: dict[str, tuple[str, ...]] = _services._VERSION_FILES
_FOLDERS = st.sampled_from(("", "", "svc/", "a b/", "@scope/pkg/"))
_UNKNOWN_LOCKFILES = st.sampled_from(("deps.lock", "lock/all.txt", "x.lock"))


@st.composite
def toolchains(draw: st.DrawFn, language: str, manager_p: float = 0.5) -> SpecDict:
    """What a service (or workspace) of `language` may say about its toolchain: a package
    manager of that language, its lockfile (or one whose name tells no manager), and a
    version or a version file, never both."""
    out: SpecDict = {}
    managers = sorted(name for name, m in _managers.MANAGERS.items() if m.language == language)
    manager = draw(st.sampled_from(managers)) if managers and present(draw, manager_p) \
        else None
    if manager is not None:
        out["package_manager"] = manager
    if managers and present(draw, 0.4):
        if present(draw, 0.2):
            out["lockfile"] = draw(_UNKNOWN_LOCKFILES)
        else:
            named = manager or draw(st.sampled_from(managers))
            lockfile = _managers.MANAGERS[named].lockfile
            if named == "pip" and present(draw, 0.5):
                lockfile = "requirements-dev.txt"
            out["lockfile"] = draw(_FOLDERS) + lockfile
    if language in _VERSION_FILES and present(draw, 0.3):
        # rustup reads the toolchain file from the service's folder or above: the root
        folder = "" if language == "rust" else draw(_FOLDERS)
        out["version_file"] = folder + draw(st.sampled_from(_VERSION_FILES[language]))
    elif present(draw):
        out["version"] = draw(text_field())
    return out


@st.composite
def _services(draw: st.DrawFn) -> SpecDict:
    language = draw(st.sampled_from((*LANGUAGES, None)))  # None: container-only
    service: SpecDict = {}
    if language is not None:
        service["language"] = language
    if language is None:
        service["dockerfile"] = draw(repo_paths())
    elif present(draw):
        service["dockerfile"] = draw(_maybe_null(repo_paths()))
    if service.get("dockerfile") and present(draw, 0.5):
        service["docker"] = draw(_DOCKER)
    if language is not None and language != "custom":
        service.update(draw(toolchains(language)))
    elif language == "custom" and present(draw):
        service["version"] = draw(text_field())
    if language is not None:
        for key in ("install", "test"):
            if present(draw):
                service[key] = draw(command_field())
    if language == "custom":
        if "test" not in service:
            service["test"] = draw(command_field())
        if present(draw):
            service["setup"] = draw(command_field())
    if language is not None:
        for key in ("lint", "typecheck"):
            if present(draw, 0.3):
                service[key] = draw(command_field())
        if present(draw, 0.3):
            service["timeout_minutes"] = draw(st.one_of(st.sampled_from((1, 30, 360)),
                                                        st.integers(1, 360)))
        if present(draw, 0.3):
            service["test_environment"] = draw(unit_environments())
    service.update(draw(_SERVICE_OPTIONAL))
    return service


_HEALTH = st.one_of(st.sampled_from(("pg_isready -U postgres", "redis-cli ping", "a")),
                    st.from_regex(r"[A-Za-z0-9 _./:=@,+%-]{1,40}", fullmatch=True))
_ENV_VALUES = st.one_of(st.sampled_from(("", "on", "null", "redis://localhost:6379/0", "'\"")),
                        hostile_text(max_size=300))


@st.composite
def unit_environments(draw: st.DrawFn) -> SpecDict:
    """`test_environment`: containers with distinct runner ports, env, vars and secrets,
    no name in two of env, vars and secrets."""
    out: SpecDict = {}
    if present(draw, 0.6):
        ports = draw(st.lists(st.integers(1, 65535), max_size=4, unique=True))
        containers: SpecDict = {}
        for name in draw(st.lists(names(), max_size=3, unique=True)):
            box: SpecDict = {"image": draw(digest_images())}
            mine, ports = ports[:2], ports[2:]
            if mine:
                box["ports"] = [p if present(draw, 0.5) else f"{p}:{draw(st.integers(1, 65535))}"
                                for p in mine]
            if present(draw, 0.5):
                box["env"] = draw(st.dictionaries(secret_names(), _ENV_VALUES, max_size=2))
            if present(draw, 0.5):
                box["health"] = draw(_HEALTH)
            containers[name] = box
        out["services"] = containers
    taken = draw(st.lists(secret_names(), max_size=6, unique=True))
    env, variables, secrets = taken[:2], taken[2:4], taken[4:]
    if env or present(draw, 0.2):
        out["env"] = {name: draw(_ENV_VALUES) for name in env}
    if variables or present(draw, 0.2):
        out["vars"] = variables
    if secrets or present(draw, 0.2):
        out["secrets"] = secrets
    return out


@st.composite
def workspaces(draw: st.DrawFn) -> SpecDict:
    """One entry of `workspaces:`: a language (never custom), its toolchain settings."""
    # node and python twice: most monorepos, and most of the package managers
    language = draw(st.sampled_from(tuple(lang for lang in (*LANGUAGES, "node", "python")
                                          if lang != "custom")))
    workspace: SpecDict = {"language": language}
    if present(draw, 0.5):
        workspace["path"] = draw(st.sampled_from((".", "packages", "./mono/", "a b")))
    workspace.update(draw(toolchains(language, manager_p=0.8)))
    if present(draw, 0.5):
        workspace["install"] = draw(command_field())
    if present(draw, 0.5):
        workspace["watch"] = draw(st.lists(repo_paths(), max_size=2))
    return workspace


@st.composite
def members(draw: st.DrawFn, workspace_name: str, workspace: SpecDict) -> SpecDict:
    """A service of a workspace: under its folder, setting nothing the workspace decides
    (the language at most, the same)."""
    member: SpecDict = {"workspace": workspace_name}
    if present(draw, 0.3):
        member["language"] = workspace["language"]
    root = workspace.get("path", ".")
    if present(draw, 0.5):
        member["test"] = draw(command_field())
    if present(draw, 0.3):
        member["dockerfile"] = draw(repo_paths())
    member.update(draw(_SERVICE_OPTIONAL))
    if root != ".":  # a member's folder lies under its workspace's
        member["path"] = root + "/" + member.get("path", "svc")
    return member


@functools.cache
def services() -> st.SearchStrategy[SpecDict]:
    """One service: any language (custom with setup/install/test) or container-only."""
    return _services()


_ENVIRONMENT_OPTIONAL = fields(optional={
    "reviewers": st.booleans(),
    "secrets": st.lists(secret_names(), max_size=4),
    "vars": st.lists(secret_names(), max_size=3),
    "ttl": durations(),
})


_UUIDS = st.uuids().map(str)
_DIGITS = st.text("0123456789", min_size=1, max_size=20)
_POOL_ID = st.from_regex(r"[a-z0-9-]{4,32}", fullmatch=True)


@st.composite
def cloud_logins(draw: st.DrawFn) -> SpecDict:
    """`cloud:`: an AWS role, a Google Cloud workload identity or an Azure app registration."""
    provider = draw(st.sampled_from(("aws", "gcp", "azure")))
    if provider == "aws":
        login: SpecDict = {
            "provider": "aws",
            "role_arn": "arn:aws:iam::" + draw(st.text("0123456789", min_size=12, max_size=12))
                        + ":role/" + draw(st.from_regex(r"[A-Za-z0-9+=,.@_/-]{1,64}",
                                                        fullmatch=True)),
            "region": draw(st.sampled_from(("eu-west-1", "us-east-2", "ap-southeast-1",
                                            "us-gov-west-1")))}
        if present(draw):
            login["session_duration"] = draw(st.integers(900, 43200))
        return login
    if provider == "gcp":
        return {"provider": "gcp",
                "workload_identity_provider":
                    f"projects/{draw(_DIGITS)}/locations/global/workloadIdentityPools/"
                    f"{draw(_POOL_ID)}/providers/{draw(_POOL_ID)}",
                "service_account": draw(st.from_regex(r"[a-z0-9-]{1,30}", fullmatch=True))
                                   + "@p-1.iam.gserviceaccount.com"}
    return {"provider": "azure", "client_id": draw(_UUIDS), "tenant_id": draw(_UUIDS),
            "subscription_id": draw(_UUIDS)}


@st.composite
def _environments(draw: st.DrawFn) -> SpecDict:
    provider = draw(st.sampled_from((None, *choices(_environments_model.Environment,
                                                    "provider"))))
    # `kind` is an ephemeral cluster inside one job: per pull request, always
    per_pr = True if provider == "kind" else draw(st.sampled_from((None, False, True)))
    env: SpecDict = {}
    if provider is not None:
        env["provider"] = provider
    if per_pr is not None:
        env["per_pull_request"] = per_pr
    if provider in (None, "command") or present(draw):
        env["deploy"] = draw(command_field())
    if (per_pr and provider in (None, "command")) or present(draw):
        env["teardown"] = draw(command_field())
    if provider == "kind" or present(draw):
        env["manifests"] = draw(repo_paths())
    if provider == "kind" or present(draw, 0.3):
        env["port_forward"] = draw(port_forwards())
    if provider == "kind" or present(draw):
        env["url"] = draw(urls(pr_number=bool(per_pr)))
    env.update(draw(_ENVIRONMENT_OPTIONAL))
    if provider != "kind" and present(draw):  # kind has no cloud to log in to
        env["cloud"] = draw(cloud_logins())
    return env


@functools.cache
def environments() -> st.SearchStrategy[SpecDict]:
    """One environment: command or kind provider, per-pull-request with `{number}` URLs."""
    return _environments()


_SECRET_SCAN = fields(optional={
    "tool": st.sampled_from(choices(_gates.SecretScan, "tool")),
    "allowlist": _maybe_null(repo_paths()),
})
_IAC_LINT_PARTS = fields(optional={
    "terraform": repo_paths(), "kubernetes": repo_paths(), "helm": _maybe_null(repo_paths()),
    "dockerfiles": st.booleans(), "workflows": st.sampled_from((True, False, "all")),
    "fail_on": st.sampled_from(SEVERITIES),
    "hadolint_ignore": st.lists(st.from_regex(r"(DL|SC)[0-9]{4}", fullmatch=True),
                                max_size=3),
    "hadolint_config": _maybe_null(repo_paths()),
})


@st.composite
def _iac_lints(draw: st.DrawFn) -> SpecDict:
    """`gates.iac_lint`, with checkov baselines only for the folders it scans."""
    lint = draw(_IAC_LINT_PARTS)
    targets = [key for key in ("terraform", "kubernetes", "helm") if lint.get(key)]
    if present(draw, 0.5):
        baselines: SpecDict = {}
        for key in targets:
            if present(draw):
                baselines[key] = draw(repo_paths())
        lint["baselines"] = baselines if baselines or present(draw) else None
    return lint


_IAC_LINT = _iac_lints()
_VULNERABILITIES = fields(optional={
    "fail_on": st.sampled_from(SEVERITIES),
    "scanner": st.sampled_from(choices(_gates.Vulnerabilities, "scanner")),
})
_GATE_PARTS = fields(optional={
    "secret_scan": _maybe_null(_SECRET_SCAN),
    "iac_lint": _maybe_null(_IAC_LINT),
    "schema_drift": st.just(True),
    "vulnerabilities": _maybe_null(_VULNERABILITIES),
})


@st.composite
def gates(draw: st.DrawFn, service_names: list[str]) -> SpecDict:
    """`gates:` with both secret scanners, every lint and a resolving `schema_drift`."""
    parts = draw(_GATE_PARTS)
    if "schema_drift" in parts:
        preset = draw(st.sampled_from((None, *choices(_gates.SchemaDrift, "preset"))))
        drift: SpecDict = {"service": draw(st.sampled_from(service_names))}
        if preset is not None:
            drift["preset"] = preset
        if preset in (None, "command") or present(draw):
            drift["command"] = draw(command_field())
        databases = choices(_gates.SchemaDrift, "database")
        if preset == "atlas":  # Atlas replays the migrations on a dev database
            databases = tuple(d for d in databases if d != "none")
        database = draw(st.sampled_from(databases if preset == "atlas" else (None, *databases)))
        if database is not None:
            drift["database"] = database
        if preset == "atlas":
            for key, name in (("migrations", "migrations"), ("desired_schema", "schema.sql")):
                if present(draw, 0.75):
                    drift[key] = draw(st.sampled_from((name, f"db/{name}", f"a.b/{name}")))
        if present(draw, 0.3):
            drift["install"] = draw(command_field())
        if database not in (None, "none"):  # a database container runs only by digest
            drift["database_image"] = draw(digest_images())
        elif present(draw, 0.2):
            drift["database_image"] = None
        parts["schema_drift"] = drift
    return parts


@functools.cache
def supply_chains() -> st.SearchStrategy[SpecDict]:
    return fields(optional={
        "sbom": st.sampled_from(choices(_gates.SupplyChain, "sbom")),
        "sign": st.sampled_from(choices(_gates.SupplyChain, "sign")),
        "provenance": st.booleans(),
        "slsa": st.booleans(),
    })


@functools.cache
def budgets() -> st.SearchStrategy[SpecDict]:
    return fields(optional={
        "api_p95_ms": milliseconds(), "llm_tool_p95_ms": milliseconds(),
        "p50_ms": _maybe_null(milliseconds()), "error_rate": rates(),
        "cold_start_ms": _maybe_null(milliseconds()),
    })


_SECTIONS = fields(optional={
    key: st.just(True)
    for key in ("gates", "supply_chain", "environments", "tests", "load", "delivery",
                "schedules", "workspaces", "harden_ci")})
_TEST_KINDS = fields(optional={
    k: st.just(True) for k in ("contract", "e2e", "llm", "auth")})
_CONTRACT = fields(optional={
    "breaking_changes": st.sampled_from(choices(_verification.ContractTests,
                                                "breaking_changes")),
    "fuzz": st.booleans(), "ruleset": _maybe_null(repo_paths())})
_E2E_OPTIONAL = fields(optional={"reports": repo_paths()})
_LLM_OPTIONAL = fields(optional={
    "seed": st.integers(0, 2**31 - 1), "schema": _maybe_null(repo_paths()),
    "tolerance": rates(), "token_budget": rates(), "baseline": _maybe_null(repo_paths()),
    "secrets": st.lists(secret_names(), max_size=3),
    "samples": st.one_of(st.sampled_from((1, 2, 1000)), st.integers(1, 1000)),
    "allow_no_token_baseline": st.booleans(),
    "judge": _maybe_null(fields(
        {"command": command_field(), "prompt": repo_paths(),
         "prompt_sha256": st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)},
        optional={"seed": st.integers(0, 2**31 - 1)}))})
_AUTH_OPTIONAL = fields(optional={
    "rotate_command": _maybe_null(command_field()),
    "revoked_token_command": _maybe_null(command_field()),
    "tenant_b_token_command": _maybe_null(command_field()),
    "wrong_audience_token_command": _maybe_null(command_field()),
    "wrong_issuer_token_command": _maybe_null(command_field()),
    "expired_token_command": _maybe_null(command_field()),
    "forged_tokens": st.booleans(), "rotation_grace": _maybe_null(durations()),
    "protected_path": text_field(), "tenant_b_path": _maybe_null(text_field()),
    "tenant_b_query": _maybe_null(text_field()),
    # `Name: value` (the model checks the colon): a validated field, never replaced
    "tenant_b_header": _maybe_null(st.tuples(
        st.sampled_from(("X-Tenant-Id", "x", "on", "Tenant")), st.sampled_from((":", ": ")),
        st.one_of(st.just(""), text_field())).map("".join)),
    "max_token_lifetime": durations()})
# A job's budget must fit a GitHub-hosted runner's 6 hours (harden_ci/plan/limits.py; the
# refusal is tested in tests/test_canary_timeouts.py): soaks and bakes here are ones the
# tool accepts on the hosted runners the strategies use.
@st.composite
def _stages(draw: st.DrawFn, duration_s: int) -> list[SpecDict]:
    """1 to 4 stages that fit in `duration_s` together."""
    count = draw(st.integers(1, min(4, duration_s)))
    each = duration_s // count
    return [{"target": draw(st.integers(0, 50)), "duration": draw(durations(longest=each))}
            for _ in range(count)]


@st.composite
def journeys(draw: st.DrawFn, duration_s: int) -> str | SpecDict:
    """A `load.soak.scripts` entry: a path, or a load model of each k6 executor that fits
    a soak of `duration_s` (harden_ci/model/soak_load.py)."""
    script = draw(repo_paths())
    shape = draw(st.sampled_from(("path", "vus", "ramp", "rate", "ramping-rate")))
    if shape == "path":
        return script
    out: SpecDict = {"script": script}
    if shape == "vus":
        if present(draw, 0.8):
            out["vus"] = draw(st.integers(1, 100))
        return out
    stages = draw(_stages(duration_s))
    if shape == "ramp":
        out["stages"] = stages
        if present(draw, 0.9):
            out["start_vus"] = draw(st.integers(0, 20))
        if max(out.get("start_vus", 1), *(s["target"] for s in stages)) == 0:
            stages[0]["target"] = 1  # a ramp with no VU at all is refused
        return out
    pre = draw(st.integers(0, 20))
    out["pre_allocated_vus"] = pre
    if present(draw, 0.5):
        out["max_vus"] = draw(st.integers(max(pre, 1), 100))
    elif pre == 0:
        out["pre_allocated_vus"] = 1  # no VU at all is refused
    if present(draw, 0.5):
        out["time_unit"] = draw(durations(longest=60))
    if shape == "rate":
        out["rate"] = draw(st.integers(1, 1000))
        return out
    out["stages"] = stages
    if present(draw, 0.9):
        out["start_rate"] = draw(st.integers(0, 100))
    if max(out.get("start_rate", 0), *(s["target"] for s in stages)) == 0:
        stages[-1]["target"] = 1  # a rate that stays 0 is refused
    return out


_SOAK_OPTIONAL = fields(optional={
    "duration": durations(longest=5 * 3600), "budgets": budgets()})
_CANARY_OPTIONAL = fields(optional={
    # Up to 6 steps of at most 25 minutes' bake fit a hosted runner's 6 hours with every
    # other step's time (see _SOAK_OPTIONAL).
    "steps": canary_steps(), "bake": st.one_of(st.sampled_from(("15m", "10m", "25m", "90s")),
                                               st.integers(90, 25 * 60)),
    "rollback": _maybe_null(command_field()),
    "rollback_on": fields(optional={
        "error_rate": rates(), "p95_ms": milliseconds(), "cost_regression": rates(),
        "cost_per_request": _maybe_null(st.one_of(st.integers(1, 10), st.floats(1e-6, 10.0))),
        "min_requests": st.integers(1, 10_000), "failure_limit": st.integers(0, 20),
        "consecutive_failures": st.integers(1, 20), "inconclusive_limit": st.integers(0, 20)})})
_METRIC_NAMES = st.one_of(st.sampled_from(("http_requests_total", "llm_cost_usd_total", "a:b_c")),
                          st.from_regex(r"[A-Za-z_:][A-Za-z0-9_:]{0,30}", fullmatch=True))
_LABEL_NAMES = st.one_of(st.sampled_from(("track", "status", "code")),
                         st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,30}", fullmatch=True))
def _promql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# Label matchers (the model checks their grammar): hostile values, escaped as PromQL
# spells them, spaces around the commas and a trailing comma now and then.
_SELECTORS = st.one_of(
    st.sampled_from(('service="api"', 'service="api",namespace=~"prod-.*"', ' a!="b" , ')),
    st.tuples(
        st.lists(st.tuples(_LABEL_NAMES, st.sampled_from(("=", "!=", "=~", "!~")),
                           hostile_text(max_size=60).map(_promql_string)),
                 min_size=1, max_size=3),
        st.sampled_from((",", " , ")), st.sampled_from(("", ",", " "))).map(
        lambda t: t[1].join(f"{name}{op}{value}" for name, op, value in t[0]) + t[2]))
_CANARY_METRICS = fields({"prometheus": urls()}, optional={
    "cost_metric": _maybe_null(_METRIC_NAMES), "selector": _maybe_null(_SELECTORS),
    "requests_metric": _METRIC_NAMES, "duration_metric": _METRIC_NAMES,
    "duration_unit": st.sampled_from(("seconds", "milliseconds")),
    "status_label": _LABEL_NAMES, "track_label": _LABEL_NAMES, "error_status": text_field(),
    "canary_track": text_field(), "baseline_track": text_field(),
    "live_track": _maybe_null(text_field()), "token_secret": _maybe_null(secret_names()),
    "window": st.sampled_from((30, "1m", "90s"))})
_FLAG_CONFIGMAP = fields({"name": text_field()}, optional={
    "namespace": text_field(), "key": text_field()})
# Kubernetes names (the model checks their grammar); the canary's Service is the stable's
# name with a suffix, so the two always differ.
_K8S_LABELS = st.from_regex(r"[a-z]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
_K8S_SUBDOMAINS = st.lists(_K8S_LABELS, min_size=1, max_size=3).map(".".join)
_GATEWAY_ROUTE = st.tuples(_K8S_LABELS, fields(
    {"name": _K8S_SUBDOMAINS, "parent": _K8S_SUBDOMAINS,
     "port": st.integers(min_value=1, max_value=65535)},
    optional={"namespace": _K8S_LABELS, "parent_kind": st.sampled_from(("Gateway", "Service")),
              "parent_namespace": _maybe_null(_K8S_LABELS)})).map(
    lambda t: {**t[1], "stable_service": t[0], "canary_service": f"{t[0]}-canary"})
# An OpenFeature service's write call: `{flag}` in the URL's path, a JSON body template
# that says the percentage somewhere (a key, a nested value, text around it), hostile text
# in the other values.
_FLAG_BODIES = st.one_of(
    st.just({"rollout": "{percent}"}),
    st.builds(lambda label, n: {"flag": "{flag}", "label": label,
                                "split": [{"variant": "on", "weight": "{percent}"}, n, None, True]},
              hostile_text(max_size=40), st.integers(-5, 5)),
    st.just({"{flag}": {"note": "ramp {flag} to {percent}%"}}))
_FLAG_API = fields({"url": urls().map(lambda url: url.rstrip("/") + "/flags/{flag}"),
                    "body": _FLAG_BODIES, "ofrep_url": urls()}, optional={
    "method": st.sampled_from(("PUT", "PATCH", "POST")),
    "token_secret": _maybe_null(secret_names()), "ofrep_token_secret": _maybe_null(secret_names()),
    "variant": text_field(), "samples": st.integers(50, 10_000),
    "settle": st.sampled_from((30, "2m", "90s"))})


@st.composite
def canaries(draw: st.DrawFn, environment: str, llm_checks: bool) -> SpecDict:
    """`delivery.canary`: either traffic provider, any flag provider, shadow traffic
    only where LLM checks score it."""
    canary: SpecDict = {"environment": environment, "metrics": draw(_CANARY_METRICS)}
    provider = draw(st.sampled_from((None, *choices(_delivery.Canary, "provider"))))
    if provider is not None:
        canary["provider"] = provider
    if provider in (None, "command") or present(draw, 0.3):
        canary["shift"] = draw(command_field())
    if provider == "argo-rollouts" or present(draw, 0.3):
        canary["rollout"] = draw(text_field())
    if provider == "gateway-api":
        canary["route"] = draw(_GATEWAY_ROUTE)
    flags = draw(st.sampled_from((None, *choices(_delivery.Canary, "flag_provider"))))
    if flags is not None:
        canary["flag_provider"] = flags
    openfeature = flags == "openfeature"
    if flags in ("flagd", "openfeature") or present(draw, 0.5):
        canary["feature_flag"] = draw(text_field())
    if not openfeature and (flags == "flagd" or present(draw, 0.3)):
        canary["flag_file"] = draw(repo_paths())
    if flags == "flagd" and present(draw, 0.6):
        canary["flag_configmap"] = draw(_FLAG_CONFIGMAP)  # else flag_command publishes the file
    if not openfeature and ((canary.get("feature_flag") and flags in (None, "command"))
                            or present(draw, 0.3)
                            or (flags == "flagd" and "flag_configmap" not in canary)):
        canary["flag_command"] = draw(command_field())
    if present(draw, 0.5 if llm_checks else 0.3):  # tests.llm is optional (schema, judge)
        canary["shadow_traffic"] = True
    elif present(draw, 0.3):
        canary["shadow_traffic"] = False
    if canary.get("shadow_traffic") or present(draw, 0.3):
        canary["shadow"] = draw(command_field())
    if openfeature:  # the API call and the OFREP read-back, nothing else
        canary["flag_api"] = draw(_FLAG_API)
    for key in ("shadow_similarity", "shadow_agreement"):
        if present(draw, 0.3):
            canary[key] = draw(rates())
    canary.update(draw(_CANARY_OPTIONAL))
    return canary


_HEX = "0123456789abcdef"
_HTTPS_URLS = urls().filter(lambda url: url.startswith("https://"))
# A wheel of the harden-ci that renders (pipeline.render_spec refuses another version).
WHEEL_NAME = f"harden_ci-{_HARDEN_CI_VERSION}-py3-none-any.whl"
# What `rendered` passes for a spec's `harden_ci.wheel` (render_spec reads the file).
WHEEL_SHA256 = "0123456789abcdef" * 4


@functools.cache
def harden_ci_sources() -> st.SearchStrategy[SpecDict]:
    """`harden_ci:` exactly one of a committed wheel, an index with its sha256, or git."""
    return st.one_of(
        st.builds(lambda folder: {"wheel": folder + WHEEL_NAME},
                  st.sampled_from(("", "tools/", "./ci/wheels/", "@x/a+b/"))),
        st.fixed_dictionaries({"index": st.fixed_dictionaries({
            "url": _HTTPS_URLS, "sha256": st.text(alphabet=_HEX, min_size=64, max_size=64)})}),
        st.fixed_dictionaries({"git": st.fixed_dictionaries({
            "url": _HTTPS_URLS, "commit": st.text(alphabet=_HEX, min_size=40, max_size=40)})}),
    )


def wheel_sha256(spec: SpecDict) -> str | None:
    """The sha256 render needs when the spec names a committed wheel (else None)."""
    return WHEEL_SHA256 if (spec.get("harden_ci") or {}).get("wheel") else None


_SCHEDULE_OPTIONAL = fields(optional={
    "secrets": st.lists(secret_names(), max_size=3), "timeout": durations(longest=6 * 3600),
    "cost_budget": _maybe_null(cost_budgets())})


@st.composite
def specs(draw: st.DrawFn, *, min_services: int = 1, max_services: int = 8) -> SpecDict:
    """A valid spec dict covering every section, with resolving cross-references."""
    spec: SpecDict = {"version": 1, "project": draw(projects())}
    # Service names stay apart as HARDEN_CI_DIGEST_<NAME> (`-` reads as `_` there).
    svcs: dict[str, SpecDict] = draw(st.dictionaries(
        names(), services(), min_size=min_services,
        max_size=max_services).filter(lambda found: len({n.replace("-", "_") for n in found})
                                      == len(found)))
    spec["services"] = svcs
    service_names = list(svcs)
    classes = sorted(spec["project"].get("runners") or {})
    if classes:  # some services pick a runner class by name
        for service in svcs.values():
            if present(draw, 0.5):
                service["runner"] = draw(st.sampled_from(classes))
    sections = draw(_SECTIONS)

    if "workspaces" in sections:
        spaces: dict[str, SpecDict] = draw(st.dictionaries(names(), workspaces(), min_size=1,
                                                          max_size=3))
        spec["workspaces"] = spaces
        for name, workspace in spaces.items():  # members join under new names
            for _ in range(draw(st.integers(0, 2))):
                member_name = draw(names())
                if member_name.replace("-", "_") not in {
                        n.replace("-", "_") for n in svcs}:
                    svcs[member_name] = draw(members(name, workspace))
        service_names = list(svcs)
    if "harden_ci" in sections:
        spec["harden_ci"] = draw(_maybe_null(harden_ci_sources()))

    if "gates" in sections:
        spec["gates"] = draw(_maybe_null(gates(service_names)))
    if "supply_chain" in sections:
        spec["supply_chain"] = draw(_maybe_null(supply_chains()))

    envs: dict[str, SpecDict] = {}
    if "environments" in sections:
        envs = draw(st.dictionaries(names(), environments(), max_size=4))
        spec["environments"] = envs

    def env_name(*, needs_url: bool = False) -> str:
        # A section that names an environment gets one, creating it if there is none;
        # probes and load tests need the environment to have a URL.
        if not envs:
            envs[draw(names())] = draw(environments())
            spec["environments"] = envs
        name: str = draw(st.sampled_from(sorted(envs)))
        if needs_url and not envs[name].get("url"):
            envs[name]["url"] = draw(urls(pr_number=bool(envs[name].get("per_pull_request"))))
        return name

    if "tests" in sections:
        wanted = draw(_TEST_KINDS)
        tests: SpecDict = {}
        if "contract" in wanted:
            tests["contract"] = draw(_CONTRACT)
            if not any(s.get("openapi") for s in svcs.values()):
                svcs[draw(st.sampled_from(service_names))]["openapi"] = draw(repo_paths())
        if "e2e" in wanted:
            tests["e2e"] = {"command": draw(command_field()),
                            "environment": env_name(needs_url=True), **draw(_E2E_OPTIONAL)}
        if "llm" in wanted:
            tests["llm"] = {"command": draw(command_field()), "gold": draw(repo_paths()),
                            **draw(_LLM_OPTIONAL)}
            if not any(s.get("kind") == "llm" for s in svcs.values()):
                svcs[draw(st.sampled_from(service_names))]["kind"] = "llm"
        if "auth" in wanted:
            auth: SpecDict = {"environment": env_name(needs_url=True), "issuer": draw(urls()),
                              "token_command": draw(command_field()), **draw(_AUTH_OPTIONAL)}
            # each probe switched on gets what it needs
            for flag, needs in (("key_rotation", "rotate_command"),
                                ("token_replay", "revoked_token_command"),
                                ("tenant_isolation", "tenant_b_path")):
                if present(draw, 0.6):
                    auth[flag] = True
                    if not auth.get(needs):
                        auth[needs] = draw(text_field() if needs == "tenant_b_path"
                                           else command_field())
                    if flag == "tenant_isolation":
                        auth["tenant_a_path"] = draw(text_field())  # the control
                elif present(draw, 0.3):
                    auth[flag] = False
            if auth.get("token_replay") and present(draw, 0.4):
                auth["refresh_token_command"] = draw(command_field())
                auth["client_id"] = draw(text_field())
                if present(draw, 0.75):
                    auth["client_secret"] = draw(secret_names())
            tests["auth"] = auth
        spec["tests"] = tests

    if "load" in sections:
        load: SpecDict = {}
        if present(draw):
            soak: SpecDict = {"environment": env_name(needs_url=True), **draw(_SOAK_OPTIONAL)}
            seconds = TypeAdapter(_types.Seconds).validate_python(soak.get("duration", 900))
            soak["scripts"] = draw(st.lists(journeys(seconds), min_size=1, max_size=3))
            if (soak.get("budgets") or {}).get("cold_start_ms") is not None and present(draw, 0.6):
                # At most 30 min idle: with a 5 h soak the job still fits 6 hours.
                soak["cold_start"] = {"after_idle": draw(durations(longest=30 * 60))}
            load["soak"] = soak
        spec["load"] = load

    if "delivery" in sections:
        delivery: SpecDict = {}
        if present(draw):
            llm_checks = bool((spec.get("tests") or {}).get("llm"))
            delivery["canary"] = canary = draw(canaries(env_name(), llm_checks))
            target = envs[canary["environment"]]
            if canary.get("provider") == "gateway-api" and not target.get("deploy"):
                target["deploy"] = draw(command_field())  # it deploys canary, then stable
        spec["delivery"] = delivery

    if "schedules" in sections:
        schedules: dict[str, SpecDict] = {}
        for name in draw(st.lists(names(), max_size=3, unique=True)):
            schedule: SpecDict = {"cron": draw(crons()), "command": draw(command_field()),
                                  **draw(_SCHEDULE_OPTIONAL)}
            if present(draw, 0.5):
                schedule["environment"] = env_name()
            elif present(draw, 0.2):
                schedule["environment"] = None
            schedules[name] = schedule
        spec["schedules"] = schedules
    # The checks' secrets environment may not be a deploy environment (the model refuses
    # it); the default, `ci`, can meet a drawn environment of that name too.
    chosen = spec["project"].get("secrets_environment", "ci")
    while chosen in envs:
        chosen = f"{chosen[:36]}-sec"
        spec["project"]["secrets_environment"] = chosen
    return spec


# --------------------------------------------------------------------------- free text paths

# Every Text and Command field of the model, by path ("*" is a user-chosen key).
# test_free_text_table_matches_the_model keeps this in step with the model's JSON Schema.
FREE_TEXT_FIELDS: tuple[tuple[str, ...], ...] = (
    ("project", "name"),
    ("services", "*", "version"),
    ("services", "*", "setup"),
    ("services", "*", "install"),
    ("services", "*", "test"),
    ("workspaces", "*", "install"),
    ("workspaces", "*", "version"),
    ("gates", "schema_drift", "command"),
    ("environments", "*", "deploy"),
    ("environments", "*", "teardown"),
    ("tests", "e2e", "command"),
    ("tests", "llm", "command"),
    ("tests", "auth", "rotate_command"),
    ("tests", "auth", "token_command"),
    ("tests", "auth", "revoked_token_command"),
    ("tests", "auth", "tenant_b_token_command"),
    ("tests", "auth", "protected_path"),
    ("tests", "auth", "tenant_b_path"),
    ("tests", "auth", "tenant_a_path"),
    ("tests", "auth", "tenant_b_query"),
    ("tests", "auth", "expired_token_command"),
    ("tests", "auth", "wrong_audience_token_command"),
    ("tests", "auth", "wrong_issuer_token_command"),
    ("tests", "auth", "refresh_token_command"),
    ("tests", "auth", "client_id"),
    ("gates", "schema_drift", "install"),
    ("services", "*", "lint"),
    ("services", "*", "typecheck"),
    ("tests", "llm", "judge", "command"),
    ("delivery", "canary", "shift"),
    ("delivery", "canary", "rollback"),
    ("delivery", "canary", "rollout"),
    ("delivery", "canary", "flag_command"),
    ("delivery", "canary", "shadow"),
    ("delivery", "canary", "feature_flag"),
    ("delivery", "canary", "metrics", "error_status"),
    ("delivery", "canary", "metrics", "canary_track"),
    ("delivery", "canary", "metrics", "baseline_track"),
    ("delivery", "canary", "metrics", "live_track"),
    ("delivery", "canary", "flag_configmap", "name"),
    ("delivery", "canary", "flag_configmap", "namespace"),
    ("delivery", "canary", "flag_configmap", "key"),
    ("delivery", "canary", "flag_api", "variant"),
    ("schedules", "*", "command"),
)
# `Text` fields whose validator admits only a narrow form: drawn as constrained fields,
# never replaced by free text (test_free_text_table_matches_the_model knows them).
VALIDATED_TEXT_FIELDS: tuple[tuple[str, ...], ...] = (
    ("schedules", "*", "cron"),
    ("environments", "*", "port_forward"),
    ("tests", "auth", "tenant_b_header"),  # `Name: value`: "x" would be refused
    ("delivery", "canary", "metrics", "selector"),  # PromQL label matchers
)


# Every list of secret or variable names (they become env keys of the same name).
SECRET_LIST_FIELDS: tuple[tuple[str, ...], ...] = (
    ("environments", "*", "secrets"),
    ("environments", "*", "vars"),
    ("tests", "llm", "secrets"),
    ("schedules", "*", "secrets"),
    ("services", "*", "docker", "secrets"),
    ("services", "*", "test_environment", "vars"),
    ("services", "*", "test_environment", "secrets"),
)


def rename_secrets(spec: SpecDict, new: Callable[[str], str]) -> SpecDict:
    """A deep copy of `spec` with every secret and variable name replaced by `new(name)`."""
    out = copy.deepcopy(spec)
    for pattern in SECRET_LIST_FIELDS:
        for path, _ in _walk_any(out, pattern, ()):
            parent: Any = out
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = [new(name) for name in parent[path[-1]]]
    return out


def _walk_any(node: Any, pattern: tuple[str, ...], at: Path_) -> Iterator[tuple[Path_, Any]]:
    if not pattern:
        yield at, node
        return
    if not isinstance(node, dict):
        return
    head, rest = pattern[0], pattern[1:]
    keys = sorted(node) if head == "*" else [head] if head in node else []
    for key in keys:
        yield from _walk_any(node[key], rest, (*at, key))


def _walk(node: Any, pattern: tuple[str, ...], at: Path_) -> Iterator[tuple[Path_, str]]:
    if not pattern:
        if isinstance(node, str):
            yield at, node
        return
    if not isinstance(node, dict):
        return
    head, rest = pattern[0], pattern[1:]
    keys = sorted(node) if head == "*" else [head] if head in node else []
    for key in keys:
        yield from _walk(node[key], rest, (*at, key))


def pattern_of(path: Path_) -> tuple[str, ...]:
    """The FREE_TEXT_FIELDS pattern of a concrete path (user-chosen keys become "*")."""
    keyed = path[:1] in (("services",), ("environments",), ("schedules",), ("workspaces",))
    return tuple("*" if keyed and i == 1 else str(part) for i, part in enumerate(path))


def free_text(spec: SpecDict) -> list[tuple[Path_, str]]:
    """(path, value) of every free-text string the spec holds, in a stable order."""
    return [item for pattern in FREE_TEXT_FIELDS for item in _walk(spec, pattern, ())]


def replace_free_text(spec: SpecDict, new: Callable[[Path_, str], str]) -> SpecDict:
    """A deep copy of `spec` with every free-text value replaced by `new(path, value)`."""
    out = copy.deepcopy(spec)
    for path, value in free_text(spec):
        parent: Any = out
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = new(path, value)
    return out


def all_strings(node: Any, at: Path_ = ()) -> Iterator[tuple[Path_, str, bool]]:
    """(path, string, is_key) for every string of a plain-data tree, keys included."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield (*at, key), key, True
            yield from all_strings(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from all_strings(value, (*at, index))
    elif isinstance(node, str):
        yield at, node, False


# --------------------------------------------------------------------------- writing specs


class _Dumper(yaml.SafeDumper):
    """yaml.safe_dump's dumper, also aware of YAML 1.2 core ints and floats.

    PyYAML writes YAML 1.1: it leaves `0o17` or `1e3` plain because 1.1 reads them as
    strings, but the loader reads YAML 1.2, where they are numbers. Teaching the dumper
    those forms makes it quote such strings; everything else is plain safe_dump.
    """


_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def dump_spec(spec: SpecDict, *, allow_unicode: bool = False, flow: bool | None = False) -> str:
    """A spec as YAML text the loader (YAML 1.2) reads back as the same data."""
    return yaml.dump(spec, Dumper=_Dumper, allow_unicode=allow_unicode,
                     default_flow_style=flow, sort_keys=False)
