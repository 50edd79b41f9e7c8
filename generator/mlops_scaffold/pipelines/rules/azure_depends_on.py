"""MS212's Azure ``dependsOn`` check: every name against the stages and
jobs of the pipeline as the planner compiles it (``PipelineFile.graph``,
the graph MS206 reads: templates read, ``${{ if }}``/``${{ each }}``
expanded with the default parameters, on a push to the default branch).
Azure refuses to queue a run whose ``dependsOn`` names no stage of the
pipeline, or no job of the stage ("Stage X depends on unknown stage Y").

A ``dependsOn`` written in the file is reported at its line (of the
entries the compile inserted); one a template inserts, at the
``- template:`` line that inserts it. Nothing is judged where the compile
cannot be trusted: a list holding a template that was not read or an
``each`` over a collection not known, a name known only at run time
(``$( )``, ``$[ ]``). In a template file, the stages may wait for the
including file's, and a jobs template's jobs for the including stage's:
those are judged where the template is included; a stage template's jobs
are judged in the template.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...errors import MalformedFileError
from ..model import PipelineFile, as_dict, names
from ..semantics import ExpressionError, JobGraph
from ..semantics.graph import DEFAULT_STAGE
from . import Hit

_DEFAULTS = "as compiled with its default parameters"
_REFUSED = "Azure refuses to queue the run"


@dataclass(frozen=True)
class _Compiled:
    """The stage and job names of a pipeline as compiled (lower case), and
    which lists are known whole: a template not read or an ``each`` over
    an unknown collection leaves a list open, and a template file's
    stages may wait for the including file's."""

    stages: set[str]
    jobs: dict[str, set[str]]  # by stage
    stages_whole: bool
    jobs_whole: set[str]  # the stages whose jobs are all known


def azure_depends_on(
    pipeline: PipelineFile, root: Path, branch: str
) -> Iterator[Hit]:
    """Each ``dependsOn`` name against the stages and jobs of the pipeline
    as compiled: written ones at their line, inserted ones at the
    ``- template:`` that inserts them."""
    if pipeline.is_template and "stages" not in pipeline.mapping:
        return  # a jobs template: its jobs join the including file's
    try:
        graph = pipeline.graph(root, branch)
    except (ExpressionError, MalformedFileError, ValueError, RecursionError):
        return  # an expression does not parse: reported above
    unread = {key.lower() for key in graph.unread}
    stages = {stage.lower() for stage in graph.stages}
    jobs: dict[str, set[str]] = {stage: set() for stage in stages}
    whole = set(stages)
    for job in graph.jobs.values():
        stage = (job.stage or DEFAULT_STAGE).lower()
        jobs[stage].add(job.id.lower())
        if job.key.lower() in unread or "$" in job.id:
            whole.discard(stage)
    compiled = _Compiled(
        stages,
        jobs,
        not (pipeline.is_template or unread & stages)
        and "$" not in "".join(stages),
        whole,
    )
    yield from _written(pipeline.data, (), compiled, None)
    yield from _inserted(pipeline.data, graph, compiled)


def _written(
    data: Any,
    path: tuple[Any, ...],
    compiled: _Compiled,
    stages: list[str] | None,
) -> Iterator[Hit]:
    """The ``dependsOn`` of the stages written in the file (``stages``
    None), or of the jobs of ``stages``, through ``${{ }}`` blocks, of
    those the compile inserted."""
    if stages is None and "stages" in as_dict(data):
        kind, known, judged = "stage", compiled.stages, compiled.stages_whole
    else:
        stages = stages if stages is not None else [DEFAULT_STAGE]
        kind = "job"
        known = set().union(*(compiled.jobs.get(s, set()) for s in stages))
        judged = set(stages) <= compiled.jobs_whole
    for item, here in _entries(
        as_dict(data).get(kind + "s"), (*path, kind + "s")
    ):
        name = item.get(kind, item.get("deployment"))
        inserted = _matching(name, known)
        if name is None and not _conditional(here[len(path) :]):
            inserted = sorted(compiled.stages if kind == "stage" else known)
        if not inserted:
            continue  # not inserted with the default parameters
        for wanted in names(item.get("dependsOn")) if judged else []:
            if "$" not in wanted and wanted.lower() not in known:
                yield Hit(
                    (*here, "dependsOn"),
                    f"{kind} `{name}` depends on `{wanted}`, which is not a "
                    f"{kind} of {_scope(kind)} {_DEFAULTS} ({kind}s: "
                    f"{_listing(known)}); {_REFUSED}",
                    here,
                )
        if kind == "stage":
            yield from _written(item, here, compiled, inserted)


def _inserted(data: Any, graph: JobGraph, compiled: _Compiled) -> Iterator[Hit]:
    """The ``dependsOn`` of stages and jobs templates insert, at the
    ``- template:`` entry of this file that inserts them."""
    units: list[tuple[str, str, Any, str | None, set[str] | None]] = [
        (
            "stage", stage, raw, graph.stage_origins.get(stage),
            compiled.stages if compiled.stages_whole else None,
        )
        for stage, raw in graph.stage_data.items()
    ]  # fmt: skip
    for job in graph.jobs.values():
        if graph.stage_origins.get(job.stage or DEFAULT_STAGE):
            continue  # in a stage template, which judges its own jobs
        stage = (job.stage or DEFAULT_STAGE).lower()
        whole = stage in compiled.jobs_whole
        known = compiled.jobs[stage] if whole else None
        units.append(("job", job.id, job.raw, job.origin, known))
    for kind, name, raw, origin, known in units:
        where = _reference(data, origin) if origin else None
        if where is None or known is None:
            continue
        for wanted in names(as_dict(raw).get("dependsOn")):
            if "$" not in wanted and wanted.lower() not in known:
                yield Hit(
                    where,
                    f"{kind} `{name}`, inserted by template `{origin}`, "
                    f"depends on `{wanted}`, which is not a {kind} of "
                    f"{_scope(kind)} {_DEFAULTS}; {_REFUSED}",
                )


def _entries(
    items: Any, path: tuple[Any, ...]
) -> Iterator[tuple[dict[Any, Any], tuple[Any, ...]]]:
    """The entries of a stage or job list, through ``${{ }}`` blocks."""
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        blocks = [k for k in item if isinstance(k, str) and "${{" in k]
        if not blocks:
            yield item, (*path, index)
        for key in blocks:
            yield from _entries(item[key], (*path, index, key))


def _conditional(path: tuple[Any, ...]) -> bool:
    """Whether the entry at ``path`` is inside a ``${{ }}`` block (an
    ``if`` may leave it out, an ``each`` repeat it)."""
    return any(isinstance(key, str) and "${{" in key for key in path)


def _reference(data: Any, origin: str) -> tuple[Any, ...] | None:
    """Where this file writes ``- template: origin`` (in a stage or job
    list, or ``extends``), or None."""
    extends = as_dict(as_dict(data).get("extends"))
    if str(extends.get("template")) == origin:
        return ("extends", "template")
    for list_key in ("stages", "jobs"):
        for item, here in _entries(as_dict(data).get(list_key), (list_key,)):
            if str(item.get("template")) == origin:
                return (*here, "template")
            for job, there in _entries(item.get("jobs"), (*here, "jobs")):
                if str(job.get("template")) == origin:
                    return (*there, "template")
    return None


def _matching(name: Any, compiled: set[str]) -> list[str]:
    """The compiled names a written name became (``deploy_${{ env }}``
    may be several); [] when the compile left it out."""
    if name is None:
        return []
    text = str(name).lower()
    parts = [re.escape(p) for p in re.split(r"\$\{\{.*?\}\}", text)]
    return [c for c in compiled if re.fullmatch(".*".join(parts), c)]


def _scope(kind: str) -> str:
    return "this pipeline" if kind == "stage" else "its stage"


def _listing(known: set[str]) -> str:
    shown = sorted(n for n in known if n != DEFAULT_STAGE)
    more = ", ..." if len(shown) > 8 else ""
    return f"{', '.join(shown[:8])}{more}" if shown else "none"
