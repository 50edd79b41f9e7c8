"""MS204: every job has a timeout."""

from ..model import GITHUB, TEMPLATE
from . import Hit, rule


@rule(
    "MS204", "job-timeout", severity="warning",
    why="a job without a timeout can hang for hours (6 h on GitHub, 60 "
    "minutes or more on Azure) and hold a runner and the deployment lock",
    fix="set `timeout-minutes` (GitHub) or `timeoutInMinutes` (Azure)",
)  # fmt: skip
def job_timeout(pipeline, repository):
    for job in pipeline.jobs():
        if pipeline.provider == GITHUB:
            if job.name == "(action)" or "uses" in job.raw:
                continue  # an action, or a reusable workflow call
            if "timeout-minutes" in job.raw:
                continue
        elif "timeoutInMinutes" in job.raw or job.name == "(steps)":
            continue
        elif pipeline.kind == TEMPLATE and _parameterised(job.raw):
            continue  # the template's caller decides
        yield Hit(job.path, f"job `{job.label}` has no timeout", job.path)


def _parameterised(raw: dict) -> bool:
    return any(isinstance(key, str) and key.startswith("${{") for key in raw)
