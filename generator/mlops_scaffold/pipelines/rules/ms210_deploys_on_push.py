"""MS210: every deployment job runs on a push to the default branch.

The run planner (``pipelines.semantics``) applies each provider's real rules
(GitHub's implicit ``success()`` over the whole ``needs`` chain, Azure's
default ``succeeded()`` and stage order), so a deployment that an optional,
skipped job silently switches off is found before the first release.
"""

from __future__ import annotations

from collections.abc import Iterator

from ...errors import MalformedFileError
from ..model import ACTION, TEMPLATE, PipelineFile
from ..semantics import unreachable_deployments
from . import Hit, Rule, RuleMeta


class DeploysOnPush(Rule):
    meta = RuleMeta(
        "MS210", "deploys-on-default-branch-push", "error",
        why="a job skipped up the dependency chain skips every job below it "
        "unless their condition names a status function (GitHub wraps `if:` "
        "in success(); Azure's default is succeeded()), so the release "
        "silently never reaches this deployment",
        fix="give each job below an optional job an explicit status "
        "condition, e.g. `!cancelled() && needs.build.result == 'success'` "
        "(GitHub) or `and(not(canceled()), eq(dependencies.Build.result, "
        "'Succeeded'))` (Azure)",
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        if pipeline.kind in (ACTION, TEMPLATE) or not pipeline.mapping:
            return
        try:
            found = unreachable_deployments(
                pipeline.mapping,
                pipeline.provider,
                self.context.default_branch,
                root=self.context.root,
                # the file's path, so templates are read relative to it
                # (not to the current folder) in the graph MS206 reads
                source=self.context.root / pipeline.relative,
            )
        except MalformedFileError:
            return  # reported by the schema and shape checks
        for item in found:
            where = item.path or ()
            message = item.message.rstrip(".")
            yield Hit(where, f"{message}. Fix: {item.fix}", where or None)
