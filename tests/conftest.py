"""The suite runs the same on a laptop and on a CI machine.

Package managers change their behaviour when they believe they run in CI: Yarn Berry then
refuses to write a lockfile (`enableImmutableInstalls`), pnpm freezes its lockfile. The
tests create fixture projects with those managers, so the machine the suite runs on must
not decide for them. `ci-info`, which both use, treats `CI=false` as "not CI" whatever
other variables say. The workflows the suite runs under act still see `CI=true`: act sets
it for every job, as GitHub's runners do.
"""

from __future__ import annotations

import os

os.environ["CI"] = "false"
