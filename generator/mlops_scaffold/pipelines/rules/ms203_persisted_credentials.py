"""MS203 on Azure (zizmor's artipacked finds it on GitHub)."""

from collections.abc import Iterator

from ..model import AZURE, GITHUB, Job, PipelineFile, Step
from . import Hit, Rule, RuleMeta


class PersistedCredentials(Rule):
    meta = RuleMeta(
        "MS203", "no-persisted-credentials", "warning",
        why="a checked-out token stays in .git/config for every later step "
        "(and any uploaded artifact) to read",
        fix="set `persist-credentials: false` (GitHub) or "
        "`persistCredentials: false` (Azure)",
        providers=(GITHUB, AZURE),
    )  # fmt: skip
    runs_on = (AZURE,)

    def step(
        self, pipeline: PipelineFile, job: Job, step: Step
    ) -> Iterator[Hit]:
        if (step.uses or "").startswith("checkout:") and str(
            step.raw.get("persistCredentials", "false")
        ).lower() == "true":
            yield Hit(
                (*step.path, "persistCredentials"),
                f"checkout in `{job.label}` keeps the token",
                job.path,
            )
