"""Azure Pipelines: its expression functions, status functions and default
condition, its triggers (``trigger``, ``pr``, ``schedules`` with branch and
path filters), predefined variables and run-time variables, as one
``Provider`` (``AZURE``).

Azure Pipelines ("Expressions", "Conditions", "Stages", "Jobs",
"Template expressions", "Define variables", "Triggers"):

- stages run in order: a stage without ``dependsOn`` depends on the one
  before it; jobs in a stage run in parallel unless ``dependsOn``;
- the default condition is ``succeeded()``, true only when all direct and
  indirect dependencies succeeded (a skipped one is not "Succeeded"); a
  condition of one's own replaces it; ``succeededOrFailed()`` after a
  skipped dependency is UNKNOWN (the docs and users' reports disagree);
- ``eq``/``ne``/``in`` convert the right operand to the left one's type,
  strings compare ordinal ignore-case; a missing variable is null; any
  non-empty string is true (so the string ``'false'`` is true);
- ``${{ }}`` template expressions and ``${{ if }}`` conditional insertion
  are resolved first, from parameters (with their defaults) and variables
  defined statically in the YAML; a variable set at the pipeline root
  overrides one set in the pipeline settings UI.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .evaluator import (
    Evaluator,
    Function,
    LazyFunction,
    Provider,
    format_text,
)
from .expressions import Node, parse
from .types import (
    ContextObject,
    Event,
    Unknown,
    Verdict,
    as_list,
    as_mapping,
)

STATUS_FUNCTIONS = frozenset(
    {"succeeded", "failed", "always", "canceled", "succeededorfailed"}
)


def _convert(ev: Evaluator, value: Any, like: Any) -> tuple[bool, Any]:
    """Convert ``value`` to the type of ``like`` (Expressions: Type
    casting); (False, None) when the conversion fails."""
    if isinstance(like, bool):
        return True, bool(ev.truthy(value))
    if isinstance(like, float):
        if isinstance(value, bool):
            return True, 1.0 if value else 0.0
        if value is None:
            return True, 0.0
        if isinstance(value, float):
            return True, value
        try:
            return True, float(str(value).strip())
        except ValueError:
            return False, None
    if like is None:
        if value is None or value == "":
            return True, None
        return False, None
    return True, ev.to_str(value)


def _equal(ev: Evaluator, left: Any, right: Any) -> bool | None:
    """eq: right converted to the left's type; None if that fails."""
    ok, converted = _convert(ev, right, left)
    if not ok:
        return None
    if isinstance(left, str):
        return bool(left.lower() == converted.lower())
    return bool(left == converted)


def _eq(ev: Evaluator, left: Any, right: Any) -> bool:
    return _equal(ev, left, right) is True


def _ne(ev: Evaluator, left: Any, right: Any) -> bool:
    return _equal(ev, left, right) is not True


def _in(ev: Evaluator, left: Any, *rest: Any) -> bool:
    return any(_equal(ev, left, item) is True for item in rest)


def _text_function(name: str) -> Callable[..., bool]:
    def function(ev: Evaluator, left: Any, right: Any) -> bool:
        a, b = ev.to_str(left).lower(), ev.to_str(right).lower()
        return {
            "contains": b in a,
            "startswith": a.startswith(b),
            "endswith": a.endswith(b),
        }[name]

    return function


FUNCTIONS: dict[str, Function] = {
    "not": lambda ev, a: not ev.truthy(a),
    "xor": lambda ev, a, b: bool(ev.truthy(a)) != bool(ev.truthy(b)),
    "eq": _eq,
    "ne": _ne,
    "in": _in,
    "notin": lambda ev, left, *rest: not _in(ev, left, *rest),
    "contains": _text_function("contains"),
    "startswith": _text_function("startswith"),
    "endswith": _text_function("endswith"),
    "format": format_text,
    "lower": lambda ev, a: ev.to_str(a).lower(),
    "upper": lambda ev, a: ev.to_str(a).upper(),
    "length": lambda ev, a: (
        float(len(a.items() if isinstance(a, ContextObject) else a))
        if isinstance(a, (str, list, ContextObject))
        else 0.0
    ),
    "iif": lambda ev, c, a, b: a if ev.truthy(c) else b,
    "replace": lambda ev, a, b, c: ev.to_str(a).replace(
        ev.to_str(b), ev.to_str(c)
    ),
    "trim": lambda ev, a: ev.to_str(a).strip(),
}


def _logic(name: str) -> LazyFunction:
    """``and``/``or``: short-circuit on the first known deciding value; an
    unknown one decides only when nothing else does."""

    def function(ev: Evaluator, arg_nodes: Sequence[Node]) -> Any:
        unsure: Unknown | None = None
        stop = name == "or"
        for node in arg_nodes:
            value = ev.truthy(ev.eval(node))
            if isinstance(value, Unknown):
                unsure = unsure or value
            elif value is stop:
                return stop
        return Unknown(unsure.reason) if unsure else not stop

    return function


def _coalesce(ev: Evaluator, arg_nodes: Sequence[Node]) -> Any:
    """The first argument that is neither null nor empty (an unknown one
    before it makes the result unknown)."""
    args = [ev.eval(node) for node in arg_nodes]
    for arg in args:
        if isinstance(arg, Unknown):
            return arg
        if arg is not None and arg != "":
            return arg
    return None


LAZY_FUNCTIONS: dict[str, LazyFunction] = {
    "and": _logic("and"),
    "or": _logic("or"),
    "coalesce": _coalesce,
}


# --------------------------------------------------------------------------
# Filters (branches, paths)


def _match(pattern: str, value: str, prefix: bool) -> bool:
    """Azure filters: wildcards ``*`` and ``?``; a path without wildcard
    matches itself and everything under it."""
    pattern = str(pattern).strip("/")
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(value, pattern)
    if prefix:
        return value == pattern or value.startswith(pattern + "/")
    return value == pattern


def _branch_name(ref: str) -> str:
    return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref


# --------------------------------------------------------------------------
# Triggers, predefined and run-time variables


def _branch_filter(spec: Any, branch: str) -> bool:
    """``trigger``/``pr``/schedule branch filters: a list of includes, or
    include/exclude. Names may carry ``refs/heads/``."""
    if isinstance(spec, list):
        include, exclude = spec, list[Any]()
    elif isinstance(spec, Mapping):
        branches = spec.get("branches", spec)
        if isinstance(branches, list):
            include, exclude = branches, []
        else:
            include = as_list(as_mapping(branches).get("include", ["*"]))
            exclude = as_list(as_mapping(branches).get("exclude", []))
    else:
        include, exclude = ["*"], []

    def hit(patterns: Iterable[Any]) -> bool:
        return any(
            _match(_branch_name(str(p)), branch, prefix=False)
            for p in patterns or []
        )

    return hit(include) and not hit(exclude)


def _paths(spec: Any, event: Event, key: str) -> tuple[Verdict, str] | None:
    paths = spec.get("paths") if isinstance(spec, Mapping) else None
    if not paths:
        return None
    if event.changed_files is None:
        return Verdict.UNKNOWN, f"`{key}.paths` depends on which files changed"
    include = as_list(
        paths.get("include", ["*"]) if isinstance(paths, Mapping) else paths
    )
    exclude = as_list(as_mapping(paths).get("exclude", []))
    for path in event.changed_files:
        if any(_match(str(p), path, True) for p in include) and not any(
            _match(str(p), path, True) for p in exclude
        ):
            return None
    return Verdict.SKIP, f"no changed file matches `{key}.paths`"


def trigger(data: Mapping[Any, Any], event: Event) -> tuple[Verdict, str]:
    """Whether ``trigger``, ``pr`` or ``schedules`` start a run for
    ``event``, and why."""
    if event.kind == "manual":
        return Verdict.RUN, "a run queued by hand"
    if event.kind == "schedule":
        for item in as_list(data.get("schedules")):
            if isinstance(item, Mapping) and _branch_filter(
                item.get("branches") or {"include": ["*"]}, event.branch
            ):
                if str(item.get("always", False)).lower() == "true":
                    return Verdict.RUN, f"`schedules` includes {event.branch!r}"
                return Verdict.UNKNOWN, (
                    f"`schedules` includes {event.branch!r}, but without"
                    " `always: true` a scheduled run happens only if the"
                    " branch changed since the last successful scheduled run"
                )
        return Verdict.SKIP, f"no `schedules` entry runs on {event.branch!r}"
    key = {"push": "trigger", "pull_request": "pr"}.get(event.kind)
    if key is None:
        return Verdict.SKIP, f"Azure Pipelines has no {event.kind} event"
    spec = data.get(key, "*")
    if spec == "none" or spec is False:
        return Verdict.SKIP, f"`{key}: none`"
    if spec == "*" and key not in data:
        spec = None
    if not _branch_filter(spec, event.branch):
        return Verdict.SKIP, f"`{key}` does not include branch {event.branch!r}"
    paths = _paths(spec, event, key)
    if paths:
        return paths
    if key not in data:
        return Verdict.RUN, f"no `{key}:` key, so every branch triggers"
    return Verdict.RUN, f"`{key}` includes branch {event.branch!r}"


def predefined_variables(
    event: Event, data: Mapping[Any, Any]
) -> dict[str, Any]:
    """The predefined variables the planner models for ``event``."""
    if event.kind == "pull_request":
        source = f"refs/pull/{event.pr_number}/merge"
        extra = {
            "System.PullRequest.TargetBranch": f"refs/heads/{event.branch}",
            "System.PullRequest.SourceBranch": (
                f"refs/heads/{event.head_branch}"
            ),
            "System.PullRequest.PullRequestNumber": str(event.pr_number),
        }
    else:
        source = f"refs/heads/{event.branch}"
        extra = {}
    trigger = data.get("trigger")
    batched = isinstance(trigger, Mapping) and (
        str(trigger.get("batch", False)).lower() == "true"
    )
    reason = {
        "push": "BatchedCI" if batched else "IndividualCI",
        "pull_request": "PullRequest",
        "schedule": "Schedule",
        "manual": "Manual",
    }.get(event.kind, "Manual")
    return {
        "Build.SourceBranch": source,
        "Build.SourceBranchName": source.rsplit("/", 1)[-1],
        "Build.Reason": reason,
        **extra,
    }


PREDEFINED_PREFIXES = (
    "build.",
    "system.",
    "agent.",
    "pipeline.",
    "environment.",
    "resources.",
    "strategy.",
)


class Variables:
    """Run-time variables as a condition sees them: YAML values (root,
    then stage) override values set outside the YAML; a miss is null
    unless a variable group or template could define it."""

    def __init__(
        self,
        layers: Sequence[Mapping[str, Any]],
        opaque: bool,
        event_vars: Mapping[str, Any],
        settings: Mapping[str, str],
    ) -> None:
        merged: dict[str, Any] = {k.lower(): v for k, v in settings.items()}
        self.from_yaml: set[str] = set()
        for layer in layers:
            for k, v in layer.items():
                merged[k.lower()] = v
                self.from_yaml.add(k.lower())
        for k, v in event_vars.items():
            merged[k.lower()] = v
        self.values = merged
        self.opaque = opaque
        self.resolving: set[str] = set()

    def lookup(
        self, name: str, ctx_factory: Callable[[], Mapping[str, Any]]
    ) -> Any:
        key = name.lower()
        if key in self.values:
            value = self.values[key]
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, (int, float)):
                return str(value)
            if value is None or isinstance(value, Unknown):
                return value
            if not isinstance(value, str):
                return Unknown(f"variable {name} is not a string")
            runtime = re.fullmatch(r"\s*\$\[(.*)\]\s*", value, re.DOTALL)
            if runtime:
                if key in self.resolving:
                    return Unknown(f"variable {name} refers to itself")
                self.resolving.add(key)
                try:
                    result = Evaluator(ctx_factory(), AZURE).eval(
                        parse(runtime.group(1), github=False)
                    )
                finally:
                    self.resolving.discard(key)
                return result
            if "$(" in value:
                return Unknown(f"variable {name} uses macro syntax `$( )`")
            return value
        if key.startswith(PREDEFINED_PREFIXES):
            return Unknown(f"predefined variable {name} is not modelled")
        if self.opaque:
            return Unknown(
                f"variable {name} may come from a variable group or template"
            )
        return None


class LazyVariables(ContextObject):
    """``variables`` in a run-time condition (``$[ ]`` values evaluate on
    demand, with the same contexts)."""

    def __init__(
        self, runtime: Variables, ctx: Callable[[], Mapping[str, Any]]
    ) -> None:
        super().__init__({}, lambda key: None)
        self.runtime = runtime
        self.ctx = ctx

    def get(self, key: str) -> Any:
        return self.runtime.lookup(key, self.ctx)


AZURE = Provider(
    name="azure",
    infix=False,
    status_functions=STATUS_FUNCTIONS,
    default_status="succeeded",
    functions=FUNCTIONS,
    lazy_functions=LAZY_FUNCTIONS,
    booleans=("False", "True"),
    compare=None,
    trigger=trigger,
)
