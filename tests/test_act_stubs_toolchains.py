"""Under act: checkout and the setup-* stubs are green where the real actions succeed and red,
with their messages, where they fail (history depth, credentials, caches, versions).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from act_stub_runs import act_run, calls, expect

pytestmark = pytest.mark.slow


CHECKOUT_JOBS = """\
  deep:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {fetch-depth: 0, persist-credentials: false}
      - run: |
          test "$(git rev-parse HEAD)" = "$MERGE"
          echo "commits=$(git rev-list --count "$BASE..$HEAD")"
          git config --get-regexp 'extraheader|includeif' && exit 1 || echo "no credentials left"
        env:
          BASE: ${{ github.event.pull_request.base.sha }}
          HEAD: ${{ github.event.pull_request.head.sha }}
          MERGE: ${{ github.sha }}
  shallow:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {path: sub/dir}
      - run: |
          test -f sub/dir/change.txt
          git -C sub/dir config --includes --get 'http.https://github.com/.extraheader' \
            | grep -q '^AUTHORIZATION: basic '
          git -C sub/dir log --oneline "$BASE..$HEAD"
        env:
          BASE: ${{ github.event.pull_request.base.sha }}
          HEAD: ${{ github.event.pull_request.head.sha }}
  no-token:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {token: ""}
  elsewhere:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {repository: someone/other}
  outside:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
        with: {path: ../escape}
"""


def test_checkout_ref_depth_path_and_credentials(tmp_path: Path) -> None:
    run = act_run(tmp_path, CHECKOUT_JOBS, event="pull_request")
    expect(run, deep="success", shallow="failure", **{"no-token": "failure"},
           elsewhere="failure", outside="failure")
    assert "commits=1" in run.output("deep")
    assert "no credentials left" in run.output("deep")
    # depth 1 holds only the merge commit: base..head is not in the clone, as on GitHub.
    assert "Invalid revision range" in run.output("shallow")
    assert "Input required and not supplied: token" in run.output("no-token")
    assert "repository 'https://github.com/someone/other/' not found" in run.output("elsewhere")
    assert "is not under" in run.output("outside")
    depths = sorted(rec["did"].split(";")[0] for rec in calls(run, "actions/checkout")
                    if "checked out refs/pull/1/merge" in rec["did"])
    assert depths == ["fetch-depth 0", "fetch-depth 1"], run.stub_log


NODE_JOBS = """\
  npm-in-pnpm-repo:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: actions/setup-node@PIN
        with: {node-version: "20", cache: npm}
  pnpm-missing:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: actions/setup-node@PIN
        with: {node-version: "20", cache: pnpm}
  npm-lockfile:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - run: |
          rm pnpm-lock.yaml && echo '{"lockfileVersion": 3}' > package-lock.json
      - id: node
        uses: actions/setup-node@PIN
        with: {node-version-file: .nvmrc, cache: npm}
      - run: |
          echo "hit=$HIT key=$KEY version=$VERSION"
          node --version
        env:
          HIT: ${{ steps.node.outputs.cache-hit }}
          KEY: ${{ steps.node.outputs.cache-primary-key }}
          VERSION: ${{ steps.node.outputs.node-version }}
  glob-matches-nothing:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: actions/setup-node@PIN
        with: {cache: npm, cache-dependency-path: "web/package-lock.json"}
  auto-cache-no-lockfile:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - run: |
          echo '{"packageManager": "npm@10.8.0"}' > package.json
      - uses: actions/setup-node@PIN
        with: {node-version: "99"}
  auto-cache-off:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - run: |
          echo '{"packageManager": "npm@10.8.0"}' > package.json
      - uses: actions/setup-node@PIN
        with: {node-version: "99", package-manager-cache: false}
"""


def test_setup_node_cache_fails_where_the_real_action_fails(tmp_path: Path) -> None:
    files = {"pnpm-lock.yaml": "lockfileVersion: '9.0'\n", "package.json": '{"name": "x"}\n',
             ".nvmrc": "v20\n"}
    run = act_run(tmp_path, NODE_JOBS, files)
    expect(run, **{"npm-in-pnpm-repo": "failure", "pnpm-missing": "failure",
                   "npm-lockfile": "success", "glob-matches-nothing": "failure",
                   "auto-cache-no-lockfile": "failure", "auto-cache-off": "success"})
    assert ("Dependencies lock file is not found in" in run.output("npm-in-pnpm-repo")
            and "Supported file patterns: package-lock.json,npm-shrinkwrap.json,yarn.lock"
            in run.output("npm-in-pnpm-repo"))
    assert "Unable to locate executable file: pnpm" in run.output("pnpm-missing")
    assert re.search(r"hit=false key=node-cache-Linux-x64-npm-[0-9a-f]{64} version=v\d+\.",
                     run.output("npm-lockfile")), run.output("npm-lockfile")
    assert "Resolved .nvmrc as 20" in run.output("npm-lockfile")
    assert "Some specified paths were not resolved" in run.output("glob-matches-nothing")
    assert "Detected npm as the package manager" in run.output("auto-cache-no-lockfile")
    assert "node-version '99' requested" in run.output("auto-cache-off")


PYTHON_JOBS = """\
  pip-cache:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - id: py
        uses: actions/setup-python@PIN
        with: {python-version-file: pyproject.toml, cache: pip}
      - run: |
          echo "prefix=$(python -c 'import sys; print(sys.prefix)')"
          echo "hit=$HIT version=$VERSION path=$PY_PATH"
        env:
          HIT: ${{ steps.py.outputs.cache-hit }}
          VERSION: ${{ steps.py.outputs.python-version }}
          PY_PATH: ${{ steps.py.outputs.python-path }}
  pip-no-files:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - run: rm requirements.txt pyproject.toml
      - uses: actions/setup-python@PIN
        with: {python-version: "3.99", cache: pip}
  poetry-missing:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: actions/setup-python@PIN
        with: {python-version: "3.x", cache: poetry}
  bad-boolean:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/setup-python@PIN
        with: {python-version: "3.11", update-environment: "yes"}
"""


def test_setup_python_venv_on_path_and_cache_failures(tmp_path: Path) -> None:
    files = {"requirements.txt": "requests==2.32.3\n", "poetry.lock": "# lock\n",
             "pyproject.toml": '[project]\nname = "x"\nrequires-python = ">=3.9,<3.14"\n'}
    run = act_run(tmp_path, PYTHON_JOBS, files)
    expect(run, **{"pip-cache": "success", "pip-no-files": "failure",
                   "poetry-missing": "failure", "bad-boolean": "failure"})
    out = run.output("pip-cache")
    assert "Extracted >=3.9,<3.14 from pyproject.toml" in out
    prefix = re.search(r"prefix=(/\S+)", out)
    assert prefix and "/Python/" in prefix[1] and prefix[1].endswith("/x64"), out
    assert re.search(r"hit=false version=3\.\d+\.\d+ path=\S+/x64/bin/python", out), out
    assert ("No file in " in run.output("pip-no-files")
            and "matched to [**/requirements.txt or **/pyproject.toml]" in run.output("pip-no-files"))
    assert "python-version '3.99' requested" in run.output("pip-no-files")
    assert "Unable to locate executable file: poetry" in run.output("poetry-missing")
    assert 'YAML 1.2 "Core Schema" specification: update-environment' in run.output("bad-boolean")


GO_JOBS = """\
  from-go-mod:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - id: go
        uses: actions/setup-go@PIN
        with: {go-version-file: go.mod}
      - run: |
          echo "version=$VERSION hit=$HIT toolchain=$GOTOOLCHAIN"
          go version
        env:
          VERSION: ${{ steps.go.outputs.go-version }}
          HIT: ${{ steps.go.outputs.cache-hit }}
  no-go-mod:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - run: rm go.mod
      - uses: actions/setup-go@PIN
        with: {go-version: "1.99"}
  missing-version-file:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: actions/setup-go@PIN
        with: {go-version-file: nested/go.mod}
"""


def _machine_go() -> str | None:
    import glob
    import shutil
    return shutil.which("go") or next(iter(glob.glob("/usr/lib/go*/bin/go")), None)


def test_setup_go_machine_toolchain_and_cache_warning(tmp_path: Path) -> None:
    run = act_run(tmp_path, GO_JOBS, {"go.mod": "module example.com/x\n\ngo 1.19\n"})
    assert run.result("missing-version-file") == "failure", run.explain()
    assert ("The specified go version file at: nested/go.mod does not exist"
            in run.output("missing-version-file"))
    if _machine_go() is None:
        # No Go here: the real action fails the same way when it cannot provide one.
        expect(run, **{"from-go-mod": "failure", "no-go-mod": "failure"})
        assert "Unable to find Go version '1.19' for platform linux" in run.output("from-go-mod")
        return
    expect(run, **{"from-go-mod": "success", "no-go-mod": "success"})
    assert re.search(r"version=1\.\d+(\.\d+)? hit=false toolchain=local", run.output("from-go-mod"))
    # No go.mod: the cache restore fails, and the real action only warns about it.
    assert ("Restore cache failed: Dependencies file is not found in" in run.output("no-go-mod")
            and "Supported file pattern: go.mod" in run.output("no-go-mod"))
    assert "go-version '1.99' requested" in run.output("no-go-mod")


JAVA_JOBS = """\
  maven:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - id: java
        uses: actions/setup-java@PIN
        with: {distribution: temurin, java-version-file: .java-version, cache: maven}
      - run: |
          echo "version=$VERSION hit=$HIT home=$JAVA_HOME"
          java -version
        env:
          VERSION: ${{ steps.java.outputs.version }}
          HIT: ${{ steps.java.outputs.cache-hit }}
  gradle-no-build-file:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - uses: actions/setup-java@PIN
        with: {distribution: temurin, java-version: "17", cache: gradle}
  no-distribution:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/setup-java@PIN
        with: {java-version: "17"}
  bad-distribution:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/setup-java@PIN
        with: {java-version: "17", distribution: openjdk}
"""


def test_setup_java_machine_jdk_and_build_file_patterns(tmp_path: Path) -> None:
    run = act_run(tmp_path, JAVA_JOBS, {"pom.xml": "<project/>\n", ".java-version": "17\n"})
    expect(run, **{"maven": "success", "gradle-no-build-file": "failure",
                   "no-distribution": "failure", "bad-distribution": "failure"})
    assert re.search(r"version=17\.\d+\.\d+ hit=false home=/\S+", run.output("maven")), run.output("maven")
    assert ("matched to [**/*.gradle*,**/gradle-wrapper.properties,buildSrc/**/Versions.kt,"
            in run.output("gradle-no-build-file"))
    assert "distribution input is required" in run.output("no-distribution")
    assert "No supported distribution was found for input openjdk" in run.output("bad-distribution")


K6_JOBS = """\
  plain:
    runs-on: ubuntu-24.04
    steps:
      - uses: grafana/setup-k6-action@PIN
        with: {k6-version: "1.1.0"}
      - run: k6 version
  v-prefixed:
    runs-on: ubuntu-24.04
    steps:
      - uses: grafana/setup-k6-action@PIN
        with: {k6-version: "v1.1.0"}
"""


def test_setup_k6_builds_the_url_with_its_own_v(tmp_path: Path) -> None:
    run = act_run(tmp_path, K6_JOBS)
    expect(run, plain="success", **{"v-prefixed": "failure"})
    assert re.search(r"k6 v1\.1\.0 \(", run.output("plain")), run.output("plain")
    out = run.output("v-prefixed")
    assert "releases/download/vv1.1.0/k6-vv1.1.0-linux-amd64.tar.gz" in out
    assert "Unexpected HTTP response: 404" in out


UV_JOBS = """\
  uv:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@PIN
      - id: uv
        uses: astral-sh/setup-uv@PIN
        with: {version: "0.8.0", activate-environment: true, cache-dependency-glob: "**/uv.lock"}
      - run: |
          echo "uv=$(uv --version) out=$VERSION venv=$VIRTUAL_ENV key=$KEY hit=$HIT"
          test "$(command -v python)" = "$VIRTUAL_ENV/bin/python"
        env:
          VERSION: ${{ steps.uv.outputs.uv-version }}
          KEY: ${{ steps.uv.outputs.cache-key }}
          HIT: ${{ steps.uv.outputs.cache-hit }}
"""


def test_setup_uv_installs_the_requested_version(tmp_path: Path) -> None:
    run = act_run(tmp_path, UV_JOBS, {"pyproject.toml": '[project]\nname = "x"\nversion = "0"\n'})
    expect(run, uv="success")
    out = run.output("uv")
    assert re.search(r"uv=uv 0\.8\.0 out=0\.8\.0 venv=/\S+/\.venv key=setup-uv-2-\S+-no-dependency-glob "
                     r"hit=false", out), out
    # No uv.lock: the key never changes, and setup-uv warns about exactly that.
    assert "No file matched to [**/uv.lock]. The cache will never get invalidated." in out
