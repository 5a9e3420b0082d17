"""What `render` and `check` share: a full render that is remembered in the local render
record (harden_ci.render_cache, the fast path's only evidence)."""

from __future__ import annotations

from pathlib import Path

from harden_ci.pipeline import Rendered, render_spec


def render_and_record(spec_path: Path) -> Rendered:
    from harden_ci import render_cache
    from harden_ci.fingerprint import inputs_digest
    from harden_ci.render import use_bytecode_cache

    use_bytecode_cache()
    rendered = render_spec(spec_path)
    render_cache.record(inputs_digest(spec_path.name, rendered.loaded.raw), rendered.files)
    return rendered
