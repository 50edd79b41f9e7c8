"""MS204: every job has a timeout."""

from collections.abc import Iterator
from typing import Any

from ..model import GITHUB, TEMPLATE, Job, PipelineFile
from . import Hit, Rule, RuleMeta


class JobTimeout(Rule):
    meta = RuleMeta(
        "MS204", "job-timeout", "warning",
        why="a job without a timeout can hang for hours (6 h on GitHub, 60 "
        "minutes or more on Azure) and hold a runner and the deployment "
        "lock",
        fix="set `timeout-minutes` (GitHub) or `timeoutInMinutes` (Azure)",
    )  # fmt: skip

    def job(self, pipeline: PipelineFile, job: Job) -> Iterator[Hit]:
        if pipeline.provider == GITHUB:
            if job.name == "(action)" or "uses" in job.raw:
                return  # an action, or a reusable workflow call
            if "timeout-minutes" in job.raw:
                return
        elif "timeoutInMinutes" in job.raw or job.name == "(steps)":
            return
        elif pipeline.kind == TEMPLATE and _parameterised(job.raw):
            return  # the template's caller decides
        yield Hit(job.path, f"job `{job.label}` has no timeout", job.path)


def _parameterised(raw: dict[Any, Any]) -> bool:
    return any(isinstance(key, str) and key.startswith("${{") for key in raw)
