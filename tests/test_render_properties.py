"""Properties that hold for any spec (hypothesis), kept small enough for every CI run:
the quoting filter round-trips any text as one scalar on one line, and any valid spec
renders to output that parses, keeps the invariants and is byte-for-byte deterministic.
Derandomized, so a CI run is repeatable."""

from __future__ import annotations

import io

import strategies as S
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from harden_ci.model import Spec
from harden_ci.render import render
from harden_ci.render.quoting import quote
from harden_ci.verify import verify

LINE_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")
QUICK = settings(derandomize=True, deadline=None, database=None, max_examples=150,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _ruamel(text: str) -> object:
    return YAML(typ="safe", pure=True).load(io.StringIO(text))


@QUICK
@given(st.text())
def test_quote_round_trips_any_text_on_one_line(value: str) -> None:
    quoted = quote(value)
    assert not any(brk in quoted for brk in LINE_BREAKS), repr(quoted)
    document = f"a:\n  k: {quoted}\n  j: 1\n"
    assert yaml.safe_load(document) == {"a": {"k": value, "j": 1}}
    assert _ruamel(document) == {"a": {"k": value, "j": 1}}


@settings(QUICK, max_examples=40)
@given(S.specs(max_services=4))
def test_any_valid_spec_renders_parseable_verified_deterministic_output(spec: S.SpecDict) -> None:
    model = Spec.model_validate(spec)
    # A spec naming a committed wheel renders with that wheel's sha256 (read by the caller).
    sha256 = S.wheel_sha256(spec)
    first = render(model, wheel_sha256=sha256)
    assert first == render(model, wheel_sha256=sha256), "render is not deterministic"
    verify(first)  # parses every workflow back and checks the invariants
    for name, text in first.items():
        if name.endswith(".yml"):
            assert isinstance(yaml.safe_load(text), dict), name
            assert isinstance(_ruamel(text), dict), name
