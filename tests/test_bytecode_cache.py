"""The on-disk cache of compiled templates changes nothing but speed.

A render with the cache (empty, then filled), without it, and with a corrupted or unsafe
cache folder writes the same bytes; the cache lives only in a private folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from harden_ci.render import bytecode

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "examples" / "minimal" / "harden-ci.yaml"


def render(tmp_path: Path, name: str, **env: str) -> dict[str, bytes]:
    """`harden-ci render` of the minimal example into a fresh folder; its files' bytes."""
    repo = tmp_path / name
    repo.mkdir()
    shutil.copyfile(SPEC, repo / "harden-ci.yaml")
    result = subprocess.run([sys.executable, "-m", "harden_ci", "render"], cwd=repo,
                            env={**os.environ, **env}, capture_output=True, text=True,
                            check=False, timeout=300)
    assert result.returncode == 0, result.stderr
    out = repo / ".github" / "workflows"
    return {p.relative_to(out).as_posix(): p.read_bytes()
            for p in sorted(out.rglob("*")) if p.is_file()}


def cache_files(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*.cache") if p.is_file())


def test_cached_uncached_and_corrupted_renders_agree(tmp_path: Path) -> None:
    cache = tmp_path / "xdg"
    uncached = render(tmp_path, "uncached", HARDEN_CI_NO_CACHE="1", XDG_CACHE_HOME=str(cache))
    assert not cache.exists(), "HARDEN_CI_NO_CACHE=1 still wrote a cache"
    assert render(tmp_path, "filling", XDG_CACHE_HOME=str(cache)) == uncached
    entries = cache_files(cache)
    assert entries, "no compiled template was cached"
    assert render(tmp_path, "cached", XDG_CACHE_HOME=str(cache)) == uncached
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:40])  # truncated mid-way
    assert render(tmp_path, "corrupted", XDG_CACHE_HOME=str(cache)) == uncached


def test_a_folder_others_can_write_is_not_used(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "xdg"
    (cache / "harden-ci").mkdir(parents=True)
    os.chmod(cache / "harden-ci", 0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert bytecode.bytecode_cache(jinja2.Environment()) is None
    os.chmod(cache / "harden-ci", 0o700)
    assert bytecode.bytecode_cache(jinja2.Environment()) is not None


def test_an_unwritable_cache_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file where the cache folder should be: no cache, and the render still works."""
    cache = tmp_path / "xdg"
    cache.mkdir()
    (cache / "harden-ci").write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert bytecode.bytecode_cache(jinja2.Environment()) is None
    assert render(tmp_path, "unwritable", XDG_CACHE_HOME=str(cache))


def test_settings_that_shape_compiled_code_key_the_folder() -> None:
    plain = bytecode._salt(jinja2.Environment())
    assert bytecode._salt(jinja2.Environment()) == plain
    assert bytecode._salt(jinja2.Environment(trim_blocks=True)) != plain
    assert bytecode._salt(jinja2.Environment(undefined=jinja2.StrictUndefined)) != plain
