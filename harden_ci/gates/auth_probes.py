"""The auth probes of `tests.auth`: each takes URLs and tokens, talks to the live issuer and API
with bounded requests, and returns a ProbeResult whose message names the rule it checks.

* jwks             - discovery names the configured issuer and a jwks_uri; the JWKS serves
                     keys with ids, no private key material, and the fresh token's kid;
* token lifetime   - a fresh token's exp - iat is at most the limit (claims are read without
                     checking the signature; that is the API's job, probed by the others);
* token replay     - a revoked or expired token gets 401 where a valid one gets 2xx;
* tenant isolation - both ways, each behind a control: tenant A's token gets 2xx for its own
                     resource and 403/404 for tenant B's (by path, query parameter and header);
                     with tenant B's token, B gets 2xx for its own resource (so the route exists)
                     and 403/404 for A's; without it only a 403 proves isolation;
* key rotation     - after the rotate command a new kid appears in the JWKS within the
                     time limit, the token command signs with it, and the API accepts it; the
                     old key overlaps (still published, a token minted before the rotation still
                     accepted), and with a grace period set, it is retired after it (gone from
                     the JWKS, that token refused with 401).
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
    keys: tuple[dict[str, object], ...] = ()


def _ok(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _minutes(seconds: float) -> str:
    return f"{seconds:g} s ({seconds / 60:g} min)"


# --- jwks -------------------------------------------------------------------------------------

def discovered(issuer: str, key: str, *, timeout: float) -> tuple[str | None, str]:
    """(URL, problem): one endpoint (`jwks_uri`, `token_endpoint`) of the issuer's discovery
    document, checked: the document must name this issuer."""
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
    endpoint = document.get(key)
    if not isinstance(endpoint, str):
        return None, f"OIDC discovery at {url} has no {key}"
    try:
        return http.check_url(endpoint, key), ""
    except SpecError as exc:
        return None, f"OIDC discovery at {url}: {exc.message}"


def discover(issuer: str, *, timeout: float) -> tuple[str | None, str]:
    """(jwks_uri, problem): the issuer's discovery document, checked."""
    return discovered(issuer, "jwks_uri", timeout=timeout)


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
    return Jwks(uri, frozenset(kids), tuple(keys)), ""


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

@dataclass(frozen=True)
class Tenants:
    """Tenant A's own resource (the control), tenant B's, and the other ways to ask for B's data."""

    a_url: str | None
    b_url: str
    a_token: str
    b_token: str | None = None  # tenant B's own token: B's control, and B asking for A's data
    query: str | None = None  # e.g. `tenant=b`, added to tenant A's URL
    header: tuple[str, str] | None = None  # e.g. ("X-Tenant-Id", "b"), sent to tenant A's URL


def _body(response: http.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.body


def _with_query(url: str, query: str) -> str:
    return url + ("&" if "?" in url else "?") + query


def probe_tenant_isolation(tenants: Tenants, *, timeout: float) -> ProbeResult:
    """Both ways, by path, query parameter and header, each behind a control request that must
    succeed: a 404 from a typo in a path or a wrong host cannot read as isolation."""
    name = "tenant isolation"

    def fail(message: str) -> ProbeResult:
        return ProbeResult(name, False, f"tenant isolation: {message}")

    control_a = None
    if tenants.a_url is not None:
        control_a = http.get(tenants.a_url, token=tenants.a_token, timeout=timeout)
        if not _ok(control_a.status):
            return fail(f"inconclusive: tenant A's token got {control_a.describe()} for its own "
                        f"resource {tenants.a_url}")
    if tenants.b_token is not None:
        control_b = http.get(tenants.b_url, token=tenants.b_token, timeout=timeout)
        if not _ok(control_b.status):
            return fail(f"inconclusive: tenant B's token got {control_b.describe()} for its own "
                        f"resource {tenants.b_url}; the path or host is wrong, so a 404 for tenant A "
                        "would prove nothing")
    # (who, token, url, extra headers, what is asked for, may the API ignore the addressing)
    checks: list[tuple[str, str, str, dict[str, str] | None, str, bool]] = [
        ("tenant A's token", tenants.a_token, tenants.b_url, None,
         f"tenant B's resource {tenants.b_url}", False)]
    if tenants.b_token is not None and tenants.a_url is not None:
        checks.append(("tenant B's token", tenants.b_token, tenants.a_url, None,
                       f"tenant A's resource {tenants.a_url}", False))
    if tenants.a_url is not None and tenants.query:
        checks.append(("tenant A's token", tenants.a_token, _with_query(tenants.a_url, tenants.query),
                       None, f"tenant B's data by query parameter ({tenants.query})", True))
    if tenants.a_url is not None and tenants.header:
        checks.append(("tenant A's token", tenants.a_token, tenants.a_url,
                       {tenants.header[0]: tenants.header[1]},
                       f"tenant B's data by header ({tenants.header[0]}: {tenants.header[1]})", True))
    passed: list[str] = []
    for who, token, url, headers, what, may_ignore in checks:
        response = http.get(url, token=token, timeout=timeout, extra_headers=headers)
        if response.status == 403 or (response.status == 404 and tenants.b_token is not None):
            passed.append(f"{what}: HTTP {response.status}")
        elif response.status == 404:
            return fail(f"inconclusive: {who} got HTTP 404 for {what} at {url}, and without tenant "
                        "B's token (HARDEN_CI_TENANT_B_TOKEN[_COMMAND]) nothing proves the route "
                        "exists; only a 403 counts then")
        elif _ok(response.status):
            # The API may ignore a tenant parameter and serve the caller's own data: no leak.
            if may_ignore and control_a is not None and _body(response) == _body(control_a):
                passed.append(f"{what}: ignored (tenant A's own data)")
                continue
            where = f" at {url}" if may_ignore else ""
            return fail(f"tenant leak: {who} read {what} ({response.describe()}{where}); it "
                        "must get 403 or 404")
        elif response.status == 401:
            return fail(f"inconclusive: {who} was refused (HTTP 401) at {url}; use a valid token")
        else:
            return fail(f"{who} got {response.describe()} for {what}; expected 403 or 404")
    return ProbeResult(name, True, "tenant isolation: " + "; ".join(passed))


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
    grace: float | None = None  # seconds the old key stays valid; None: retirement not checked


def probe_key_rotation(jwks_uri: str, drill: Rotation, *,
                       clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep) -> ProbeResult:
    name = "key rotation"
    before, problem = fetch_jwks(jwks_uri, timeout=drill.http_timeout)
    if before is None:
        return ProbeResult(name, False, f"key rotation: before rotating, {problem}")
    try:
        old_token = drill.token.get()  # a live session's token, signed with the old key
    except SpecError as exc:
        return ProbeResult(name, False, f"key rotation: no token before the rotation: {exc}")
    old_kid = token_kid(old_token)
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
    # The overlap: the old key stays published and its tokens valid, or every live session dies.
    if old_kid is not None and now_jwks is not None and old_kid not in now_jwks.kids:
        return ProbeResult(name, False, f"key rotation: no overlap: the old key {old_kid!r} left the "
                                        "JWKS at once, so every live session's token is invalid")
    old = http.get(drill.protected_url, token=old_token, timeout=drill.http_timeout)
    if not _ok(old.status):
        return ProbeResult(name, False, f"key rotation: no overlap: a token signed with the old key "
                                        f"{old_kid!r} got {old.describe()} right after the rotation; "
                                        "live sessions must stay valid during the grace period")
    retired = ""
    if drill.grace is not None:
        sleep(drill.grace)
        deadline = clock() + drill.timeout
        while True:
            after, _ = fetch_jwks(jwks_uri, timeout=drill.http_timeout)
            gone = after is not None and old_kid not in after.kids
            refused = http.get(drill.protected_url, token=old_token, timeout=drill.http_timeout)
            if gone and refused.status == 401:
                break
            if clock() >= deadline:
                still = "is still in the JWKS" if not gone else f"still gets {refused.describe()}"
                return ProbeResult(name, False, f"key rotation: the old key {old_kid!r} {still} "
                                                f"{drill.grace:g} s + {drill.timeout:g} s after the "
                                                "rotation; it must be retired after the grace period")
            sleep(drill.poll_interval)
        retired = f"; the old key {old_kid!r} was retired after the {drill.grace:g} s grace period"
    return ProbeResult(name, True, f"key rotation: new kid {kid!r} served after {waited:.1f} s; a "
                                   f"token signed with it was accepted ({response.describe()}); the "
                                   f"old key's token stayed valid (overlap){retired}")
