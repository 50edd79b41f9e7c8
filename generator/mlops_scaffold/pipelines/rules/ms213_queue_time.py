"""MS213: what Azure Pipelines refuses when it queues the run, though the
published schema takes it.

- Duplicate names: stage names are unique in a pipeline, job names within
  a stage ("Stage X: job Y is defined more than once" / "Stage names must
  be unique"; learn.microsoft.com/azure/devops/pipelines/process/stages and
  .../phases: "names must be unique"). Only entries written side by side
  count: the same name in the two branches of a ``${{ if }}``/``${{ else
  }}`` is one job.
- Whole numbers: ``timeoutInMinutes``, ``cancelTimeoutInMinutes`` (jobs,
  steps) and ``retryCountOnTaskFailure`` (steps) are integers in the YAML
  schema reference (learn.microsoft.com/azure/devops/pipelines/yaml-schema/
  jobs-job, steps-script: ``timeoutInMinutes: string # ... integer``); the
  schema check reads every scalar as a string, as the service reads
  booleans, so this rule keeps what that normalisation throws away. A
  macro or expression is decided at run time and passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..model import AZURE, PipelineFile
from . import Hit, Rule, RuleMeta

_WHOLE_NUMBER_KEYS = (
    "timeoutInMinutes",
    "cancelTimeoutInMinutes",
    "retryCountOnTaskFailure",
)
_WHOLE_NUMBER = re.compile(r"^\s*\d+\s*$")
_RUN_TIME = re.compile(r"\$(\{\{|\[|\()")


class QueueTime(Rule):
    meta = RuleMeta(
        "MS213", "queue-time", "error",
        why="Azure Pipelines refuses to queue a run whose stages or jobs "
        "share a name, or whose timeout or retry count is not a whole "
        "number; the pipeline never starts",
        fix="rename the duplicate stage or job; write the minutes or the "
        "count as a whole number",
        providers=(AZURE,),
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        yield from _duplicates(pipeline.data, ())
        yield from _numbers(pipeline.data, ())


def _duplicates(node: Any, path: tuple[Any, ...]) -> Iterator[Hit]:
    if not isinstance(node, dict):
        return
    for list_key, key in (("stages", "stage"), ("jobs", "job")):
        items = node.get(list_key)
        if not isinstance(items, list):
            continue
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            name = item.get(
                key, item.get("deployment") if key == "job" else None
            )
            if isinstance(name, (str, int)) and "$" not in str(name):
                lowered = str(name).lower()  # names ignore case
                if lowered in seen:
                    yield Hit(
                        (*path, list_key, index),
                        f"{key} `{name}` is defined twice (first at entry "
                        f"{seen[lowered] + 1} of `{list_key}`)",
                        (*path, list_key, index),
                    )
                else:
                    seen[lowered] = index
            if list_key == "stages":
                yield from _duplicates(item, (*path, list_key, index))


def _numbers(node: Any, path: tuple[Any, ...]) -> Iterator[Hit]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if key in _WHOLE_NUMBER_KEYS and not isinstance(
                value, (dict, list)
            ):
                if not _whole(value):
                    yield Hit(
                        here,
                        f"`{key}: {value}` is not a whole number",
                    )
            else:
                yield from _numbers(value, here)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _numbers(item, (*path, index))


def _whole(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 0
    if isinstance(value, str):
        return bool(_WHOLE_NUMBER.match(value) or _RUN_TIME.search(value))
    return False
