"""Static matrices, expanded the way GitHub expands them: one job per `include` row, with
every `${{ matrix.KEY }}` replaced by the row's value ('' for a key the row leaves out).

The release workflow publishes every image from one matrix job; the security facts and the
script tests reason about one image at a time, so they read its legs, not its template.
A matrix filled at run time (`include: ${{ fromJSON(...) }}`) is left as it is.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

_MATRIX_REF = re.compile(r"\$\{\{\s*matrix\.([A-Za-z_][\w-]*)\s*\}\}")


def static_rows(job: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The job's static `include` rows, or None when it has no static matrix."""
    include = ((job.get("strategy") or {}).get("matrix") or {}).get("include")
    return include if isinstance(include, list) else None


def _as_text(value: Any) -> str:
    # How an expression renders a matrix value inside a string.
    return json.dumps(value) if isinstance(value, bool) else str(value)


def substitute(node: Any, row: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {key: substitute(value, row) for key, value in node.items()}
    if isinstance(node, list):
        return [substitute(value, row) for value in node]
    if isinstance(node, str):
        # A key the row lacks reads as null, which renders as '' (GitHub's expressions).
        return _MATRIX_REF.sub(lambda m: _as_text(row[m.group(1)]) if m.group(1) in row
                               else "", node)
    return node


def legs(job_id: str, job: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(id, job) per leg: `publish[api]` for the row whose service is api; the job itself
    when it has no static matrix."""
    rows = static_rows(job)
    if rows is None:
        return [(job_id, job)]
    out = []
    for index, row in enumerate(rows):
        leg = substitute(copy.deepcopy({k: v for k, v in job.items() if k != "strategy"}), row)
        out.append((f"{job_id}[{row.get('service', index)}]", leg))
    return out
