"""Ramp a flag in an OpenFeature-compatible service and read the ramp back through OFREP.

The write is the spec's `flag_api` call: `url` (with `{flag}`), `method`, and the JSON
`body` template with the flag key and percentage substituted into the parsed JSON. The
read-back uses the OpenFeature Remote Evaluation Protocol
(https://github.com/open-feature/protocol, service/openapi.yaml):

    POST {ofrep_url}/ofrep/v1/evaluate/flags/{key}   {"context": {"targetingKey": "…"}}
    200 {"key", "reason", "variant", "value", "metadata"}
    400 {"key", "errorCode", "errorDetails"}   404 {"errorCode": "FLAG_NOT_FOUND", …}
    401 / 403 (no body)   429 with Retry-After (seconds or an HTTP date)   500 {"errorDetails"}

The flag is evaluated for `samples` synthetic targeting keys, and the share that gets
`variant` must be the percentage within four binomial standard deviations (exactly none at
0%, every one at 100%). A service whose caches lag gets `settle` seconds to show the new
ramp; a ramp it never shows fails. Tokens travel only in the Authorization header and are
struck from every message; redirects are refused, so a token never follows one elsewhere.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic import JsonValue

from harden_ci.gates import auth_http, bounded_input
from harden_ci.model.flag_api import FLAG, PERCENT, FlagApi

MAX_BODY = 1024 * 1024
MAX_DETAIL = 300  # characters of a service's error text quoted in a message
SIGMAS = 4.0
EVALUATE = "/ofrep/v1/evaluate/flags/"
PARALLEL = 8  # evaluations in flight at once


class FlagServiceError(Exception):
    """The service refused, answered nonsense, or does not show the ramp (exit 1)."""


# HTTP(S) only, and a 3xx surfaces as an HTTPError: a redirect is not an answer (and a
# token must never follow one).
_OPENER = auth_http.opener(follow_redirects=False)


def body_for(template: JsonValue, flag: str, percent: int) -> JsonValue:
    """The template with `{percent}` (alone: a number) and `{flag}` substituted."""
    if isinstance(template, dict):
        return {_text(k, flag, percent): body_for(v, flag, percent) for k, v in template.items()}
    if isinstance(template, list):
        return [body_for(v, flag, percent) for v in template]
    if template == PERCENT:
        return percent
    return _text(template, flag, percent) if isinstance(template, str) else template


def _text(value: str, flag: str, percent: int) -> str:
    return value.replace(FLAG, flag).replace(PERCENT, str(percent))


def allowed(percent: int, samples: int) -> tuple[int, int]:
    """The fewest and most of `samples` keys that may get the variant at `percent`%."""
    if percent <= 0:
        return 0, 0
    if percent >= 100:
        return samples, samples
    p = percent / 100
    spread = SIGMAS * math.sqrt(p * (1 - p) * samples) + 1  # +1: counts are whole numbers
    mean = percent * samples / 100
    # The epsilon keeps float noise (0.1 * 400 = 40.000000000000004) from moving a bound.
    return (max(0, math.floor(mean - spread + 1e-9)),
            min(samples, math.ceil(mean + spread - 1e-9)))


@dataclass(frozen=True)
class Observation:
    hits: int
    samples: int
    low: int
    high: int

    @property
    def ok(self) -> bool:
        return self.low <= self.hits <= self.high

    def describe(self, variant: str) -> str:
        return (f"{self.hits}/{self.samples} evaluations got `{variant}` "
                f"({100 * self.hits / self.samples:.1f}%; allowed {self.low}-{self.high})")


@dataclass
class FlagService:
    api: FlagApi
    token: str | None = None  # the management API's, never sent to ofrep_url
    ofrep_token: str | None = None
    timeout_s: float = 10.0
    attempts: int = 3
    pause_s: float = 1.0
    poll_s: float = 5.0
    max_retry_after_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def publish(self, flag: str, percent: int) -> None:
        """Write the ramp; FlagServiceError unless the service answers 2xx (with JSON, if any)."""
        url = self.api.url.replace(FLAG, urllib.parse.quote(flag, safe=""))
        self._call(self.api.method, url, body_for(self.api.body, flag, percent), self.token,
                   "the flag API")

    def evaluate(self, flag: str, targeting_key: str) -> str:
        """The variant OFREP evaluates `flag` to for one targeting key."""
        url = self.api.ofrep_url.rstrip("/") + EVALUATE + urllib.parse.quote(flag, safe="")
        answer = self._call("POST", url, {"context": {"targetingKey": targeting_key}},
                            self.ofrep_token, "the OFREP endpoint")
        if not isinstance(answer, dict):
            raise FlagServiceError("the OFREP endpoint answered without a JSON object")
        if answer.get("key") != flag:
            raise FlagServiceError(f"the OFREP endpoint answered for key {_quote(answer.get('key'))}, "
                                   f"not `{flag}`")
        if "errorCode" in answer:
            raise FlagServiceError(f"the OFREP endpoint could not evaluate `{flag}`: "
                                   f"{self._detail(answer)}")
        variant = answer.get("variant")
        if not isinstance(variant, str):
            # The variant is optional in OFREP, but a split is only visible through it.
            raise FlagServiceError(f"the OFREP endpoint evaluated `{flag}` without a `variant`; "
                                   "harden-ci reads the ramp from the variant")
        return variant

    def observe(self, flag: str, percent: int) -> Observation:
        """One read-back: every synthetic key evaluated once (a few at a time)."""
        samples = self.api.samples
        keys = [f"harden-ci-ramp-{i}" for i in range(samples)]  # the same keys every time
        pool = ThreadPoolExecutor(max_workers=PARALLEL)
        try:
            variants = list(pool.map(lambda key: self.evaluate(flag, key), keys))
        finally:
            # The first failure ends the read-back: the keys not yet sent are dropped.
            pool.shutdown(wait=True, cancel_futures=True)
        hits = sum(variant == self.api.variant for variant in variants)
        return Observation(hits, samples, *allowed(percent, samples))

    def verify(self, flag: str, percent: int) -> Observation:
        """Read the ramp back until it shows or `settle` passes; FlagServiceError then."""
        deadline = self.clock() + self.api.settle
        while True:
            seen = self.observe(flag, percent)
            if seen.ok:
                return seen
            if self.clock() + self.poll_s > deadline:
                raise FlagServiceError(
                    f"the ramp of `{flag}` to {percent}% does not show in evaluations after "
                    f"{self.api.settle}s: {seen.describe(self.api.variant)}")
            self.sleep(self.poll_s)

    def _call(self, method: str, url: str, body: JsonValue, token: str | None,
              what: str) -> JsonValue:
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   "User-Agent": "harden-ci"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        last = "no attempt"
        for attempt in range(max(1, self.attempts)):
            wait = self.pause_s
            try:
                request = urllib.request.Request(url, data=data, headers=headers, method=method)
                with _OPENER.open(request, timeout=self.timeout_s) as response:
                    return self._json(bounded_input.read_stream(response, f"answer of {what}",
                                                                MAX_BODY), what)
            except urllib.error.HTTPError as exc:
                last = f"{what} answered HTTP {exc.code}"
                if exc.code in (401, 403):
                    raise FlagServiceError(f"{last}: the token was refused or lacks permission "
                                           "(check the secret the spec names)") from None
                detail = self._error_body(exc)
                if detail:
                    last += f": {detail}"
                if exc.code == 429:
                    wait = self._retry_after(exc.headers.get("Retry-After"))
                elif exc.code < 500:
                    raise FlagServiceError(last) from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = f"cannot reach {what} at {_origin(url)}: {getattr(exc, 'reason', exc)}"
            except ValueError as exc:  # an oversized answer
                raise FlagServiceError(f"{what}: {exc}") from None
            if attempt + 1 < self.attempts:
                self.sleep(wait)
        raise FlagServiceError(self._redact(last))

    def _json(self, raw: bytes, what: str) -> JsonValue:
        if not raw.strip():
            return None  # 204, or a write that answers with nothing
        try:
            value: JsonValue = bounded_input.loads(raw.decode("utf-8"))  # type: ignore[assignment]
        except (ValueError, UnicodeDecodeError) as exc:
            raise FlagServiceError(f"{what} answered with something other than JSON: {exc}") from None
        return value

    def _error_body(self, exc: urllib.error.HTTPError) -> str:
        try:
            body = bounded_input.loads(bounded_input.read_stream(exc, "error", MAX_BODY).decode("utf-8"))
        except (OSError, ValueError, UnicodeDecodeError):
            return ""
        return self._detail(body) if isinstance(body, dict) else ""

    def _detail(self, body: dict[str, Any]) -> str:
        parts = [str(body[k]) for k in ("errorCode", "errorDetails") if body.get(k)]
        return self._redact(" ".join(parts)[:MAX_DETAIL])

    def _redact(self, text: str) -> str:
        for secret in (self.token, self.ofrep_token):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _retry_after(self, value: str | None) -> float:
        """Retry-After as seconds or an HTTP date, capped; the pause when absent or bad."""
        if not value:
            return self.pause_s
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                return self.pause_s
        return min(max(seconds, 0.0), self.max_retry_after_s)


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _quote(value: object) -> str:
    return "none" if value is None else f"`{str(value)[:80]}`"
