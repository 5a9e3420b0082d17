"""Write rendered files: atomically, only when changed, and never over a file harden-ci
did not generate. The one place (with the CLI) that touches the disk."""

from harden_ci.write.writer import Change, LeftAlone, WritePlan, apply, plan_writes

__all__ = ["Change", "LeftAlone", "WritePlan", "apply", "plan_writes"]
