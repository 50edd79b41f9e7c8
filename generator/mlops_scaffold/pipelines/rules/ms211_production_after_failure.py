"""MS211: production never runs after a failed or skipped step before it.

A production deployment whose condition is ``always()``, ``!cancelled()``
without a check of the staging result, or ``succeededOrFailed()`` deploys
even when the staging deployment or its smoke test failed. Found with the
run planner (the one model of what runs): on a push to the default branch,
each job or stage production waits for is made to fail in turn; if
production still runs, its condition lets a failed release through.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..model import ACTION, TEMPLATE, PipelineFile
from ..semantic_diff import ancestors, key_of, plan_units, production
from ..semantics import Event, Verdict
from . import Hit, Rule, RuleMeta


class ProductionAfterFailure(Rule):
    meta = RuleMeta(
        "MS211", "production-after-failure", "error",
        why="a production deployment whose condition ignores the result of "
        "what it waits for (always(), !cancelled() without a result check, "
        "succeededOrFailed()) releases a change whose staging deployment or "
        "smoke test failed",
        fix="require success: `!cancelled() && needs.<smoke-test>.result == "
        "'success'` (GitHub) or `and(succeeded(), ...)` / "
        "`in(dependencies.<Stage>.result, 'Succeeded')` (Azure)",
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        if pipeline.kind in (ACTION, TEMPLATE) or not pipeline.mapping:
            return
        event = Event.push(self.context.default_branch)
        root = self.context.root
        units = plan_units(pipeline, event, root)
        reported: set[str] = set()  # one finding per production stage
        for key, unit in units.items():
            if not production(unit) or unit.verdict == Verdict.SKIP:
                continue
            if unit.stage in reported:
                continue
            for ancestor in ancestors(units, unit)[:10]:
                after = plan_units(pipeline, event, root, (ancestor.id,))
                now = after.get(key)
                if now is None or now.verdict != Verdict.RUN:
                    continue
                if unit.kind == "stage":
                    reported.add(unit.id)
                where = _path(pipeline, unit.id, unit.stage)
                yield Hit(
                    where,
                    f"`{key}` runs even when `{key_of(ancestor)}` failed "
                    f"(condition: `{unit.condition or 'the default'}`)",
                    where or None,
                )
                break


def _path(pipeline: PipelineFile, name: str, stage: str | None) -> Any:
    """The job's (or the stage's) place in the document, for its line."""
    for job in pipeline.jobs():
        if job.name == name and job.stage == stage:
            return job.path
    stages = pipeline.mapping.get("stages")
    if isinstance(stages, list):
        for index, entry in enumerate(stages):
            if isinstance(entry, dict) and str(entry.get("stage")) == name:
                return ("stages", index)
    return ()
