"""actions/attest (the action attest-build-provenance and attest-sbom wrap): the subject and
predicate checks of src/subject.ts, src/sbom.ts and src/main.ts. Signing (Sigstore, the
OIDC token act does not issue) and the attestations API are recorded as stubbed."""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import stublib as s


def subjects(c: s.Call) -> list[dict[str, object]]:
    """src/subject.ts subjectFromInputs."""
    path, digest, name = c.get("subject-path"), c.get("subject-digest"), c.get("subject-name")
    checksums = c.get("subject-checksums")
    enabled = [x for x in (path, digest, checksums) if x]
    if not enabled:
        raise s.RunError("One of subject-path, subject-digest, or subject-checksums must be provided")
    if len(enabled) > 1:
        raise s.RunError("Only one of subject-path, subject-digest, or subject-checksums may be provided")
    if digest and not name:
        raise s.RunError("subject-name must be provided when using subject-digest")
    if digest:
        if not re.fullmatch(r"sha(256|512):[0-9a-fA-F]+", digest):
            raise s.RunError(f"Invalid digest: {digest}")
        algorithm, value = digest.split(":", 1)
        return [{"name": name, "digest": {algorithm: value}}]
    if checksums:
        file = Path(checksums)
        if not file.is_file():
            raise s.RunError(f"subject checksums file not found: {checksums}")
        out: list[dict[str, object]] = []
        for line in file.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2:
                out.append({"name": parts[1].lstrip("*"), "digest": {"sha256": parts[0]}})
        return out
    files = s.glob_patterns([p for p in re.split(r"[\n,]", path) if p.strip()], Path.cwd())
    found = [{"name": name or f.name, "digest": {"sha256": hashlib.sha256(f.read_bytes()).hexdigest()}}
             for f in files]
    if not found:
        raise s.RunError(f"Could not find subject at path {path}")
    return found


def sbom_predicate(path: str) -> str:
    """src/sbom.ts parseSBOMFromPath: the type of the SBOM, or the source's error."""
    file = Path(path)
    if not file.exists():
        raise s.RunError("SBOM file not found")
    data = json.loads(file.read_text(encoding="utf-8"))
    if isinstance(data, dict) and data.get("spdxVersion") and data.get("SPDXID"):
        return "https://spdx.dev/Document/v2.3"
    if isinstance(data, dict) and all(data.get(k) for k in ("bomFormat", "serialNumber", "specVersion")):
        return "https://cyclonedx.org/bom"
    raise s.RunError("Unsupported SBOM format. Must be valid SPDX or CycloneDX JSON.")


def attest(c: s.Call, predicate_type: str) -> None:
    found = subjects(c)
    if not os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"):
        # act issues no OIDC token; on GitHub its absence means a missing id-token: write.
        c.stub("id-token", "act has no OIDC token service; the job's id-token permission is not checked")
    c.stub("signing and attestations API", "Sigstore and the attestations API are not reachable")
    bundle = Path(os.environ["RUNNER_TEMP"]) / "attestation.json"
    bundle.write_text(json.dumps({"stub": True, "predicateType": predicate_type, "subject": found}),
                      encoding="utf-8")
    s.set_output("bundle-path", str(bundle))
    c.note(f"{predicate_type} for {', '.join(str(x['name']) for x in found)}")
