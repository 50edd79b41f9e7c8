"""MS206: production deploys only what staging deployed and smoke-tested.

Follows the real dependency path (GitHub ``needs``; Azure ``dependsOn`` of
jobs and of stages, a stage waiting for the one before it by default) from
each production deployment back to a staging deployment, and from there to
a smoke test (a step or job after it that checks the deployment). An
infrastructure rollout (Terraform, Bicep) needs the staging apply only.
"""

from collections.abc import Iterator

from ..model import (
    STAGING,
    TEMPLATE_NODE,
    Job,
    PipelineFile,
    upstream,
)
from . import Hit, Rule, RuleMeta


class ProductionAfterStaging(Rule):
    meta = RuleMeta(
        "MS206", "production-after-staging", "error",
        why="production can be released without the change having passed "
        "staging and its smoke test",
        fix="make the production job/stage depend (needs / dependsOn) on "
        "the staging deployment and the smoke test that follows it",
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        jobs = {job.label: job for job in pipeline.jobs()}
        graph = pipeline.job_graph()
        stage_graph = pipeline.stages()
        reported_stages = set()
        for job in pipeline.production_jobs():
            if job.stage and job.stage in reported_stages:
                continue  # one finding per production stage
            if job.stage and any(
                TEMPLATE_NODE in s for s in upstream(stage_graph, job.stage)
            ):
                continue  # the path goes through a template we cannot see
            before = [jobs[label] for label in upstream(graph, job.label)]
            staging = [j for j in before if j.tier() == STAGING and j.deploys]
            message = None
            if not staging:
                message = (
                    f"`{job.label}` does not wait for a staging deployment "
                    f"(it waits for: {_names(before)})"
                )
            elif not job.changes_infrastructure and not _smoke_tested(
                staging, before, graph
            ):
                message = (
                    f"`{job.label}` waits for "
                    f"{_path(graph, job, staging[0])} but for no smoke test "
                    "of staging"
                )
            if message:
                if job.stage:
                    reported_stages.add(job.stage)
                yield Hit(job.path, message, job.path)


def _smoke_tested(
    staging: list[Job], before: list[Job], graph: dict[str, list[str]]
) -> bool:
    """A smoke test ran after a staging deployment: a later step of the
    deploy job, or a job on the path that waits for that deployment."""
    for deploy in staging:
        if "uses" in deploy.raw:
            return True  # a reusable workflow: its own file is checked
        steps = deploy.steps
        last_deploy = max(
            (i for i, s in enumerate(steps) if s.deploys), default=-1
        )
        if any(s.smoke_tests for s in steps[last_deploy + 1 :]):
            return True
        for job in before:
            if job.smoke_tests and deploy.label in upstream(graph, job.label):
                return True
    return False


def _path(graph: dict[str, list[str]], job: Job, staging: Job) -> str:
    """The job's direct dependency that leads to ``staging``, and staging
    itself when that is further up (the one to change is the direct one)."""
    for direct in graph.get(job.label, []):
        if direct == staging.label:
            break
        if staging.label in upstream(graph, direct):
            return f"`{direct}` (and through it `{staging.label}`)"
    return f"`{staging.label}`"


def _names(jobs: list[Job]) -> str:
    return ", ".join(f"`{j.label}`" for j in jobs) or "nothing"
