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


@dataclass
class Issuer:
    behaviour: Behaviour
    base: str = ""
    keys: dict[str, bytes] = field(default_factory=lambda: {"k1": secrets.token_bytes(32)})
    current: str = "k1"
    published: list[str] = field(default_factory=lambda: ["k1"])
    revoked: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rotate(self) -> None:
        with self.lock:
            kid = f"k{len(self.keys) + 1}"
            self.keys[kid] = secrets.token_bytes(32)
            self.current = kid
            if not self.behaviour.stale_jwks:
                self.published.append(kid)

    def mint(self, tenant: str, state: str = "fresh") -> str:
        now = int(time.time())
        iat = now - 7200 if state == "expired" else now
        claims = {"iss": self.base, "sub": f"user-{tenant}", "tenant": tenant, "iat": iat,
                  "exp": iat + self.behaviour.lifetime, "jti": secrets.token_hex(8)}
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
        kid = header.get("kid")
        trusted = ["k1"] if self.behaviour.api_old_keys_only else list(self.keys)
        if not isinstance(kid, str) or kid not in trusted:
            return None
        signing_input, _, signature = token.rpartition(".")
        expected = b64url(hmac.new(self.keys[kid], signing_input.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        if not self.behaviour.accept_revoked:
            exp = claims.get("exp")
            if not isinstance(exp, int) or exp < time.time() or claims.get("jti") in self.revoked:
                return None
        return claims


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
        if path == "/.well-known/openid-configuration":
            self.send(200, {"issuer": issuer.behaviour.issuer_claim or issuer.base,
                            "jwks_uri": f"{issuer.base}/jwks"})
        elif path == "/jwks":
            with issuer.lock:
                keys: list[dict[str, str]] = [{"kty": "oct", "kid": kid, "use": "sig", "alg": "HS256"}
                                              for kid in issuer.published]
            if issuer.behaviour.leak_private_key:
                keys[0]["k"] = b64url(issuer.keys["k1"])
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
                self.send(200, {"tenant": parts[2], "projects": ["p1"]})
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
    result = auth_probes.probe_tenant_isolation(f"{issuer.base}/api/tenants/b/projects",
                                                token="not-a-token", own_url=None, timeout=5)
    assert not result.passed and "inconclusive: tenant A's token was refused (HTTP 401)" in result.message
    result = auth_probes.probe_tenant_isolation(f"{issuer.base}/api/tenants/b/projects",
                                                token="not-a-token",
                                                own_url=f"{issuer.base}/api/tenants/a/projects", timeout=5)
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
