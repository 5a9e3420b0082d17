"""aquasecurity/trivy-action stub: entrypoint.sh's checks (scan target, ignore files, SARIF
severities); trivy and its database come from downloads in the real action, so the scan
runs only with a trivy on the machine and is otherwise recorded as stubbed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

TRIVY_ENV = {"exit-code": "TRIVY_EXIT_CODE", "ignore-unfixed": "TRIVY_IGNORE_UNFIXED",
             "vuln-type": "TRIVY_PKG_TYPES", "severity": "TRIVY_SEVERITY", "format": "TRIVY_FORMAT",
             "template": "TRIVY_TEMPLATE", "output": "TRIVY_OUTPUT", "skip-dirs": "TRIVY_SKIP_DIRS",
             "skip-files": "TRIVY_SKIP_FILES", "timeout": "TRIVY_TIMEOUT", "scanners": "TRIVY_SCANNERS",
             "input": "TRIVY_INPUT", "trivy-config": "TRIVY_CONFIG", "tf-vars": "TRIVY_TF_VARS",
             "ignore-policy": "TRIVY_IGNORE_POLICY", "list-all-pkgs": "TRIVY_LIST_ALL_PKGS",
             "cache-dir": "TRIVY_CACHE_DIR"}


def main(c: s.Call) -> None:
    scan_type = c.get("scan-type") or "image"
    scan_ref = c.get("image-ref") or c.get("scan-ref") or "."
    env = {var: c.get(name) for name, var in TRIVY_ENV.items() if c.get(name)}
    ignores = [f for f in c.get("trivyignores").replace(",", " ").split() if f]
    for f in ignores:
        if not Path(f).is_file():
            c.fail(f"ERROR: cannot find ignorefile '{f}'.")
    yaml_files = [f for f in ignores if f.endswith((".yml", ".yaml"))]
    if yaml_files and len(yaml_files) != len(ignores):
        c.fail("ERROR: Cannot mix YAML and plain trivy ignore files.")
    if len(yaml_files) > 1:
        c.fail("ERROR: Multiple YAML ignore files provided. Only one YAML file is supported.")
    if yaml_files:
        env["TRIVY_IGNOREFILE"] = yaml_files[0]
    elif ignores:
        Path("trivyignores").write_text("".join(Path(f).read_text(encoding="utf-8") for f in ignores),
                                        encoding="utf-8")
        env["TRIVY_IGNOREFILE"] = "./trivyignores"
    if env.get("TRIVY_FORMAT") == "sarif":
        if c.get("limit-severities-for-sarif") != "true":
            s.info("Building SARIF report with all severities")
            env.pop("TRIVY_SEVERITY", None)
        else:
            s.info("Building SARIF report")
    s.info(f"Running Trivy with options: trivy {scan_type} {scan_ref}")
    tool = s.machine_tool("trivy")
    if tool is None:
        c.stub("trivy scan", f"no trivy on this machine: {scan_type} {scan_ref} not scanned, "
               f"no {env.get('TRIVY_FORMAT', 'table')} report")
        return
    code = subprocess.run([tool, scan_type, scan_ref], env={**os.environ, **env}).returncode
    c.note(f"trivy exit {code}")
    if code:
        c.exit(code)


if __name__ == "__main__":
    s.run_stub("aquasecurity/trivy-action", main, in_workspace=True)
