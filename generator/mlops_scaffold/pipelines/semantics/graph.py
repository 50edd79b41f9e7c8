"""The dependency graph: what each job (or Azure stage) waits for, its
ancestors, the order units are planned in, and the results an ancestor may
have; and ``JobGraph``, the same graph as the rules read it (every job,
Azure templates resolved, with what cannot be known marked as such).

One rule set for both uses: GitHub ``needs``; Azure ``dependsOn`` of
stages and jobs, a stage without ``dependsOn`` waiting for the stage
before it (``dependsOn: []`` for none), and a stage's jobs waiting for
every job of the stages it depends on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .types import MAYBE, Unit, Unknown, Verdict, as_list, as_mapping

if TYPE_CHECKING:
    from .compiler import AzureUnit

#: The stage id of the jobs of a pipeline written without stages.
DEFAULT_STAGE = "__default"


class AncestorResults(Mapping[str, frozenset[str]]):
    """The possible results of a job's ancestors. A status function without
    arguments needs only the distinct sets (``values``: at most eight, kept
    per job as the plan goes, so planning stays linear in the graph); one
    that names jobs gets the whole mapping, walked on first use."""

    def __init__(
        self,
        distinct: frozenset[frozenset[str]],
        walk: Callable[[], dict[str, frozenset[str]]],
    ) -> None:
        self._distinct = distinct
        self._walk = walk
        self._full: dict[str, frozenset[str]] | None = None

    def _walked(self) -> dict[str, frozenset[str]]:
        if self._full is None:
            self._full = self._walk()
        return self._full

    def values(self) -> Any:
        return list(self._distinct)

    def __getitem__(self, key: str) -> frozenset[str]:
        return self._walked()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._walked())

    def __len__(self) -> int:
        return len(self._walked())


def ancestors_of(graph: Mapping[str, Sequence[str]], start: str) -> list[str]:
    seen: list[str] = []
    visited: set[str] = set()  # membership in O(1): linear in the graph
    stack = list(graph.get(start, ()))
    while stack:
        node = stack.pop()
        if node in visited or node not in graph:
            continue
        visited.add(node)
        seen.append(node)
        stack.extend(graph.get(node, ()))
    return seen


def order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """Topological order; units in a cycle come last, in file order."""
    done: list[str] = []
    pending = list(graph)
    progress = True
    while pending and progress:
        progress = False
        for node in list(pending):
            if all(d in done or d not in graph for d in graph[node]):
                done.append(node)
                pending.remove(node)
                progress = True
    return done + pending


_RESULTS = {
    Verdict.RUN: frozenset({"success"}),
    Verdict.SKIP: frozenset({"skipped"}),
    Verdict.UNKNOWN: frozenset({"success", "skipped"}),
}


def possible_results(verdict: Verdict, failed: bool) -> frozenset[str]:
    result = _RESULTS[verdict]
    if failed:
        result = frozenset("failure" if r == "success" else r for r in result)
    return result


def root_skip(skipped: Sequence[str], done: Mapping[str, Unit]) -> str:
    """The skipped ancestor whose own condition skipped it."""
    for name in skipped:
        if done[name].cause in ("condition", "trigger", "stage"):
            return name
    for name in skipped:
        if done[name].skipped_need:
            return str(done[name].skipped_need)
    return skipped[0]


def dependency_chain(
    graph: Mapping[str, Sequence[str]], start: str, target: str
) -> list[str]:
    """A dependency path from ``target`` down to ``start``."""
    paths = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for parent in graph.get(path[-1], ()):
            if parent == target:
                return list(reversed([*path, parent]))
            if parent not in seen:
                seen.add(parent)
                paths.append([*path, parent])
    return [target, start]


def depends_on(
    raw: Mapping[Any, Any], previous: str | None, stage: bool
) -> list[str]:
    """What a stage or job waits for directly: its ``dependsOn``, else (a
    stage) the stage before it. A ``dependsOn`` known only later is []."""
    if isinstance(raw.get("dependsOn"), Unknown):
        return []
    if "dependsOn" in raw:
        return [str(d) for d in as_list(raw.get("dependsOn")) if d is not None]
    if stage and previous is not None:
        return [previous]
    return []


def github_needs(data: Mapping[Any, Any]) -> dict[str, list[str]]:
    """Each job of a workflow and the jobs its ``needs`` names."""
    return {
        str(job_id): [str(n) for n in as_list(as_mapping(job).get("needs"))]
        for job_id, job in as_mapping(data.get("jobs")).items()
    }


# --------------------------------------------------------------------------
# The graph the rules read


@dataclass(frozen=True)
class GraphJob:
    """One job: ``key`` is ``stage/job`` on Azure (``job`` without stages),
    the job id on GitHub; ``raw`` the job as compiled (Azure templates and
    ``${{ }}`` resolved); ``origin`` the template reference that inserted
    it into the file (None: written in the file)."""

    key: str
    id: str
    stage: str | None
    raw: Mapping[Any, Any]
    origin: str | None = None


@dataclass(frozen=True)
class JobGraph:
    """Every job of a workflow or pipeline and what each waits for.

    ``needs`` holds each job's direct waits by key: GitHub ``needs``; on
    Azure its ``dependsOn`` in its stage, and for a job that waits for no
    job of its stage, the last jobs (those no job of their stage waits for)
    of the stages its stage depends on, so that the ancestors of a job are
    the planner's: its stage's jobs before it and every job of the stages
    before its stage. ``unknown`` says, by job key or stage id, why what a
    unit is or waits for is not known (a template not found, a
    ``dependsOn`` known only at run time, a name no unit has, the stages
    before a template's first one)."""

    provider: str
    jobs: Mapping[str, GraphJob]
    needs: Mapping[str, Sequence[str]]
    stages: Mapping[str, Sequence[str]] = field(default_factory=dict)
    unknown: Mapping[str, str] = field(default_factory=dict)
    #: Each Azure stage as compiled, by id.
    stage_data: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)
    #: The template reference that inserted each Azure stage, by id (None:
    #: written in the file).
    stage_origins: Mapping[str, str | None] = field(default_factory=dict)
    #: Azure stages (by id) and jobs (by key) the compile could not read:
    #: a template not found, an ``each`` over a collection not known.
    unread: frozenset[str] = frozenset()

    def ancestors(self, key: str) -> list[str]:
        """Every job ``key`` waits for, nearest first (breadth-first)."""
        seen: list[str] = []
        visited = {key}
        queue = list(self.needs.get(key, ()))
        while queue:
            node = queue.pop(0)
            if node in visited:
                continue
            visited.add(node)
            seen.append(node)
            queue += self.needs.get(node, ())
        return seen

    def stage_ancestors(self, stage: str) -> list[str]:
        """Every stage ``stage`` waits for (and those before them)."""
        return ancestors_of(self.stages, stage)

    def unknowns(self, key: str) -> list[str]:
        """Why ``key``'s dependencies are not all known: reasons on the job,
        its stage, and every job and stage above them."""
        job = self.jobs[key]
        stages = [job.stage] if job.stage is not None else []
        if job.stage is not None:
            stages += self.stage_ancestors(job.stage)
        keys = [key, *self.ancestors(key), *stages]
        if job.stage is None and DEFAULT_STAGE in self.unknown:
            keys.append(DEFAULT_STAGE)
        return [self.unknown[k] for k in keys if k in self.unknown]


def github_graph(data: Mapping[Any, Any]) -> JobGraph:
    """The jobs of a workflow and their ``needs`` (a workflow is the whole
    of its graph: a ``needs`` naming no job is the file's error)."""
    graph = github_needs(data)
    jobs = {
        job_id: GraphJob(job_id, job_id, None, as_mapping(job))
        for job_id, job in (
            (str(k), v) for k, v in as_mapping(data.get("jobs")).items()
        )
    }
    needs = {
        job_id: [n for n in names if n in graph]
        for job_id, names in graph.items()
    }
    return JobGraph("github", jobs, needs)


def azure_graph(
    structure: Sequence[tuple[AzureUnit, Sequence[AzureUnit]]],
    *,
    template: bool = False,
) -> JobGraph:
    """The compiled stages and jobs of a pipeline (``structure``). For a
    ``template``, what its first stage (or its jobs) waits for depends on
    the file that includes it: unknown."""
    stages = {stage.id: list(stage.depends) for stage, _ in structure}
    unknown: dict[str, str] = {}
    for stage, members in structure:
        for unit in (stage, *members):
            reason = _unresolved(unit)
            if reason:
                unknown[unit.id if unit is stage else _key(unit)] = reason
    if template or unknown:
        # Part of the graph is elsewhere: a name no unit here has may be
        # one there.
        for position, (stage, members) in enumerate(structure):
            dangling = [d for d in stage.depends if d not in stages]
            if dangling:
                unknown[stage.id] = (
                    f"stage `{stage.id}` waits for {dangling}, not known here"
                )
            if template and position == 0 and "dependsOn" not in stage.raw:
                unknown[stage.id] = (
                    "a template's first stage waits for what the including"
                    " file puts before it"
                )
            names = {job.id for job in members}
            for job in members:
                dangling = [d for d in job.depends if d not in names]
                if dangling:
                    unknown[_key(job)] = (
                        f"job `{job.id}` waits for {dangling}, not known here"
                    )
    last: dict[str, list[str]] = {}
    for stage, members in structure:
        needed = {name for job in members for name in job.depends}
        last[stage.id] = [_key(job) for job in members if job.id not in needed]
    jobs: dict[str, GraphJob] = {}
    needs: dict[str, list[str]] = {}
    for stage, members in structure:
        siblings = {job.id: _key(job) for job in members}
        for job in members:
            key = _key(job)
            stage_id = None if stage.id == DEFAULT_STAGE else stage.id
            jobs[key] = GraphJob(key, job.id, stage_id, job.raw, job.origin)
            edges = [siblings[n] for n in job.depends if n in siblings]
            if not edges:
                for before in stages.get(stage.id, []):
                    edges += last.get(before, [])
            needs[key] = edges
    data = {stage.id: stage.raw for stage, _ in structure}
    origins = {stage.id: stage.origin for stage, _ in structure}
    unread = frozenset(
        unit.id if unit is stage else _key(unit)
        for stage, members in structure
        for unit in (stage, *members)
        if unit.id.startswith("template:") or unit.kind not in unit.raw
    )
    return JobGraph(
        "azure", jobs, needs, stages, unknown, data, origins, unread
    )


def _key(job: AzureUnit) -> str:
    if job.stage is None or job.stage == DEFAULT_STAGE:
        return job.id
    return f"{job.stage}/{job.id}"


def _unresolved(unit: AzureUnit) -> str | None:
    """Why a compiled stage or job is not known: a template that was not
    read, a ``dependsOn`` known only at run time, an ``each`` over a
    collection known only then."""
    reason = unit.raw.get(MAYBE)
    if reason is None:
        return None
    if (
        unit.id.startswith("template:")
        or isinstance(unit.raw.get("dependsOn"), Unknown)
        or unit.kind not in unit.raw
    ):
        return str(reason)
    return None  # written, but inserted only under a condition
