"""The `harden-ci` entry point: answer a clean `check`, or a `render` with nothing to do,
before importing anything heavy, then hand over to the click CLI (for `render`, `check`
and `validate`, with the lean start-up of harden_ci.startup)."""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] in (["check"], ["render"]):
        from harden_ci.fastcheck import fast_check, fast_render

        answer = (fast_check if args[0] == "check" else fast_render)(args[1:])
        if answer is not None:
            print(answer)
            sys.exit(0)
    from harden_ci import startup

    if startup.lean(args):
        startup.prepare()
        from harden_ci.cli import main as cli_main

        startup.run_then_exit(cli_main)
    from harden_ci.cli import main as cli_main

    cli_main()
