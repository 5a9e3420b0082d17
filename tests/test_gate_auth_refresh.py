"""Refresh-token replay (`auth-probe --token-replay` with a refresh token) against a real
issuer on 127.0.0.1 with a token endpoint: rotation with reuse detection, rotation without
it, an issuer that redeems a used refresh token again, one that never rotates, a wrong
client, a discovery document without a token endpoint, a confidential client."""

from __future__ import annotations

import json
import secrets
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import gate_process
from test_gate_auth import FETCH, Behaviour, Handler, Issuer, Server, config_for, env_for

from harden_ci.errors import SpecError
from harden_ci.gates.auth_run import run_probes

CLIENT = "spa-client"


@dataclass
class Refresh:
    """How the token endpoint treats refresh tokens; the default follows RFC 9700 §4.14.2."""

    rotate: bool = True  # each redemption returns a new refresh token
    accept_reuse: bool = False  # a used refresh token is redeemed again
    revoke_family: bool = True  # a replay revokes the newer tokens of its family
    client_secret: str | None = None  # a confidential client
    bad_access_token: bool = False  # the refreshed access token does not work
    advertise: bool = True  # discovery names the token endpoint
    # refresh token -> (family, used)
    tokens: dict[str, tuple[str, bool]] = field(default_factory=dict)
    revoked_families: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new(self, family: str | None = None) -> str:
        token = "rt-" + secrets.token_hex(12)
        self.tokens[token] = (family or secrets.token_hex(4), False)
        return token


class RefreshHandler(Handler):
    server: RefreshServer

    def do_GET(self) -> None:
        refresh = self.server.refresh
        if self.path == "/.well-known/openid-configuration":
            document: dict[str, str] = {"issuer": self.server.issuer.base,
                                        "jwks_uri": f"{self.server.issuer.base}/jwks"}
            if refresh.advertise:
                document["token_endpoint"] = f"{self.server.issuer.base}/oauth/token"
            self.send(200, document)
        elif self.path == "/admin/refresh":  # the test's refresh token command calls this
            with refresh.lock:
                self.send(200, refresh.new() + "\n", "text/plain")
        else:
            super().do_GET()

    def do_POST(self) -> None:
        refresh = self.server.refresh
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if self.path != "/oauth/token":
            self.send(404, {"error": "not found"})
            return
        if form.get("client_id") != CLIENT or form.get("client_secret") != refresh.client_secret:
            self.send(401, {"error": "invalid_client"})
            return
        if form.get("grant_type") != "refresh_token":
            self.send(400, {"error": "unsupported_grant_type"})
            return
        presented = form.get("refresh_token", "")
        with refresh.lock:
            known = refresh.tokens.get(presented)
            if known is None or known[0] in refresh.revoked_families:
                self.send(400, {"error": "invalid_grant"})
                return
            family, used = known
            if used and not refresh.accept_reuse:
                if refresh.revoke_family:
                    refresh.revoked_families.add(family)
                self.send(400, {"error": "invalid_grant"})
                return
            body: dict[str, Any] = {"token_type": "Bearer", "expires_in": 600}
            if refresh.rotate:
                refresh.tokens[presented] = (family, True)
                body["refresh_token"] = refresh.new(family)
            else:
                body["refresh_token"] = presented
        body["access_token"] = ("not-a-token" if refresh.bad_access_token
                                else self.server.issuer.mint("a"))
        self.send(200, body)


class RefreshServer(Server):
    def __init__(self, issuer: Issuer, refresh: Refresh) -> None:
        super().__init__(issuer)
        self.RequestHandlerClass = RefreshHandler
        self.refresh = refresh


@pytest.fixture
def issuer_with(request: pytest.FixtureRequest) -> Iterator[Any]:
    started: list[RefreshServer] = []

    def start(**settings: Any) -> tuple[Issuer, Refresh]:
        issuer, refresh = Issuer(Behaviour()), Refresh(**settings)
        server = RefreshServer(issuer, refresh)
        issuer.base = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        started.append(server)
        return issuer, refresh

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _env(issuer: Issuer, secret: str | None = None) -> dict[str, str]:
    env = {**env_for(issuer), "HARDEN_CI_REFRESH_TOKEN_COMMAND": json.dumps(
        [sys.executable, "-c", FETCH, f"{issuer.base}/admin/refresh"])}
    if secret is not None:
        env["HARDEN_CI_AUTH_CLIENT_SECRET"] = secret
    return env


def _probe(issuer: Issuer, env: dict[str, str], client_id: str | None = CLIENT) -> Any:
    config = config_for(issuer, key_rotation=False, tenant_isolation=False, client_id=client_id)
    results = {r.probe: r for r in run_probes(config, env)}
    return results["refresh-token replay"]


@pytest.mark.parametrize("settings, passed, words", [
    ({}, True, "revoked the newer refresh token too (reuse detection)"),
    ({"revoke_family": False}, True, "no reuse detection"),
    ({"accept_reuse": True}, False, "redeemed a refresh token a second time"),
    ({"rotate": False}, False, "does not rotate refresh tokens"),
    ({"bad_access_token": True}, False, "inconclusive: the refreshed access token got HTTP 401"),
    ({"advertise": False}, False, "has no token_endpoint"),
])
def test_refresh_token_replay(issuer_with: Any, settings: dict[str, Any], passed: bool,
                              words: str) -> None:
    issuer, _ = issuer_with(**settings)
    result = _probe(issuer, _env(issuer))
    assert result.passed is passed, result.message
    assert words in result.message, result.message


def test_a_wrong_client_is_inconclusive_never_a_pass(issuer_with: Any) -> None:
    issuer, _ = issuer_with()
    result = _probe(issuer, _env(issuer), client_id="another-client")
    assert not result.passed
    assert "inconclusive: the fresh refresh token was not redeemed" in result.message
    assert "HTTP 401" in result.message


def test_a_confidential_client_sends_its_secret(issuer_with: Any) -> None:
    issuer, _ = issuer_with(client_secret="s3cret")
    assert not _probe(issuer, _env(issuer)).passed  # without the secret: invalid_client
    assert _probe(issuer, _env(issuer, secret="s3cret")).passed


def test_a_refresh_token_without_a_client_id_is_refused_before_any_request(
        issuer_with: Any) -> None:
    issuer, refresh = issuer_with()
    with pytest.raises(SpecError, match="refresh-token replay needs --client-id"):
        _probe(issuer, _env(issuer), client_id=None)
    assert refresh.tokens == {}  # nothing was minted or redeemed


def test_the_cli_reads_the_client_from_the_environment(issuer_with: Any, tmp_path: Any) -> None:
    issuer, _ = issuer_with(accept_reuse=True)
    done = gate_process(tmp_path, "auth-probe", "--issuer", issuer.base, "--base-url",
                        issuer.base, "--protected-path", "/api/me", "--token-replay",
                        env={**_env(issuer), "HARDEN_CI_AUTH_CLIENT_ID": CLIENT})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "redeemed a refresh token a second time" in done.stdout
