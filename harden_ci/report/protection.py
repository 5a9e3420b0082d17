"""Is an environment's protection *verified*, not just asked for? The policy's
`require.reviewers` passes only when the spec says `reviewers: true` and the generated
workflows check it: every job that runs the environment's deploy or teardown command first
runs check-environment.sh for that environment (plan/stages/deploy_access.py), which fails
the job at deploy time unless GitHub reports required reviewers and a branch policy."""

from __future__ import annotations

from dataclasses import dataclass

from harden_ci.model import Spec
from harden_ci.plan.model import Job, Script, Workflow
from harden_ci.plan.stages.deploy_access import CHECK_SCRIPT


@dataclass(frozen=True)
class Proof:
    verified: tuple[str, ...]  # the job ids that check before they deploy
    unverified: tuple[str, ...]  # the job ids that deploy without checking first


def _commands(spec: Spec, name: str) -> set[str]:
    env = spec.environments[name]
    return {command for command in (env.deploy, env.teardown) if command}


def _deploy_index(job: Job, commands: set[str]) -> int | None:
    """The first step that runs one of `commands` (run-command.sh's COMMAND, or the
    sweeper's TEARDOWN_COMMAND), or None when the job never deploys."""
    for index, step in enumerate(job.steps):
        if commands & {step.env.get("COMMAND"), step.env.get("TEARDOWN_COMMAND")}:
            return index
    return None


def _checks(job: Job, name: str, before: int) -> bool:
    return any(isinstance(step.run, Script) and step.run.name == CHECK_SCRIPT
               and step.env.get("HARDEN_CI_ENVIRONMENT") == name
               for step in job.steps[:before])


def proof(spec: Spec, workflows: list[Workflow], name: str) -> Proof:
    commands = _commands(spec, name)
    verified: list[str] = []
    unverified: list[str] = []
    for wf in workflows:
        for job in wf.jobs:
            index = _deploy_index(job, commands) if job.environment == name else None
            if index is None:
                continue
            (verified if _checks(job, name, index) else unverified).append(job.id)
    return Proof(tuple(verified), tuple(unverified))


def reviewers_verdict(spec: Spec, spec_file: str, name: str) -> tuple[bool, str]:
    """For the policy's `require.reviewers`: is `name`'s protection verified, and what to say."""
    from harden_ci.report.facts import plan_workflows  # the plan imports much: only when asked

    found = proof(spec, plan_workflows(spec, spec_file), name)
    if found.unverified or not found.verified:
        jobs = ", ".join(found.unverified) or "no job deploys there"
        return False, (f"environment `{name}`'s protection is not verified before deploying "
                       f"({jobs})")
    return True, (f"require.reviewers: `{name}` is checked at deploy time: "
                  f"{', '.join(found.verified)} read its protection rules through the API and "
                  "fail without required reviewers and a deployment branch policy")
