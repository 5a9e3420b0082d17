"""actions/cache stub: restore from, and save into, the harness store by key and restore-keys.

The real action saves in its post step, at the end of the job; a composite action has no
post step, so this stub saves right after the restore (a miss saves what the paths hold
now) and records that in the log."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.environ["HARDEN_CI_ACT_STUBS"], "_lib"))
import cache
import stublib as s


def array(c: s.Call, name: str, required: bool = False) -> list[str]:
    """src/utils/actionUtils.ts getInputAsArray."""
    import re
    return [re.sub(r"^!\s+", "!", line).strip() for line in
            c.get(name, required=required).split("\n") if line.strip()]


def main(c: s.Call) -> None:
    if not os.environ.get("GITHUB_REF"):
        s.info(f"[warning]Event Validation Error: The event type {os.environ.get('GITHUB_EVENT_NAME')} "
               "is not supported because it's not tied to a branch or tag ref.")
        return
    key = c.get("key", required=True)
    restore_keys = array(c, "restore-keys")
    paths = array(c, "path", required=True)
    fail_on_miss = c.get("fail-on-cache-miss").lower() == "true"
    lookup_only = c.get("lookup-only").lower() == "true"
    matched = cache.restore(paths, key, restore_keys, lookup_only=lookup_only)
    if not matched:
        # cache-hit is left unset on a miss, as the source does.
        if fail_on_miss:
            raise s.RunError("Failed to restore cache entry. Exiting as fail-on-cache-miss is set. "
                             f"Input key: {key}")
        s.info(f"Cache not found for input keys: {', '.join([key, *restore_keys])}")
        c.note(f"miss {key}")
    else:
        exact = matched.lower() == key.lower()
        s.set_output("cache-hit", "true" if exact else "false")
        s.info(f"Cache found and can be restored from key: {matched}" if lookup_only
               else f"Cache restored from key: {matched}")
        c.note(f"{'hit' if exact else 'partial hit'} {matched}")
        if exact:
            s.info(f"Cache hit occurred on the primary key {key}, not saving cache.")
            return
    if lookup_only:
        return
    c.stub("post-step save at the end of the job", "saved right after the restore instead")
    if cache.save(paths, key):
        c.note(f"saved {key}")


if __name__ == "__main__":
    s.run_stub("actions/cache", main)
