"""`harden-ci init`: detect the repository's stack and write a commented starter spec."""

from harden_ci.init.detect import Stack, detect
from harden_ci.init.template import starter_spec, write_spec
from harden_ci.init.toolchain import Detected

__all__ = ["Detected", "Stack", "detect", "starter_spec", "write_spec"]
