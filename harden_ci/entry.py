"""The `harden-ci` entry point: answer a clean `check` before importing anything heavy,
then hand over to the click CLI."""

from __future__ import annotations

import sys


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["check"]:
        from harden_ci.fastcheck import fast_check

        clean = fast_check(args[1:])
        if clean is not None:
            print(clean)
            sys.exit(0)
    from harden_ci.cli import main as cli_main

    cli_main()
