"""The rendering engine: one Jinja environment, built once, and a pure `render`."""

from __future__ import annotations

import functools
from importlib import resources

import jinja2

from harden_ci.fingerprint import digest_line, files_digest, inputs_digest
from harden_ci.marker import header
from harden_ci.model import Spec
from harden_ci.plan.model import Plan, Script, Uses
from harden_ci.plan.workflows import plan
from harden_ci.render.bytecode import bytecode_cache
from harden_ci.render.quoting import comment, ident, python_json_block, python_json_literal, quote, yaml_block


def _script_block(script: Script, indent: int) -> str:
    """A harden-ci script as a literal block scalar (`|`), indented for its place."""
    pad = " " * indent
    lines = script.body.rstrip("\n").split("\n")
    return "|\n" + "\n".join(pad + line if line else "" for line in lines)


def _uses(value: Uses) -> str:
    if value.ref == value.tag:
        # A recorded exception to SHA pinning (the SLSA generator must be called by its
        # release tag); the comment tells zizmor and reviewers it is deliberate.
        return f"{value.action}@{value.ref} # zizmor: ignore[unpinned-uses] tag pin required"
    return f"{value.action}@{value.ref} # {value.tag}"


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("harden_ci.templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # YAML, not HTML: quoting is the `q` filter's job
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["q"] = quote
    env.filters["ident"] = ident
    env.filters["comment"] = comment
    env.filters["script"] = _script_block
    env.filters["uses"] = _uses
    env.filters["pyjson"] = python_json_literal
    env.filters["pyjson_block"] = python_json_block
    env.filters["yaml_block"] = yaml_block
    env.tests["script"] = lambda value: isinstance(value, Script)
    return env


def use_bytecode_cache() -> None:
    """Keep compiled templates in the user's cache folder from now on (see bytecode.py).

    Rendering itself stays free of I/O: the CLI, an edge, turns this on for its verbs."""
    env = environment()
    if env.bytecode_cache is None:
        env.bytecode_cache = bytecode_cache(env)


def render_plan(result: Plan, spec_file: str, inputs: str) -> dict[str, str]:
    """Render every file of a plan, each headed by the marker and its digest line."""
    env = environment()
    workflow = env.get_template("workflow.yml.j2")
    bodies = {wf.filename: workflow.render(wf=wf) for wf in result.workflows}
    for companion in result.companions:
        bodies[companion.filename] = env.get_template(companion.template).render(
            **companion.context)
    files = files_digest(list(bodies))
    return {name: header(spec_file) + digest_line(inputs, files, body) + body
            for name, body in bodies.items()}


def render(spec: Spec, spec_file: str = "harden-ci.yaml", source: bytes | None = None,
           wheel_sha256: str | None = None) -> dict[str, str]:
    """Every file the spec produces, by path relative to the workflows folder.

    Pure and deterministic: the same spec (and spec bytes) gives the same output. `source`
    is the spec file's bytes, stamped as a digest so `check` can answer without rendering;
    without it the digest covers the validated model instead. `wheel_sha256` is the sha256
    of the wheel `harden_ci.wheel` names, read by the caller (pipeline.render_spec).
    """
    if source is None:
        source = spec.model_dump_json().encode()
    inputs = inputs_digest(spec_file, source, *([wheel_sha256] if wheel_sha256 else []))
    return render_plan(plan(spec, spec_file, wheel_sha256), spec_file, inputs)
