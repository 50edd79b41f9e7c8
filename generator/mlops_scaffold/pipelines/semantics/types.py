"""What a plan says, and the values expressions compute with.

The plan types (``Verdict``, ``Event``, ``Unit``, ``Plan``,
``Unreachable``) are the package's results; ``Unknown`` and
``ContextObject`` are the three-valued values of both expression languages.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ... import yamlio
from ...errors import MalformedFileError

# --------------------------------------------------------------------------
# Public types


class Verdict(enum.StrEnum):
    """Whether a job, stage or trigger fires."""

    RUN = "run"
    SKIP = "skip"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Event:
    """What starts the run.

    ``kind`` is one of push, pull_request, pull_request_target (GitHub
    only), schedule, manual (GitHub
    ``workflow_dispatch``; an Azure run queued by hand) or workflow_call.
    ``branch`` is the pushed branch, the pull request's target (base)
    branch, or the branch a schedule or manual run uses.
    ``changed_files`` (None: not known) decides path filters.
    ``inputs`` are workflow_dispatch / workflow_call inputs, or Azure runtime
    parameters."""

    kind: str
    branch: str
    head_branch: str = "feature"
    inputs: Mapping[str, Any] = field(default_factory=dict)
    changed_files: tuple[str, ...] | None = None
    pr_number: int = 1

    @classmethod
    def push(
        cls, branch: str, changed_files: Iterable[str] | None = None
    ) -> Event:
        """A push to ``branch`` (``changed_files``: None if not known)."""
        return cls("push", branch, changed_files=_files(changed_files))

    @classmethod
    def pull_request(
        cls,
        base: str,
        head: str = "feature",
        changed_files: Iterable[str] | None = None,
    ) -> Event:
        """A pull request from ``head`` into ``base``."""
        return cls(
            "pull_request",
            base,
            head_branch=head,
            changed_files=_files(changed_files),
        )

    @classmethod
    def pull_request_target(cls, base: str, head: str = "feature") -> Event:
        """A pull request as a GitHub ``pull_request_target`` workflow sees
        it: run on the base branch."""
        return cls("pull_request_target", base, head_branch=head)

    @classmethod
    def schedule(cls, branch: str) -> Event:
        """A scheduled run (GitHub runs schedules on the default branch)."""
        return cls("schedule", branch)

    @classmethod
    def manual(
        cls, branch: str, inputs: Mapping[str, Any] | None = None
    ) -> Event:
        """workflow_dispatch / a run queued by hand, with its inputs or
        runtime parameters."""
        return cls("manual", branch, inputs=dict(inputs or {}))


def _files(files: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if files is None else tuple(files)


@dataclass(frozen=True)
class Unit:
    """One job or stage in a plan.

    ``kind``: job, deployment (an Azure deployment job), or stage.
    ``reasons`` explain the verdict, outermost first. For a unit skipped
    because something up its dependency chain was skipped, ``cause`` is
    "needs" and ``skipped_need`` names the job or stage whose own
    condition skipped it; otherwise ``cause`` is "condition", "trigger",
    "stage" (its Azure stage did not run) or "" (it runs)."""

    id: str
    kind: str
    verdict: Verdict
    reasons: tuple[str, ...]
    needs: tuple[str, ...] = ()
    stage: str | None = None
    environment: str | None = None
    condition: str | None = None
    cause: str = ""
    skipped_need: str | None = None

    @property
    def is_deployment(self) -> bool:
        """An Azure deployment job, or any job bound to an environment."""
        return self.kind == "deployment" or bool(self.environment)


@dataclass(frozen=True)
class Plan:
    """Verdicts for every job (and, on Azure, stage) for one event."""

    provider: str
    event: Event
    triggered: Verdict
    trigger_reason: str
    stages: tuple[Unit, ...]
    jobs: tuple[Unit, ...]

    def job(self, job_id: str, stage: str | None = None) -> Unit:
        """The job named ``job_id`` (in ``stage``, when given; Azure job
        names repeat across stages)."""
        for unit in self.jobs:
            if unit.id == job_id and stage in (None, unit.stage):
                return unit
        raise KeyError(job_id)

    def stage(self, stage_id: str) -> Unit:
        """The Azure stage named ``stage_id``."""
        for unit in self.stages:
            if unit.id == stage_id:
                return unit
        raise KeyError(stage_id)

    def verdicts(self) -> dict[str, Verdict]:
        """Job id to verdict (Azure: ``stage.job``)."""
        return {qualified(u): u.verdict for u in self.jobs}

    def explain(self) -> str:
        """Every verdict with its reasons, one unit a line."""
        lines = [f"trigger: {self.triggered.value} ({self.trigger_reason})"]
        for unit in (*self.stages, *self.jobs):
            lines.append(f"{unit.kind} {qualified(unit)}: {unit.verdict.value}")
            lines.extend(f"  - {reason}" for reason in unit.reasons)
        return "\n".join(lines)


def qualified(unit: Unit) -> str:
    return f"{unit.stage}.{unit.id}" if unit.stage else unit.id


@dataclass(frozen=True)
class Unreachable:
    """A deployment that a push to the default branch never reaches.

    ``conditions`` suggests a condition for every job (or Azure stage)
    the skip travels through on its way to this deployment, by id: each
    keeps its own test and the success of its direct dependencies.
    ``path`` is where in the file the deployment's fix goes (the job, or on
    Azure the stage whose condition needs it), as a path of mapping keys and
    list indexes (``("jobs", "deploy")``, ``("stages", 2)``); ``()`` when it
    comes from a template."""

    job: str
    stage: str | None
    environment: str | None
    skipped_need: str
    chain: tuple[str, ...]
    message: str
    fix: str
    conditions: Mapping[str, str] = field(default_factory=dict)
    path: tuple[str | int, ...] = ()


class ExpressionError(ValueError):
    """An expression the provider would reject."""


# --------------------------------------------------------------------------
# Three-valued values

#: The key the Azure compiler adds to a stage, job, step or variable that
#: may not be there (its reason): a template not read, an insertion under a
#: condition not known, an ``each`` over a collection not known.
MAYBE = "__planner_maybe__"


class Unknown:
    """A value that cannot be known offline. ``truthy`` is its truthiness
    when that alone is known (``unknown && false`` is falsy)."""

    __slots__ = ("reason", "truthy")

    def __init__(self, reason: str, truthy: bool | None = None) -> None:
        self.reason = reason
        self.truthy = truthy

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


class ContextObject:
    """A context object with case-insensitive keys and a rule for misses."""

    def __init__(
        self, values: Mapping[str, Any], missing: Callable[[str], Any]
    ) -> None:
        self.values = {str(k).lower(): v for k, v in values.items()}
        self.names = {str(k).lower(): str(k) for k in values}  # as written
        self.missing = missing

    def get(self, key: str) -> Any:
        lowered = key.lower()
        if lowered in self.values:
            return self.values[lowered]
        return self.missing(key)

    def items(self) -> list[Any]:
        return list(self.values.values())


def run_time(prefix: str) -> Callable[[str], Unknown]:
    """The miss rule of a context whose other fields exist only at run
    time (job outputs)."""

    def miss(key: str) -> Unknown:
        return Unknown(f"{prefix}.{key} is only known at run time")

    return miss


def first_unknown(values: Iterable[Any]) -> Unknown | None:
    for value in values:
        if isinstance(value, Unknown):
            return value
    return None


# --------------------------------------------------------------------------
# Helpers shared by both providers


def as_mapping(value: Any) -> Mapping[Any, Any]:
    """``value`` if it is a mapping, else an empty one (a malformed file
    gets a plan, and the validators report its shape)."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def typed(value: Any, kind: str | None) -> Any:
    """A runtime parameter given as text, as its declared type reads it
    (a boolean parameter set to "false" is false)."""
    if not isinstance(value, str):
        return value
    if kind == "boolean" and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return value
    if kind in ("object", "stepList", "steplist", "jobList", "joblist"):
        try:
            return yamlio.load_untrusted(value, "a runtime parameter")[0]
        except MalformedFileError:
            return value
    return value


def short(raw: Any) -> str:
    text = " ".join(str(raw).split())
    return text if len(text) <= 120 else text[:117] + "..."


def environment_of(job: Mapping[Any, Any]) -> str | None:
    env = job.get("environment")
    if isinstance(env, Mapping):
        env = env.get("name")
    return None if env is None else str(env)
