"""`harden-ci gate flag-publish`: a flag ramped in an OpenFeature-compatible service and read
back over OFREP, against a real flag store on 127.0.0.1.

The store keeps each flag's percentage; its management API (`PUT /api/flags/KEY`, bearer
token) sets it, and its OFREP endpoint (`POST /ofrep/v1/evaluate/flags/KEY`) evaluates a
context by hashing the targeting key into buckets 0..99: `on` below the percentage. Modes
make it misbehave as services do: a stale cache (writes accepted, evaluations unchanged),
unknown flags, malformed or huge answers, rate limits, redirects. Also the model's refusals
and the rendered canary steps (the tokens reach only the flag steps).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import gate_invoke, serving
from pydantic import ValidationError

from harden_ci import pipeline
from harden_ci.gates.flag_ofrep import FlagService, FlagServiceError, allowed, body_for
from harden_ci.model import Spec
from harden_ci.model.flag_api import FlagApi

TOKEN = "write-token-0123456789"
OFREP_TOKEN = "read-token-9876543210"
FLAG = "new-checkout"


def bucket(flag: str, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{flag}/{key}".encode()).digest()[:4], "big") % 100


class _Store(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.percent: dict[str, int] = {FLAG: 0}
        self.mode = "ok"  # stale, garbage, huge, no-variant, rate-limit, redirect
        self.rate_limited = 0
        self.auth: list[tuple[str, str | None]] = []  # (path, Authorization) of every request
        self.writes: list[Any] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Store

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

    def _flag(self, token: str, prefix: str) -> str | None:
        """The flag key the path names; None (after a 401) without the right token."""
        self.server.auth.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {token}":
            self._answer(401)
            return None
        return self.path.removeprefix(prefix)

    def do_PUT(self) -> None:
        store = self.server
        flag = self._flag(TOKEN, "/api/flags/")
        if flag is None:
            return None
        body = self._body()
        store.writes.append(body)
        if flag not in store.percent:
            return self._answer(404, {"error": "no such flag"})
        percent = body.get("rollout", {}).get("percent")
        if not isinstance(percent, int) or body.get("flag") != flag:
            return self._answer(400, {"errorCode": "BAD_BODY", "errorDetails": repr(body)})
        if store.mode == "redirect":
            return self._answer(307, headers={"Location": store.base + "/elsewhere"})
        with store.lock:
            if store.mode != "stale":  # a stale cache accepts the write and serves the old split
                store.percent[flag] = percent
        self._answer(200, {"ok": True})

    def do_POST(self) -> None:
        store = self.server
        flag = self._flag(OFREP_TOKEN, "/ofrep/v1/evaluate/flags/")
        if flag is None:
            return None
        key = self._body().get("context", {}).get("targetingKey")
        if not isinstance(key, str):
            return self._answer(400, {"key": flag, "errorCode": "TARGETING_KEY_MISSING"})
        if flag not in store.percent:
            return self._answer(404, {"key": flag, "errorCode": "FLAG_NOT_FOUND",
                                      "errorDetails": f"Flag '{flag}' was not found"})
        with store.lock:
            if store.mode == "rate-limit" and store.rate_limited < 2:
                store.rate_limited += 1
                return self._answer(429, headers={"Retry-After": "0"})
            percent = store.percent[flag]
        if store.mode == "garbage":
            return self._answer(200, b'{"key": "new-checkout", "variant": ')
        if store.mode == "huge":
            return self._answer(200, b" " * (3 * 1024 * 1024))
        on = bucket(flag, key) < percent
        answer = {"key": flag, "reason": "SPLIT", "value": on, "variant": "on" if on else "off"}
        if store.mode == "no-variant":
            answer.pop("variant")
        self._answer(200, answer)


@pytest.fixture
def store() -> Iterator[_Store]:
    server = _Store()
    with serving(server):
        yield server


def api(store: _Store, **extra: Any) -> dict[str, Any]:
    return {"url": store.base + "/api/flags/{flag}",
            "body": {"flag": "{flag}", "rollout": {"percent": "{percent}"}},
            "ofrep_url": store.base, "samples": 200, "settle": 1, **extra}


def publish(store: _Store, percent: int, token: str = TOKEN, **extra: Any) -> Any:
    env = {"HARDEN_CI_FLAG_API": json.dumps(api(store, **extra)), "HARDEN_CI_FLAG_TOKEN": token,
           "HARDEN_CI_OFREP_TOKEN": OFREP_TOKEN, "GITHUB_STEP_SUMMARY": ""}
    return gate_invoke("flag-publish", "--flag", FLAG, "--percent", str(percent), env=env)


def test_a_ramp_is_written_and_read_back_at_every_step(store: _Store) -> None:
    for percent in (10, 50, 100, 0):
        done = publish(store, percent)
        assert done.exit_code == 0, done.output
        assert store.percent[FLAG] == percent
        assert f"{FLAG}: ramped to {percent}%" in done.stdout
    assert store.writes[0] == {"flag": FLAG, "rollout": {"percent": 10}}  # a number, not "10"
    # Each token went only where it belongs: the write token never reached the OFREP endpoint.
    assert {a for p, a in store.auth if p.startswith("/api/")} == {f"Bearer {TOKEN}"}
    assert {a for p, a in store.auth if p.startswith("/ofrep/")} == {f"Bearer {OFREP_TOKEN}"}


def test_a_write_the_evaluations_never_show_fails(store: _Store) -> None:
    store.percent[FLAG] = 10
    store.mode = "stale"
    started = time.monotonic()
    done = publish(store, 50)
    assert done.exit_code == 1
    assert "does not show in evaluations after 1s" in done.stderr
    assert "allowed" in done.stderr and "/200 evaluations got `on`" in done.stderr
    assert time.monotonic() - started < 30


def test_zero_and_hundred_are_exact(store: _Store) -> None:
    # 1% left on is within any tolerance of 0 except "exactly none": the ramp-back must be exact.
    service = FlagService(FlagApi.model_validate(api(store)), ofrep_token=OFREP_TOKEN, poll_s=0.1)
    store.percent[FLAG] = 1
    assert not service.observe(FLAG, 0).ok
    assert service.observe(FLAG, 1).ok
    store.percent[FLAG] = 99
    assert not service.observe(FLAG, 100).ok
    with pytest.raises(FlagServiceError, match="does not show"):
        service.verify(FLAG, 100)


def test_a_refused_token_fails_and_is_never_printed(store: _Store) -> None:
    done = publish(store, 10, token="wrong-secret-value")
    assert done.exit_code == 1
    assert "HTTP 401" in done.stderr and "token was refused" in done.stderr
    assert "wrong-secret-value" not in done.output
    assert store.percent[FLAG] == 0


def test_an_unknown_flag_fails_with_the_services_reason(store: _Store) -> None:
    store.percent = {}
    done = publish(store, 10)
    assert done.exit_code == 1 and "HTTP 404" in done.stderr
    service = FlagService(FlagApi.model_validate(api(store)), ofrep_token=OFREP_TOKEN)
    with pytest.raises(FlagServiceError, match="HTTP 404: FLAG_NOT_FOUND Flag 'x' was not found"):
        service.evaluate("x", "k")


@pytest.mark.parametrize("mode, words", [
    ("garbage", "something other than JSON"),
    ("huge", "larger than 1 MiB"),
    ("no-variant", "without a `variant`"),
    ("redirect", "HTTP 307"),
])
def test_answers_that_cannot_be_trusted_fail_fast(store: _Store, mode: str, words: str) -> None:
    store.mode = mode
    started = time.monotonic()
    done = publish(store, 10)
    assert done.exit_code == 1, done.output
    assert words in done.stderr
    assert time.monotonic() - started < 10
    assert not any(p == "/elsewhere" for p, _ in store.auth)  # no token follows a redirect


def test_rate_limits_are_waited_out(store: _Store) -> None:
    store.mode = "rate-limit"
    done = publish(store, 25)
    assert done.exit_code == 0, done.output
    assert store.rate_limited == 2


def test_an_unreachable_service_fails_after_its_attempts(store: _Store) -> None:
    dead = api(store, ofrep_url="http://127.0.0.1:9")  # the discard port: nothing listens
    service = FlagService(FlagApi.model_validate(dead), attempts=2, pause_s=0, timeout_s=2)
    with pytest.raises(FlagServiceError, match=re.escape("cannot reach the OFREP endpoint at http://127.0.0.1:9")):
        service.evaluate(FLAG, "k")


def test_the_body_template_takes_json_values_not_text() -> None:
    flag = 'a"b\\c $(id)'
    body = body_for({"{flag}": {"percent": "{percent}", "label": "ramp {flag} to {percent}%"},
                     "list": ["{percent}", 7, None]}, flag, 25)
    assert body == {flag: {"percent": 25, "label": f"ramp {flag} to 25%"}, "list": [25, 7, None]}


@pytest.mark.parametrize("percent, samples, low, high", [
    (0, 400, 0, 0), (100, 400, 400, 400), (50, 400, 159, 241), (10, 400, 15, 65)])
def test_the_tolerance_is_four_sigma(percent: int, samples: int, low: int, high: int) -> None:
    assert allowed(percent, samples) == (low, high)


# --- the model and the rendered canary ---------------------------------------------------------

def _spec(**flags: Any) -> dict[str, Any]:
    canary = {"environment": "production", "shift": "./deploy.sh shift", "steps": [10, 50, 100],
              "metrics": {"prometheus": "https://prom.example.com"}, **flags}
    return {"version": 1, "project": {"name": "demo"},
            "services": {"api": {"language": "python"}},
            "environments": {"production": {"deploy": "./deploy.sh prod"}},
            "delivery": {"canary": canary}}


FLAG_API = {"url": "https://flags.example.com/api/flags/{flag}", "method": "PATCH",
            "body": {"rollout": "{percent}"}, "token_secret": "FLAGS_TOKEN",
            "ofrep_url": "https://flags.example.com", "ofrep_token_secret": "OFREP_TOKEN"}


@pytest.mark.parametrize("flags, words", [
    ({"feature_flag": FLAG, "flag_provider": "openfeature"}, "needs `feature_flag` and `flag_api`"),
    ({"flag_provider": "openfeature", "flag_api": FLAG_API}, "needs `feature_flag` and `flag_api`"),
    ({"feature_flag": FLAG, "flag_provider": "openfeature",
      "flag_api": {k: v for k, v in FLAG_API.items() if k != "ofrep_url"}}, "ofrep_url"),
    ({"feature_flag": FLAG, "flag_provider": "openfeature",
      "flag_api": {**FLAG_API, "url": "http://flags.example.com/{flag}"}}, "use https://"),
    ({"feature_flag": FLAG, "flag_provider": "openfeature",
      "flag_api": {**FLAG_API, "ofrep_url": "http://flags.example.com"}}, "use https://"),
    ({"feature_flag": FLAG, "flag_provider": "openfeature",
      "flag_api": {**FLAG_API, "url": "https://flags.example.com/{key}"}}, "only placeholder"),
    ({"feature_flag": FLAG, "flag_provider": "openfeature",
      "flag_api": {**FLAG_API, "body": {"rollout": 50}}}, "never says the percentage"),
    ({"feature_flag": FLAG, "flag_command": "./flag.sh", "flag_api": FLAG_API},
     "`flag_api` is for `flag_provider: openfeature`"),
    ({"feature_flag": FLAG, "flag_provider": "openfeature", "flag_api": FLAG_API,
      "flag_command": "./flag.sh"}, "drop `flag_file` and `flag_command`"),
])
def test_the_model_refuses_a_ramp_that_reaches_nothing(flags: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(words)):
        Spec.model_validate(_spec(**flags))


def test_loopback_http_is_allowed_for_local_services() -> None:
    local = {**FLAG_API, "url": "http://127.0.0.1:8013/{flag}", "ofrep_url": "http://localhost:8016"}
    Spec.model_validate(_spec(feature_flag=FLAG, flag_provider="openfeature", flag_api=local))


def test_the_tokens_reach_only_the_flag_steps(tmp_path: Path) -> None:
    spec = tmp_path / "harden-ci.yaml"
    spec.write_text(yaml.safe_dump(_spec(feature_flag=FLAG, flag_provider="openfeature",
                                         flag_api=FLAG_API)), encoding="utf-8")
    release = yaml.safe_load(pipeline.render_spec(spec).files["harden-ci-release.yml"])
    job = release["jobs"]["canary"]
    assert "secrets." not in json.dumps(job.get("env", {}))
    flag_steps = [s for s in job["steps"] if "gate flag-publish" in s.get("run", "")]
    # One ramp per traffic step, and the ramp-back to 0% on failure or cancellation.
    assert [s["env"]["HARDEN_CI_FLAG_PERCENT"] for s in flag_steps] == ["10", "50", "100", "0"]
    assert flag_steps[-1]["if"] == "${{ failure() || cancelled() }}"
    for step in flag_steps:
        assert step["env"]["HARDEN_CI_FLAG_TOKEN"] == "${{ secrets.FLAGS_TOKEN }}"
        assert step["env"]["HARDEN_CI_OFREP_TOKEN"] == "${{ secrets.OFREP_TOKEN }}"
        sent = json.loads(step["env"]["HARDEN_CI_FLAG_API"])
        assert sent["method"] == "PATCH" and "token_secret" not in sent
        FlagApi.model_validate(sent)  # what the gate reads back is a valid flag_api
    others = [s for s in job["steps"] if s not in flag_steps]
    assert others and not any("FLAGS_TOKEN" in json.dumps(s) or "OFREP_TOKEN" in json.dumps(s)
                              for s in others)


@pytest.mark.parametrize("given, words", [
    ("{not json", "--api is not valid"),
    (json.dumps({**FLAG_API, "ofrep_url": "http://flags.example.com"}), "use https://"),
    (json.dumps({k: v for k, v in FLAG_API.items() if k != "body"}), "body"),
])
def test_the_gate_refuses_a_flag_api_it_cannot_trust(given: str, words: str) -> None:
    done = gate_invoke("flag-publish", "--flag", FLAG, "--percent", "5",
                       env={"HARDEN_CI_FLAG_API": given})
    assert done.exit_code == 2 and words in done.stderr, done.output
