"""Run the user's eval command with the fixed seed and capture its outputs file.

The gate owns this step so that every repository gets the same contract: the seed arrives
as HARDEN_CI_SEED (and PYTHONHASHSEED, unless already set, so Python evals iterate sets and
dicts of strings in a stable order), stdout becomes the outputs file (written atomically,
so a crashed run never leaves half a file for the scorer), stderr streams to the log, the
run is bounded by a timeout, and the file's format is checked right away with file:line
errors. The command is an argv list; harden-ci never builds a shell string.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harden_ci.errors import Location, SpecError
from harden_ci.gates.llm_inputs import load_outputs


@dataclass(frozen=True)
class RunResult:
    returncode: int | None  # None when the command timed out
    outputs: int  # how many output lines the file holds (0 when the command failed)
    message: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_eval(argv: list[str], *, seed: int, out: Path, timeout: float) -> RunResult:
    """Run argv with the seed in env; its stdout becomes `out`. SpecError when it cannot start
    or prints something that is not the outputs format."""
    if not argv:
        raise SpecError("no eval command given", hint="pass it after `--`, e.g. "
                        "`harden-ci gate llm-run --seed 7 --out outputs.jsonl -- python evals/run.py`")
    env = dict(os.environ, HARDEN_CI_SEED=str(seed))
    env.setdefault("PYTHONHASHSEED", str(seed))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    try:
        with tmp.open("wb") as stdout:
            # Its own process group, so a timeout stops `bash -c` and everything it started.
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, env=env,
                                    start_new_session=True)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                kill_group(proc)
                proc.wait()
                return RunResult(None, 0, f"the eval command did not finish within {timeout:g} s")
        if proc.returncode != 0:
            return RunResult(proc.returncode, 0,
                             f"the eval command exited with status {proc.returncode}")
        os.replace(tmp, out)
    except FileNotFoundError:
        raise SpecError(f"the eval command {argv[0]!r} was not found") from None
    except PermissionError:
        raise SpecError(f"the eval command {argv[0]!r} is not executable") from None
    except OSError as exc:
        raise SpecError(f"cannot run the eval command or write its outputs ({exc.strerror})",
                        location=Location(str(out))) from None
    finally:
        tmp.unlink(missing_ok=True)
    count = len(load_outputs(out))
    return RunResult(0, count, f"the eval command wrote {count} output(s) to {out} (seed {seed})")


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group `proc` leads (started with start_new_session=True)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
