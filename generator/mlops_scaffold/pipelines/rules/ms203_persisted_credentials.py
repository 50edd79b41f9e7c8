"""MS203 on Azure (zizmor's artipacked finds it on GitHub)."""

from ..model import AZURE, GITHUB
from . import Hit, rule


@rule(
    "MS203", "no-persisted-credentials", severity="warning",
    why="a checked-out token stays in .git/config for every later step "
    "(and any uploaded artifact) to read",
    fix="set `persist-credentials: false` (GitHub) or "
    "`persistCredentials: false` (Azure)",
    providers=(GITHUB, AZURE),
)  # fmt: skip
def persisted_credentials(pipeline, repository):
    if pipeline.provider != AZURE:
        return
    for job in pipeline.jobs():
        for step in job.steps:
            if (step.uses or "").startswith("checkout:") and str(
                step.raw.get("persistCredentials", "false")
            ).lower() == "true":
                yield Hit(
                    (*step.path, "persistCredentials"),
                    f"checkout in `{job.label}` keeps the token",
                    job.path,
                )
