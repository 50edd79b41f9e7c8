"""Planning a GitHub Actions workflow: the trigger, then each job in
dependency order, with the implicit ``success()`` over the whole ``needs``
chain."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .evaluator import Evaluator, Status, decide, values_note
from .expressions import And, Lit, Node, calls, parse
from .github import GITHUB, condition_text, job_contexts
from .graph import (
    AncestorResults,
    ancestors_of,
    dependency_chain,
    github_needs,
    order,
    possible_results,
    root_skip,
)
from .types import (
    ContextObject,
    Event,
    ExpressionError,
    Plan,
    Unit,
    Unknown,
    Verdict,
    as_mapping,
    environment_of,
    run_time,
    short,
)


def plan_github(
    data: Mapping[Any, Any],
    event: Event,
    variables: Mapping[str, str],
    failed: Collection[str],
    assume_triggered: bool,
) -> Plan:
    triggered, why = GITHUB.trigger(data, event)
    if assume_triggered and triggered is not Verdict.RUN:
        why = f"assumed triggered ({why})"
        triggered = Verdict.RUN
    jobs = {str(k): v for k, v in as_mapping(data.get("jobs")).items()}
    graph = github_needs(data)
    contexts = job_contexts(data, event, variables)
    units: dict[str, Unit] = {}
    # The distinct possible results among each job's ancestors, built in
    # dependency order: linear in the graph, however long its chains.
    distinct: dict[str, frozenset[frozenset[str]]] = {}
    for job_id in order(graph):
        job = as_mapping(jobs.get(job_id))
        seen: set[frozenset[str]] = set()
        for need in graph[job_id]:
            if need in units:
                seen.add(possible_results(units[need].verdict, need in failed))
                seen |= distinct.get(need, frozenset())
        distinct[job_id] = frozenset(seen)
        units[job_id] = _job(
            job_id, job, graph, units, contexts, failed, triggered, why,
            distinct[job_id],
        )  # fmt: skip
    ordered = tuple(units[job_id] for job_id in jobs)
    return Plan("github", event, triggered, why, (), ordered)


def _job(
    job_id: str,
    job: Mapping[Any, Any],
    graph: Mapping[str, Sequence[str]],
    done: Mapping[str, Unit],
    contexts: Mapping[str, Any],
    failed: Collection[str],
    triggered: Verdict,
    trigger_reason: str,
    distinct: frozenset[frozenset[str]] = frozenset(),
) -> Unit:
    needs = tuple(graph[job_id])
    raw_if = job.get("if")
    base: dict[str, Any] = dict(
        id=job_id,
        kind="job",
        needs=needs,
        environment=environment_of(job),
        condition=None if raw_if is None else str(raw_if),
    )
    if triggered is Verdict.SKIP:
        return Unit(
            verdict=Verdict.SKIP,
            reasons=(f"the workflow does not run: {trigger_reason}",),
            cause="trigger",
            **base,
        )
    missing = [n for n in needs if n not in graph]
    if missing:
        return Unit(
            verdict=Verdict.UNKNOWN,
            reasons=(f"`needs` names jobs that do not exist: {missing}",),
            cause="condition",
            **base,
        )

    def walk() -> dict[str, frozenset[str]]:
        return {
            a: possible_results(done[a].verdict, a in failed)
            for a in ancestors_of(graph, job_id)
            if a in done
        }

    results = AncestorResults(distinct, walk)
    direct = {
        n: possible_results(done[n].verdict, n in failed)
        for n in needs
        if n in done
    }
    text, literal = condition_text(raw_if)
    try:
        if text is None:
            node: Node = Lit(True if raw_if is None else literal)
        else:
            node = parse(text, github=True)
    except ExpressionError as error:
        return Unit(
            verdict=Verdict.UNKNOWN,
            reasons=(f"`if:` is not a valid expression: {error}",),
            cause="condition",
            **base,
        )
    implicit = not (calls(node) & GITHUB.status_functions)
    if implicit:
        node = And(GITHUB.default_condition, node)

    def needs_context(all_succeed: bool) -> ContextObject:
        return ContextObject(
            {
                n: ContextObject(
                    {
                        "result": "success"
                        if all_succeed
                        else _result(done[n].verdict, n in failed)
                    },
                    run_time(f"needs.{n}"),
                )
                for n in needs
                if n in done
            },
            lambda key: Unknown(f"`needs.{key}`: {key} is not in `needs`"),
        )

    needs_ctx = needs_context(False)
    evaluator = Evaluator(
        {**contexts, "needs": needs_ctx},
        GITHUB,
        status=Status(ancestors=results, direct=direct),
    )
    try:
        value = evaluator.eval(node)
    except ExpressionError as error:
        return Unit(
            verdict=Verdict.UNKNOWN,
            reasons=(f"`if:` cannot be evaluated: {error}",),
            cause="condition",
            **base,
        )
    verdict, unknown_reason = decide(value)
    if triggered is Verdict.UNKNOWN and verdict is Verdict.RUN:
        verdict, unknown_reason = Verdict.UNKNOWN, trigger_reason
    if verdict is Verdict.RUN:
        return Unit(verdict=verdict, reasons=(_run_reason(raw_if),), **base)
    if verdict is Verdict.UNKNOWN:
        return Unit(
            verdict=verdict,
            reasons=(unknown_reason or "the condition cannot be decided",),
            cause="condition",
            **base,
        )
    # Skipped: by its own condition, or by a skipped need?
    ancestors = ancestors_of(graph, job_id)  # a skip: say which one, and why
    skipped = [
        a for a in ancestors if a in done and done[a].verdict is Verdict.SKIP
    ]
    if skipped:
        # Skipped because of the skip up the chain: with every ancestor
        # successful, the condition would not be false.
        optimistic = Evaluator(
            {**contexts, "needs": needs_context(True)},
            GITHUB,
            status=Status(
                ancestors={a: frozenset({"success"}) for a in ancestors},
                direct={n: frozenset({"success"}) for n in needs},
            ),
        )
        if decide(optimistic.eval(node))[0] is not Verdict.SKIP:
            root = root_skip(skipped, done)
            chain = dependency_chain(graph, job_id, root)
            return Unit(
                verdict=Verdict.SKIP,
                reasons=(
                    f"`{root}` is skipped"
                    + (
                        f" (through {' -> '.join(chain)})"
                        if len(chain) > 2
                        else ""
                    )
                    + "; "
                    + _skip_rule(raw_if, implicit, calls(node)),
                    *done[root].reasons,
                ),
                cause="needs",
                skipped_need=root,
                **base,
            )
    return Unit(
        verdict=Verdict.SKIP,
        reasons=(
            f"`if: {short(raw_if)}` is false"
            + (
                " (with the implicit `success()`)"
                if implicit and skipped
                else ""
            )
            + values_note(evaluator, node),
        ),
        cause="condition",
        **base,
    )


def _skip_rule(raw_if: Any, implicit: bool, calls: set[str]) -> str:
    """Why a skipped ancestor skips this job, in GitHub's terms."""
    if implicit:
        return (
            "this job has no `if:`"
            if raw_if is None
            else "its `if:` has no status check function"
        ) + (
            ", so GitHub applies `success()`, which is false when any job up"
            " the `needs` chain failed or was skipped"
        )
    if "success" in calls:
        return (
            "its `if:` calls `success()`, which is false when any job up the"
            " `needs` chain failed or was skipped"
        )
    return "its `if:` needs a result that a skipped job does not have"


def _result(verdict: Verdict, failed: bool) -> Any:
    if verdict is Verdict.RUN:
        return "failure" if failed else "success"
    if verdict is Verdict.SKIP:
        return "skipped"
    return Unknown("the need's result is not known")


def _run_reason(raw_if: Any) -> str:
    if raw_if is None:
        return "no `if:`, and every job up the `needs` chain succeeds"
    return f"`if: {short(raw_if)}` is true"
