"""The auth probes of `tests.auth`: each takes URLs and tokens, talks to the live issuer and API
with bounded requests, and returns a ProbeResult whose message names the rule it checks.

* jwks             - discovery names the configured issuer and a jwks_uri; the JWKS serves
                     keys with ids, no private key material, and the fresh token's kid;
* token lifetime   - a fresh token's exp - iat is at most the limit (claims are read without
                     checking the signature; that is the API's job, probed by the others);
* token replay     - a revoked or expired token gets 401 where a valid one gets 2xx;
* tenant isolation - tenant A's token gets 403 or 404 for tenant B's resource (and, when
                     given, 2xx for its own);
* key rotation     - after the rotate command a new kid appears in the JWKS within the
                     time limit, the token command signs with it, and the API accepts it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeGuard

from harden_ci.errors import SpecError
from harden_ci.gates import auth_http as http
from harden_ci.gates.auth_http import TokenSource

PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class ProbeResult:
    probe: str
    passed: bool
    message: str


@dataclass(frozen=True)
class Jwks:
    uri: str
    kids: frozenset[str]


def _ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _minutes(seconds: float) -> str:
    return f"{seconds:g} s ({seconds / 60:g} min)"


# --- jwks -------------------------------------------------------------------------------------

def discover(issuer: str, *, timeout: float) -> tuple[str | None, str]:
    """(jwks_uri, problem): the issuer's discovery document, checked."""
    url = issuer.rstrip("/") + DISCOVERY_PATH
    response = http.get(url, timeout=timeout, follow_redirects=True)
    if response.status != 200:
        return None, f"OIDC discovery at {url} answered {response.describe()}"
    try:
        document = response.json()
    except ValueError:
        return None, f"OIDC discovery at {url} is not JSON"
    if not isinstance(document, dict):
        return None, f"OIDC discovery at {url} is not a JSON object"
    named = document.get("issuer")
    if not isinstance(named, str) or named.rstrip("/") != issuer.rstrip("/"):
        return None, (f"OIDC discovery at {url} names issuer {named!r}, not {issuer!r}; "
                      "tokens would be checked against the wrong issuer")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str):
        return None, f"OIDC discovery at {url} has no jwks_uri"
    try:
        return http.check_url(jwks_uri, "jwks_uri"), ""
    except SpecError as exc:
        return None, f"OIDC discovery at {url}: {exc.message}"


def fetch_jwks(uri: str, *, timeout: float) -> tuple[Jwks | None, str]:
    """(the key ids served, problem)."""
    response = http.get(uri, timeout=timeout, follow_redirects=True)
    if response.status != 200:
        return None, f"the JWKS at {uri} answered {response.describe()}"
    try:
        document = response.json()
    except ValueError:
        return None, f"the JWKS at {uri} is not JSON"
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not keys:
        return None, f"the JWKS at {uri} has no keys"
    kids: set[str] = set()
    for key in keys:
        if not isinstance(key, dict):
            return None, f"the JWKS at {uri} holds a key that is not an object"
        leaked = [m for m in PRIVATE_MEMBERS if m in key]
        if leaked:
            return None, (f"the JWKS at {uri} publishes private key material ({', '.join(leaked)}) "
                          f"for kid {key.get('kid')!r}; rotate that key now")
        if isinstance(key.get("kid"), str):
            kids.add(key["kid"])
    return Jwks(uri, frozenset(kids)), ""


def token_kid(token: str) -> str | None:
    try:
        header, _ = http.decode_jwt(token)
    except ValueError:
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def probe_jwks(issuer: str, *, timeout: float, token: str | None = None) -> tuple[ProbeResult, Jwks | None]:
    name = "jwks"
    jwks_uri, problem = discover(issuer, timeout=timeout)
    if jwks_uri is None:
        return ProbeResult(name, False, f"jwks: {problem}"), None
    jwks, problem = fetch_jwks(jwks_uri, timeout=timeout)
    if jwks is None:
        return ProbeResult(name, False, f"jwks: {problem}"), None
    kid = token_kid(token) if token else None
    if kid is not None and kid not in jwks.kids:
        return ProbeResult(name, False, f"jwks: the fresh token's kid {kid!r} is not in the JWKS at "
                                        f"{jwks.uri} (served: {sorted(jwks.kids)}); verifiers "
                                        "cannot validate it"), jwks
    return ProbeResult(name, True, f"jwks: {jwks.uri} serves {len(jwks.kids)} key id(s) "
                                   f"{sorted(jwks.kids)}"), jwks


# --- token lifetime ---------------------------------------------------------------------------

def probe_lifetime(token: str, max_lifetime: float, *, now: float | None = None) -> ProbeResult:
    name = "token lifetime"
    try:
        _, claims = http.decode_jwt(token)
    except ValueError as exc:
        return ProbeResult(name, False, f"token lifetime: the fresh token is {exc}; its lifetime "
                                        "cannot be read (use --no-lifetime for opaque tokens)")
    exp, iat = claims.get("exp"), claims.get("iat")
    if exp is None:
        return ProbeResult(name, False, "token lifetime: the fresh token has no exp claim, so it "
                                        "never expires")
    if not http_number(exp) or (iat is not None and not http_number(iat)):
        return ProbeResult(name, False, "token lifetime: exp and iat must be numbers (NumericDate)")
    if http_number(iat):
        lifetime, how = float(exp) - float(iat), "exp - iat"
    else:
        lifetime, how = float(exp) - (time.time() if now is None else now), "exp - now (no iat claim)"
    if lifetime <= 0:
        return ProbeResult(name, False, f"token lifetime: the fresh token is already expired "
                                        f"({how} = {lifetime:g} s)")
    if lifetime > max_lifetime:
        return ProbeResult(name, False, f"token lifetime: the token lives {_minutes(lifetime)} "
                                        f"({how}), more than the limit {_minutes(max_lifetime)}")
    return ProbeResult(name, True, f"token lifetime: {_minutes(lifetime)} ({how}), within the limit "
                                   f"{_minutes(max_lifetime)}")


def http_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- token replay -----------------------------------------------------------------------------

def probe_replay(url: str, *, valid_token: str, revoked_token: str, timeout: float) -> ProbeResult:
    name = "token replay"
    control = http.get(url, token=valid_token, timeout=timeout)
    if not _ok(control.status):
        return ProbeResult(name, False, f"token replay: inconclusive: a valid token got "
                                        f"{control.describe()} at {url}, so a 401 for the revoked "
                                        "token would prove nothing (is this a protected endpoint?)")
    kind = "revoked"
    try:
        exp = http.decode_jwt(revoked_token)[1].get("exp")
        if http_number(exp) and float(exp) < time.time():
            kind = "expired"
    except ValueError:
        pass
    article = "an" if kind == "expired" else "a"
    replay = http.get(url, token=revoked_token, timeout=timeout)
    if replay.status == 401:
        return ProbeResult(name, True, f"token replay: the {kind} token was refused with HTTP 401 "
                                       f"at {url}")
    if _ok(replay.status):
        return ProbeResult(name, False, f"token replay: the API accepted {article} {kind} token "
                                        f"({replay.describe()} at {url}); it must answer 401")
    return ProbeResult(name, False, f"token replay: {article} {kind} token got {replay.describe()} "
                                    f"at {url}; expected 401")


# --- tenant isolation -------------------------------------------------------------------------

def probe_tenant_isolation(other_url: str, *, token: str, own_url: str | None,
                           timeout: float) -> ProbeResult:
    name = "tenant isolation"
    if own_url is not None:
        control = http.get(own_url, token=token, timeout=timeout)
        if not _ok(control.status):
            return ProbeResult(name, False, f"tenant isolation: inconclusive: tenant A's token got "
                                            f"{control.describe()} for its own resource {own_url}")
    response = http.get(other_url, token=token, timeout=timeout)
    if response.status in (403, 404):
        return ProbeResult(name, True, f"tenant isolation: tenant A's token got HTTP "
                                       f"{response.status} for tenant B's resource {other_url}")
    if _ok(response.status):
        return ProbeResult(name, False, f"tenant isolation: tenant leak: tenant A's token read tenant "
                                        f"B's resource {other_url} ({response.describe()}); it must "
                                        "get 403 or 404")
    if response.status == 401:
        return ProbeResult(name, False, f"tenant isolation: inconclusive: tenant A's token was "
                                        f"refused (HTTP 401) at {other_url}; use a valid token")
    return ProbeResult(name, False, f"tenant isolation: tenant A's token got {response.describe()} "
                                    f"for tenant B's resource {other_url}; expected 403 or 404")


# --- key rotation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Rotation:
    rotate_command: list[str]
    token: TokenSource  # must be a command: the token has to be minted after the rotation
    protected_url: str
    timeout: float  # how long the JWKS may take to serve the new key
    poll_interval: float
    command_timeout: float
    http_timeout: float


def probe_key_rotation(jwks_uri: str, drill: Rotation, *,
                       clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep) -> ProbeResult:
    name = "key rotation"
    before, problem = fetch_jwks(jwks_uri, timeout=drill.http_timeout)
    if before is None:
        return ProbeResult(name, False, f"key rotation: before rotating, {problem}")
    result = http.run_command(drill.rotate_command, timeout=drill.command_timeout,
                              what="rotate command (HARDEN_CI_ROTATE_COMMAND)")
    if result.returncode != 0:
        status = "timed out" if result.returncode is None else f"exited {result.returncode}"
        return ProbeResult(name, False, f"key rotation: the rotate command {status} "
                                        f"({result.tail() or 'no stderr'})")
    start = clock()
    deadline = start + drill.timeout
    last_problem = ""
    while True:
        now_jwks, last_problem = fetch_jwks(jwks_uri, timeout=drill.http_timeout)
        new = sorted(now_jwks.kids - before.kids) if now_jwks else []
        if new:
            break
        remaining = deadline - clock()
        if remaining <= 0:
            seen = sorted(now_jwks.kids) if now_jwks else last_problem
            return ProbeResult(name, False, f"key rotation: stale JWKS: {jwks_uri} still serves "
                                            f"{seen}, no new key id {drill.timeout:g} s after the "
                                            f"rotate command (before: {sorted(before.kids)})")
        sleep(min(drill.poll_interval, remaining))
    waited = clock() - start
    try:
        token = drill.token.get()
    except SpecError as exc:
        return ProbeResult(name, False, f"key rotation: no token after the rotation: {exc}")
    kid = token_kid(token)
    if kid is None:
        return ProbeResult(name, False, "key rotation: the token after the rotation has no kid "
                                        "header, so it cannot be tied to the new key")
    if kid not in new:
        return ProbeResult(name, False, f"key rotation: the token command still signs with kid "
                                        f"{kid!r}, not the new key {new}")
    response = http.get(drill.protected_url, token=token, timeout=drill.http_timeout)
    if not _ok(response.status):
        return ProbeResult(name, False, f"key rotation: the API refused a token signed with the new "
                                        f"key {kid!r} ({response.describe()} at {drill.protected_url}); "
                                        "does it cache the old JWKS?")
    return ProbeResult(name, True, f"key rotation: new kid {kid!r} served after {waited:.1f} s; a "
                                   f"token signed with it was accepted ({response.describe()})")
