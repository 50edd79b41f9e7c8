"""GitHub Actions: its expression functions, status functions and default
condition, its triggers (``on:`` with branch and path filters) and the
contexts a job ``if:`` sees, as one ``Provider`` (``GITHUB``).

GitHub Actions ("Evaluate expressions in workflows and actions",
"Workflow syntax": ``on``, ``jobs.<job_id>.needs``, ``jobs.<job_id>.if``):

- a job ``if:`` without a status check function is ``success() && (...)``;
- ``success()`` is true only when every ancestor job (the whole ``needs``
  chain) succeeded: "If a job fails or is skipped, all jobs that need it are
  skipped unless the jobs use a conditional expression that causes the job
  to continue ... a failure or skip applies to all jobs in the dependency
  chain from the point of failure or skip onwards";
- ``failure()`` is true when any ancestor failed, ``always()`` always,
  ``cancelled()`` when the run was cancelled (never, in a plan);
- loose equality: strings compare case-insensitively, mismatched types are
  coerced to numbers (``'true' == true`` is false); falsy values are
  ``false, 0, -0, '', null``; an unset ``vars.X`` is the empty string.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .evaluator import Evaluator, Function, Provider, format_text
from .types import (
    ContextObject,
    Event,
    ExpressionError,
    Unknown,
    Verdict,
    as_list,
    as_mapping,
    typed,
)

STATUS_FUNCTIONS = frozenset({"success", "failure", "always", "cancelled"})


def number(value: Any) -> float:
    """A value as a number, for operators on mismatched types."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            if text.lower().startswith(("0x", "-0x", "+0x")):
                return float(int(text, 16))
            if text.lower().startswith(("0o", "-0o", "+0o")):
                return float(int(text, 8))
            return float(text)
        except ValueError:
            return math.nan
    return math.nan


def equal(left: Any, right: Any) -> bool:
    """GitHub's loose equality ("Evaluate expressions": Operators)."""
    if left is None and right is None:
        return True
    if type(left) is type(right):
        if isinstance(left, str):
            return bool(left.lower() == right.lower())
        if isinstance(left, (bool, float)):
            return bool(left == right)
        return left is right
    return number(left) == number(right)


def compare(op: str, left: Any, right: Any) -> Any:
    """``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` on two known values."""
    if op in ("==", "!="):
        same = equal(left, right)
        return same if op == "==" else not same
    lnum, rnum = left, right
    if isinstance(left, str) and isinstance(right, str):
        lnum, rnum = left.lower(), right.lower()
    elif type(left) is not type(right):
        lnum, rnum = number(left), number(right)
    try:
        return {
            "<": lnum < rnum,
            "<=": lnum <= rnum,
            ">": lnum > rnum,
            ">=": lnum >= rnum,
        }[op]
    except TypeError:
        return False


def _contains(ev: Evaluator, search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(equal(element, item) for element in search)
    return ev.to_str(item).lower() in ev.to_str(search).lower()


def _to_json_value(value: Any) -> Any:
    if isinstance(value, ContextObject):
        return {k: _to_json_value(v) for k, v in value.values.items()}
    if isinstance(value, list):
        return [_to_json_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _from_json(ev: Evaluator, text: Any) -> Any:
    try:
        value = json.loads(ev.to_str(text))
    except ValueError as error:
        raise ExpressionError(f"fromJSON: {error}") from error

    def convert(item: Any) -> Any:
        if isinstance(item, bool) or item is None or isinstance(item, str):
            return item
        if isinstance(item, (int, float)):
            return float(item)
        if isinstance(item, list):
            return [convert(v) for v in item]
        return ContextObject(
            {k: convert(v) for k, v in item.items()}, lambda _: None
        )

    return convert(value)


FUNCTIONS: dict[str, Function] = {
    "contains": _contains,
    "startswith": lambda ev, a, b: (
        ev.to_str(a).lower().startswith(ev.to_str(b).lower())
    ),
    "endswith": lambda ev, a, b: (
        ev.to_str(a).lower().endswith(ev.to_str(b).lower())
    ),
    "format": format_text,
    "join": lambda ev, a, sep=",": (
        ev.to_str(sep).join(ev.to_str(x) for x in a)
        if isinstance(a, list)
        else ev.to_str(a)
    ),
    "tojson": lambda ev, a: json.dumps(_to_json_value(a), indent=2),
    "fromjson": _from_json,
    "hashfiles": lambda ev, *a: Unknown("hashFiles() depends on the files"),
}


# --------------------------------------------------------------------------
# Filters (branches, paths)


def glob(pattern: str) -> re.Pattern[str]:
    """GitHub filter patterns: ``*`` any characters but ``/``, ``**`` any,
    ``?`` zero or one of the preceding character, ``+`` one or more of
    it, ``[]`` one character of a set."""
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):  # zero or more folders
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch in "?+":
            out.append(ch)
        elif ch == "[":
            end = pattern.find("]", i)
            if end < 0:
                out.append(re.escape(ch))
            else:
                out.append(pattern[i : end + 1])
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def matches(patterns: Sequence[str], value: str) -> bool:
    """Whether ``value`` matches a list of patterns where a ``!`` pattern
    excludes what an earlier one included (the last match decides)."""
    matched = False
    for raw in patterns:
        text = str(raw)
        negated = text.startswith("!")
        if glob(text[1:] if negated else text).match(value):
            matched = not negated
    return matched


# --------------------------------------------------------------------------
# Triggers, inputs and the contexts of a job ``if:``


def triggers_of(data: Mapping[Any, Any]) -> Mapping[str, Any]:
    on = data.get("on", data.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(item): None for item in on}
    if isinstance(on, Mapping):
        return on
    return {}


def trigger(data: Mapping[Any, Any], event: Event) -> tuple[Verdict, str]:
    try:
        return _trigger_filters(data, event)
    except re.error as error:
        return Verdict.UNKNOWN, f"a filter pattern is not valid: {error}"


def _trigger_filters(
    data: Mapping[Any, Any], event: Event
) -> tuple[Verdict, str]:
    on = triggers_of(data)
    name = {
        "push": "push",
        "pull_request": "pull_request",
        "pull_request_target": "pull_request_target",
        "schedule": "schedule",
        "manual": "workflow_dispatch",
        "workflow_call": "workflow_call",
    }.get(event.kind)
    if name is None:
        raise ValueError(f"unknown event kind {event.kind!r}")
    if name not in on:
        return Verdict.SKIP, f"`on:` has no `{name}`"
    spec = on.get(name) or {}
    if name not in ("push", "pull_request", "pull_request_target") or (
        not isinstance(spec, Mapping)
    ):
        return Verdict.RUN, f"`on: {name}`"
    label = "pushed branch" if name == "push" else "pull request's base branch"
    if "branches" in spec:
        if not matches(as_list(spec["branches"]), event.branch):
            return Verdict.SKIP, (
                f"the {label} {event.branch!r} is not in `on.{name}.branches`"
            )
    elif "branches-ignore" in spec:
        if matches(as_list(spec["branches-ignore"]), event.branch):
            return Verdict.SKIP, (
                f"the {label} {event.branch!r} is in "
                f"`on.{name}.branches-ignore`"
            )
    elif name == "push" and ("tags" in spec or "tags-ignore" in spec):
        return Verdict.SKIP, (
            "`on.push` filters only tags, so branch pushes do not trigger"
        )
    for key, include in (("paths", True), ("paths-ignore", False)):
        if key not in spec:
            continue
        if event.changed_files is None:
            return Verdict.UNKNOWN, (
                f"`on.{name}.{key}` depends on which files changed"
            )
        patterns = as_list(spec[key])
        hits = [f for f in event.changed_files if matches(patterns, f)]
        if include and not hits:
            return Verdict.SKIP, f"no changed file matches `on.{name}.paths`"
        if not include and len(hits) == len(event.changed_files):
            return Verdict.SKIP, (
                f"every changed file matches `on.{name}.paths-ignore`"
            )
    return Verdict.RUN, f"`on: {name}` matches branch {event.branch!r}"


def input_values(
    data: Mapping[Any, Any], event: Event, kind: str
) -> dict[str, Any]:
    spec = triggers_of(data).get(kind) or {}
    declared = as_mapping(as_mapping(spec).get("inputs"))
    values: dict[str, Any] = {}
    for name, item in declared.items():
        item = as_mapping(item)
        default = item.get("default")
        kind_of = item.get("type", "string")
        if kind_of == "boolean":
            default = bool(default) if default is not None else False
        elif kind_of == "number":  # an unset number input is 0
            default = number(default)
        elif default is None:
            default = ""
        values[str(name)] = default
    for name, value in event.inputs.items():
        kind_of = as_mapping(declared.get(name)).get("type", "string")
        if isinstance(value, str) and kind_of in ("boolean", "number"):
            # given as text (a form, --input): read as the declared type
            value = typed(value, kind_of)
        values[str(name)] = (
            float(value)
            if isinstance(value, int) and not isinstance(value, bool)
            else value
        )
    return values


def job_contexts(
    data: Mapping[Any, Any], event: Event, variables: Mapping[str, str]
) -> dict[str, Any]:
    branch_ref = f"refs/heads/{event.branch}"
    unknown_field = lambda key: Unknown(  # noqa: E731
        f"github.event.{key} is not modelled"
    )
    if event.kind in ("pull_request", "pull_request_target"):
        # pull_request runs on the merge ref; pull_request_target on the
        # base branch, with the base repository's secrets and variables.
        if event.kind == "pull_request":
            ref = f"refs/pull/{event.pr_number}/merge"
            ref_name = f"{event.pr_number}/merge"
        else:
            ref, ref_name = branch_ref, event.branch
        payload = ContextObject(
            {
                "number": float(event.pr_number),
                "pull_request": ContextObject(
                    {
                        "number": float(event.pr_number),
                        "base": ContextObject(
                            {"ref": event.branch}, unknown_field
                        ),
                        "head": ContextObject(
                            {"ref": event.head_branch}, unknown_field
                        ),
                    },
                    unknown_field,
                ),
            },
            unknown_field,
        )
        base_ref, head_ref = event.branch, event.head_branch
    else:
        ref, ref_name, base_ref, head_ref = branch_ref, event.branch, "", ""
        fields: dict[str, Any] = {}
        if event.kind == "push":
            fields["ref"] = branch_ref
        if event.kind == "manual":
            fields["inputs"] = ContextObject(
                {
                    k: ("true" if v is True else "false" if v is False else v)
                    for k, v in input_values(
                        data, event, "workflow_dispatch"
                    ).items()
                },
                lambda _: None,
            )
        payload = ContextObject(fields, unknown_field)
    event_name = {
        "push": "push",
        "pull_request": "pull_request",
        "pull_request_target": "pull_request_target",
        "schedule": "schedule",
        "manual": "workflow_dispatch",
    }.get(event.kind, Unknown("the caller's event is not known"))
    github = ContextObject(
        {
            "event_name": event_name,
            "ref": ref,
            "ref_name": ref_name,
            "ref_type": "branch",
            "base_ref": base_ref,
            "head_ref": head_ref,
            "event": payload,
            "workflow": data.get("name", Unknown("the workflow's path")),
        },
        lambda key: Unknown(f"github.{key} is not modelled"),
    )
    inputs_kind = (
        "workflow_call"
        if event.kind == "workflow_call"
        else ("workflow_dispatch")
    )
    inputs = (
        input_values(data, event, inputs_kind)
        if event.kind in ("manual", "workflow_call")
        else {}
    )
    return {
        "github": github,
        "vars": ContextObject(dict(variables), lambda _: ""),
        "inputs": ContextObject(inputs, lambda _: None),
        # Context availability: jobs.<job_id>.if sees github, needs, vars
        # (repository and organization, not environment) and inputs; GitHub
        # rejects the workflow ("Unrecognized named-value") for the others.
        **{
            name: Unknown(
                f"GitHub rejects the workflow: `{name}` is not available in"
                " `jobs.<job_id>.if` (only github, needs, vars, inputs)"
            )
            for name in ("secrets", "env", "steps", "job", "runner", "matrix")
        },
    }


def condition_text(raw: Any) -> tuple[str | None, Any]:
    """The expression text of a job ``if:`` (None: no if), or a literal."""
    if raw is None:
        return None, None
    if isinstance(raw, bool):
        return None, raw
    text = str(raw).strip()
    match = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.DOTALL)
    if match and "${{" not in match.group(1):
        return match.group(1).strip(), None
    if "${{" in text:
        return None, text  # a string with text around ${{ }}: truthy
    return text, None


GITHUB = Provider(
    name="github",
    infix=True,
    status_functions=STATUS_FUNCTIONS,
    default_status="success",
    functions=FUNCTIONS,
    lazy_functions={},
    booleans=("false", "true"),
    compare=compare,
    trigger=trigger,
)
