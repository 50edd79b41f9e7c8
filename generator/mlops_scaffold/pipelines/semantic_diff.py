"""What a change does to which jobs run: the planner's verdicts for the base
and the head of a pipeline file, compared event by event.

A text diff shows that an ``if:`` changed; this says what the change means:
"`deploy-prod` now runs on a pull request", "production can now run when
`smoke-test-staging` failed". Every difference has a risk level and a
one-line reason; anything that lets production run where it did not is
high.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .model import PRODUCTION, PipelineFile, tier_of
from .semantics import Event, Plan, Unit, Verdict, plan

#: The events a reviewer cares about, as the planner models them (a tag
#: push is not modelled: the planner knows branches, not tags).
EVENTS: tuple[tuple[str, Callable[[str], Event]], ...] = (
    ("a push to {branch}", Event.push),
    ("a pull request into {branch}", Event.pull_request),
    ("a scheduled run", Event.schedule),
    ("a manual run from another branch", lambda _: Event.manual(OTHER)),
)
#: A branch that is not the default one (what any collaborator can push).
OTHER = "feature/any-branch"
_WORDS = {
    Verdict.RUN: "runs",
    Verdict.SKIP: "is skipped",
    Verdict.UNKNOWN: "may run (depends on variables or changed files)",
}


@dataclass(frozen=True)
class Difference:
    severity: str  # high, medium, low
    kind: str
    message: str


def key_of(unit: Unit) -> str:
    return f"{unit.stage}.{unit.id}" if unit.stage else unit.id


def _units(result: Plan | None) -> dict[str, Unit]:
    if result is None:
        return {}
    return {key_of(u): u for u in (*result.stages, *result.jobs)}


def production(unit: Unit) -> bool:
    return any(
        tier_of(name) == PRODUCTION
        for name in (unit.environment, unit.id, unit.stage)
        if name
    )


def _plan(
    pipeline: PipelineFile | None,
    event: Event,
    root: Path | None,
    failed: tuple[str, ...] = (),
) -> Plan | None:
    """The plan, or None where the file cannot be planned (not a pipeline,
    an expression the planner refuses): the structural review still
    reports what changed."""
    if pipeline is None or pipeline.kind in ("action", "template"):
        return None
    if not isinstance(pipeline.data, dict):
        return None
    source = None if root is None else root / pipeline.relative
    try:
        return plan(
            pipeline.data,
            pipeline.provider,
            event,
            failed=failed,
            root=root,
            source=source,
        )
    except Exception:  # noqa: BLE001 - any refusal: no semantic review
        return None


def plan_units(
    pipeline: PipelineFile | None,
    event: Event,
    root: Path | None,
    failed: tuple[str, ...] = (),
) -> dict[str, Unit]:
    """Every job and stage of the plan, by qualified id ({} when the file
    cannot be planned)."""
    return _units(_plan(pipeline, event, root, failed))


def compare(
    old: PipelineFile | None,
    new: PipelineFile | None,
    *,
    branch: str,
    old_root: Path | None,
    new_root: Path | None,
) -> list[Difference]:
    """Every difference in what runs, for each event, between ``old`` and
    ``new`` (either may be None: an added or removed file)."""
    found: list[Difference] = []
    on_push: tuple[dict[str, Unit], dict[str, Unit]] = ({}, {})
    for label, make in EVENTS:
        event = make(branch)
        where = label.format(branch=branch)
        before = _units(_plan(old, event, old_root))
        after = _units(_plan(new, event, new_root))
        found += _verdicts(before, after, where, event)
        if event.kind == "push":
            on_push = (before, after)
    found += _conditions(*on_push, branch)
    found += _after_failure(old, new, on_push[1], branch, old_root, new_root)
    return found


def _verdicts(
    before: dict[str, Unit], after: dict[str, Unit], where: str, event: Event
) -> Iterator[Difference]:
    for key in sorted(set(before) | set(after)):
        was, now = before.get(key), after.get(key)
        old = was.verdict if was else Verdict.SKIP
        new = now.verdict if now else Verdict.SKIP
        if old == new:
            continue
        unit = now or was
        assert unit is not None
        is_production = production(unit)
        wider = new == Verdict.RUN or (
            new == Verdict.UNKNOWN and old == Verdict.SKIP
        )
        if wider and (is_production or event.kind == "pull_request"):
            severity = "high"
        elif wider or is_production:
            severity = "medium"
        else:
            severity = "low"
        reason = "; ".join(now.reasons[:2]) if now and now.reasons else ""
        yield Difference(
            severity,
            "runs",
            f"on {where}, `{key}` now {_WORDS[new]} (was: {_WORDS[old]})"
            + (f": {reason}" if reason else ""),
        )


def _conditions(
    before: dict[str, Unit], after: dict[str, Unit], branch: str
) -> Iterator[Difference]:
    """A changed ``if:`` / ``condition:``: old and new expression, and
    what each gives on a push to the default branch (the plans of
    ``compare``'s push event)."""
    for key in sorted(set(before) & set(after)):
        was, now = before[key], after[key]
        if (was.condition or "") == (now.condition or ""):
            continue
        yield Difference(
            "high" if production(now) else "medium",
            "condition",
            f"`{key}` condition changed: `{was.condition or '(default)'}` "
            f"-> `{now.condition or '(default)'}` (on a push to {branch}: "
            f"{was.verdict.value} -> {now.verdict.value})",
        )


def _after_failure(
    old: PipelineFile | None,
    new: PipelineFile | None,
    units: dict[str, Unit],
    branch: str,
    old_root: Path | None,
    new_root: Path | None,
) -> Iterator[Difference]:
    """Production that can now run when a job before it failed (a staging
    deployment, its smoke test): each job it waits for (in ``units``, the
    head's plan of a push) is made to fail in turn."""
    event = Event.push(branch)
    for key, unit in units.items():
        if not production(unit) or unit.verdict == Verdict.SKIP:
            continue
        for ancestor in ancestors(units, unit)[:10]:
            failed = (ancestor.id,)
            now = _units(_plan(new, event, new_root, failed)).get(key)
            was = _units(_plan(old, event, old_root, failed)).get(key)
            if now is None or now.verdict == Verdict.SKIP:
                continue
            if was is not None and was.verdict != Verdict.SKIP:
                continue
            yield Difference(
                "high",
                "production",
                f"production can now run when `{key_of(ancestor)}` failed: "
                f"`{key}` {_WORDS[now.verdict]} after that failure",
            )
            break  # one finding per production unit


def ancestors(units: dict[str, Unit], unit: Unit) -> list[Unit]:
    """The jobs and stages ``unit`` waits for that run (or may run), so
    that can fail, nearest first (bounded by the plan's size)."""
    by_id: dict[str, Unit] = {}
    for candidate in units.values():
        by_id.setdefault(candidate.id, candidate)
    seen: list[Unit] = []
    queue = list(unit.needs)
    if unit.stage and unit.stage in by_id:  # a job: what its stage waits for
        queue += by_id[unit.stage].needs
    while queue and len(seen) < len(units):
        name = queue.pop(0)
        found = by_id.get(name)
        if found is None or found in seen or found is unit:
            continue
        seen.append(found)
        queue += found.needs
    return [u for u in seen if u.verdict != Verdict.SKIP]
