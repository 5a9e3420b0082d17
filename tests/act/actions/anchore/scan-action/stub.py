"""anchore/scan-action stub: the input checks of action.js; grype (downloaded by the real
action, with its vulnerability database) runs here only if the machine has one. Otherwise
the scan is recorded as stubbed and no report is written."""

from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

SEVERITIES = ["negligible", "low", "medium", "high", "critical"]
FORMATS = ["sarif", "json", "table", "cyclonedx-xml", "cyclonedx-json"]


def main(c: s.Call) -> None:
    image, path, sbom = c.get("image"), c.get("path"), c.get("sbom")
    if sum(bool(x) for x in (image, path, sbom)) > 1:
        raise s.RunError("The following options are mutually exclusive: image, path, sbom")
    source = image or (f"sbom:{sbom}" if sbom else f"dir:{path or '.'}")
    fail_build = (c.get("fail-build") or "true") == "true"
    fmt = c.get("output-format") or "sarif"
    cutoff = c.get("severity-cutoff") or "medium"
    if cutoff not in SEVERITIES:
        raise s.RunError(f"Invalid severity-cutoff value is set to {cutoff} - must be one of "
                         f"{', '.join(SEVERITIES)}")
    if fmt not in FORMATS:
        raise s.RunError(f"Invalid output-format value is set to {fmt} - must be one of: "
                         f"{', '.join(FORMATS)}")
    tool = s.machine_tool("grype")
    if tool is None:
        c.stub("grype scan", f"no grype on this machine: {source} not scanned, no {fmt} report")
        return
    out_file = c.get("output-file") or f"results.{'sarif' if fmt == 'sarif' else 'json'}"
    proc = subprocess.run([tool, source, "-o", f"{fmt}={out_file}", "--fail-on", cutoff])
    if proc.returncode == 2:
        message = f"Failed minimum severity level. Found vulnerabilities with level '{cutoff}' or higher"
        if fail_build:
            c.fail(message)
        s.warning(message)
    elif proc.returncode:
        c.fail("grype had a non-zero exit status when running")
    s.set_output(fmt if fmt != "table" else "json", out_file)
    c.note(f"grype {source}")


if __name__ == "__main__":
    s.run_stub("anchore/scan-action", main, in_workspace=True)
