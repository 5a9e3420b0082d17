"""What ships: pyproject lists every package and data file, and a wheel built from the tree,
installed into a fresh virtual environment, renders exactly what the repository commits."""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import harden_ci

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
PACKAGE_DIR: dict[str, str] = SETUPTOOLS.get("package-dir", {})
PACKAGE_DATA: dict[str, list[str]] = SETUPTOOLS.get("package-data", {})
SKIP_DIRS = {"__pycache__"}


def _source_dir(package: str) -> Path:
    """Where setuptools finds `package`, following package-dir the way it does."""
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in PACKAGE_DIR:
            return ROOT / PACKAGE_DIR[prefix] / Path(*parts[i:])
    return ROOT / Path(*parts)


def _package_folders() -> dict[str, Path]:
    """Every folder with an __init__.py under harden_ci/ and templates/, by package name."""
    found = {}
    for base, name in ((ROOT / "harden_ci", "harden_ci"),
                       (ROOT / "templates", "harden_ci.templates")):
        for init in base.rglob("__init__.py"):
            if SKIP_DIRS & set(init.parts):
                continue
            rel = init.parent.relative_to(base)
            found[".".join([name, *rel.parts])] = init.parent
    return found


def test_every_package_folder_is_listed() -> None:
    folders = _package_folders()
    assert "harden_ci.cli" in folders  # the walk found the tree
    missing = sorted(set(folders) - set(PACKAGES))
    assert not missing, f"package folders missing from [tool.setuptools] packages: {missing}"


def test_every_listed_package_exists() -> None:
    for package in PACKAGES:
        assert (_source_dir(package) / "__init__.py").is_file(), (
            f"{package} is listed but {_source_dir(package)} has no __init__.py")


def test_templates_ship_as_harden_ci_templates() -> None:
    assert "harden_ci.templates" in PACKAGES
    assert "templates" not in PACKAGES
    assert PACKAGE_DIR.get("harden_ci.templates") == "templates"
    assert (ROOT / "templates" / "workflow.yml.j2").is_file()


def test_every_data_file_is_covered_by_package_data() -> None:
    packages = sorted(PACKAGES, key=lambda p: -p.count("."))
    uncovered = []
    for base in (ROOT / "harden_ci", ROOT / "templates"):
        for path in base.rglob("*"):
            if not path.is_file() or path.suffix in (".py", ".pyc") or SKIP_DIRS & set(path.parts):
                continue
            owner = next(p for p in packages if path.is_relative_to(_source_dir(p)))
            rel = path.relative_to(_source_dir(owner)).as_posix()
            if not any(fnmatch.fnmatch(rel, pattern) for pattern in PACKAGE_DATA.get(owner, [])):
                uncovered.append(f"{owner}: {rel}")
    assert not uncovered, f"files that would not ship in the wheel: {uncovered}"


def test_version_is_declared_once_consistently() -> None:
    assert PYPROJECT["project"]["version"] == harden_ci.__version__


def test_build_requirements_can_build_this_pyproject() -> None:
    # A PEP 639 license expression (`license = "Apache-2.0"`) needs setuptools 77 or newer;
    # an older setuptools that the declared requirement admits fails with a schema error.
    requires = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    setuptools = next(r for r in requires if r.name == "setuptools")
    if isinstance(PYPROJECT["project"].get("license"), str):
        assert not setuptools.specifier.contains("76.1"), (
            f"build-system requires {setuptools}, but `license = \"...\"` needs setuptools>=77")


# --- the real wheel -------------------------------------------------------------------------

def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_clean_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def _build_wheel(tmp_path: Path) -> Path:
    """Build from a copy of the tree, so no build/ or egg-info lands in the repository."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "harden_ci", src / "harden_ci", ignore=ignore)
    shutil.copytree(ROOT / "templates", src / "templates", ignore=ignore)
    dist = tmp_path / "dist"
    attempts = [
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation",
         "-w", str(dist)],
        # The build backend's own requirements, from the package index.
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)],
    ]
    log = []
    for args in attempts:
        result = _run(args, src)
        wheels = sorted(dist.glob("harden_ci-*.whl"))
        if result.returncode == 0 and wheels:
            return wheels[0]
        log.append(f"$ {' '.join(args[1:])}\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    pytest.fail("could not build a wheel:\n" + "\n".join(log))


@pytest.mark.slow
def test_wheel_installs_and_renders_the_committed_example(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)

    names = set(zipfile.ZipFile(wheel).namelist())
    assert "harden_ci/templates/workflow.yml.j2" in names
    for script in (ROOT / "templates" / "scripts").iterdir():
        assert f"harden_ci/templates/scripts/{script.name}" in names
    assert "harden_ci/data/pins.json" in names
    assert "harden_ci/py.typed" in names
    assert not any(n.startswith(("templates/", "tests/")) for n in names)

    venv = tmp_path / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    assert made.returncode == 0, made.stderr
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    installed = _run([str(bin_dir / "python"), "-m", "pip", "install", str(wheel)], tmp_path)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]

    where = _run([str(bin_dir / "python"), "-c",
                  "import harden_ci; print(harden_ci.__file__)"], tmp_path)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), (
        f"the fresh venv imported harden_ci from {where.stdout.strip()}")

    repo = tmp_path / "minimal"
    repo.mkdir()
    shutil.copyfile(ROOT / "examples" / "minimal" / "harden-ci.yaml", repo / "harden-ci.yaml")
    rendered = _run([str(bin_dir / "harden-ci"), "render"], repo)
    assert rendered.returncode == 0, rendered.stderr

    committed = ROOT / "examples" / "minimal" / ".github" / "workflows"
    fresh = repo / ".github" / "workflows"
    def files(root: Path) -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())

    assert files(fresh) == files(committed)
    for name in files(committed):
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), (
            f"{name} from the installed wheel differs from the committed file")

    version = _run([str(bin_dir / "harden-ci"), "--version"], repo)
    assert version.stdout.strip() == f"harden-ci, version {harden_ci.__version__}"
