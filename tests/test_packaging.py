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
from helpers import build_wheel
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


def _data_only(folder: Path) -> bool:
    """A folder of data files and no Python: listed as a package so that setuptools ships
    it as data (it warns "Package would be ignored" and may drop it otherwise)."""
    files = [p for p in folder.iterdir() if p.is_file()]
    return bool(files) and not any(p.suffix == ".py" for p in files)


def test_every_listed_package_exists() -> None:
    for package in PACKAGES:
        folder = _source_dir(package)
        assert (folder / "__init__.py").is_file() or (folder.is_dir() and _data_only(folder)), (
            f"{package} is listed but {folder} has neither an __init__.py nor only data files")


def test_every_data_folder_is_listed() -> None:
    """Each folder of shipped data under a package is a listed package of its own."""
    listed = {_source_dir(p) for p in PACKAGES}
    for base in (ROOT / "harden_ci", ROOT / "templates"):
        for folder in [base, *(p for p in base.rglob("*") if p.is_dir())]:
            if SKIP_DIRS & set(folder.parts) or not any(folder.iterdir()):
                continue
            assert folder in listed, f"{folder.relative_to(ROOT)} is not in [tool.setuptools] packages"


def test_metadata_a_user_reads() -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text and "APPENDIX: How to apply" in text
    classifiers = project["classifiers"]
    assert "Typing :: Typed" in classifiers
    # Supported versions: one classifier per minor version requires-python admits and CI runs.
    assert f"Programming Language :: Python :: {sys.version_info.major}.{sys.version_info.minor}" in (
        classifiers)
    assert not any(c.startswith("License ::") for c in classifiers), (
        "PEP 639: the license expression replaces License :: classifiers (setuptools refuses both)")


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


def _source_tree(tmp_path: Path) -> Path:
    """The files git tracks (what a clone has), copied to a fresh folder."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the sdist test builds from the tracked files")
    src = tmp_path / "clone"
    for name in listed.stdout.decode().split("\0"):
        if name and (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    return src


@pytest.mark.slow
def test_sdist_and_wheel_build_cleanly(tmp_path: Path) -> None:
    """`python -m build` from a clone: no warnings, LICENSE in both, no tests in the sdist
    (they need the repository around them), and the metadata a user reads."""
    src = _source_tree(tmp_path)
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "build", "--outdir", str(dist)], src)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    log = built.stdout + built.stderr
    assert "Successfully built" in log
    warnings = [line for line in log.splitlines() if "would be ignored" in line.lower()
                or line.startswith(("WARNING", "SetuptoolsDeprecation"))]
    assert not warnings, "\n".join(warnings)

    import tarfile
    (sdist,) = dist.glob("harden_ci-*.tar.gz")
    with tarfile.open(sdist) as tar:
        members = [m.split("/", 1)[1] for m in tar.getnames() if "/" in m]
        pkg_info = tar.extractfile(f"harden_ci-{harden_ci.__version__}/PKG-INFO")
        assert pkg_info is not None
        metadata = pkg_info.read().decode()
    assert "LICENSE" in members
    assert not [m for m in members if m.startswith("tests/")], "the sdist ships tests without their helpers"
    assert "harden_ci/data/pins.json" in members and "templates/workflow.yml.j2" in members
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Typing :: Typed" in metadata

    (wheel,) = dist.glob("harden_ci-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "harden_ci/templates/scripts/run-tests.sh" in names


def _build_wheel(tmp_path: Path) -> Path:
    return build_wheel(tmp_path)


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
