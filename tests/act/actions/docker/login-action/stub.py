"""docker/login-action stub: the credential checks of the source; a login that would be
attempted is recorded for the job (build-push-action's push needs it). No registry is
contacted, so wrong credentials are not detected: recorded as stubbed."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s


def main(c: s.Call) -> None:
    registry, username, password = c.get("registry"), c.get("username"), c.get("password")
    auth = c.get("registry-auth")
    c.boolean("logout")
    if auth and (registry or username or password or c.get("scope") or c.get("ecr")):
        raise s.RunError("Cannot use registry-auth with other inputs")
    if auth:
        raise s.RunError("act harness: registry-auth (YAML) is not supported by this stub")
    registry = registry or "docker.io"
    if not username and not password:
        raise s.RunError("Username and password required")
    if not username:
        raise s.RunError("Username required")
    if not password:
        raise s.RunError("Password required")
    s.info(f"Logging into {registry}...")
    logins = s.read_state("docker-logins", [])
    s.write_state("docker-logins", sorted({*logins, registry}))
    c.stub("registry login", f"{registry} not contacted; credentials not verified")
    s.info("Login Succeeded!")
    c.note(f"logged in to {registry}")


if __name__ == "__main__":
    s.run_stub("docker/login-action", main)
