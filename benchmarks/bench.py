#!/usr/bin/env python3
"""harden-ci's speed and memory, measured as whole processes, with projen and ghagen side by side.

    python benchmarks/bench.py              # about 3-5 minutes; writes benchmarks/RESULTS.md
    python benchmarks/bench.py --runs 3 --sizes 1 10 50 --no-projen --no-write

What it does:

- installs harden-ci from this tree into benchmarks/.venv-bench, a normal venv (a built
  wheel, not an editable install, whose import hook would slow every start), and times
  that venv's `harden-ci` against that venv's `python -c pass`;
- in a temp folder, builds specs of 1, 10, 50, 100 and 500 services (mixed languages,
  shards, Dockerfiles, runner classes, watch and shared paths, gates, a registry and the
  supply chain);
- times, as whole processes, each over several runs (median and min, after one untimed
  warm-up run): `harden-ci render` cold (into an empty folder; with the compiled-template
  cache warm, and again with HARDEN_CI_NO_CACHE=1), `render` again over its own output
  (unchanged: the fast path, which writes nothing), `harden-ci check` on the rendered
  output (clean: the fast path) turn about with `python -c pass`, `check` after a
  one-line hand edit (drifted: the full render and diff), and `harden-ci validate`;
- records each run's peak memory (the child's own ru_maxrss, from os.wait4);
- runs the peers turn about with a cold `harden-ci render` of as many services, for N = 1
  and 50: projen (from npm into benchmarks/.projen/) on a .projenrc.js that adds N GitHub
  workflows alike (benchmarks/projenrc.js), as `node .projenrc.js` (its synth) and
  `projen` (its CLI); and ghagen 0.5.0 (from PyPI into benchmarks/.venv-ghagen) writing the
  same N workflows (benchmarks/ghagen_workflows.py);
- ratios (check vs `python -c pass`, a peer vs harden-ci) are medians over rounds of the
  ratio within one round, so a change in the machine's load moves both sides alike;
- breaks one render per size into phases (benchmarks/phases.py) and lists the slowest
  imports (python -X importtime), so a missed target says where the time goes;
- records the machine: CPUs, model, load average at the start and at the end.

Targets (issue 15; reported, not asserted): clean `check` <= 2x `python -c pass`; cold
render of 50 services >= 2x faster than projen's synth of 50 workflows; cold render of 500
services <= 0.4 s; time and memory grow linearly with services.

Results go to benchmarks/RESULTS.md between the `bench:start` and `bench:end` markers (and
the machine and targets table to README.md, between the same markers);
text outside them (the analysis) is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROJEN_DIR = HERE / ".projen"
# A projen release from the registry's package list (/work/.library/env/packages/npm.tsv).
PROJEN_VERSION = "0.103.25"
PROJEN_MODULE = PROJEN_DIR / "node_modules" / "projen"
# harden-ci as a user has it: installed from the tree into a normal venv (not editable: an
# editable install's import hook slows every start, `python -c pass` most of all).
BENCH_VENV = HERE / ".venv-bench"
# ghagen, a Python peer (typed models, then YAML), from the registry into its own venv.
GHAGEN_VERSION = "0.5.0"
GHAGEN_VENV = HERE / ".venv-ghagen"
RESULTS = HERE / "RESULTS.md"
README = HERE.parent / "README.md"  # its bench block: the machine and the targets
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
SPEC_FILE = "harden-ci.yaml"
WORKFLOW = Path(".github") / "workflows" / "harden-ci.yml"

LANGUAGES = ("python", "node", "go", "java", "rust", "dotnet", "ruby", "custom")
VERSIONS = {"python": "3.12", "node": "22", "go": "1.24", "java": "21", "rust": "stable",
            "dotnet": "8.0", "ruby": "3.3"}


# --------------------------------------------------------------------------- specs


def service(i: int) -> dict[str, Any]:
    """The i-th service: every 5th container-only, the rest cycling through the languages;
    every 2nd with a Dockerfile, every 4th sharded, some on larger or self-hosted runners."""
    path = f"services/s{i:03d}"
    entry: dict[str, Any] = {"path": path}
    if i % 5 == 4:
        entry["dockerfile"] = f"{path}/Dockerfile"
        return entry
    language = LANGUAGES[i % len(LANGUAGES)]
    entry["language"] = language
    if language == "custom":
        entry |= {"setup": "make toolchain", "install": "make deps", "test": "make test"}
    else:
        entry["version"] = VERSIONS[language]
    if i % 4 == 0:
        entry["shards"] = 2
    if i % 2 == 0:
        entry["dockerfile"] = f"{path}/Dockerfile"
    if i % 7 == 3:
        entry["runner"] = "large"
    elif i % 11 == 6:
        entry["runner"] = "gpu"
    if i % 13 == 5:
        entry["watch"] = ["libs/common"]
    return entry


def spec_text(count: int) -> str:
    """A spec of `count` services, as YAML (flow mappings, one service a line)."""
    lines = [
        "version: 1",
        "project:",
        "  name: bench",
        "  registry: ghcr.io/acme",
        "  runners: {large: ubuntu-24.04-8core, gpu: [self-hosted, linux, gpu]}",
        "  shared_paths: [libs/shared]",
        "services:",
    ]
    for i in range(count):
        lines.append(f"  s{i:03d}: {json.dumps(service(i))}")
    lines += [
        "gates:",
        "  secret_scan: {tool: gitleaks}",
        "  iac_lint: {dockerfiles: true, workflows: true}",
        "  vulnerabilities: {fail_on: high}",
        "supply_chain: {sbom: cyclonedx, sign: keyless, provenance: true}",
    ]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- measuring


@dataclass
class Series:
    label: str
    seconds: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def min(self) -> float:
        return min(self.seconds)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_kb) / 1024

    def cell(self) -> str:
        return f"{self.median:.3f} ({self.min:.3f})"


def measure(cmd: list[str], cwd: Path, expect: int = 0, env: dict[str, str] | None = None
            ) -> tuple[float, int]:
    """Wall time and peak RSS (KiB) of one whole process."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != expect:
            errors.seek(0)
            raise SystemExit(f"{' '.join(cmd)} (in {cwd}) exited {proc.returncode}, expected "
                             f"{expect}:\n{errors.read().decode(errors='replace')[-3000:]}")
    return elapsed, usage.ru_maxrss


def series(label: str, runs: int, cmd: list[str], cwd: Path, *, expect: int = 0,
           before: Any = None, env: dict[str, str] | None = None) -> Series:
    """One untimed warm-up run, then `runs` timed ones; `before()` runs (untimed) first."""
    out = Series(label)
    for index in range(runs + 1):
        if before is not None:
            before()
        seconds, rss = measure(cmd, cwd, expect, env)
        if index:
            out.seconds.append(seconds)
            out.rss_kb.append(rss)
    return out


@dataclass
class Job:
    label: str
    cmd: list[str]
    cwd: Path
    before: Any = None
    env: dict[str, str] | None = None


def interleaved(runs: int, *jobs: Job) -> list[Series]:
    """Commands timed turn about (after one warm-up each), so that a change in the
    machine's load hits all alike: for ratios such as check vs `python -c pass`."""
    out = [Series(job.label) for job in jobs]
    for index in range(runs + 1):
        for result, job in zip(out, jobs, strict=True):
            if job.before is not None:
                job.before()
            seconds, rss = measure(job.cmd, job.cwd, env=job.env)
            if index:
                result.seconds.append(seconds)
                result.rss_kb.append(rss)
    return out


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / "python"


def _pip(python: Path, *args: str) -> None:
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *args], check=True)


def install_harden_ci() -> Path:
    """Install this tree into BENCH_VENV as a regular (built, not editable) package, every
    run, so the benchmark measures the code as it is; its interpreter."""
    python = _venv_python(BENCH_VENV)
    if not python.is_file():
        print(f"  creating {BENCH_VENV.relative_to(REPO)} (a normal venv for harden-ci)",
              file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        print("  installing harden-ci and its dependencies into it", file=sys.stderr)
        _pip(python, str(REPO))
    else:
        print("  reinstalling harden-ci from the tree (not editable)", file=sys.stderr)
        _pip(python, "--force-reinstall", "--no-deps", str(REPO))
    where = subprocess.run([str(python), "-c", "import harden_ci; print(harden_ci.__file__)"],
                           capture_output=True, text=True, check=True, cwd=BENCH_VENV)
    if not Path(where.stdout.strip()).resolve().is_relative_to(BENCH_VENV.resolve()):
        raise SystemExit(f"harden-ci in {BENCH_VENV} imports from {where.stdout.strip()}")
    return python


def ensure_ghagen() -> Path | None:
    """ghagen in its own venv (once); its interpreter, or None when it cannot install."""
    python = _venv_python(GHAGEN_VENV)
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(GHAGEN_VENV)], check=True)
    try:
        _pip(python, f"ghagen=={GHAGEN_VERSION}")
    except subprocess.CalledProcessError:
        return None
    return python


# Set by main(): the benchmark venv's interpreter (harden-ci's and the baseline's).
PYTHON = Path(sys.executable)


def harden_ci() -> list[str]:
    script = PYTHON.parent / "harden-ci"
    return [str(script)] if script.is_file() else [str(PYTHON), "-m", "harden_ci"]


# --------------------------------------------------------------------------- harden-ci


@dataclass
class SizeResult:
    services: int
    files: int
    output_kb: int
    render: Series  # cold: into an empty folder
    render_no_cache: Series  # cold, and without the compiled-template cache
    render_unchanged: Series  # over its own output: the fast path, nothing written
    check_clean: Series
    check_drifted: Series
    validate: Series
    phases: dict[str, float]
    baseline: Series  # `python -c pass`, timed turn about with check_clean


FAST = ("import sys; from harden_ci import fastcheck as f; "
        "sys.exit(f.fast_check(sys.argv[1:]) is None or f.fast_render(sys.argv[1:]) is None)")


def fast_path_answers(folder: Path, count: int) -> None:
    # In the spec's folder: `-c` puts the working directory first on sys.path.
    if subprocess.run([str(PYTHON), "-c", FAST, SPEC_FILE], cwd=folder, check=False).returncode:
        raise SystemExit(f"{count} services: the fast path does not answer the rendered output "
                         "(was harden-ci's code edited during the benchmark? run it again)")


def stamps(folder: Path) -> dict[Path, int]:
    """Modification times of the generated files: an unchanged render must touch none."""
    return {p: p.stat().st_mtime_ns for p in (folder / ".github").rglob("*") if p.is_file()}


def bench_size(root: Path, count: int, runs: int) -> SizeResult:
    folder = root / f"services-{count}"
    folder.mkdir()
    (folder / SPEC_FILE).write_text(spec_text(count), encoding="utf-8")
    tool = harden_ci()
    out = folder / ".github"

    def clean() -> None:
        shutil.rmtree(out, ignore_errors=True)

    no_cache = {**os.environ, "HARDEN_CI_NO_CACHE": "1"}
    render_no_cache = series("render (no template cache)", runs, [*tool, "render"], folder,
                             before=clean, env=no_cache)
    render = series("render", runs, [*tool, "render"], folder, before=clean)
    files = [p for p in (folder / ".github" / "workflows").rglob("*") if p.is_file()]
    # The clean check and the unchanged render must be the fast path's answers, or this
    # measures something else.
    fast_path_answers(folder, count)
    before = stamps(folder)
    render_unchanged = series("render (unchanged)", runs, [*tool, "render"], folder)
    if stamps(folder) != before:
        raise SystemExit(f"{count} services: an unchanged render touched its files")
    check_clean, baseline = interleaved(
        runs, Job("check (clean)", [*tool, "check"], folder),
        Job("python -c pass", [str(PYTHON), "-c", "pass"], folder))
    fast_path_answers(folder, count)

    workflow = folder / WORKFLOW
    original = workflow.read_text("utf-8")
    workflow.write_text(original + "# hand edit\n", encoding="utf-8")
    check_drifted = series("check (drifted)", runs, [*tool, "check"], folder, expect=1)
    workflow.write_text(original, encoding="utf-8")

    validate = series("validate", runs, [*tool, "validate"], folder)

    phase_out = folder / "phases-out"
    result = subprocess.run([str(PYTHON), str(HERE / "phases.py"), str(folder / SPEC_FILE),
                             str(phase_out)], capture_output=True, text=True, check=True)
    phases = json.loads(result.stdout)
    return SizeResult(count, len(files), sum(p.stat().st_size for p in files) // 1024, render,
                      render_no_cache, render_unchanged, check_clean, check_drifted, validate,
                      phases, baseline)


# The imports worth naming: the libraries, and harden-ci's own layers. Nested times are
# included in their parent's (harden_ci.model includes pydantic; harden_ci.pipeline all).
IMPORTS_OF_INTEREST = ("harden_ci.pipeline", "harden_ci.model", "pydantic", "harden_ci.load",
                       "ruamel.yaml", "harden_ci.render", "jinja2", "harden_ci.verify", "yaml",
                       "harden_ci.cli", "click")


def slowest_imports(root: Path) -> list[tuple[str, float]]:
    """Cumulative import time of IMPORTS_OF_INTEREST in a cold `harden-ci render` (1
    service), in a folder holding only the spec: over existing output the fast path would
    answer and import none of them."""
    folder = root / "imports-1"
    folder.mkdir()
    shutil.copyfile(root / "services-1" / SPEC_FILE, folder / SPEC_FILE)
    result = subprocess.run([str(PYTHON), "-X", "importtime", "-m", "harden_ci", "render",
                             "--dry-run"], cwd=folder, capture_output=True, text=True, check=True)
    found: dict[str, float] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        _, cumulative, name = line.split("|")
        if cumulative.strip().isdigit():
            found.setdefault(name.strip(), int(cumulative) / 1e6)
    return [(name, found[name]) for name in IMPORTS_OF_INTEREST if name in found]


# --------------------------------------------------------------------------- projen


def ensure_projen() -> str | None:
    """Install projen into benchmarks/.projen (once); its version, or None without npm."""
    package = PROJEN_MODULE / "package.json"
    if not package.is_file():
        if shutil.which("npm") is None or shutil.which("node") is None:
            return None
        PROJEN_DIR.mkdir(exist_ok=True)
        manifest = PROJEN_DIR / "package.json"
        if not manifest.exists():
            manifest.write_text('{"name": "harden-ci-bench-projen", "private": true}\n')
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund",
                        f"projen@{PROJEN_VERSION}"], cwd=PROJEN_DIR, check=True,
                       stdout=subprocess.DEVNULL)
    return str(json.loads(package.read_text())["version"])


@dataclass
class Peers:
    """One size's side-by-side series, all timed turn about (one round = one run of each)."""
    count: int
    series: dict[str, Series]

    def ratio(self, slower: str, faster: str = "harden-ci render") -> float:
        """The median over rounds of slower/faster: how many times faster `faster` is."""
        return paired_ratio(self.series[slower], self.series[faster])


def paired_ratio(a: Series, b: Series) -> float:
    """The median of a/b over runs timed turn about: a ratio of medians would let a
    change in the machine's load between the two series move it."""
    return statistics.median(x / y for x, y in zip(a.seconds, b.seconds, strict=True))


def bench_peers(root: Path, count: int, runs: int, projen: bool, ghagen: Path | None) -> Peers:
    """projen's synth and CLI and ghagen's synth for `count` workflows, timed turn about
    with a cold `harden-ci render` of `count` services (the spec bench_size wrote)."""
    ours = root / f"services-{count}"
    if not ours.is_dir():
        ours.mkdir()
        (ours / SPEC_FILE).write_text(spec_text(count), encoding="utf-8")
    env = {**os.environ, "PROJEN_MODULE": str(PROJEN_MODULE), "BENCH_WORKFLOWS": str(count)}
    jobs = []
    made: dict[str, Path] = {}
    if projen:
        folder = made["projen"] = root / f"projen-{count}"
        folder.mkdir()
        shutil.copyfile(HERE / "projenrc.js", folder / ".projenrc.js")
        jobs += [Job("projen synth", ["node", ".projenrc.js"], folder, env=env),
                 Job("projen CLI", ["node", str(PROJEN_MODULE / "bin" / "projen")], folder, env=env)]
    if ghagen is not None:
        folder = made["ghagen"] = root / f"ghagen-{count}"
        folder.mkdir()
        shutil.copyfile(HERE / "ghagen_workflows.py", folder / "ghagen_workflows.py")
        jobs.append(Job("ghagen synth", [str(ghagen), "ghagen_workflows.py"], folder, env=env))
    jobs.append(Job("harden-ci render", [*harden_ci(), "render"], ours,
                    before=lambda: shutil.rmtree(ours / ".github", ignore_errors=True)))
    results = interleaved(runs, *jobs)
    for tool, folder in made.items():
        wrote = list((folder / ".github" / "workflows").glob("*.yml"))
        if len(wrote) != count:
            raise SystemExit(f"{tool} wrote {len(wrote)} workflows, expected {count}")
    return Peers(count, {r.label: r for r in results})


# --------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True,
                          check=False).stdout.strip() if shutil.which("node") else "none"
    version = subprocess.run([str(PYTHON), "-c", "import harden_ci; print(harden_ci.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus (nproc)": str(os.cpu_count()),
        "cpu": model,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "node": node,
        "os": f"{platform.system()} {platform.release()}",
        "harden-ci": f"{version}, installed from this tree as a wheel into "
                     f"{BENCH_VENV.relative_to(REPO)} (not editable)",
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def report(info: dict[str, str], runs: int, baseline: Series, sizes: list[SizeResult],
           peers: dict[int, Peers], versions: dict[str, str],
           imports: list[tuple[str, float]]) -> str:
    lines = ["## Machine", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += ["", f"Whole-process wall times in seconds: median (min) of {runs} runs after one "
              "untimed warm-up; memory is the largest peak RSS of those runs.", ""]
    lines += ["## harden-ci", "",
              "| services | files (KiB) | render, cold | render, cold, no template cache | "
              "render, unchanged (fast path) | check, clean (fast path) | `python -c pass`, "
              "turn about with it | check, drifted (full) | validate | render peak RSS (MiB) |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in sizes:
        lines.append(f"| {s.services} | {s.files} ({s.output_kb}) | {s.render.cell()} | "
                     f"{s.render_no_cache.cell()} | {s.render_unchanged.cell()} | "
                     f"{s.check_clean.cell()} | {s.baseline.cell()} | {s.check_drifted.cell()} | "
                     f"{s.validate.cell()} | {s.render.peak_mb:.0f} |")
    lines += ["", "\"Cold\" renders write into an empty folder (the spec's output is absent); "
              "the compiled-template cache is warm from the untimed warm-up run unless the "
              "column says otherwise. \"Unchanged\" renders run over their own output: the "
              "digests answer and nothing is written. Targets below use the cold render."]
    lines += ["", f"Baseline `python -c pass`, timed alone at the start: {baseline.cell()} s, "
              f"{baseline.peak_mb:.0f} MiB; a clean `check` peaks at "
              f"{max(s.check_clean.peak_mb for s in sizes):.0f} MiB.", ""]

    if peers:
        labels = [label for label in next(iter(peers.values())).series if label != "harden-ci render"]
        lines += ["## Peers, side by side (" + ", ".join(f"{k} {v}" for k, v in versions.items())
                  + ")", "",
                  "Timed turn about with a cold `harden-ci render` of as many services (into an "
                  "empty folder): each round runs every command once. \"x\" is the median over "
                  "rounds of the peer's time over harden-ci's in the same round.", "",
                  "| workflows / services | " + " | ".join(f"{label}" for label in labels)
                  + " | `harden-ci render` | peak RSS (MiB): " + ", ".join(labels) + " |",
                  "|---:|" + "---:|" * (len(labels) + 2)]
        for count, peer in sorted(peers.items()):
            cells = [f"{peer.series[label].cell()} ({peer.ratio(label):.2f}x)" for label in labels]
            rss = ", ".join(f"{peer.series[label].peak_mb:.0f}" for label in labels)
            lines.append(f"| {count} | " + " | ".join(cells)
                         + f" | {peer.series['harden-ci render'].cell()} | {rss} |")
        lines.append("")

    names = [k for k in sizes[0].phases if k != "bytes rendered"]
    lines += ["## Where one render spends its time (one run per size)", "",
              "| services | " + " | ".join(names) + " | total |",
              "|---:|" + "---:|" * (len(names) + 1)]
    for s in sizes:
        phases = {k: v for k, v in s.phases.items() if k != "bytes rendered"}
        lines.append(f"| {s.services} | " + " | ".join(f"{v:.3f}" for v in phases.values())
                     + f" | {sum(phases.values()):.3f} |")
    lines += ["", "Imports of a cold `harden-ci render` (cumulative seconds from `-X importtime`, 1 "
              "service; a module's time includes what it imports): "
              + ", ".join(f"`{name}` {sec:.3f}" for name, sec in imports) + ".", ""]

    # Targets (issue 15), each a ratio or time from this one run.
    by = {s.services: s for s in sizes}
    lines += ["## Targets (issue 15)", "", "| target | measured | verdict |", "|---|---|---|"]
    for s in sizes:
        ratio = paired_ratio(s.check_clean, s.baseline)
        lines.append(f"| clean `check` <= 2x `python -c pass` ({s.services} services; median of "
                     f"paired ratios) | {ratio:.2f}x | {verdict(ratio <= 2)} |")
    if 50 in peers:
        for label in peers[50].series:
            if label == "harden-ci render":
                continue
            speedup = peers[50].ratio(label)
            target = 2 if label == "projen synth" else None
            lines.append(f"| cold render of 50 services vs {label} of 50 workflows"
                         + (f" (target >= {target}x faster)" if target else " (reported)")
                         + f" | {speedup:.2f}x | "
                         + (verdict(speedup >= target) if target else "-") + " |")
    if 500 in by:
        lines.append(f"| cold render of 500 services <= 0.4 s | {by[500].render.median:.3f} s | "
                     f"{verdict(by[500].render.median <= 0.4)} |")
    if {10, 100, 500} <= set(by):
        def slope(a: int, b: int, get: Any) -> float:
            return float(get(by[b]) - get(by[a])) / (b - a)
        time_ratio = slope(100, 500, lambda s: s.render.median) / slope(10, 100, lambda s: s.render.median)
        mem_ratio = slope(100, 500, lambda s: s.render.peak_mb) / max(
            slope(10, 100, lambda s: s.render.peak_mb), 1e-9)
        per = slope(100, 500, lambda s: s.render.median) * 1000
        lines.append(f"| render time grows linearly (cost per added service, 100->500 vs "
                     f"10->100) | {time_ratio:.2f} ({per:.1f} ms/service) | "
                     # Under 1: each added service costs less than the last (fixed costs
                     # still weigh in); the failure this guards against is superlinear growth.
                     f"{verdict(time_ratio <= 2)} |")
        lines.append(f"| render memory grows linearly (same ratio) | {mem_ratio:.2f} | "
                     f"{verdict(0.5 <= mem_ratio <= 2)} |")
    return "\n".join(lines) + "\n"


def readme_summary(body: str) -> str:
    """The README's part of a run: the machine in one line and the targets table."""
    lines = body.splitlines()
    machine = dict(line[2:].split(": ", 1) for line in lines
                   if line.startswith("- ") and ": " in line)
    targets = lines[lines.index("## Targets (issue 15)") + 2:]
    table = [line for line in targets if line.startswith("|")]
    return (f"Measured {machine.get('date', '?')} on {machine.get('cpus (nproc)', '?')} CPUs "
            f"({machine.get('cpu', '?')}, load average {machine.get('load average at start', '?')}), "
            f"Python {machine.get('python', '?')}, harden-ci installed as a wheel in a normal "
            "venv; whole-process wall times, medians, ratios of runs timed turn about; details "
            "and analysis in [benchmarks/RESULTS.md](benchmarks/RESULTS.md).\n\n"
            + "\n".join(table) + "\n")


def _replace_block(path: Path, body: str) -> bool:
    """Put `body` between the markers of `path`; False when it has none."""
    text = path.read_text("utf-8") if path.exists() else ""
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    path.write_text(head + f"{START}\n{body}{END}" + rest.split(END, 1)[1], encoding="utf-8")
    return True


def write_results(body: str) -> None:
    _replace_block(README, readme_summary(body))
    block = f"{START}\n{body}{END}"
    if RESULTS.exists():
        text = RESULTS.read_text("utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            tail = rest.split(END, 1)[1]
            RESULTS.write_text(head + block + tail, encoding="utf-8")
            return
    RESULTS.write_text("# harden-ci benchmark results\n\nWritten by `python benchmarks/bench.py`"
                       " (see benchmarks/README.md).\n\n" + block + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50, 100, 500])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measurement")
    parser.add_argument("--runs-large", type=int, default=3,
                        help="timed runs for sizes of 500 services and more")
    parser.add_argument("--no-projen", action="store_true")
    parser.add_argument("--no-ghagen", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only; keep RESULTS.md")
    args = parser.parse_args()

    global PYTHON
    started = time.perf_counter()
    PYTHON = install_harden_ci()
    info = machine()
    with tempfile.TemporaryDirectory(prefix="harden-ci-bench-") as temp:
        root = Path(temp)
        baseline = series("python -c pass", args.runs * 2, [str(PYTHON), "-c", "pass"], root)
        sizes = []
        for count in sorted(args.sizes):
            runs = args.runs_large if count >= 500 else args.runs
            sizes.append(bench_size(root, count, runs))
            print(f"  {count} services: render {sizes[-1].render.cell()} s", file=sys.stderr)
        versions: dict[str, str] = {}
        projen_version = None if args.no_projen else ensure_projen()
        if projen_version:
            versions["projen"] = projen_version
        ghagen = None if args.no_ghagen else ensure_ghagen()
        if ghagen is not None:
            versions["ghagen"] = GHAGEN_VERSION
        peers: dict[int, Peers] = {}
        if versions:
            for count in (1, 50):
                peers[count] = bench_peers(root, count, args.runs, bool(projen_version), ghagen)
                print(f"  peers {count}: " + ", ".join(
                    f"{label} {series.cell()} s" for label, series in peers[count].series.items()),
                    file=sys.stderr)
        imports = slowest_imports(root) if 1 in args.sizes else []
    info["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info["benchmark wall time"] = f"{time.perf_counter() - started:.0f} s"
    body = report(info, args.runs, baseline, sizes, peers, versions, imports)
    print(body)
    if not args.no_write:
        write_results(body)
        print(f"wrote {RESULTS.relative_to(REPO)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
