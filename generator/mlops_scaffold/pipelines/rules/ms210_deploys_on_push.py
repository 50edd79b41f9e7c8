"""MS210: every deployment job runs on a push to the default branch.

The run planner (``pipelines.planner``) applies each provider's real rules
(GitHub's implicit ``success()`` over the whole ``needs`` chain, Azure's
default ``succeeded()`` and stage order), so a deployment that an optional,
skipped job silently switches off is found before the first release.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ... import gitutil
from ...errors import GitError, MalformedFileError
from ...yamlio import load_untrusted, read_bounded
from ..model import ACTION, TEMPLATE
from ..planner import unreachable_deployments
from . import Hit, rule


@rule(
    "MS210", "deploys-on-default-branch-push", severity="error",
    why="a job skipped up the dependency chain skips every job below it "
    "unless their condition names a status function (GitHub wraps `if:` "
    "in success(); Azure's default is succeeded()), so the release "
    "silently never reaches this deployment",
    fix="give each job below an optional job an explicit status "
    "condition, e.g. `!cancelled() && needs.build.result == 'success'` "
    "(GitHub) or `and(not(canceled()), eq(dependencies.Build.result, "
    "'Succeeded'))` (Azure)",
)  # fmt: skip
def deploys_on_push(pipeline, repository):
    if pipeline.kind in (ACTION, TEMPLATE) or not pipeline.mapping:
        return
    try:
        found = unreachable_deployments(
            pipeline.mapping,
            pipeline.provider,
            default_branch(repository.root),
            root=repository.root,
            source=pipeline.relative,
        )
    except MalformedFileError:
        return  # reported by the schema and shape checks
    for item in found:
        where = item.path or ()
        message = item.message.rstrip(".")
        yield Hit(where, f"{message}. Fix: {item.fix}", where or None)


@functools.cache
def default_branch(root: Path) -> str:
    """The branch a push releases from: the project's answers, else the
    remote's HEAD, else ``main``."""
    answers = root / ".copier-answers.yml"
    if answers.is_file():
        try:  # a pull request may change it: read it bounded
            data, _ = load_untrusted(read_bounded(answers), answers)
        except MalformedFileError:  # broken: fall back
            data = None
        if isinstance(data, dict) and isinstance(
            data.get("default_branch"), str
        ):
            return data["default_branch"]
    try:
        return gitutil.remote_default_branch(root) or "main"
    except (GitError, OSError):  # no git here, or not a repository
        return "main"
