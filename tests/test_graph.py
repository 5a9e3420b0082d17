"""`harden-ci graph`: golden files of both examples (Mermaid and DOT), every job a node and
every `needs` an edge, labels for matrix and reusable-workflow jobs, safe escaping, and the
same bytes on every run.

Regenerate the golden files with `UPDATE_GOLDEN=1 pytest tests/test_graph.py`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import assert_golden

from harden_ci.cli import cli
from harden_ci.pipeline import load
from harden_ci.plan.model import Job, Matrix, Trigger, Uses, Workflow
from harden_ci.report.facts import plan_workflows
from harden_ci.report.graph import dot, mermaid

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("minimal", "learnhub", "monorepo")
SUFFIX = {"mermaid": "mmd", "dot": "dot"}


def workflows(example: str) -> list[Workflow]:
    _, spec = load(ROOT / "examples" / example / "harden-ci.yaml")
    return plan_workflows(spec, "harden-ci.yaml")


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_graph_golden(example: str, fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["graph", f"examples/{example}/harden-ci.yaml",
                                      "--format", fmt])
    assert result.exit_code == 0, result.stderr
    assert_golden(f"{example}.graph.{SUFFIX[fmt]}", result.stdout)


def test_mermaid_is_the_default_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["graph", "examples/minimal/harden-ci.yaml"])
    assert result.exit_code == 0
    assert result.stdout.startswith("flowchart LR\n")


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_job_is_a_node_and_every_need_an_edge(example: str) -> None:
    wfs = workflows(example)
    text = mermaid(wfs)
    assert text.count("  subgraph ") == len(wfs)
    for index, wf in enumerate(wfs, start=1):
        node = {job.id: f"w{index}_" + re.sub(r"[^A-Za-z0-9_]", "_", job.id) for job in wf.jobs}
        for job in wf.jobs:
            assert re.search(rf"^    {node[job.id]}[\[(]", text, re.MULTILINE), job.id
            for need in job.needs:
                assert f"  {node[need]} --> {node[job.id]}\n" in text
                assert f"  {node[need]} -> {node[job.id]};\n" in dot(wfs)
    edges = sum(len(job.needs) for wf in wfs for job in wf.jobs)
    assert text.count(" --> ") == edges


def test_matrix_and_reusable_workflow_jobs_are_labelled_and_names_escaped() -> None:
    uses = Uses("owner/repo/.github/workflows/x.yml", "v1.0.0", "v1.0.0")
    jobs = [
        Job(id="build", name='Build "fast" <all> & ${{ matrix.os }}', runs_on="x",
            timeout_minutes=5, matrix=Matrix(axes={"os": ["a", "b"]})),
        Job(id="call-it", name="Call", runs_on="", timeout_minutes=0, uses=uses,
            needs=["build"], environment="production"),
        Job(id="call_it", name="Twin id", runs_on="x", timeout_minutes=5),
    ]
    wf = Workflow(filename="x.yml", name='X "quoted"', on=Trigger(pull_request=True), jobs=jobs)
    text = mermaid([wf])
    assert 'w1_build[["Build #quot;fast#quot; #lt;all#gt; #amp; {os}<br/>matrix"]]' in text
    assert 'w1_call_it(["Call<br/>reusable workflow, environment: production"])' in text
    assert "w1_call_it_2[" in text  # ids stay unique when job ids differ only by - and _
    assert 'subgraph w1["x.yml: X #quot;quoted#quot;"]' in text
    graph = dot([wf])
    assert 'label="Build \\"fast\\" <all> & {os}\\n(matrix)", shape=box3d' in graph
    assert 'label="x.yml: X \\"quoted\\"";' in graph
    assert "w1_build -> w1_call_it;" in graph


def test_the_graph_is_byte_identical_across_processes(tmp_path: Path) -> None:
    outputs = set()
    for seed in ("0", "1", "31337"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-m", "harden_ci", "graph", "examples/learnhub/harden-ci.yaml",
             "--format", "dot"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
        outputs.add(result.stdout)
    assert len(outputs) == 1


def test_graph_on_a_bad_spec_exits_2(tmp_path: Path) -> None:
    spec = tmp_path / "harden-ci.yaml"
    spec.write_text("version: 1\nproject: {name: x}\nservices: {}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["graph", str(spec)])
    assert result.exit_code == 2
    assert "harden-ci.yaml:3" in result.stderr
