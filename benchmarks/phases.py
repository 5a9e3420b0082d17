"""Where one `harden-ci render` spends its time, phase by phase (a helper of bench.py).

    python benchmarks/phases.py SPEC OUT      # prints one JSON object of seconds

Runs the same functions as `harden-ci render` (harden_ci.pipeline.render_spec, then the
writer) in a fresh interpreter, timing each phase: importing harden-ci and its libraries,
loading and validating the spec, planning and rendering the templates, verifying the
rendered workflows (parsed back with PyYAML), and writing.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> int:
    spec, out = Path(sys.argv[1]), Path(sys.argv[2])
    marks = [("start", time.perf_counter())]

    import harden_ci.cli  # noqa: F401  (click: what every render imports)
    from harden_ci.pipeline import load
    from harden_ci.render import render
    from harden_ci.verify import verify
    from harden_ci.write import apply, plan_writes
    marks.append(("import", time.perf_counter()))

    loaded, model = load(spec)
    marks.append(("load + validate", time.perf_counter()))

    files = render(model, spec.name, loaded.raw)
    marks.append(("plan + render", time.perf_counter()))

    verify(files)
    marks.append(("verify (parse back)", time.perf_counter()))

    apply(plan_writes(out, files))
    marks.append(("write", time.perf_counter()))

    phases = {name: end - marks[i][1] for i, (name, end) in enumerate(marks[1:])}
    phases["bytes rendered"] = sum(len(text.encode()) for text in files.values())
    print(json.dumps(phases))
    return 0


if __name__ == "__main__":
    sys.exit(main())
