"""MS102: every local Azure ``template:`` names a file in the repository,
and no template includes itself (a.yml -> b.yml -> a.yml)."""

from collections.abc import Iterator, Mapping
from typing import Any

from ..discovery import resolve_template
from ..model import AZURE, PipelineFile
from . import Hit, Rule, RuleMeta


class TemplateReference(Rule):
    meta = RuleMeta(
        "MS102", "template-reference", "error",
        why="Azure Pipelines rejects the run when it is queued if a "
        "template is missing, outside the repository, or includes itself",
        fix="point `template:` at a file in the repository (relative to the "
        "including file, or `/` from the root) and break any cycle",
        providers=(AZURE,),
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        root = self.context.root.resolve()
        for where, reference in references(pipeline.data):
            target = resolve_template(pipeline.relative, reference)
            if target is None:
                yield Hit(
                    where, f"template `{reference}` is outside the repository"
                )
                continue
            path = self.context.root / target
            # Judged by path only: nothing outside the repository is read.
            if not path.resolve().is_relative_to(root):
                yield Hit(
                    where, f"template `{reference}` is outside the repository"
                )
            elif not path.is_file():
                yield Hit(where, f"template `{reference}` does not exist")
            elif _reaches(self.context.pipelines, target, pipeline.relative):
                yield Hit(
                    where,
                    f"template `{reference}` includes this file again "
                    "(a cycle of templates)",
                )


def references(data: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(path in the document, reference) of each local ``template:``."""
    found: list[tuple[tuple[Any, ...], str]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    seen = 0
    while stack and seen < 100_000:
        seen += 1
        path, node = stack.pop()
        if isinstance(node, dict):
            value = node.get("template")
            if (
                isinstance(value, str)
                and ("@" not in value or value.lower().endswith("@self"))
                and "$" not in value
            ):
                found.append(((*path, "template"), value))
            stack.extend(((*path, k), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(((*path, i), v) for i, v in enumerate(node))
    return sorted(found, key=lambda item: str(item[0]))


def _reaches(
    pipelines: Mapping[str, PipelineFile], start: str, goal: str
) -> bool:
    """Whether the template at ``start`` includes ``goal``, directly or
    through other templates (parsed ones only)."""
    stack, seen = [start], set()
    while stack:
        current = stack.pop()
        if current == goal:
            return True
        if current in seen or current not in pipelines:
            continue
        seen.add(current)
        for _, reference in references(pipelines[current].data):
            target = resolve_template(current, reference)
            if target:
                stack.append(target)
    return False
