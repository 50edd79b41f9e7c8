"""Planning an Azure Pipelines pipeline: the trigger, the compiled stages
in dependency order (a stage waits for the one before it by default), then
the jobs of each stage, with the default ``succeeded()``."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from .azure import AZURE, LazyVariables, Variables
from .compiler import AzureUnit, compile_azure, variables_of
from .evaluator import Evaluator, Status, decide, values_note
from .expressions import calls, parse
from .graph import (
    ancestors_of,
    dependency_chain,
    order,
    possible_results,
    root_skip,
)
from .types import (
    MAYBE,
    ContextObject,
    Event,
    ExpressionError,
    Plan,
    Unit,
    Unknown,
    Verdict,
    environment_of,
    run_time,
    short,
)

_AZURE_RESULT = {
    "success": "Succeeded",
    "failure": "Failed",
    "skipped": "Skipped",
}


def _result(possible: frozenset[str]) -> Any:
    if len(possible) == 1:
        return _AZURE_RESULT[next(iter(possible))]
    return Unknown("the dependency's result is not known")


def plan_azure(
    data: Mapping[Any, Any],
    event: Event,
    variables: Mapping[str, str],
    failed: Collection[str],
    assume_triggered: bool,
    root: Path | None,
    base: Path | None,
) -> Plan:
    triggered, why = AZURE.trigger(data, event)
    if assume_triggered and triggered is not Verdict.RUN:
        why = f"assumed triggered ({why})"
        triggered = Verdict.RUN
    compiled = compile_azure(data, event, root, base)
    predefined = compiled.predefined
    root_vars, root_opaque = compiled.root_vars, compiled.root_opaque
    structure = compiled.structure

    stage_graph = {s.id: s.depends for s, _ in structure}
    stage_units: dict[str, Unit] = {}
    job_units: list[Unit] = []
    by_id = {s.id: (s, jobs) for s, jobs in structure}
    planned: dict[str, dict[str, Unit]] = {}
    # A stage fails when it is named in `failed` or one of its jobs fails.
    failed = set(failed)
    for stage_id in order(stage_graph):
        stage, jobs = by_id[stage_id]
        stage_vars, stage_opaque = variables_of(stage.raw.get("variables"))
        runtime = Variables([root_vars], root_opaque, predefined, variables)
        stage_unit = _unit(
            stage,
            stage_graph,
            stage_units,
            runtime,
            failed,
            triggered,
            why,
            dependencies_extra=None,
        )
        stage_units[stage_id] = stage_unit
        job_graph = {j.id: j.depends for j in jobs}
        done: dict[str, Unit] = {}
        runtime_jobs = Variables(
            [root_vars, stage_vars],
            root_opaque or stage_opaque,
            predefined,
            variables,
        )
        stage_deps = _stage_dependencies(stage, by_id, planned, failed)
        for job_id in order(job_graph):
            job = next(j for j in jobs if j.id == job_id)
            if stage_unit.verdict is not Verdict.RUN:
                unit = _unit_from(
                    job,
                    stage_unit.verdict,
                    (
                        f"its stage `{stage_id}` "
                        + (
                            "is skipped"
                            if stage_unit.verdict is Verdict.SKIP
                            else "may not run"
                        ),
                        *stage_unit.reasons,
                    ),
                    "stage",
                    stage_unit.skipped_need or stage_id
                    if stage_unit.verdict is Verdict.SKIP
                    else None,
                )
                if stage_unit.verdict is Verdict.UNKNOWN:
                    inner = _unit(
                        job,
                        job_graph,
                        done,
                        runtime_jobs,
                        failed,
                        Verdict.RUN,
                        why,
                        dependencies_extra=stage_deps,
                    )
                    if inner.verdict is Verdict.SKIP:
                        unit = inner
            else:
                unit = _unit(
                    job,
                    job_graph,
                    done,
                    runtime_jobs,
                    failed,
                    Verdict.RUN,
                    why,
                    dependencies_extra=stage_deps,
                )
            done[job_id] = unit
        job_units.extend(done[j.id] for j in jobs)
        planned[stage_id] = {j.id: done[j.id] for j in jobs}
        if any(
            unit.verdict is Verdict.RUN and job_id in failed
            for job_id, unit in done.items()
        ):
            failed.add(stage_id)
    stages = tuple(
        stage_units[s.id] for s, _ in structure if s.id != "__default"
    )
    jobs_out = tuple(
        dataclasses.replace(u, stage=None) if u.stage == "__default" else u
        for u in job_units
    )
    return Plan("azure", event, triggered, why, stages, jobs_out)


def _stage_dependencies(
    stage: AzureUnit,
    by_id: Mapping[str, Any],
    planned: Mapping[str, Mapping[str, Unit]],
    failed: Collection[str],
) -> ContextObject:
    """``stageDependencies.<stage>.<job>`` for a job's condition: the
    results of the jobs in the stages its stage depends on."""

    def job_context(stage_id: str, unit: Unit) -> ContextObject:
        result = _result(possible_results(unit.verdict, unit.id in failed))
        return ContextObject(
            {"result": result},
            lambda key: Unknown(
                f"stageDependencies.{stage_id}.{unit.id}.{key} is only known"
                " at run time"
            ),
        )

    return ContextObject(
        {
            s: ContextObject(
                {
                    job_id: job_context(s, unit)
                    for job_id, unit in planned.get(s, {}).items()
                },
                run_time(f"stageDependencies.{s}"),
            )
            for s in stage.depends
            if s in by_id
        },
        lambda key: Unknown(f"stage {key} is not in `dependsOn`"),
    )


def _unit_from(
    unit: AzureUnit,
    verdict: Verdict,
    reasons: tuple[str, ...],
    cause: str,
    skipped_need: str | None = None,
) -> Unit:
    return Unit(
        id=unit.id,
        kind=unit.kind,
        verdict=verdict,
        reasons=reasons,
        needs=tuple(unit.depends),
        stage=unit.stage,
        environment=environment_of(unit.raw),
        condition=_condition_text(unit.raw.get("condition")),
        cause=cause if verdict is not Verdict.RUN else "",
        skipped_need=skipped_need,
    )


def _condition_text(raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, Unknown):
        return f"<{raw.reason}>"
    return str(raw)


def _unit(
    unit: AzureUnit,
    graph: Mapping[str, Sequence[str]],
    done: Mapping[str, Unit],
    runtime: Variables,
    failed: Collection[str],
    triggered: Verdict,
    trigger_reason: str,
    dependencies_extra: Any,
) -> Unit:
    what = "stage" if unit.kind == "stage" else "job"
    if triggered is Verdict.SKIP:
        return _unit_from(
            unit,
            Verdict.SKIP,
            (f"the pipeline does not run: {trigger_reason}",),
            "trigger",
        )
    missing = [d for d in unit.depends if d not in graph]
    if missing:
        return _unit_from(
            unit,
            Verdict.UNKNOWN,
            (f"`dependsOn` names no such {what}: {missing}",),
            "condition",
        )
    ancestors = ancestors_of(graph, unit.id)
    results = {
        a: possible_results(done[a].verdict, a in failed)
        for a in ancestors
        if a in done
    }
    direct = {d: results[d] for d in unit.depends if d in results}
    raw = unit.raw.get("condition")
    maybe = unit.raw.get(MAYBE)
    if isinstance(raw, Unknown):
        return _unit_from(unit, Verdict.UNKNOWN, (raw.reason,), "condition")
    text = f"{AZURE.default_status}()" if raw is None else str(raw)
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    try:
        node = parse(text, github=False)
    except ExpressionError as error:
        return _unit_from(
            unit,
            Verdict.UNKNOWN,
            (f"`condition` is not valid: {error}",),
            "condition",
        )

    def dependencies(all_succeed: bool) -> ContextObject:
        return ContextObject(
            {
                d: ContextObject(
                    {
                        "result": "Succeeded"
                        if all_succeed
                        else _result(direct[d])
                    },
                    run_time(f"dependencies.{d}"),
                )
                for d in unit.depends
                if d in direct
            },
            lambda key: Unknown(
                f"`dependencies.{key}`: {key} is not in `dependsOn`"
            ),
        )

    def contexts(all_succeed: bool = False) -> dict[str, Any]:
        ctx: dict[str, Any] = {"dependencies": dependencies(all_succeed)}
        if dependencies_extra is not None:
            ctx["stagedependencies"] = dependencies_extra
        ctx["variables"] = LazyVariables(runtime, lambda: ctx)
        return ctx

    evaluator = Evaluator(contexts(), AZURE, status=Status(results, direct))
    try:
        value = evaluator.eval(node)
    except ExpressionError as error:
        return _unit_from(
            unit,
            Verdict.UNKNOWN,
            (f"`condition` cannot be evaluated: {error}",),
            "condition",
        )
    verdict, unknown_reason = decide(value)
    if triggered is Verdict.UNKNOWN and verdict is Verdict.RUN:
        verdict, unknown_reason = Verdict.UNKNOWN, trigger_reason
    if maybe and verdict is Verdict.RUN:
        verdict, unknown_reason = (
            Verdict.UNKNOWN,
            f"it may not be inserted: {maybe}",
        )
    if verdict is Verdict.RUN:
        return _unit_from(
            unit,
            verdict,
            (
                "no `condition`, and every dependency succeeds"
                if raw is None
                else f"`condition: {short(raw)}` is true",
            ),
            "",
        )
    if verdict is Verdict.UNKNOWN:
        return _unit_from(unit, verdict, (unknown_reason,), "condition")
    skipped = [
        a for a in ancestors if a in done and done[a].verdict is Verdict.SKIP
    ]
    if skipped:
        optimistic = Evaluator(
            contexts(all_succeed=True),
            AZURE,
            status=Status(
                {a: frozenset({"success"}) for a in ancestors},
                {d: frozenset({"success"}) for d in unit.depends},
            ),
        )
        if decide(optimistic.eval(node))[0] is not Verdict.SKIP:
            root = root_skip(skipped, done)
            chain = dependency_chain(graph, unit.id, root)
            return _unit_from(
                unit,
                Verdict.SKIP,
                (
                    f"{what} `{root}` is skipped"
                    + (
                        f" (through {' -> '.join(chain)})"
                        if len(chain) > 2
                        else ""
                    )
                    + "; "
                    + _skip_rule(raw, calls(node)),
                    *done[root].reasons,
                ),
                "needs",
                root,
            )
    return _unit_from(
        unit,
        Verdict.SKIP,
        (
            f"`condition: {short(text)}` is false"
            + values_note(evaluator, node),
        ),
        "condition",
    )


def _skip_rule(raw: Any, calls: set[str]) -> str:
    """Why a skipped dependency skips this stage or job."""
    if raw is None or "succeeded" in calls:
        return (
            "with no `condition`, the default `succeeded()`"
            if raw is None
            else "`succeeded()` in its condition"
        ) + (
            " is false unless every direct and indirect dependency"
            " succeeded, and a skipped one did not"
        )
    return "its condition needs a result that a skipped dependency lacks"
