"""MS205: a production deployment runs behind an environment's approval."""

from ..model import AZURE, GITHUB, PRODUCTION
from . import Hit, rule


@rule(
    "MS205", "production-behind-approval", severity="error",
    why="a production deployment outside an environment skips the "
    "required reviewers and checks",
    fix="run it in a job with `environment: production` (GitHub) or a "
    "deployment job on the production environment (Azure), and require "
    "reviewers or an approval check there",
)  # fmt: skip
def production_gate(pipeline, repository):
    for job in pipeline.jobs():
        if job.tier() != PRODUCTION:
            continue
        if pipeline.provider == GITHUB and (
            job.environment or "uses" in job.raw
        ):
            continue  # gated here, or in the reusable workflow it calls
        if pipeline.provider == AZURE and job.is_deployment_job:
            continue
        if not job.deploys:
            continue
        yield Hit(
            job.path,
            f"`{job.label}` deploys to production without an environment gate",
            job.path,
        )
