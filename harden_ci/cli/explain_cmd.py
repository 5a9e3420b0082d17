"""`harden-ci explain`: the security review of the spec, in Markdown or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from harden_ci.errors import ExitCode


def run(spec_path: Path, fmt: str, policy_path: Path | None) -> int:
    from harden_ci.pipeline import render_spec
    from harden_ci.render import use_bytecode_cache
    from harden_ci.report.explain import build, to_json_text
    from harden_ci.report.explain_md import to_markdown
    from harden_ci.report.facts import plan_workflows

    use_bytecode_cache()
    rendered = render_spec(spec_path)
    workflows = plan_workflows(rendered.spec, spec_path.name)
    policy = None
    if policy_path is not None:
        from harden_ci.report.policy import check_policy, load_policy

        policy = check_policy(rendered.spec, rendered.loaded, load_policy(policy_path))
    review = build(rendered.spec, rendered.loaded, workflows, rendered.files, policy)
    click.echo(to_json_text(review) if fmt == "json" else to_markdown(review), nl=False)
    return ExitCode.OK
