"""The render record the fast path trusts: only a private folder of this user, only
regular files in it, never in CI; anything odd is "no record", never a crash."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from harden_ci import render_cache

INPUTS = "0123456789abcdef0123456789abcdef"
FILES = {"harden-ci.yml": "# Generated\nname: x\n", "harden-ci/affected.py": "# Generated\n"}


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name in ("CI", "GITHUB_ACTIONS", "HARDEN_CI_NO_CACHE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "cache" / "harden-ci" / "renders-v1"


def test_a_record_holds_the_digest_of_every_files_bytes(cache: Path) -> None:
    assert render_cache.lookup(INPUTS) is None
    render_cache.record(INPUTS, FILES)
    assert render_cache.lookup(INPUTS) == {
        name: hashlib.sha256(text.encode()).hexdigest() for name, text in FILES.items()}
    assert render_cache.lookup("f" * 32) is None
    assert (cache.stat().st_mode & 0o777) == 0o700


@pytest.mark.parametrize("variable", ["CI", "GITHUB_ACTIONS", "HARDEN_CI_NO_CACHE"])
def test_in_ci_nothing_is_read_or_written(cache: Path, monkeypatch: pytest.MonkeyPatch,
                                          variable: str) -> None:
    render_cache.record(INPUTS, FILES)
    monkeypatch.setenv(variable, "1")
    assert render_cache.lookup(INPUTS) is None
    render_cache.record("a" * 32, FILES)
    assert not (cache / f"{'a' * 32}.json").exists()


def test_a_folder_others_can_write_to_is_not_trusted(cache: Path) -> None:
    render_cache.record(INPUTS, FILES)
    os.chmod(cache, 0o777)
    assert render_cache.lookup(INPUTS) is None


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"files": {}}', b'{"files": {"a": 1}}',
                                     b'{"files": "x"}'])
def test_a_damaged_entry_is_no_record(cache: Path, content: bytes) -> None:
    render_cache.record(INPUTS, FILES)
    (cache / f"{INPUTS}.json").write_bytes(content)
    assert render_cache.lookup(INPUTS) is None


def test_a_linked_entry_is_no_record(cache: Path, tmp_path: Path) -> None:
    render_cache.record(INPUTS, FILES)
    entry = cache / f"{INPUTS}.json"
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_bytes(entry.read_bytes())
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert render_cache.lookup(INPUTS) is None


def test_keys_that_are_not_digests_are_refused(cache: Path) -> None:
    assert render_cache.lookup("../../etc/passwd") is None
