"""The public functions: plan a file for an event, and evaluate
expressions with concrete contexts (the local runner)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

from .azure import AZURE
from .compiler import TEMPLATE_EXPR, compile_azure
from .evaluator import Evaluator, Provider, Status
from .expressions import And, Lit, Node, calls, parse
from .github import GITHUB, condition_text, input_values, job_contexts
from .graph import JobGraph, azure_graph, github_graph
from .plan_azure import plan_azure
from .plan_github import plan_github
from .types import ContextObject, Event, ExpressionError, Plan, Unknown


def job_graph(
    data: Mapping[Any, Any],
    provider: str,
    *,
    branch: str = "main",
    root: Path | str | None = None,
    source: Path | str | None = None,
    template: bool = False,
) -> JobGraph:
    """Every job and what it waits for, as ``plan`` sees them on a push to
    ``branch`` (Azure: compiled, with templates read as ``plan`` reads
    them; ``template``: the file is a template, so what its first stage
    waits for is not known). Raises ExpressionError for a template
    expression the service would reject."""
    if not isinstance(data, Mapping):
        raise ValueError("a workflow or pipeline must be a mapping")
    if provider == "github":
        return github_graph(data)
    if provider == "azure":
        root_path, base = _folders(root, source)
        compiled = compile_azure(data, Event.push(branch), root_path, base)
        return azure_graph(compiled.structure, template=template)
    raise ValueError(f"unknown provider {provider!r} (github or azure)")


def _folders(
    root: Path | str | None, source: Path | str | None
) -> tuple[Path | None, Path | None]:
    """The root templates may not leave, and the folder they are read
    relative to."""
    base = None if source is None else Path(source).parent
    return (Path(root) if root is not None else base), base


def plan(
    data: Mapping[Any, Any],
    provider: str,
    event: Event,
    variables: Mapping[str, str] | None = None,
    *,
    failed: Collection[str] = (),
    assume_triggered: bool = False,
    root: Path | str | None = None,
    source: Path | str | None = None,
) -> Plan:
    """Which jobs (and Azure stages) run for ``event``, and why.

    ``provider`` is "github" or "azure". ``variables`` are repository or
    organization variables (GitHub ``vars``; a job's ``if:`` never sees
    environment variables) or pipeline variables set outside the YAML
    (Azure; a variable the YAML defines keeps the YAML value). ``failed``
    names jobs/stages that run but fail (default: all succeed).
    ``assume_triggered`` plans the jobs even if the triggers do not fire
    (e.g. an Azure Repos branch policy queues the pipeline for a pull
    request whatever its ``pr:`` says). Local Azure ``template:``
    references are read relative to ``source`` (the planned file's path),
    or to ``root`` (the repository folder; a leading ``/`` and the bound
    no template may leave) when no source is given; with neither they are
    UNKNOWN."""
    if not isinstance(data, Mapping):
        raise ValueError("a workflow or pipeline must be a mapping")
    variables = dict(variables or {})
    if provider == "github":
        return plan_github(data, event, variables, failed, assume_triggered)
    if provider == "azure":
        return plan_azure(
            data,
            event,
            variables,
            failed,
            assume_triggered,
            *_folders(root, source),
        )
    raise ValueError(f"unknown provider {provider!r} (github or azure)")


# --------------------------------------------------------------------------
# Run time: the same engine with concrete contexts (the local runner)


def context(values: Mapping[str, Any], missing: Any = None) -> Any:
    """A context object (case-insensitive keys, as both services read
    them); a missing key gives ``missing``."""
    return ContextObject(values, lambda _: missing)


def _provider(github: bool) -> Provider:
    return GITHUB if github else AZURE


def _concrete(value: Any, text: str) -> Any:
    if isinstance(value, Unknown):
        raise ExpressionError(f"`{text.strip()}`: {value.reason}")
    return value


def evaluate(
    text: str,
    contexts: Mapping[str, Any],
    *,
    github: bool,
    results: Mapping[str, str] | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """The value of one expression (no ``${{ }}``). ``results`` are the
    results (success, failure, skipped) that the status functions read:
    the steps so far at step level, the dependencies at job level. A value
    the engine cannot know raises ExpressionError."""
    status = None
    if results is not None:
        sets = {k: frozenset({v}) for k, v in results.items()}
        status = Status(ancestors=sets, direct=sets)
    evaluator = Evaluator(contexts, _provider(github), status, functions)
    return _concrete(evaluator.eval(parse(text, github)), text)


def interpolate(
    text: str,
    contexts: Mapping[str, Any],
    *,
    github: bool,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """``text`` with each ``${{ }}`` replaced by its value as a string (a
    value alone keeps its type, as both services do)."""
    evaluator = Evaluator(contexts, _provider(github), None, functions)
    whole = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", text, re.DOTALL)
    if whole and "${{" not in whole.group(1):
        return _concrete(evaluator.eval(parse(whole.group(1), github)), text)
    parts: list[str] = []
    last = 0
    for match in TEMPLATE_EXPR.finditer(text):
        parts.append(text[last : match.start()])
        value = evaluator.eval(parse(match.group(1), github))
        parts.append(evaluator.to_str(_concrete(value, match.group(1))))
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)


def to_text(value: Any, *, github: bool) -> str:
    """A value as the service writes it into a string."""
    return Evaluator({}, _provider(github)).to_str(value)


def condition_holds(
    raw: Any,
    contexts: Mapping[str, Any],
    *,
    github: bool,
    results: Mapping[str, str],
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> bool:
    """Whether a GitHub ``if:`` or an Azure ``condition:`` is true, with
    the implicit ``success()`` (GitHub) / default ``succeeded()`` (Azure)
    when it calls no status function."""
    provider = _provider(github)
    if github:
        text, literal = condition_text(raw)
        if text is None:
            node: Node = Lit(True if raw is None else literal)
        else:
            node = parse(text, github=True)
    else:
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        text = f"{AZURE.default_status}()" if raw is None else str(raw)
        node = parse(text, github=False)
    if not (calls(node) & provider.status_functions):
        node = And(provider.default_condition, node)
    sets = {k: frozenset({v}) for k, v in results.items()}
    evaluator = Evaluator(
        contexts, provider, Status(ancestors=sets, direct=sets), functions
    )
    value = _concrete(evaluator.eval(node), str(raw))
    return bool(evaluator.truthy(value))


def github_context(
    data: Mapping[Any, Any], event: Event, extra: Mapping[str, Any]
) -> Any:
    """The ``github`` context of a run: the planner's (event name, refs,
    payload, inputs) with ``extra`` run-time fields; other fields are
    null, as an absent field is on the service."""
    planned = job_contexts(data, event, {})["github"]
    values = dict(planned.values)
    payload = values.get("event")
    if isinstance(payload, ContextObject):
        values["event"] = ContextObject(payload.values, lambda _: None)
    values.update({k.lower(): v for k, v in extra.items()})
    return ContextObject(values, lambda _: None)


def workflow_inputs(data: Mapping[Any, Any], event: Event) -> dict[str, Any]:
    """The ``inputs`` of a workflow_dispatch (or workflow_call) run: the
    declared defaults, typed, overridden by ``event.inputs``."""
    kind = (
        "workflow_call"
        if event.kind == "workflow_call"
        else ("workflow_dispatch")
    )
    return input_values(data, event, kind)
