"""docker/setup-buildx-action stub: the builder the real action would create is recorded
for the job (its driver decides what build-push-action can do); no BuildKit is started."""

from __future__ import annotations

import json
import os
import sys
import uuid

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import stublib as s

DRIVERS = ("docker", "docker-container", "kubernetes", "remote")


def main(c: s.Call) -> None:
    driver = c.get("driver") or "docker-container"
    for name in ("use", "keep-state", "cache-binary", "cleanup"):
        c.boolean(name)
    if c.boolean("keep-state") and driver != "docker-container":
        raise s.RunError(f"Cannot use keep-state with {driver} driver")
    if driver not in DRIVERS:
        raise s.RunError(f'failed to find driver "{driver}"')
    name = c.get("name") or (f"builder-{uuid.uuid4()}" if driver != "docker" else "default")
    platforms = s.input_list(c.get("platforms")) or ["linux/amd64", "linux/amd64/v2", "linux/386"]
    s.set_output("name", name)
    s.set_output("driver", driver)
    s.set_output("platforms", ",".join(platforms))
    nodes = [{"name": f"{name}0", "endpoint": "unix:///var/run/docker.sock", "status": "running",
              "platforms": ",".join(platforms)}]
    s.set_output("nodes", json.dumps(nodes, indent=2))
    s.set_output("endpoint", "unix:///var/run/docker.sock")
    s.set_output("status", "running")
    s.set_output("flags", c.get("buildkitd-flags"))
    s.write_state("buildx", {"name": name, "driver": driver, "use": c.boolean("use")})
    c.stub("buildkit", f"no Docker daemon here; builder {name} ({driver}) recorded for the job")
    c.note(f"builder {name} driver {driver}")


if __name__ == "__main__":
    s.run_stub("docker/setup-buildx-action", main)
