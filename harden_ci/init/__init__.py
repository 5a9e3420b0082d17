"""`harden-ci init`: detect the repository's stack and write a commented starter spec."""

from harden_ci.init.detect import Stack, detect
from harden_ci.init.template import starter_spec, write_spec

__all__ = ["Stack", "detect", "starter_spec", "write_spec"]
