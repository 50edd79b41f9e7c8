"""MS205: a production deployment runs behind an environment's approval.

Production is recognised without the gate (``PipelineFile.production_jobs``:
environment, deploy targets, job and stage names, the release path from
staging), so removing the gate does not hide the deployment."""

from collections.abc import Iterator

from ..model import AZURE, GITHUB, Job, PipelineFile
from . import Hit, Rule, RuleMeta


class ProductionGate(Rule):
    meta = RuleMeta(
        "MS205", "production-behind-approval", "error",
        why="a production deployment outside an environment skips the "
        "required reviewers and checks",
        fix="run it in a job with `environment: production` (GitHub) or a "
        "deployment job on the production environment (Azure), and require "
        "reviewers or an approval check there",
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        for job in pipeline.production_jobs():
            yield from self._gate(pipeline, job)

    def _gate(self, pipeline: PipelineFile, job: Job) -> Iterator[Hit]:
        if pipeline.provider == GITHUB and (
            job.environment or "uses" in job.raw
        ):
            return  # gated here, or in the reusable workflow it calls
        if pipeline.provider == AZURE and job.is_deployment_job:
            return
        yield Hit(
            job.path,
            f"`{job.label}` deploys to production without an environment gate",
            job.path,
        )
