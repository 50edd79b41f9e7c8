"""MS206: production deploys only what staging deployed and smoke-tested.

Follows the real dependency path from each production deployment back to a
staging deployment, and from there to a smoke test (a step or job after it
that checks the deployment). An infrastructure rollout (Terraform, Bicep)
needs the staging apply only.

The path is the planner's graph (``semantics.JobGraph``, the one MS210 and
MS211 plan along): GitHub ``needs``; Azure ``dependsOn`` of jobs and of
stages, a stage waiting for the one before it by default, with templates
read from the repository. Where that graph cannot see (a template that is
not there, a ``dependsOn`` known only at run time, the stages before a
template's first one), a missing staging or smoke test is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...errors import MalformedFileError
from ..model import ACTION, STAGING, Job, PipelineFile
from ..semantics import ExpressionError, JobGraph
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
        if pipeline.kind == ACTION:
            return  # an action runs inside its caller's job and path
        found = release_paths(
            pipeline, self.context.root, self.context.default_branch
        )
        if found is None:
            return  # a template expression does not parse: MS212 says so
        graph, jobs, production = found
        reported_stages = set()
        for job in production:
            if job.stage and job.stage in reported_stages:
                continue  # one finding per production stage
            before = [
                jobs[key] for key in graph.ancestors(job.label) if key in jobs
            ]
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
            if message and graph.unknowns(job.label):
                continue  # the path goes through what the graph cannot see
            if message:
                if job.stage:
                    reported_stages.add(job.stage)
                yield Hit(job.path, message, job.path)


def release_paths(
    pipeline: PipelineFile, root: Path, branch: str
) -> tuple[JobGraph, dict[str, Job], list[Job]] | None:
    """What MS206 judges in ``pipeline``: the planner's graph on a push to
    ``branch`` (templates read from ``root``), every job of it, and the
    production deployments among them; None when the graph cannot be
    built."""
    try:
        graph = pipeline.graph(root, branch)
    except (ExpressionError, MalformedFileError):
        return None
    jobs = pipeline.graph_jobs(graph)
    return graph, jobs, pipeline.production_jobs(graph)


def _smoke_tested(
    staging: list[Job], before: list[Job], graph: JobGraph
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
            if job.smoke_tests and deploy.label in graph.ancestors(job.label):
                return True
    return False


def _path(graph: JobGraph, job: Job, staging: Job) -> str:
    """The job's direct dependency that leads to ``staging``, and staging
    itself when that is further up (the one to change is the direct one)."""
    for direct in graph.needs.get(job.label, []):
        if direct == staging.label:
            break
        if staging.label in graph.ancestors(direct):
            return f"`{direct}` (and through it `{staging.label}`)"
    return f"`{staging.label}`"


def _names(jobs: list[Job]) -> str:
    return ", ".join(f"`{j.label}`" for j in jobs) or "nothing"
