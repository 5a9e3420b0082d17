"""The forged-token probe: the classic ways an API that verifies JWTs badly lets anyone in.

Every token below must be refused (401 or 403) at the protected endpoint, where the fresh
token gets 2xx (the control: a refusal proves nothing on an endpoint that refuses all):

* `alg: none`           - the fresh token's header and claims, `alg` set to `none`, no signature;
* unknown key           - the fresh token's claims re-signed (HS256) with a random key, under
                          the fresh token's own `kid`: an API that does not check signatures
                          accepts it;
* key confusion         - for every RSA key the JWKS serves, the claims signed HS256 with that
                          public key (PEM, SubjectPublicKeyInfo and PKCS#1) as the HMAC secret:
                          the attack on verifiers that take the algorithm from the token;
* wrong audience, wrong issuer, expired - genuine tokens from the issuer (the probe cannot sign
                          them), from HARDEN_CI_<KIND>_TOKEN[_COMMAND]; each is checked to carry
                          what it claims (another `aud`, another `iss`, an `exp` in the past), so
                          a command that prints a plain valid token cannot make the probe pass.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

from harden_ci.gates import auth_http as http
from harden_ci.gates.auth_http import TokenSource
from harden_ci.gates.auth_probes import ProbeResult

GENUINE = {
    "WRONG_AUDIENCE_TOKEN": "wrong audience",
    "WRONG_ISSUER_TOKEN": "wrong issuer",
    "EXPIRED_TOKEN": "expired",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_int(text: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")


def _compact(header: dict[str, object], claims: dict[str, object], secret: bytes | None) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def rsa_public_pems(keys: list[dict[str, object]]) -> list[tuple[str, bytes]]:
    """(kid, PEM) for every RSA key of a JWKS, in both PEM forms verifiers are seen to use."""
    found: list[tuple[str, bytes]] = []
    for key in keys:
        n, e = key.get("n"), key.get("e")
        if key.get("kty") != "RSA" or not isinstance(n, str) or not isinstance(e, str):
            continue
        try:
            public = RSAPublicNumbers(_b64_int(e), _b64_int(n)).public_key()
        except ValueError:
            continue
        kid = str(key.get("kid", ""))
        for form in (serialization.PublicFormat.SubjectPublicKeyInfo, serialization.PublicFormat.PKCS1):
            found.append((kid, public.public_bytes(serialization.Encoding.PEM, form)))
    return found


def forgeries(fresh: str, jwks_keys: list[dict[str, object]]) -> list[tuple[str, str]]:
    """(what, token) for the tokens the probe forges itself."""
    header, claims = http.decode_jwt(fresh)
    kid = header.get("kid")
    base = {"typ": "JWT", **({"kid": kid} if isinstance(kid, str) else {})}
    tokens = [("alg: none", _compact({**base, "alg": "none"}, claims, None)),
              ("a token signed by an unknown key",
               _compact({**base, "alg": "HS256"}, claims, secrets.token_bytes(32)))]
    for rsa_kid, pem in rsa_public_pems(jwks_keys):
        tokens.append((f"HS256 signed with RSA public key {rsa_kid!r} as the HMAC secret",
                       _compact({"typ": "JWT", "kid": rsa_kid, "alg": "HS256"}, claims, pem)))
    return tokens


def _claim_problem(kind: str, token: str, fresh_claims: dict[str, object]) -> str | None:
    """Why a genuine token does not show the flaw it should carry, or None."""
    try:
        claims = http.decode_jwt(token)[1]
    except ValueError as exc:
        return f"it is {exc}"
    if kind == "wrong audience" and claims.get("aud") == fresh_claims.get("aud"):
        return f"its aud {claims.get('aud')!r} is the fresh token's"
    if kind == "wrong issuer" and claims.get("iss") == fresh_claims.get("iss"):
        return f"its iss {claims.get('iss')!r} is the fresh token's"
    exp = claims.get("exp")
    if kind == "expired" and not (isinstance(exp, int | float) and exp < time.time()):
        return f"its exp {exp!r} is not in the past"
    return None


def probe_forged(url: str, *, fresh: str, jwks_keys: list[dict[str, object]],
                 genuine: dict[str, TokenSource], timeout: float,
                 get: Callable[..., http.Response] = http.get) -> ProbeResult:
    name = "forged tokens"
    control = get(url, token=fresh, timeout=timeout)
    if not (control.status is not None and 200 <= control.status < 300):
        return ProbeResult(name, False, f"forged tokens: inconclusive: the fresh token got "
                                        f"{control.describe()} at {url}, so a refusal would prove "
                                        "nothing")
    try:
        tokens = forgeries(fresh, jwks_keys)
    except ValueError as exc:
        return ProbeResult(name, False, f"forged tokens: the fresh token is {exc}; nothing to forge")
    fresh_claims = http.decode_jwt(fresh)[1]
    problems: list[str] = []
    for variable, kind in GENUINE.items():
        source = genuine.get(variable)
        if source is None or not source.configured:
            continue
        token = source.get()
        problem = _claim_problem(kind, token, fresh_claims)
        if problem:
            problems.append(f"the {kind} token from {source.variables} is not one ({problem})")
            continue
        tokens.append((f"a token with the {kind}" if kind != "expired" else "an expired token", token))
    accepted: list[str] = []
    for what, token in tokens:
        response = get(url, token=token, timeout=timeout)
        if response.status not in (401, 403):
            accepted.append(f"{what} got {response.describe()}")
    if accepted or problems:
        return ProbeResult(name, False, "forged tokens: " + "; ".join(
            [f"the API must refuse (401/403) {item}" for item in accepted] + problems))
    return ProbeResult(name, True, f"forged tokens: all {len(tokens)} refused at {url} "
                                   f"({', '.join(what for what, _ in tokens)})")
