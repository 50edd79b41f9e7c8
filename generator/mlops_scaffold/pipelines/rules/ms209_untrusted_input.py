"""MS209 on Azure (zizmor's template-injection finds it on GitHub)."""

import re
from collections.abc import Iterator

from ..model import AZURE, GITHUB, Job, PipelineFile, Step
from . import Hit, Rule, RuleMeta

AZURE_UNTRUSTED = re.compile(
    r"\$\((Build\.SourceVersionMessage|System\.PullRequest\.SourceBranch|"
    r"Build\.SourceBranchName|System\.PullRequest\.SourceBranchName|"
    r"System\.PullRequest\.PullRequestTitle|Build\.RequestedFor)\)",
    re.IGNORECASE,  # Azure variable names are case-insensitive
)


class UntrustedInput(Rule):
    meta = RuleMeta(
        "MS209", "no-untrusted-input-in-run", "error",
        why="text an outsider controls (titles, bodies, branch names, "
        "commit messages) expanded into a shell script can inject commands",
        fix="pass it through `env:` and quote the variable in the script",
        providers=(GITHUB, AZURE),
    )  # fmt: skip
    runs_on = (AZURE,)

    def step(
        self, pipeline: PipelineFile, job: Job, step: Step
    ) -> Iterator[Hit]:
        if isinstance(step.command, str) and (
            match := AZURE_UNTRUSTED.search(step.command)
        ):
            yield Hit(
                step.path,
                f"`{match[0]}` is expanded inside a script in `{job.label}`",
                job.path,
            )
