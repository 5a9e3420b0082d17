"""bridgecrewio/checkov-action stub: the image's entrypoint turns the inputs into checkov
flags; this stub does the same with the machine's checkov ($HARDEN_CI_CHECKOV, PATH or the
repository's .venv). Without one the scan is recorded as stubbed and nothing is written:
a later step that reads the report then fails, as it should."""

from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

FLAGS = {"file": "--file", "check": "--check", "skip_check": "--skip-check", "framework": "--framework",
         "skip_framework": "--skip-framework", "external_checks_dirs": "--external-checks-dir",
         "external_checks_repos": "--external-checks-git", "output_format": "--output",
         "output_file_path": "--output-file-path", "log_level": None, "config_file": "--config-file",
         "baseline": "--baseline", "hard_fail_on": "--hard-fail-on", "soft_fail_on": "--soft-fail-on",
         "docker_image": "--docker-image", "dockerfile_path": "--dockerfile-path", "var_file": "--var-file",
         "repo_root_for_plan_enrichment": "--repo-root-for-plan-enrichment", "skip_path": "--skip-path",
         "skip_cve_package": "--skip-cve-package", "policy_metadata_filter": "--policy-metadata-filter",
         "policy_metadata_filter_exception": "--policy-metadata-filter-exception"}
SWITCHES = {"compact": "--compact", "quiet": "--quiet", "soft_fail": "--soft-fail",
            "output_bc_ids": "--output-bc-ids", "use_enforcement_rules": "--use-enforcement-rules",
            "skip_results_upload": "--skip-results-upload", "deep_analysis": "--deep-analysis",
            "download_external_modules": "--download-external-modules",
            "enable_secrets_scan_all_files": "--enable-secret-scan-all-files",
            "skip_download": "--skip-download"}


def main(c: s.Call) -> None:
    args: list[str] = []
    if not c.get("file"):
        args += ["--directory", c.get("directory") or "."]
    for name, flag in FLAGS.items():
        value = c.get(name)
        if value and flag:
            args += [flag, value]
    for name, flag in SWITCHES.items():
        if c.get(name).lower() == "true":
            args.append(flag)
    tool = os.environ.get("HARDEN_CI_CHECKOV") or s.machine_tool("checkov")
    s.info(f"checkov {' '.join(args)}")
    if not tool:
        c.stub("scan", "no checkov on this machine: no report written")
        return
    env = {**os.environ, "LOG_LEVEL": c.get("log_level") or "WARNING"}
    if c.get("api-key"):
        env["BC_API_KEY"] = c.get("api-key")
    proc = subprocess.run([tool, *args], env=env)
    c.note(f"checkov exit {proc.returncode}")
    c.stub("container image", f"checkov ran from {tool}")
    if proc.returncode:
        c.exit(proc.returncode)


if __name__ == "__main__":
    s.run_stub("bridgecrewio/checkov-action", main, in_workspace=True)
