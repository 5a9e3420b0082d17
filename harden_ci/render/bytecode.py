"""Compiled templates cached on disk, so a render does not recompile them every run.

Compiling the templates is ~40-60 ms of every render on a 2-core machine; loading Jinja's
cached bytecode is ~1 ms. Jinja keys each entry by the template's path and checks the
source's checksum, so an edited template is recompiled. It does not key by the Jinja
version or by the environment's options, which also shape the compiled code: both go
into the folder's name here.

The cache holds code that is executed, so it lives only in a folder this user owns and
nobody else can write to; anything odd about the folder, or any error reading or writing
it, means rendering without the cache, never a failed render. HARDEN_CI_NO_CACHE=1
turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys

import jinja2
from jinja2.bccache import Bucket

from harden_ci.render_cache import cache_root, private_dir


class _QuietCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, but a cache that cannot be read or written is just skipped."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:
            # A damaged entry fails in pickle or marshal in many ways (truncated,
            # overwritten, another Python's): whatever it is, compile afresh.
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


# The environment's settings that shape the code Jinja compiles a template to.
_SETTINGS = ("block_start_string", "block_end_string", "variable_start_string",
             "variable_end_string", "comment_start_string", "comment_end_string",
             "line_statement_prefix", "line_comment_prefix", "trim_blocks", "lstrip_blocks",
             "newline_sequence", "keep_trailing_newline", "autoescape", "optimized",
             "undefined", "is_async")


def _salt(env: jinja2.Environment) -> str:
    settings = [(name, repr(getattr(env, name))) for name in _SETTINGS]
    key = repr((jinja2.__version__, sys.version, settings, sorted(env.extensions)))
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def bytecode_cache(env: jinja2.Environment) -> jinja2.BytecodeCache | None:
    """A cache for templates compiled by `env`, or None (no cache)."""
    if os.environ.get("HARDEN_CI_NO_CACHE") or not hasattr(os, "getuid"):
        return None
    root = cache_root()
    if root is None:
        return None
    folder = root / f"jinja-{_salt(env)}"
    if not (private_dir(root) and private_dir(folder)):
        return None
    return _QuietCache(str(folder))
