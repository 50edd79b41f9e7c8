"""MS205: a production deployment runs behind an environment's approval."""

from collections.abc import Iterator

from ..model import AZURE, GITHUB, PRODUCTION, Job, PipelineFile
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

    def job(self, pipeline: PipelineFile, job: Job) -> Iterator[Hit]:
        if job.tier() != PRODUCTION or not job.deploys:
            return
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
