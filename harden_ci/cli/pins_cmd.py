"""`harden-ci pins`: the pin catalog this release renders with (offline)."""

from __future__ import annotations

import json

import click

from harden_ci.errors import ExitCode


def run(fmt: str) -> int:
    from harden_ci.plan.pins import catalog
    from harden_ci.report.facts import catalog_date

    pins = catalog()
    rows = [{"action": p.action, "tag": p.tag, "sha": p.sha, "date": catalog_date(p.action) or None,
             "ref_style": p.ref_style, "runtime": p.runtime, "note": p.note,
             "exception": p.exception} for p in pins]
    excluded = [{"action": action, "reason": reason}
                for action, reason in sorted(pins.excluded().items())]
    if fmt == "json":
        click.echo(json.dumps({"pins": rows, "excluded": excluded}, indent=2, ensure_ascii=False))
        return ExitCode.OK
    width = min(max((len(str(r["action"])) for r in rows), default=0), 40)
    for r in rows:
        ref = "tag pin (recorded exception)" if r["ref_style"] != "sha" else r["sha"]
        click.echo(f"{r['action']:<{width}}  {r['tag']:<12} {ref}  {r['date'] or '':<10}  "
                   f"{r['note']}")
    for e in excluded:
        click.echo(f"{e['action']:<{width}}  excluded: {e['reason']}")
    return ExitCode.OK
