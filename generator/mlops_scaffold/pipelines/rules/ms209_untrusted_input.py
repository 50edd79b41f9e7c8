"""MS209 on Azure (zizmor's template-injection finds it on GitHub)."""

import re

from ..model import AZURE, GITHUB
from . import Hit, rule

AZURE_UNTRUSTED = re.compile(
    r"\$\((Build\.SourceVersionMessage|System\.PullRequest\.SourceBranch|"
    r"Build\.SourceBranchName|System\.PullRequest\.SourceBranchName|"
    r"System\.PullRequest\.PullRequestTitle|Build\.RequestedFor)\)"
)


@rule(
    "MS209", "no-untrusted-input-in-run", severity="error",
    why="text an outsider controls (titles, bodies, branch names, commit "
    "messages) expanded into a shell script can inject commands",
    fix="pass it through `env:` and quote the variable in the script",
    providers=(GITHUB, AZURE),
)  # fmt: skip
def untrusted_input(pipeline, repository):
    if pipeline.provider != AZURE:
        return
    for job in pipeline.jobs():
        for step in job.steps:
            if isinstance(step.command, str) and (
                match := AZURE_UNTRUSTED.search(step.command)
            ):
                yield Hit(
                    step.path,
                    f"`{match[0]}` is expanded inside a script in "
                    f"`{job.label}`",
                    job.path,
                )
