"""`graph`: the job graph of the generated workflows (edges from `needs`), one subgraph per
workflow, as Mermaid (GitHub renders it in Markdown) or Graphviz DOT.

Deterministic: workflows and jobs keep the plan's order, and node ids come from the
workflow's position and the job id. Matrix jobs, reusable-workflow calls and jobs bound to
an environment are labelled as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from harden_ci.plan.model import Job, Workflow
from harden_ci.report import escape
from harden_ci.report.facts import is_matrix, readable

FORMATS = ("mermaid", "dot")


def _notes(job: Job) -> list[str]:
    notes = []
    if is_matrix(job):
        notes.append("matrix")
    if job.uses is not None:
        notes.append("reusable workflow")
    if job.environment:
        notes.append(f"environment: {readable(job.environment)}")
    return notes


def _node_ids(workflows: list[Workflow]) -> dict[tuple[int, str], str]:
    ids: dict[tuple[int, str], str] = {}
    taken: set[str] = set()
    for index, wf in enumerate(workflows, start=1):
        for job in wf.jobs:
            base = f"w{index}_" + re.sub(r"[^A-Za-z0-9_]", "_", job.id)
            node, n = base, 2
            while node in taken:
                node, n = f"{base}_{n}", n + 1
            taken.add(node)
            ids[(index, job.id)] = node
    return ids


def _edges(wf: Workflow) -> Iterable[tuple[str, str]]:
    ids = {job.id for job in wf.jobs}
    for job in wf.jobs:
        for need in job.needs:
            if need in ids:
                yield need, job.id


def mermaid(workflows: list[Workflow]) -> str:
    ids = _node_ids(workflows)
    lines = ["flowchart LR"]
    for index, wf in enumerate(workflows, start=1):
        lines.append(f'  subgraph w{index}["{escape.mermaid(f"{wf.filename}: {wf.name}")}"]')
        lines.append("    direction LR")
        for job in wf.jobs:
            label = escape.mermaid(readable(job.name))
            notes = _notes(job)
            if notes:
                label += "<br/>" + escape.mermaid(", ".join(notes))
            node = ids[(index, job.id)]
            if job.uses is not None:
                lines.append(f'    {node}(["{label}"])')
            elif is_matrix(job):
                lines.append(f'    {node}[["{label}"]]')
            else:
                lines.append(f'    {node}["{label}"]')
        lines.append("  end")
        for need, job_id in _edges(wf):
            lines.append(f"  {ids[(index, need)]} --> {ids[(index, job_id)]}")
    return "\n".join(lines) + "\n"


def dot(workflows: list[Workflow]) -> str:
    ids = _node_ids(workflows)
    lines = ['digraph "harden-ci" {', "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];',
             '  edge [fontname="Helvetica"];']
    for index, wf in enumerate(workflows, start=1):
        lines.append(f"  subgraph cluster_w{index} {{")
        lines.append(f"    label={escape.dot(f'{wf.filename}: {wf.name}')};")
        for job in wf.jobs:
            notes = _notes(job)
            label = (readable(job.name), *(["(" + ", ".join(notes) + ")"] if notes else []))
            attrs = [f"label={escape.dot(*label)}"]
            if is_matrix(job):
                attrs.append("shape=box3d")
            elif job.uses is not None:
                attrs.append("style=rounded")
            lines.append(f"    {ids[(index, job.id)]} [{', '.join(attrs)}];")
        lines.append("  }")
        for need, job_id in _edges(wf):
            lines.append(f"  {ids[(index, need)]} -> {ids[(index, job_id)]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_graph(workflows: list[Workflow], fmt: str) -> str:
    if fmt == "dot":
        return dot(workflows)
    return mermaid(workflows)
