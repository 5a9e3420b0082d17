"""The Kubernetes Gateway API as the traffic shifter: harden-ci's own job moves an HTTPRoute's
backend weights, step by step, with no controller in the cluster.

harden-ci writes the route beside the workflows (`harden-ci/gateway-httproute.yaml`, marker
first, as every file it owns): one rule whose backendRefs are the stable Service (weight
100) and the canary Service (weight 0), attached to the spec's parent (a Gateway, or a
Service for a GAMMA mesh route). It is checked against the HTTPRoute schema published with
Gateway API (harden_ci/data/schemas). The job never applies it: applying would replace
the route's rules (an atomic list), matches and filters included. The user applies it once;
the drift guard keeps it equal to the spec.

Each step patches only the weights (templates/scripts/gateway-shift.sh); JSON-patch `test`
operations on backendRefs 0 and 1 make the API server refuse the patch if the route was
changed by hand. Promotion redeploys the stable workload and resets the weights to stable
100 / canary 0, so every rollout starts from the same route; rollback (a failed or
cancelled run) sets the same weights from the job: nothing in the cluster does it for us.
A failure after the stable redeploy began rolls back to stable, by then the new version:
it passed every step's analysis, and the old image is no longer deployed anywhere.
"""

from __future__ import annotations

from typing import Any

from harden_ci.model.delivery import Canary, GatewayRoute
from harden_ci.plan.context import PlanContext, load_script
from harden_ci.plan.model import Companion, Step
from harden_ci.plan.steps import action_step

ROUTE_FILE = "harden-ci/gateway-httproute.yaml"
API_VERSION = "gateway.networking.k8s.io/v1"
# The kubectl the kind preview gets: helm/kind-action's default at its pinned tag (pins.json).
KUBECTL_VERSION = "v1.35.0"


def route(canary: Canary) -> GatewayRoute:
    assert canary.route is not None, "provider gateway-api without a route"
    return canary.route


def _backend(name: str, port: int, weight: int) -> dict[str, Any]:
    return {"group": "", "kind": "Service", "name": name, "port": port, "weight": weight}


def httproute(canary: Canary) -> dict[str, Any]:
    """The route at rest: every request to stable, none to the canary."""
    r = route(canary)
    parent: dict[str, Any] = {"group": "gateway.networking.k8s.io" if r.parent_kind == "Gateway"
                              else "", "kind": r.parent_kind, "name": r.parent}
    if r.parent_namespace:
        parent["namespace"] = r.parent_namespace
    return {"apiVersion": API_VERSION, "kind": "HTTPRoute",
            "metadata": {"name": r.name, "namespace": r.namespace},
            "spec": {"parentRefs": [parent],
                     "rules": [{"backendRefs": [_backend(r.stable_service, r.port, 100),
                                                _backend(r.canary_service, r.port, 0)]}]}}


def companions(canary: Canary) -> list[Companion]:
    return [Companion(filename=ROUTE_FILE, template="document.yaml.j2",
                      context={"document": httproute(canary)})]


def install_kubectl(ctx: PlanContext, minutes: int) -> Step:
    step = action_step(ctx, "Install kubectl", "Azure/setup-kubectl", {"version": KUBECTL_VERSION})
    step.timeout_minutes = minutes
    return step


def shift(canary: Canary, percent: int, name: str, minutes: int, *,
          if_: str | None = None) -> Step:
    """Patch the route to `percent`% canary; with `if_`, the rollback of a failed run."""
    r = route(canary)
    env = {"ROUTE": r.name, "NAMESPACE": r.namespace, "STABLE_SERVICE": r.stable_service,
           "CANARY_SERVICE": r.canary_service, "PORT": str(r.port),
           "HARDEN_CI_CANARY_WEIGHT": str(percent)}
    if if_ is not None:
        env["ROLLBACK"] = "true"
    return Step(name=name, run=load_script("gateway-shift.sh"), env=env, if_=if_,
                timeout_minutes=minutes)
