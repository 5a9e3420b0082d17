"""The ghagen side of benchmarks/bench.py: the same N workflows as projenrc.js (each one
service's CI in a monorepo: unit tests on 2 shards, then an image build), with SHA-pinned
actions, read-only permissions and a timeout on every job, written with ghagen 0.5.0's
App.synth().

bench.py copies this file into a temp folder and runs it with the interpreter of ghagen's
own venv: `BENCH_WORKFLOWS=N python ghagen_workflows.py`. API: ghagen's README and its
models (ghagen/app.py, ghagen/models/{workflow,job,step,permissions}.py).
"""

from __future__ import annotations

import os

from ghagen import App, Job, Matrix, Permissions, Step, Strategy, Workflow

COUNT = int(os.environ.get("BENCH_WORKFLOWS", "1"))
SHA = "3d3c42e5aac5ba805825da76410c181273ba90b1"  # any 40-hex ref: not resolved
READ = Permissions(contents="read")

app = App(lockfile=None)  # no pin lockfile: the refs are already commits
for i in range(COUNT):
    name = f"svc{i:03d}"
    path = f"services/{name}"
    checkout = Step(name="Check out", uses=f"actions/checkout@{SHA}",
                    with_={"persist-credentials": False})
    workflow = Workflow(
        name=f"ci-{name}",
        on={"pull_request": {"branches": ["main"], "paths": [f"{path}/**"]},
            "merge_group": {"types": ["checks_requested"]}, "push": {"branches": ["main"]}},
        jobs={
            "test": Job(
                name=f"Unit tests ({name})", runs_on=["ubuntu-24.04"], timeout_minutes=30,
                permissions=READ,
                strategy=Strategy(fail_fast=False, matrix=Matrix(extras={"shard": [1, 2]})),
                steps=[
                    checkout,
                    Step(name="Set up Python", uses=f"actions/setup-python@{SHA}",
                         with_={"python-version": "3.12", "cache": "pip"}),
                    Step(name="Install", run="python -m pip install -r requirements.txt",
                         working_directory=path),
                    Step(name="Test", run="python -m pytest -q", working_directory=path,
                         env={"SHARD_INDEX": "${{ matrix.shard }}", "SHARD_TOTAL": "2"}),
                ]),
            "image": Job(
                name=f"Image ({name})", runs_on=["ubuntu-24.04"], needs=["test"],
                timeout_minutes=30, permissions=READ,
                steps=[
                    checkout,
                    Step(name="Set up Buildx", uses=f"docker/setup-buildx-action@{SHA}"),
                    Step(name="Build", uses=f"docker/build-push-action@{SHA}",
                         with_={"context": path, "push": False}),
                ]),
        })
    app.add_workflow(workflow, f"ci-{name}.yml")
app.synth()
