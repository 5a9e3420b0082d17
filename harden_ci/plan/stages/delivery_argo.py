"""Argo Rollouts as the delivery engine: the controller shifts traffic, analyses and rolls back.

harden-ci writes two companion files beside the workflows (marker first, as every file it
owns), which the canary job applies before the new image is set:

- `harden-ci/argo-analysis.yaml`: an AnalysisTemplate whose Prometheus metrics
  are canary-analyze's PromQL (canary_analysis.Selectors), each kept to windows with at
  least `min_requests` requests (`and on() (requests >= N)`: an empty answer is Argo's
  *inconclusive*, as it is the gate's), with the same limits; NaN, ±Inf and negative values
  fail. `interval` is the spec's window, `failureLimit` and `inconclusiveLimit` the spec's.
  Argo counts failures in total and has no rule for failures in a row, so `failureLimit`
  is min(failure_limit, consecutive_failures - 1): never more lenient than the gate.
- `harden-ci/argo-strategy.yaml`: a merge patch of the Rollout's canary strategy:
  `setWeight` for each spec step below 100 and a `pause` of the bake after it, background
  analysis from the first step, and canary/stable pod labels that are the spec's tracks.
  After its last step the Rollout goes to 100% itself.

Both are checked against the resources' published schemas (harden_ci/data/schemas).
"""

from __future__ import annotations

from typing import Any

from harden_ci.gates.canary_analysis import Selectors
from harden_ci.model.delivery import Canary, CanaryMetrics
from harden_ci.plan.model import Companion

API_VERSION = "argoproj.io/v1alpha1"


def files(canary: Canary) -> tuple[str, str]:
    """The analysis template's and the strategy patch's paths under the workflows folder.
    Fixed names: a spec has one canary, and no spec value may shape a file's path (the
    rollout's name is free text; it goes into the documents, quoted)."""
    del canary
    return "harden-ci/argo-analysis.yaml", "harden-ci/argo-strategy.yaml"


def template_name(canary: Canary) -> str:
    return f"{canary.rollout}-harden-ci"


def selectors(metrics: CanaryMetrics) -> Selectors:
    return Selectors(requests_metric=metrics.requests_metric, duration_metric=metrics.duration_metric,
                     duration_unit=metrics.duration_unit, status_label=metrics.status_label,
                     error_status=metrics.error_status, track_label=metrics.track_label,
                     canary_track=metrics.canary_track, baseline_track=metrics.baseline_track,
                     selector=metrics.selector or "", window=f"{metrics.window}s",
                     cost_metric=metrics.cost_metric)


def _bounded(limit: float) -> tuple[str, str]:
    """successCondition, failureCondition: an empty answer is neither (inconclusive)."""
    value = "result[0]"
    bad = f"isNaN({value}) || isInf({value}) || {value} < 0"
    return (f"len(result) > 0 && !({bad}) && {value} <= {limit!r}",
            f"len(result) > 0 && ({bad} || {value} > {limit!r})")


def analysis_queries(canary: Canary) -> dict[str, tuple[str, float]]:
    """metric name → (PromQL, upper limit), as the AnalysisTemplate carries them."""
    assert canary.metrics is not None
    sel, rules = selectors(canary.metrics), canary.rollback_on
    canary_q, baseline_q = sel.queries("canary"), sel.queries("baseline")
    enough = f"({canary_q['requests']}) >= {rules.min_requests}"

    def gated(expr: str) -> str:
        return f"({expr}) and on() ({enough})"

    queries = {
        "error-rate": (gated(canary_q["error_rate"]), rules.error_rate),
        "p95-ms": (gated(f"({canary_q['p95_ms']}) * {sel.scale!r}"), float(rules.p95_ms)),
        # Over 5% of requests beyond the top bucket: the p95 is above every bucket.
        "p95-beyond-top-bucket": (gated(sel.beyond_top_bucket("canary")), 0.05),
    }
    if sel.cost_metric:
        queries["cost-regression"] = (gated(f"({canary_q['cost_regression']}) / "
                                            f"({baseline_q['cost_regression']}) - 1"),
                                      rules.cost_regression)
        if rules.cost_per_request is not None:
            queries["cost-per-request"] = (gated(canary_q["cost_regression"]), rules.cost_per_request)
    return queries


def analysis_template(canary: Canary) -> dict[str, Any]:
    assert canary.metrics is not None
    metrics, rules = canary.metrics, canary.rollback_on
    provider: dict[str, Any] = {"address": metrics.prometheus}
    args: list[dict[str, Any]] = []
    if metrics.token_secret:
        # The cluster's own copy of the token: a Kubernetes Secret named like the spec's.
        secret = metrics.token_secret.lower().replace("_", "-")
        args.append({"name": "prometheus-token",
                     "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}})
        provider["headers"] = [{"key": "Authorization", "value": "Bearer {{args.prometheus-token}}"}]
    entries = []
    for name, (query, limit) in analysis_queries(canary).items():
        success, failure = _bounded(limit)
        entries.append({
            "name": name, "interval": f"{metrics.window}s",
            "failureLimit": min(rules.failure_limit, rules.consecutive_failures - 1),
            "inconclusiveLimit": rules.inconclusive_limit,
            "consecutiveErrorLimit": rules.inconclusive_limit,
            "successCondition": success, "failureCondition": failure,
            "provider": {"prometheus": {**provider, "query": query}},
        })
    spec: dict[str, Any] = {"metrics": entries}
    if args:
        spec["args"] = args
    return {"apiVersion": API_VERSION, "kind": "AnalysisTemplate",
            "metadata": {"name": template_name(canary)}, "spec": spec}


def strategy_patch(canary: Canary) -> dict[str, Any]:
    assert canary.metrics is not None
    m = canary.metrics
    steps: list[dict[str, Any]] = []
    for percent in canary.steps:
        if percent < 100:
            steps += [{"setWeight": percent}, {"pause": {"duration": f"{canary.bake}s"}}]
    return {"apiVersion": API_VERSION, "kind": "Rollout", "metadata": {"name": canary.rollout},
            "spec": {"strategy": {"canary": {
                "canaryMetadata": {"labels": {m.track_label: m.canary_track}},
                "stableMetadata": {"labels": {m.track_label: m.baseline_track}},
                "analysis": {"templates": [{"templateName": template_name(canary)}],
                             "startingStep": 1},
                "steps": steps}}}}


def companions(canary: Canary) -> list[Companion]:
    analysis, strategy = files(canary)
    return [Companion(filename=analysis, template="document.yaml.j2",
                      context={"document": analysis_template(canary)}),
            Companion(filename=strategy, template="document.yaml.j2",
                      context={"document": strategy_patch(canary)})]
