"""MS212: expressions the service cannot evaluate, and references to jobs,
stages and steps that do not exist.

Every ``${{ }}`` (both providers), ``$[ ]`` (Azure), GitHub ``if:`` and
Azure ``condition:`` is parsed by the planner's parser (one expression
engine, as actionlint has one: ``expr_lexer.go``/``expr_parser.go``), then
checked against the providers' tables:

- GitHub's functions and named contexts, from actions/languageservices
  (``workflow-v1.0.json``: ``allowed-context`` lists; functions in
  ``expressions/src/funcs.ts``) and actionlint's ``expr_sema.go``
  (``BuiltinFunctionSignatures``, ``BuiltinGlobalVariableTypes``). GitHub
  refuses a workflow that names an unknown context ("Unrecognized
  named-value") or function ("Unrecognized function") when it loads it.
- Azure's functions, from the expressions reference
  (learn.microsoft.com/azure/devops/pipelines/process/expressions#functions,
  with the job status check functions). Azure contexts are not checked:
  ``${{ each }}`` loops and template parameters add names.

References: a GitHub ``needs:`` entry or ``needs.X`` naming no job (or a
job the job does not need: the context holds direct needs only), a
``steps.X`` naming no step id of the job; an Azure ``dependsOn`` naming no
stage or job of the pipeline as compiled (``azure_depends_on``; Azure
refuses to queue the run: "Stage X depends on unknown stage Y").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..model import GITHUB, PipelineFile, names
from ..semantics import ExpressionError, calls, parse
from ..semantics.expressions import Ctx, Lit, Node, Prop, walk
from . import Hit, Rule, RuleMeta
from .azure_depends_on import azure_depends_on

#: actionlint expr_sema.go BuiltinFunctionSignatures, plus `case`
#: (GitHub changelog 2025-10: the case() function).
GITHUB_FUNCTIONS = frozenset({
    "contains", "startswith", "endswith", "format", "join", "tojson",
    "fromjson", "hashfiles", "success", "always", "cancelled", "failure",
    "case",
})  # fmt: skip
#: actionlint expr_sema.go BuiltinGlobalVariableTypes.
GITHUB_CONTEXTS = frozenset({
    "github", "env", "vars", "job", "jobs", "steps", "runner", "secrets",
    "strategy", "matrix", "needs", "inputs",
})  # fmt: skip
#: Azure Pipelines expressions reference, "Functions" and "Job status
#: check functions" (names are case-insensitive).
AZURE_FUNCTIONS = frozenset({
    "and", "coalesce", "contains", "containsvalue", "converttojson",
    "counter", "endswith", "eq", "format", "ge", "gt", "in", "iif", "join",
    "le", "length", "lower", "lt", "ne", "not", "notin", "or", "replace",
    "split", "startswith", "trim", "upper", "xor", "always", "canceled",
    "failed", "succeeded", "succeededorfailed",
})  # fmt: skip

_TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_RUNTIME = re.compile(r"\$\[(.*?)\]\s*$", re.S)
_DIRECTIVE = re.compile(r"^\s*(?:(?:else)?if\s+|each\s+\w+\s+in\s+)(.*)$", re.S)


class Expressions(Rule):
    meta = RuleMeta(
        "MS212", "expression", "error",
        why="the service refuses a file whose expression does not parse or "
        "names an unknown function or context, and a `needs`/`dependsOn` "
        "to a job or stage that does not exist; a `needs.X`/`steps.X` "
        "that is not there reads as empty, so the condition silently "
        "takes the other branch",
        fix="correct the expression, or the job, stage or step id it names",
    )  # fmt: skip

    def file(self, pipeline: PipelineFile) -> Iterator[Hit]:
        github = pipeline.provider == GITHUB
        for path, text in _expressions(pipeline.data, (), github):
            if text.startswith("${{"):  # marked by _in_text: not closed
                yield Hit(
                    path,
                    f"expression `{_short(text)}` is not closed: no `}}}}` "
                    "after `${{`",
                )
                continue
            try:
                node = parse(text, github)
            except ExpressionError as error:
                yield Hit(
                    path, f"expression `{_short(text)}` does not parse: {error}"
                )
                continue
            functions = GITHUB_FUNCTIONS if github else AZURE_FUNCTIONS
            for name in sorted(calls(node) - functions):
                yield Hit(
                    path, f"unknown function `{name}()` in `{_short(text)}`"
                )
            if github:
                yield from _github_references(pipeline, path, node, text)
            else:
                yield from _azure_references(pipeline.data, path, node, text)
        if github:
            yield from _github_needs(pipeline)
        else:
            yield from azure_depends_on(
                pipeline, self.context.root, self.context.default_branch
            )


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def _expressions(
    node: Any, path: tuple[Any, ...], github: bool
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path, expression text) of every expression in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = (*path, key)
            if isinstance(key, str):
                yield from _in_text(key, here, github, directive=True)
            if isinstance(value, str) and (
                (github and key == "if" and len(path) in (2, 4))
                or (not github and key == "condition")
            ):
                inner = _TEMPLATE.fullmatch(value.strip())
                if inner is not None:
                    yield here, inner.group(1)
                elif "${{" not in value and "$[" not in value:
                    yield here, value
                else:
                    yield from _in_text(value, here, github)
                    if not github and "$[" not in value:
                        # An Azure condition with template values inserted:
                        # the condition as it reads once they are.
                        yield here, _TEMPLATE.sub("x", value)
            else:
                yield from _expressions(value, here, github)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _expressions(item, (*path, index), github)
    elif isinstance(node, str):
        yield from _in_text(node, path, github)


def _in_text(
    text: str, path: tuple[Any, ...], github: bool, directive: bool = False
) -> Iterator[tuple[tuple[Any, ...], str]]:
    if "${{" in text:
        if "}}" not in text[text.rindex("${{") :]:
            # "The expression is not closed. An unescaped ${{ sequence was
            # found, but the closing }} sequence was not found." (both
            # services' expression engine, actions/languageservices
            # expressions); the parser says so for the unclosed text.
            yield path, "${{" + text[text.rindex("${{") + 3 :]
        for match in _TEMPLATE.finditer(text):
            inner = match.group(1)
            if not github:
                if inner.strip() in ("else", "insert"):
                    continue
                found = _DIRECTIVE.match(inner)
                if found is not None:
                    inner = found.group(1)
            yield path, inner
    if not github and not directive:
        # A runtime expression may hold template values, inserted first.
        runtime = _RUNTIME.match(_TEMPLATE.sub("x", text).strip())
        if runtime is not None:
            yield path, runtime.group(1)


def _roots(node: Node) -> Iterator[tuple[str, Node]]:
    """(context name, the node) of every named-value in ``node``."""
    for item in walk(node):
        if isinstance(item, Ctx):
            yield item.name, item


def _members(node: Node, context: str) -> Iterator[str]:
    """The literal keys read from ``context`` (``needs.build`` -> build)."""
    for item in walk(node):
        match item:
            case Prop(Ctx(name), Lit(str() as key)) if name == context:
                yield key


def _github_references(
    pipeline: PipelineFile, path: tuple[Any, ...], node: Any, text: str
) -> Iterator[Hit]:
    for name in sorted({n for n, _ in _roots(node)} - GITHUB_CONTEXTS):
        yield Hit(path, f"unknown context `{name}` in `{_short(text)}`")
    jobs = pipeline.mapping.get("jobs") if pipeline.kind != "action" else None
    if not (isinstance(jobs, dict) and len(path) >= 2 and path[0] == "jobs"):
        return
    job = jobs.get(path[1])
    if not isinstance(job, dict):
        return
    needed = {n.lower() for n in names(job.get("needs"))}
    if not any("${{" in n for n in needed):
        for name in sorted(set(_members(node, "needs"))):
            if name.lower() not in needed:
                yield Hit(
                    path,
                    f"`needs.{name}` in `{_short(text)}`: job `{path[1]}` "
                    f"does not need `{name}` (only its direct `needs:` are "
                    "in the context), so it reads as empty",
                )
    steps = job.get("steps")
    if isinstance(steps, list) and len(path) >= 2:
        ids = {
            str(s["id"]).lower()
            for s in steps
            if isinstance(s, dict) and "id" in s
        }
        if any("${{" in i for i in ids):
            return
        for name in sorted(set(_members(node, "steps"))):
            if name.lower() not in ids:
                yield Hit(
                    path,
                    f"`steps.{name}` in `{_short(text)}`: job `{path[1]}` "
                    f"has no step with `id: {name}`, so it reads as empty",
                )


def _github_needs(pipeline: PipelineFile) -> Iterator[Hit]:
    jobs = pipeline.mapping.get("jobs")
    if not isinstance(jobs, dict):
        return
    known = {str(j).lower() for j in jobs}
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            continue
        for name in names(job.get("needs")):
            if "${{" not in name and name.lower() not in known:
                yield Hit(
                    ("jobs", job_id, "needs"),
                    f"job `{job_id}` needs `{name}`, which is not a job of "
                    "this workflow",
                    ("jobs", job_id),
                )


def _listed(items: Any, key: str) -> set[str] | None:
    """The names the list defines (through ``${{ if }}`` insertions), or
    None when a template or loop may add others."""
    found: set[str] = set()
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        if "template" in item:
            return None
        directives = [k for k in item if isinstance(k, str) and "${{" in k]
        for directive in directives:
            if "each" in directive:
                return None
            inner = _listed(item[directive], key)
            if inner is None:
                return None
            found |= inner
        for name_key in (key, "deployment") if key == "job" else (key,):
            if name_key in item:
                found.add(str(item[name_key]).lower())
    return found


def _scopes(data: Any, path: tuple[Any, ...]) -> tuple[Any, Any]:
    """The stages list and the jobs list that hold the place at ``path``
    (None where there is none)."""
    stages = jobs = None
    node = data
    for key in path:
        if isinstance(node, dict) and key == "stages":
            stages = node.get("stages")
        if isinstance(node, dict) and key == "jobs":
            jobs = node.get("jobs")
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    return stages, jobs


def _azure_references(
    data: Any, path: tuple[Any, ...], node: Any, text: str
) -> Iterator[Hit]:
    """``dependencies.X`` (a job's sibling job, or a stage's stage) and
    ``stageDependencies.X`` (a stage) naming nothing of this file: the
    value is empty and the condition takes the other branch."""
    stages, jobs = _scopes(data, path)
    in_job = "jobs" in path
    checks = [
        (
            "dependencies",
            jobs if in_job else stages,
            "job" if in_job else "stage",
        ),
        ("stagedependencies", stages, "stage"),
    ]
    for context, items, kind in checks:
        if not isinstance(items, list):
            continue
        known = _listed(items, kind)
        if known is None:
            continue
        for name in sorted(set(_members(node, context))):
            if "$" not in name and name.lower() not in known:
                yield Hit(
                    path,
                    f"`{context}.{name}` in `{_short(text)}`: there is no "
                    f"{kind} `{name}` here, so it reads as empty",
                )
