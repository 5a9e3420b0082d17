"""`harden-ci gate auth-probe` against real HTTP servers on 127.0.0.1: one issuer + API that
behaves, and broken ones that each break one rule (an accepted revoked or expired token, a
tenant leak, a stale JWKS, a 60-minute token, an API stuck on the old key, a JWKS leaking a
private key, a discovery document naming another issuer), each caught with a message that
names the rule. Tokens are real HS256 JWTs minted by the test issuer; the rotate and token
commands are real subprocesses calling the issuer's admin endpoints.

No timing assertions: every request has a timeout, every poll a small bounded deadline."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harden_ci.errors import SpecError
from harden_ci.gates import auth_http, auth_probes
from harden_ci.gates.auth_run import AuthConfig, run_probes

# --- the issuer and API under test ------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(header: dict[str, object], claims: dict[str, object], secret: bytes = b"s") -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


@dataclass
class Behaviour:
    """How the server misbehaves; the default behaves."""

    lifetime: int = 600
    accept_revoked: bool = False  # the API never checks revocation or expiry
    tenant_leak: bool = False  # any valid token reads any tenant's data
    stale_jwks: bool = False  # rotation signs with a new key the JWKS never publishes
    api_old_keys_only: bool = False  # the API only trusts the keys it saw at start
    leak_private_key: bool = False  # the JWKS publishes the HMAC secret
    issuer_claim: str | None = None  # discovery names another issuer
    redirect_tenant_b: bool = False  # tenant B's resource redirects to a public page
    rsa: bool = False  # sign RS256 with an RSA key the JWKS publishes (n, e)
    accept_alg_none: bool = False  # an unsigned token passes
    skip_signature: bool = False  # the signature is never checked
    key_confusion: bool = False  # HS256 tokens are checked with the RSA public key (PEM) as secret
    ignore_audience: bool = False
    ignore_issuer: bool = False
    drop_old_at_once: bool = False  # rotation removes the old key at once (kills live sessions)
    retire_after: float | None = None  # seconds after a rotation the old key is retired
    query_leak: bool = False  # ?tenant=b on tenant A's path serves tenant B's data
    header_leak: bool = False  # X-Tenant-Id: b on tenant A's path serves tenant B's data


@dataclass
class Issuer:
    behaviour: Behaviour
    base: str = ""
    keys: dict[str, bytes] = field(default_factory=lambda: {"k1": secrets.token_bytes(32)})
    current: str = "k1"
    published: list[str] = field(default_factory=lambda: ["k1"])
    revoked: set[str] = field(default_factory=set)
    retired: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rsa_key: Any = None

    def __post_init__(self) -> None:
        if self.behaviour.rsa:
            from cryptography.hazmat.primitives.asymmetric import rsa

            self.rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def public_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def rs256(self, claims: dict[str, object]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"alg": "RS256", "typ": "JWT", "kid": "rsa1"}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        signature = self.rsa_key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def rotate(self) -> None:
        with self.lock:
            old = self.current
            kid = f"k{len(self.keys) + 1}"
            self.keys[kid] = secrets.token_bytes(32)
            self.current = kid
            if not self.behaviour.stale_jwks:
                self.published.append(kid)
        if self.behaviour.drop_old_at_once:
            self.retire(old)
        elif self.behaviour.retire_after is not None:
            threading.Timer(self.behaviour.retire_after, self.retire, (old,)).start()

    def retire(self, kid: str) -> None:
        with self.lock:
            self.retired.add(kid)
            if kid in self.published:
                self.published.remove(kid)

    def mint(self, tenant: str, state: str = "fresh") -> str:
        now = int(time.time())
        iat = now - 7200 if state == "expired" else now
        claims = {"iss": self.base, "sub": f"user-{tenant}", "tenant": tenant, "iat": iat,
                  "exp": iat + self.behaviour.lifetime, "jti": secrets.token_hex(8), "aud": "api"}
        if state == "wrong-aud":
            claims["aud"] = "another-api"
        if state == "wrong-iss":
            claims["iss"] = "https://evil.example.com"
        if self.behaviour.rsa:
            with self.lock:
                if state == "revoked":
                    self.revoked.add(str(claims["jti"]))
            return self.rs256(claims)
        with self.lock:
            token = jwt({"alg": "HS256", "typ": "JWT", "kid": self.current}, claims,
                        self.keys[self.current])
            if state == "revoked":
                self.revoked.add(str(claims["jti"]))
        return token

    def verify(self, token: str) -> dict[str, object] | None:
        try:
            header, claims = auth_http.decode_jwt(token)
        except ValueError:
            return None
        b = self.behaviour
        if not b.ignore_audience and claims.get("aud") != "api":
            return None
        if not b.ignore_issuer and claims.get("iss") != self.base:
            return None
        if header.get("alg") == "none":
            return self.fresh(claims) if b.accept_alg_none else None
        if b.skip_signature:
            return self.fresh(claims)
        if b.rsa:
            return self.verify_rsa(token, header, claims)
        kid = header.get("kid")
        trusted = ["k1"] if self.behaviour.api_old_keys_only else [k for k in self.keys
                                                                   if k not in self.retired]
        if not isinstance(kid, str) or kid not in trusted:
            return None
        signing_input, _, signature = token.rpartition(".")
        expected = b64url(hmac.new(self.keys[kid], signing_input.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        return self.fresh(claims)

    def fresh(self, claims: dict[str, object]) -> dict[str, object] | None:
        if not self.behaviour.accept_revoked:
            exp = claims.get("exp")
            if not isinstance(exp, int) or exp < time.time() or claims.get("jti") in self.revoked:
                return None
        return claims

    def verify_rsa(self, token: str, header: dict[str, object],
                   claims: dict[str, object]) -> dict[str, object] | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signing_input, _, signature = token.rpartition(".")
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        if header.get("alg") == "HS256" and self.behaviour.key_confusion:
            # The classic flaw: the algorithm comes from the token, the "key" is the PEM.
            expected = hmac.new(self.public_pem(), signing_input.encode(), hashlib.sha256).digest()
            return self.fresh(claims) if hmac.compare_digest(expected, raw) else None
        if header.get("alg") != "RS256":
            return None
        try:
            self.rsa_key.public_key().verify(raw, signing_input.encode(), padding.PKCS1v15(),
                                             hashes.SHA256())
        except InvalidSignature:
            return None
        return self.fresh(claims)


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def send(self, status: int, body: object, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        issuer = self.server.issuer
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        self.query = query
        if path == "/.well-known/openid-configuration":
            self.send(200, {"issuer": issuer.behaviour.issuer_claim or issuer.base,
                            "jwks_uri": f"{issuer.base}/jwks"})
        elif path == "/jwks":
            with issuer.lock:
                keys: list[dict[str, str]] = [{"kty": "oct", "kid": kid, "use": "sig", "alg": "HS256"}
                                              for kid in issuer.published]
            if issuer.behaviour.leak_private_key:
                keys[0]["k"] = b64url(issuer.keys["k1"])
            if issuer.behaviour.rsa:
                numbers = issuer.rsa_key.public_key().public_numbers()
                keys = [{"kty": "RSA", "kid": "rsa1", "use": "sig", "alg": "RS256",
                         "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                         "e": b64url(numbers.e.to_bytes(3, "big"))}]
            self.send(200, {"keys": keys})
        elif path == "/admin/token":  # the test's token command calls this
            self.send(200, issuer.mint(query.get("tenant", "a"), query.get("state", "fresh")) + "\n",
                      "text/plain")
        elif path == "/admin/rotate":  # the test's rotate command calls this
            issuer.rotate()
            self.send(200, {"rotated": True})
        elif path == "/public":
            self.send(200, {"hello": "world"})
        else:
            self.api(path)

    def api(self, path: str) -> None:
        auth = self.headers.get("Authorization", "")
        claims = self.server.issuer.verify(auth.removeprefix("Bearer ")) if auth.startswith(
            "Bearer ") else None
        parts = path.strip("/").split("/")
        if path == "/api/me":
            if claims is None:
                self.send(401, {"error": "invalid_token"})
            else:
                self.send(200, {"sub": claims["sub"]})
        elif len(parts) == 4 and parts[:2] == ["api", "tenants"] and parts[3] == "projects":
            if self.server.issuer.behaviour.redirect_tenant_b and parts[2] == "b":
                self.send(302, {}, headers={"Location": "/public"})
            elif claims is None:
                self.send(401, {"error": "invalid_token"})
            elif claims.get("tenant") != parts[2] and not self.server.issuer.behaviour.tenant_leak:
                self.send(403, {"error": "forbidden"})
            else:
                tenant = parts[2]
                behaviour = self.server.issuer.behaviour
                if behaviour.query_leak and "tenant" in self.query:
                    tenant = self.query["tenant"]
                if behaviour.header_leak and self.headers.get("X-Tenant-Id"):
                    tenant = self.headers["X-Tenant-Id"]
                self.send(200, {"tenant": tenant, "projects": [f"{tenant}-p1"]})
        else:
            self.send(404, {"error": "not found"})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, issuer: Issuer) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.issuer = issuer


Serve = Callable[..., Issuer]


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[tuple[Server, threading.Thread]] = []

    def start(**behaviour: Any) -> Issuer:
        issuer = Issuer(Behaviour(**behaviour))
        server = Server(issuer)
        issuer.base = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  daemon=True)
        thread.start()
        started.append((server, thread))
        return issuer

    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


FETCH = ("import sys, urllib.request; "
         "print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode().strip())")


def env_for(issuer: Issuer) -> dict[str, str]:
    """The environment a workflow would set: token commands (a JSON argv and a plain-words one)
    and the rotate command, all calling the issuer's admin endpoints."""
    base = issuer.base
    return {
        "HARDEN_CI_TOKEN_COMMAND": json.dumps([sys.executable, "-c", FETCH, f"{base}/admin/token?tenant=a"]),
        "HARDEN_CI_REVOKED_TOKEN_COMMAND": shlex.join(
            [sys.executable, "-c", FETCH, f"{base}/admin/token?tenant=a&state=revoked"]),
        "HARDEN_CI_ROTATE_COMMAND": json.dumps([sys.executable, "-c", FETCH, f"{base}/admin/rotate"]),
    }


def config_for(issuer: Issuer, **overrides: Any) -> AuthConfig:
    values: dict[str, Any] = dict(
        issuer=issuer.base, base_url=issuer.base, protected="/api/me",
        tenant_a="/api/tenants/a/projects", tenant_b="/api/tenants/b/projects", key_rotation=True,
        token_replay=True, tenant_isolation=True, rotation_timeout=1.0, poll_interval=0.05,
        http_timeout=5, command_timeout=30)
    values.update(overrides)
    return AuthConfig(**values)


def results_by_probe(issuer: Issuer, env: dict[str, str] | None = None,
                     **overrides: Any) -> dict[str, auth_probes.ProbeResult]:
    results = run_probes(config_for(issuer, **overrides), env if env is not None else env_for(issuer))
    return {r.probe: r for r in results}


# --- the well-behaved issuer --------------------------------------------------------------------

def test_a_well_behaved_issuer_and_api_pass_every_probe(serve: Serve) -> None:
    issuer = serve()
    results = results_by_probe(issuer)
    assert list(results) == ["jwks", "token lifetime", "token replay", "tenant isolation",
                             "key rotation"]
    assert all(r.passed for r in results.values()), [r.message for r in results.values()]
    assert results["key rotation"].message.startswith("key rotation: new kid 'k2' served after")
    assert results["token lifetime"].message == ("token lifetime: 600 s (10 min) (exp - iat), "
                                                 "within the limit 900 s (15 min)")
    assert issuer.published == ["k1", "k2"]


def test_only_the_enabled_probes_run(serve: Serve) -> None:
    issuer = serve()
    env = {"HARDEN_CI_TOKEN": issuer.mint("a")}
    results = results_by_probe(issuer, env, key_rotation=False, token_replay=False,
                               tenant_isolation=False)
    assert list(results) == ["jwks", "token lifetime"] and all(r.passed for r in results.values())
    assert issuer.published == ["k1"]  # nothing rotated


# --- one broken server per rule -------------------------------------------------------------

def test_an_api_accepting_a_revoked_token_fails_token_replay(serve: Serve) -> None:
    results = results_by_probe(serve(accept_revoked=True), key_rotation=False)
    replay = results["token replay"]
    assert not replay.passed
    assert replay.message.startswith("token replay: the API accepted a revoked token (HTTP 200 at http://")
    assert replay.message.endswith("/api/me); it must answer 401")


def test_an_api_accepting_an_expired_token_fails_token_replay(serve: Serve) -> None:
    issuer = serve(accept_revoked=True)
    env = {"HARDEN_CI_TOKEN": issuer.mint("a"), "HARDEN_CI_REVOKED_TOKEN": issuer.mint("a", "expired")}
    replay = results_by_probe(issuer, env, key_rotation=False)["token replay"]
    assert not replay.passed and "the API accepted an expired token" in replay.message


def test_the_behaving_api_refuses_an_expired_token(serve: Serve) -> None:
    issuer = serve()
    env = {"HARDEN_CI_TOKEN": issuer.mint("a"), "HARDEN_CI_REVOKED_TOKEN": issuer.mint("a", "expired")}
    replay = results_by_probe(issuer, env, key_rotation=False)["token replay"]
    assert replay.passed and "the expired token was refused with HTTP 401" in replay.message


def test_a_tenant_leak_fails_tenant_isolation(serve: Serve) -> None:
    isolation = results_by_probe(serve(tenant_leak=True), key_rotation=False)["tenant isolation"]
    assert not isolation.passed
    assert isolation.message.startswith("tenant isolation: tenant leak: tenant A's token read tenant "
                                        "B's resource http://")
    assert isolation.message.endswith("(HTTP 200); it must get 403 or 404")


def test_a_stale_jwks_fails_key_rotation_after_a_bounded_wait(serve: Serve) -> None:
    issuer = serve(stale_jwks=True)
    rotation = results_by_probe(issuer, rotation_timeout=0.5)["key rotation"]
    assert not rotation.passed
    assert rotation.message.startswith("key rotation: stale JWKS: http://")
    assert rotation.message.endswith("/jwks still serves ['k1'], no new key id 0.5 s after the rotate "
                                     "command (before: ['k1'])")
    assert issuer.current == "k2"  # the rotate command did run


def test_a_60_minute_token_fails_token_lifetime(serve: Serve) -> None:
    lifetime = results_by_probe(serve(lifetime=3600), key_rotation=False)["token lifetime"]
    assert not lifetime.passed
    assert lifetime.message == ("token lifetime: the token lives 3600 s (60 min) (exp - iat), more "
                                "than the limit 900 s (15 min)")


def test_the_lifetime_limit_is_configurable(serve: Serve) -> None:
    results = results_by_probe(serve(lifetime=3600), key_rotation=False, max_lifetime=3600)
    assert results["token lifetime"].passed


def test_an_api_stuck_on_the_old_key_fails_key_rotation(serve: Serve) -> None:
    rotation = results_by_probe(serve(api_old_keys_only=True))["key rotation"]
    assert not rotation.passed
    assert rotation.message.startswith("key rotation: the API refused a token signed with the new key "
                                       "'k2' (HTTP 401 at http://")


def test_a_jwks_publishing_private_key_material_fails(serve: Serve) -> None:
    results = results_by_probe(serve(leak_private_key=True))
    assert not results["jwks"].passed
    assert "publishes private key material (k) for kid 'k1'" in results["jwks"].message
    assert results["key rotation"].message.startswith("key rotation: not run, because the JWKS")


def test_a_discovery_document_for_another_issuer_fails(serve: Serve) -> None:
    results = results_by_probe(serve(issuer_claim="https://evil.example.com"))
    assert not results["jwks"].passed
    assert "names issuer 'https://evil.example.com'" in results["jwks"].message
    assert results["key rotation"].message == ("key rotation: not run, because the JWKS could not be "
                                               "read (see the jwks probe)")


def test_a_redirect_is_not_followed_into_a_public_page(serve: Serve) -> None:
    isolation = results_by_probe(serve(redirect_tenant_b=True), key_rotation=False)["tenant isolation"]
    assert not isolation.passed
    assert "got HTTP 302 for tenant B's resource" in isolation.message


def test_replay_against_an_endpoint_that_refuses_everything_is_inconclusive(serve: Serve) -> None:
    replay = results_by_probe(serve(), key_rotation=False, protected="/api/missing")["token replay"]
    assert not replay.passed
    assert replay.message.startswith("token replay: inconclusive: a valid token got HTTP 404")


def test_tenant_isolation_with_a_rejected_token_is_inconclusive(serve: Serve) -> None:
    issuer = serve()
    b_url = f"{issuer.base}/api/tenants/b/projects"
    result = auth_probes.probe_tenant_isolation(
        auth_probes.Tenants(a_url=None, b_url=b_url, a_token="not-a-token"), timeout=5)
    assert not result.passed and "inconclusive: tenant A's token was refused (HTTP 401)" in result.message
    result = auth_probes.probe_tenant_isolation(auth_probes.Tenants(
        a_url=f"{issuer.base}/api/tenants/a/projects", b_url=b_url, a_token="not-a-token"), timeout=5)
    assert "inconclusive: tenant A's token got HTTP 401 for its own resource" in result.message


def test_a_failing_rotate_command_fails_key_rotation(serve: Serve) -> None:
    issuer = serve()
    env = {**env_for(issuer), "HARDEN_CI_ROTATE_COMMAND": json.dumps(
        [sys.executable, "-c", "import sys; sys.stderr.write('vault sealed\\n'); sys.exit(3)"])}
    rotation = results_by_probe(issuer, env)["key rotation"]
    assert rotation.message == "key rotation: the rotate command exited 3 (vault sealed)"


def test_an_unreachable_issuer_fails_with_no_response() -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result, jwks = auth_probes.probe_jwks(f"http://127.0.0.1:{port}", timeout=2)
    assert jwks is None and not result.passed
    assert result.message.startswith(f"jwks: OIDC discovery at http://127.0.0.1:{port}/.well-known/"
                                     "openid-configuration answered no response (")


# --- inputs ---------------------------------------------------------------------------------

def test_missing_inputs_are_listed_together_before_anything_runs(serve: Serve) -> None:
    issuer = serve()
    with pytest.raises(SpecError) as caught:
        run_probes(config_for(issuer, protected=None, tenant_b=None), {"HARDEN_CI_TOKEN": "t"})
    message = str(caught.value)
    for need in ("token replay needs --protected-path", "HARDEN_CI_REVOKED_TOKEN or "
                 "HARDEN_CI_REVOKED_TOKEN_COMMAND", "tenant isolation needs --tenant-b-path",
                 "key rotation needs HARDEN_CI_ROTATE_COMMAND", "key rotation needs "
                 "HARDEN_CI_TOKEN_COMMAND"):
        assert need in message
    assert issuer.current == "k1"


@pytest.mark.parametrize(("url", "message"), [
    ("http://id.example.com", "must use https"),
    ("file:///etc/passwd", "absolute http(s) URL"),
    ("id.example.com", "absolute http(s) URL"),
])
def test_issuer_urls_are_checked(url: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        run_probes(AuthConfig(issuer=url), {"HARDEN_CI_TOKEN": "t"})


def test_paths_need_a_base_url() -> None:
    with pytest.raises(SpecError, match="is a path, so a base URL is needed"):
        auth_http.join(None, "/api/me", "the protected path")
    assert auth_http.join("https://a.example.com/v1", "me", "x") == "https://a.example.com/v1/me"
    assert auth_http.join(None, "https://b.example.com/me", "x") == "https://b.example.com/me"


@pytest.mark.parametrize(("value", "argv"), [
    ('["./rotate", "--env", "staging two"]', ["./rotate", "--env", "staging two"]),
    ("./rotate --env 'staging two'", ["./rotate", "--env", "staging two"]),
    ("./rotate && rm -rf /", ["./rotate", "&&", "rm", "-rf", "/"]),  # words, never a shell
])
def test_commands_are_argv(value: str, argv: list[str]) -> None:
    assert auth_http.parse_argv(value, "X") == argv


@pytest.mark.parametrize(("value", "message"), [
    ('["a", 1]', "non-empty JSON array of strings"),
    ("[oops", "not valid JSON"),
    ("'unclosed", "cannot be split"),
])
def test_bad_commands_are_bad_input(value: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        auth_http.parse_argv(value, "HARDEN_CI_ROTATE_COMMAND")


@pytest.mark.parametrize(("code", "message"), [
    ("import sys; sys.stderr.write('no creds\\n'); sys.exit(1)",
     "exited 1 without printing a token (no creds)"),
    ("print('a'); print('b')", "must print exactly one token on one line (it printed 2"),
    ("print('two words')", "must print exactly one token"),
])
def test_token_commands_that_misbehave_are_bad_input(code: str, message: str) -> None:
    source = auth_http.TokenSource.from_env(
        "TOKEN", 30, {"HARDEN_CI_TOKEN_COMMAND": json.dumps([sys.executable, "-c", code])})
    with pytest.raises(SpecError, match=re.escape(message)):
        source.get()


def test_token_commands_are_masked_in_github_actions(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    source = auth_http.TokenSource.from_env(
        "TOKEN", 30, {"HARDEN_CI_TOKEN_COMMAND": json.dumps([sys.executable, "-c", "print('abc.def.ghi')"])})
    assert source.get() == "abc.def.ghi"
    assert capsys.readouterr().out == "::add-mask::abc.def.ghi\n"


# --- token lifetime without a server ------------------------------------------------------------

@pytest.mark.parametrize(("token", "passed", "message"), [
    (jwt({"alg": "HS256"}, {"iat": 1000, "exp": 1900}), True, "900 s (15 min) (exp - iat), within"),
    (jwt({"alg": "HS256"}, {"iat": 1000, "exp": 1901}), False, "the token lives 901 s"),
    (jwt({"alg": "HS256"}, {"exp": 5000}), True, "(exp - now (no iat claim))"),
    (jwt({"alg": "HS256"}, {"iat": 1000}), False, "has no exp claim, so it never expires"),
    (jwt({"alg": "HS256"}, {"iat": 1000, "exp": "2000"}), False, "must be numbers"),
    (jwt({"alg": "HS256"}, {"iat": 2000, "exp": 1000}), False, "already expired"),
    ("opaque-token", False, "not a JWT (a JWT has 3 dot-separated parts, this token has 1)"),
    ("a.b!.c", False, "not base64url JSON"),
])
def test_lifetime(token: str, passed: bool, message: str) -> None:
    result = auth_probes.probe_lifetime(token, 900, now=4500)
    assert result.passed is passed and message in result.message
    assert result.message.startswith("token lifetime: ")


# --- the CLI end to end -----------------------------------------------------------------------

def probe_cli(issuer: Issuer, tmp_path: Path, *args: str, env: dict[str, str] | None = None,
              ) -> tuple[subprocess.CompletedProcess[str], str]:
    summary = tmp_path / "summary.md"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HARDEN_CI_", "GITHUB_"))}
    full_env = {**base_env, **(env_for(issuer) if env is None else env),
                "GITHUB_STEP_SUMMARY": str(summary), "HARDEN_CI_AUTH_ISSUER": issuer.base,
                "HARDEN_CI_URL": issuer.base}
    result = subprocess.run(
        [sys.executable, "-m", "harden_ci", "gate", "auth-probe", "--protected-path", "/api/me",
         "--tenant-a-path", "/api/tenants/a/projects",
         "--tenant-b-path", "/api/tenants/b/projects", "--poll-interval", "0.05",
         "--rotation-timeout", "1", "--http-timeout", "5", *args],
        env=full_env, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False)
    return result, summary.read_text("utf-8") if summary.exists() else ""


def test_cli_exits_0_when_every_probe_passes(serve: Serve, tmp_path: Path) -> None:
    issuer = serve()
    report = tmp_path / "auth.json"
    result, summary = probe_cli(issuer, tmp_path, "--key-rotation", "--token-replay",
                                "--tenant-isolation", "--report", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0].split() == ["probe", "result", "detail"]
    assert result.stdout.rstrip().endswith("Auth probes: PASS")
    assert summary.startswith("### Auth probes: ✅ pass")
    assert "| probe | result | detail |" in summary and "| key rotation | ✅ pass |" in summary
    data = json.loads(report.read_text("utf-8"))
    assert data["passed"] is True and len(data["probes"]) == 5


def test_cli_exits_1_on_a_tenant_leak(serve: Serve, tmp_path: Path) -> None:
    issuer = serve(tenant_leak=True)
    result, summary = probe_cli(issuer, tmp_path, "--tenant-isolation", "--token-replay")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "::error title=Auth probe (tenant isolation)::tenant isolation: tenant leak" in result.stdout
    assert "| tenant isolation | ❌ fail | tenant isolation: tenant leak" in summary
    assert "| token replay | ✅ pass |" in summary


def test_cli_exits_2_when_an_input_is_missing(serve: Serve, tmp_path: Path) -> None:
    issuer = serve()
    result, summary = probe_cli(issuer, tmp_path, "--key-rotation", env={})
    assert result.returncode == 2
    assert result.stderr.startswith("harden-ci: error: the auth probes are missing inputs: token "
                                    "lifetime needs a fresh token")
    assert summary == "" and issuer.current == "k1"


def test_cli_never_prints_tokens(serve: Serve, tmp_path: Path) -> None:
    issuer = serve(accept_revoked=True)
    token, revoked = issuer.mint("a"), issuer.mint("a", "revoked")
    result, summary = probe_cli(issuer, tmp_path, "--token-replay",
                                env={"HARDEN_CI_TOKEN": token, "HARDEN_CI_REVOKED_TOKEN": revoked})
    assert result.returncode == 1
    for text in (result.stdout, result.stderr, summary):
        assert token not in text and revoked not in text


def test_auth_probe_has_help_with_an_example() -> None:
    result = subprocess.run([sys.executable, "-m", "harden_ci", "gate", "auth-probe", "--help"],
                            capture_output=True, text=True, encoding="utf-8", timeout=60, check=False)
    assert result.returncode == 0 and "Example" in result.stdout
    assert "harden-ci gate auth-probe" in result.stdout
    for variable in ("HARDEN_CI_AUTH_ISSUER", "HARDEN_CI_URL", "HARDEN_CI_AUTH_PROTECTED_PATH",
                     "HARDEN_CI_AUTH_TENANT_B_PATH", "HARDEN_CI_TOKEN_COMMAND", "HARDEN_CI_ROTATE_COMMAND"):
        assert variable in result.stdout


def test_a_hanging_command_tree_is_stopped_at_its_timeout() -> None:
    # The shell's background child keeps the output pipe open; the whole group is killed.
    result = auth_http.run_command(["sh", "-c", "sleep 60 & sleep 60"], timeout=1, what="rotate command")
    assert result.returncode is None and result.tail() == "timed out after 1 s"


# --- forged tokens (issue 14, point 5) ----------------------------------------------------------

def forged_env(issuer: Issuer) -> dict[str, str]:
    base = issuer.base
    fetch = [sys.executable, "-c", FETCH]
    return {**env_for(issuer),
            "HARDEN_CI_WRONG_AUDIENCE_TOKEN_COMMAND": json.dumps(
                [*fetch, f"{base}/admin/token?state=wrong-aud"]),
            "HARDEN_CI_WRONG_ISSUER_TOKEN_COMMAND": json.dumps(
                [*fetch, f"{base}/admin/token?state=wrong-iss"]),
            "HARDEN_CI_EXPIRED_TOKEN_COMMAND": json.dumps([*fetch, f"{base}/admin/token?state=expired"])}


def forged(issuer: Issuer, env: dict[str, str] | None = None) -> auth_probes.ProbeResult:
    return results_by_probe(issuer, env if env is not None else forged_env(issuer), key_rotation=False,
                            token_replay=False, tenant_isolation=False, forged_tokens=True,
                            lifetime=False)["forged tokens"]


@pytest.mark.parametrize("rsa", [True, False])
def test_an_api_that_verifies_tokens_refuses_every_forgery(serve: Serve, rsa: bool) -> None:
    result = forged(serve(rsa=rsa))
    assert result.passed, result.message
    assert ("HS256 signed with RSA public key 'rsa1'" in result.message) is rsa
    for what in ("alg: none", "unknown key", "wrong audience", "wrong issuer", "an expired token"):
        assert what in result.message


@pytest.mark.parametrize(("flaw", "caught"), [
    ({"accept_alg_none": True}, "refuse (401/403) alg: none got HTTP 200"),
    ({"skip_signature": True}, "refuse (401/403) a token signed by an unknown key got HTTP 200"),
    ({"key_confusion": True}, "HS256 signed with RSA public key 'rsa1' as the HMAC secret got HTTP 200"),
    ({"ignore_audience": True}, "refuse (401/403) a token with the wrong audience got HTTP 200"),
    ({"ignore_issuer": True}, "refuse (401/403) a token with the wrong issuer got HTTP 200"),
    ({"accept_revoked": True}, "refuse (401/403) an expired token got HTTP 200"),
])
def test_each_classic_flaw_fails_the_forged_tokens_probe(serve: Serve, flaw: dict[str, bool],
                                                         caught: str) -> None:
    result = forged(serve(rsa=True, **flaw))
    assert not result.passed
    assert caught in result.message, result.message


def test_a_genuine_token_command_that_prints_a_valid_token_cannot_pass(serve: Serve) -> None:
    issuer = serve(rsa=True)
    env = {**forged_env(issuer),
           "HARDEN_CI_WRONG_AUDIENCE_TOKEN_COMMAND": env_for(issuer)["HARDEN_CI_TOKEN_COMMAND"]}
    result = forged(issuer, env)
    assert not result.passed
    assert "the wrong audience token from HARDEN_CI_WRONG_AUDIENCE_TOKEN or " in result.message
    assert "is not one (its aud 'api' is the fresh token's)" in result.message


def test_forged_tokens_against_an_endpoint_that_refuses_all_is_inconclusive(serve: Serve) -> None:
    issuer = serve(rsa=True)
    result = results_by_probe(issuer, forged_env(issuer), key_rotation=False, token_replay=False,
                              tenant_isolation=False, forged_tokens=True, lifetime=False,
                              protected="/api/missing")["forged tokens"]
    assert not result.passed and result.message.startswith("forged tokens: inconclusive")


# --- tenant isolation both ways, by path, query and header (issue 14, point 5) ------------------

def tenant_env(issuer: Issuer) -> dict[str, str]:
    return {**env_for(issuer), "HARDEN_CI_TENANT_B_TOKEN_COMMAND": json.dumps(
        [sys.executable, "-c", FETCH, f"{issuer.base}/admin/token?tenant=b"])}


def isolation(issuer: Issuer, env: dict[str, str] | None = None,
              **overrides: Any) -> auth_probes.ProbeResult:
    values: dict[str, Any] = dict(key_rotation=False, token_replay=False, lifetime=False,
                                  tenant_b_query="tenant=b", tenant_b_header="X-Tenant-Id: b")
    values.update(overrides)
    return results_by_probe(issuer, tenant_env(issuer) if env is None else env, **values)["tenant isolation"]


def test_isolation_both_ways_by_path_query_and_header_passes_a_well_behaved_api(serve: Serve) -> None:
    result = isolation(serve())
    assert result.passed, result.message
    for part in ("tenant B's resource", "tenant A's resource", "by query parameter (tenant=b): ignored",
                 "by header (X-Tenant-Id: b): ignored"):
        assert part in result.message


@pytest.mark.parametrize(("flaw", "caught"), [
    ({"query_leak": True}, "tenant leak: tenant A's token read tenant B's data by query parameter"),
    ({"header_leak": True}, "tenant leak: tenant A's token read tenant B's data by header"),
    ({"tenant_leak": True}, "tenant leak: tenant A's token read tenant B's resource"),
])
def test_a_leak_by_path_query_or_header_fails(serve: Serve, flaw: dict[str, bool], caught: str) -> None:
    result = isolation(serve(**flaw))
    assert not result.passed and caught in result.message, result.message


def test_a_typo_in_tenant_b_path_is_not_isolation(serve: Serve) -> None:
    result = isolation(serve(), tenant_b="/api/tenant/b/projects")  # typo: tenant, not tenants
    assert not result.passed
    assert "inconclusive: tenant B's token got HTTP 404 for its own resource" in result.message


def test_a_404_without_tenant_b_token_is_not_isolation(serve: Serve) -> None:
    issuer = serve()
    result = isolation(issuer, env_for(issuer), tenant_b="/api/tenant/b/projects")
    assert not result.passed and "only a 403 counts then" in result.message


def test_a_wrong_host_is_not_isolation(serve: Serve) -> None:
    issuer = serve()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = isolation(issuer, tenant_b=f"http://127.0.0.1:{port}/api/tenants/b/projects")
    assert not result.passed and "inconclusive: tenant B's token got no response" in result.message


def test_tenant_isolation_needs_the_tenant_a_control(serve: Serve) -> None:
    with pytest.raises(SpecError, match="tenant isolation needs --tenant-a-path"):
        isolation(serve(), tenant_a=None)


# --- key rotation with an overlap (issue 14, point 5) -----------------------------------------------

def rotation(issuer: Issuer, **overrides: Any) -> auth_probes.ProbeResult:
    return results_by_probe(issuer, token_replay=False, tenant_isolation=False, lifetime=False,
                            **overrides)["key rotation"]


def test_a_rotation_with_a_grace_period_then_retirement_passes(serve: Serve) -> None:
    # The grace period must outlast the token command and the polls on a loaded machine.
    result = rotation(serve(retire_after=4), rotation_grace=4, rotation_timeout=5)
    assert result.passed, result.message
    assert "the old key's token stayed valid (overlap); the old key 'k1' was retired" in result.message


def test_a_rotation_that_drops_every_old_key_at_once_fails(serve: Serve) -> None:
    result = rotation(serve(drop_old_at_once=True))
    assert not result.passed
    assert result.message == ("key rotation: no overlap: the old key 'k1' left the JWKS at once, so "
                              "every live session's token is invalid")


def test_an_old_key_never_retired_fails_when_a_grace_period_is_set(serve: Serve) -> None:
    result = rotation(serve(), rotation_grace=0.1, rotation_timeout=0.5)
    assert not result.passed
    assert result.message.startswith("key rotation: the old key 'k1' is still in the JWKS 0.1 s + 0.5 s")
