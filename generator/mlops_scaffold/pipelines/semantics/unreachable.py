"""Deployments a push to the default branch never reaches (MS210), with
the condition that would let each through."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from .api import plan
from .azure import AZURE
from .expressions import calls, parse
from .github import GITHUB, condition_text
from .graph import ancestors_of
from .types import (
    Event,
    ExpressionError,
    Plan,
    Unit,
    Unreachable,
    Verdict,
    as_list,
    as_mapping,
)


def unreachable_deployments(
    data: Mapping[Any, Any],
    provider: str,
    default_branch: str,
    *,
    variables: Mapping[str, str] | None = None,
    changed_files: Iterable[str] | None = None,
    root: Path | str | None = None,
    source: Path | str | None = None,
) -> list[Unreachable]:
    """Deployment jobs a push to ``default_branch`` triggers the file for but
    never reaches, because a job or stage up their dependency chain is
    skipped (with no variables set, unless given).

    Deployments skipped by their own condition (an opt-in switch) are not
    reported; neither are files that a push does not trigger."""
    result = plan(
        data,
        provider,
        Event.push(default_branch, changed_files),
        variables,
        root=root,
        source=source,
    )
    if result.triggered is Verdict.SKIP:
        return []
    found: list[Unreachable] = []
    for unit in result.jobs:
        if not unit.is_deployment or unit.verdict is not Verdict.SKIP:
            continue
        if unit.cause == "needs":
            owner, skipped = unit, str(unit.skipped_need)
        elif unit.cause == "stage" and unit.stage:
            owner = result.stage(unit.stage)
            if owner.cause != "needs":
                continue
            skipped = str(owner.skipped_need)
        else:
            continue
        item = _unreachable(result, unit, owner, skipped, provider)
        found.append(
            dataclasses.replace(item, path=_yaml_path(data, provider, owner))
        )
    return found


def _yaml_path(
    data: Mapping[Any, Any], provider: str, unit: Unit
) -> tuple[str | int, ...]:
    """Where ``unit`` is written in the planned file, if it is there."""
    if provider == "github":
        return ("jobs", unit.id)

    def index(items: Any, keys: tuple[str, ...], name: str) -> int | None:
        for position, item in enumerate(as_list(items)):
            if isinstance(item, Mapping) and any(
                str(item.get(key)) == name for key in keys if key in item
            ):
                return position
        return None

    if unit.kind == "stage":
        position = index(data.get("stages"), ("stage",), unit.id)
        return () if position is None else ("stages", position)
    jobs_at: tuple[str | int, ...] = ()
    jobs = data.get("jobs")
    if unit.stage:
        stage = index(data.get("stages"), ("stage",), unit.stage)
        if stage is None:
            return ()
        jobs_at = ("stages", stage)
        jobs = as_mapping(as_list(data.get("stages"))[stage]).get("jobs")
    position = index(jobs, ("job", "deployment"), unit.id)
    return () if position is None else (*jobs_at, "jobs", position)


def _peers(result: Plan, owner: Unit) -> list[Unit]:
    """The units ``owner``'s dependencies are among: the workflow's jobs,
    the pipeline's stages, or the jobs of one stage."""
    if owner.kind == "stage":
        return list(result.stages)
    return [u for u in result.jobs if u.stage == owner.stage]


def _suggested_condition(
    unit: Unit, provider: str, optional: Collection[str]
) -> str:
    """A condition for ``unit`` that keeps its own test and the success of
    its direct dependencies (``optional`` ones, skipped by a switch of their
    own, may also be skipped) but lets a skipped ancestor through."""
    if provider == "github":
        parts = ["!cancelled()", "!failure()"]
        parts += [
            f"needs.{n}.result != 'failure'"
            if n in optional
            else f"needs.{n}.result == 'success'"
            for n in unit.needs
        ]
        original = _strip_gh(unit.condition)
        if original:
            original = re.sub(r"\bsuccess\(\)", "!failure()", original)
            parts.append(f"({original})")
        return "${{ " + " && ".join(parts) + " }}"
    parts = ["not(failed())", "not(canceled())"]
    parts += [
        f"in(dependencies.{n}.result, 'Succeeded', 'SucceededWithIssues'"
        + (", 'Skipped')" if n in optional else ")")
        for n in unit.needs
    ]
    if unit.condition:
        original = re.sub(r"\bsucceeded\(\)", "not(failed())", unit.condition)
        parts.append(" ".join(original.split()))
    return "and(" + ", ".join(parts) + ")"


def _unreachable(
    result: Plan, unit: Unit, owner: Unit, skipped: str, provider: str
) -> Unreachable:
    where = f"{unit.stage}.{unit.id}" if unit.stage else unit.id
    peers = _peers(result, owner)
    graph = {u.id: u.needs for u in peers}
    above = ancestors_of(graph, owner.id)
    to_fix = [
        u
        for u in peers
        if (u.id in above or u is owner)
        and u.cause == "needs"
        and u.skipped_need == skipped
    ]
    optional = {
        u.id
        for u in peers
        if u.verdict is Verdict.SKIP and u.cause in ("condition", "stage")
    }
    conditions = {
        u.id: _suggested_condition(u, provider, optional) for u in to_fix
    }
    names = ", ".join(f"`{u.id}`" for u in to_fix)
    generic = [
        u.id
        for u in to_fix
        if u.condition
        and not _status_functions(u.condition, provider)
        & {"success", "succeeded"}
        and _status_functions(u.condition, provider)
    ]
    if provider == "github":
        fix = (
            f"give {names} an explicit status check, e.g. `if: "
            f"{conditions[owner.id]}`: `!failure()` is false when any job up"
            " the `needs` chain failed, `!cancelled()` stops it on a cancel,"
            " and a skipped job no longer skips it (GitHub's implicit"
            " `success()` looks at the whole chain)."
        )
    else:
        kind = "stage" if owner.kind == "stage" else "job"
        fix = (
            f"give {kind} {names} a condition that accepts a skipped"
            f" dependency, e.g. `condition: {conditions[owner.id]}`"
            " (`failed()` is true when any dependency failed; the default"
            " `succeeded()` is false when one was skipped)."
        )
    if generic:
        fix += (
            " "
            + ", ".join(f"`{g}`" for g in generic)
            + f" also requires a result that the skipped `{skipped}` lacks:"
            " accept a skipped one, or let it run."
        )
    message = (
        f"deployment `{where}`"
        + (f" (environment `{unit.environment}`)" if unit.environment else "")
        + f" never runs on a push to the default branch: {owner.reasons[0]}"
    )
    return Unreachable(
        job=unit.id,
        stage=unit.stage,
        environment=unit.environment,
        skipped_need=skipped,
        chain=owner.reasons,
        message=message,
        fix=fix,
        conditions=conditions,
    )


def _status_functions(condition: str, provider: str) -> set[str]:
    github = provider == "github"
    text = _strip_gh(condition) if github else condition
    try:
        node = parse(text or "true", github=github)
    except ExpressionError:
        return set()
    status = (GITHUB if github else AZURE).status_functions
    return calls(node) & status


def _strip_gh(condition: str | None) -> str | None:
    if condition is None:
        return None
    text, _ = condition_text(condition)
    return " ".join(text.split()) if text else None
