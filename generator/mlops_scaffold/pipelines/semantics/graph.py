"""The dependency graph: what each job (or Azure stage) waits for, its
ancestors, the order units are planned in, and the results an ancestor may
have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .types import Unit, Verdict


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
