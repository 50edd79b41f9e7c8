"""The run planner: which jobs and stages of a GitHub Actions workflow or an
Azure Pipelines pipeline run for one event, which are skipped, and why.

Validators check that a file is well formed; they cannot say that a release
never reaches production because a job three levels up the ``needs`` chain
was skipped. This module models each provider's documented rules:

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

A plan assumes the run is not cancelled and every job that runs succeeds
(unless named in ``failed``). Whatever cannot be known offline (secrets,
job outputs, variable groups, unresolved templates, the files a push
changed when none are given) gives the three-valued verdict UNKNOWN, never
a guess.

Not modelled: cancellation and concurrency groups; environment approvals
and checks (RUN means "runs once approved"); events other than push,
pull_request(_target), schedule, manual and workflow_call; ``${{ each }}``
over a collection not known at compile time (UNKNOWN); templates in other
repositories (UNKNOWN); Azure Repos branch policies that queue a pipeline
for a pull request whatever its ``pr:`` says (plan those with
``assume_triggered``); draft pull requests.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
import json
import math
import re
from collections.abc import (
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import yamlio
from ..errors import MalformedFileError

__all__ = [
    "Event",
    "Verdict",
    "Unit",
    "Plan",
    "Unreachable",
    "plan",
    "unreachable_deployments",
    "load",
    "ExpressionError",
    "CompiledAzure",
    "compile_azure",
    "context",
    "evaluate",
    "interpolate",
    "condition_holds",
    "github_context",
    "workflow_inputs",
    "to_text",
]


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
        return {_qualified(u): u.verdict for u in self.jobs}

    def explain(self) -> str:
        """Every verdict with its reasons, one unit a line."""
        lines = [f"trigger: {self.triggered.value} ({self.trigger_reason})"]
        for unit in (*self.stages, *self.jobs):
            lines.append(
                f"{unit.kind} {_qualified(unit)}: {unit.verdict.value}"
            )
            lines.extend(f"  - {reason}" for reason in unit.reasons)
        return "\n".join(lines)


def _qualified(unit: Unit) -> str:
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


class Unknown:
    """A value that cannot be known offline. ``truthy`` is its truthiness
    when that alone is known (``unknown && false`` is falsy)."""

    __slots__ = ("reason", "truthy")

    def __init__(self, reason: str, truthy: bool | None = None) -> None:
        self.reason = reason
        self.truthy = truthy

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


class _Obj:
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


def _run_time(prefix: str) -> Callable[[str], Unknown]:
    """The miss rule of a context whose other fields exist only at run
    time (job outputs)."""

    def miss(key: str) -> Unknown:
        return Unknown(f"{prefix}.{key} is only known at run time")

    return miss


def _first_unknown(values: Iterable[Any]) -> Unknown | None:
    for value in values:
        if isinstance(value, Unknown):
            return value
    return None


# --------------------------------------------------------------------------
# Tokenizer shared by both expression languages

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*')
      | (?P<num>-?(?:0x[0-9a-fA-F]+
                  |\d+\.\d+\.\d+(?:\.\d+)?
                  |(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?))
      | (?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\],.*])
      | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(
                f"unexpected {text[pos : pos + 10]!r} in {text!r}"
            )
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    """Recursive descent over tokens. GitHub syntax is infix; Azure's is
    function calls only (``and(a, b)``), which is the ``primary`` part."""

    def __init__(self, text: str, infix: bool) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.pos = 0
        self.infix = infix

    def parse(self) -> tuple:
        node = self.expr()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"trailing text in {self.text!r}")
        return node

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(
                f"expected {value or 'more'} in {self.text!r}"
            )
        self.pos += 1
        return token

    def accept(self, value: str) -> bool:
        token = self.peek()
        if token and token[0] == "op" and token[1] == value:
            self.pos += 1
            return True
        return False

    def expr(self) -> tuple:
        if not self.infix:
            return self.postfix()
        return self.or_()

    def or_(self) -> tuple:
        node = self.and_()
        while self.accept("||"):
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.eq()
        while self.accept("&&"):
            node = ("and", node, self.eq())
        return node

    def eq(self) -> tuple:
        node = self.rel()
        while True:
            token = self.peek()
            if token and token[1] in ("==", "!="):
                self.pos += 1
                node = ("cmp", token[1], node, self.rel())
            else:
                return node

    def rel(self) -> tuple:
        node = self.unary()
        while True:
            token = self.peek()
            if token and token[1] in ("<", "<=", ">", ">="):
                self.pos += 1
                node = ("cmp", token[1], node, self.unary())
            else:
                return node

    def unary(self) -> tuple:
        if self.accept("!"):
            return ("not", self.unary())
        return self.postfix()

    def postfix(self) -> tuple:
        node = self.primary()
        while True:
            if self.accept("."):
                token = self.take()
                if token[1] == "*":
                    node = ("star", node)
                elif token[0] in ("name", "num"):
                    node = ("prop", node, ("lit", token[1]))
                else:
                    raise ExpressionError(f"bad property in {self.text!r}")
            elif self.accept("["):
                if self.accept("*"):
                    node = ("star", node)
                else:
                    node = ("prop", node, self.expr())
                self.take("]")
            else:
                return node

    def primary(self) -> tuple:
        kind, value = self.take()
        if kind == "str":
            return ("lit", value[1:-1].replace("''", "'"))
        if kind == "num":
            return ("lit", _number_literal(value))
        if kind == "op" and value == "(" and self.infix:
            node = self.expr()
            self.take(")")
            return node
        if kind != "name":
            raise ExpressionError(f"unexpected {value!r} in {self.text!r}")
        lowered = value.lower()
        if self.accept("("):
            args: list[tuple] = []
            if not self.accept(")"):
                args.append(self.expr())
                while self.accept(","):
                    args.append(self.expr())
                self.take(")")
            return ("call", lowered, args)
        if lowered in ("true", "false"):
            if self.infix and value != lowered:
                raise ExpressionError(f"{value!r} is not a literal")
            return ("lit", lowered == "true")
        if lowered == "null":
            return ("lit", None)
        return ("ctx", lowered)


def _number_literal(text: str) -> Any:
    if text.count(".") >= 2:
        return text  # an Azure version literal, compared as text
    if text.lower().startswith(("0x", "-0x")):
        return float(int(text, 16))
    return float(text)


def _references(node: tuple) -> list[tuple]:
    """The context lookups in ``node`` with literal keys (``vars.X``,
    ``variables['Build.SourceBranch']``), outermost first, each once."""
    found: list[tuple] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if not isinstance(item, tuple) or not item:
            continue
        if item[0] == "prop" and _reference_name(item):
            if item not in found:
                found.append(item)
            continue
        stack.extend(
            part
            for part in reversed(item[1:])
            if isinstance(part, (tuple, list))
            for part in (part if isinstance(part, list) else [part])
        )
    return found


def _reference_name(node: tuple) -> str | None:
    if node[0] == "ctx":
        return node[1]
    if node[0] == "prop" and node[2][0] == "lit":
        base = _reference_name(node[1])
        if base is not None:
            return f"{base}.{node[2][1]}"
    return None


def _values_note(evaluator: _Evaluator, node: tuple) -> str:
    """`` (vars.X = '', github.ref = 'refs/heads/main')``: what the
    condition saw."""
    parts = []
    for ref in _references(node)[:6]:
        try:
            value = evaluator.eval(ref)
        except ExpressionError:
            continue
        if isinstance(value, Unknown):
            shown = "unknown"
        elif isinstance(value, str) or value is None:
            shown = repr(evaluator.to_str(value))
        elif isinstance(value, (bool, float)):
            shown = evaluator.to_str(value)
        else:
            continue
        parts.append(f"{_reference_name(ref)} = {shown}")
    return f" ({', '.join(parts)})" if parts else ""


def _calls(node: tuple) -> set[str]:
    """Names of all functions called in ``node``."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if not isinstance(item, tuple) or not item:
            continue
        if item[0] == "call":
            found.add(item[1])
            stack.extend(item[2])
        else:
            stack.extend(part for part in item[1:] if isinstance(part, tuple))
    return found


# --------------------------------------------------------------------------
# Evaluation


class _AncestorResults(Mapping[str, frozenset[str]]):
    """The possible results of a job's ancestors. A status function without
    arguments needs only the distinct sets (``values``: at most eight, kept
    per job as the plan goes, so planning stays linear in the graph); one
    that names jobs gets the whole mapping, walked on first use."""

    def __init__(
        self,
        distinct: frozenset[frozenset[str]],
        walk: Callable[[], dict[str, frozenset[str]]],
    ) -> None:
        self._distinct = distinct
        self._walk = walk
        self._full: dict[str, frozenset[str]] | None = None

    def _mapping(self) -> dict[str, frozenset[str]]:
        if self._full is None:
            self._full = self._walk()
        return self._full

    def values(self) -> Any:
        return list(self._distinct)

    def __getitem__(self, key: str) -> frozenset[str]:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())


@dataclass
class _Status:
    """What the status check functions see: the results of the ancestors
    (GitHub ``needs`` chain, Azure dependency graph), each a set of
    possible results among success, failure, skipped."""

    ancestors: Mapping[str, frozenset[str]]
    direct: Mapping[str, frozenset[str]]


def _all_in(results: Iterable[frozenset[str]], wanted: set[str]) -> Any:
    """True if every result is surely in ``wanted``, False if one surely is
    not, else Unknown."""
    unsure = False
    for possible in results:
        if not possible & wanted:
            return False
        if possible - wanted:
            unsure = True
    return Unknown("an ancestor's result is not known") if unsure else True


def _any_in(results: Iterable[frozenset[str]], wanted: set[str]) -> Any:
    unsure = False
    for possible in results:
        if possible <= wanted:
            return True
        if possible & wanted:
            unsure = True
    return Unknown("an ancestor's result is not known") if unsure else False


class _Evaluator:
    """Evaluates a parsed expression against contexts. ``github`` selects
    GitHub's coercion rules, else Azure's."""

    def __init__(
        self,
        contexts: Mapping[str, Any],
        github: bool,
        status: _Status | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
    ) -> None:
        self.contexts = contexts
        self.github = github
        self.status = status
        # Run time adds what a plan cannot know (hashFiles on real files).
        self.functions = functions or {}

    # conversions -----------------------------------------------------
    def truthy(self, value: Any) -> Any:
        if isinstance(value, Unknown):
            return value if value.truthy is None else value.truthy
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, float):
            return not (value == 0 or math.isnan(value))
        if isinstance(value, str):
            return value != ""
        return True

    def to_str(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            if self.github:
                return "true" if value else "false"
            return "True" if value else "False"
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        if isinstance(value, (list, _Obj, dict)):
            return "Array" if isinstance(value, list) else "Object"
        return str(value)

    # evaluation ------------------------------------------------------
    def eval(self, node: tuple) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "ctx":
            if node[1] in self.contexts:
                return self.contexts[node[1]]
            return Unknown(f"`{node[1]}` is not available here")
        if kind == "prop":
            return self.prop(self.eval(node[1]), self.eval(node[2]))
        if kind == "star":
            base = self.eval(node[1])
            if isinstance(base, Unknown):
                return base
            if isinstance(base, _Obj):
                return base.items()
            if isinstance(base, list):
                return list(base)
            return []
        if kind == "not":
            value = self.truthy(self.eval(node[1]))
            return value if isinstance(value, Unknown) else not value
        if kind == "and":
            left = self.eval(node[1])
            known = self.truthy(left)
            if known is False:
                return left
            right = self.eval(node[2])
            if known is True:
                return right
            if self.truthy(right) is False:
                return Unknown(left.reason, truthy=False)
            return left
        if kind == "or":
            left = self.eval(node[1])
            known = self.truthy(left)
            if known is True:
                return left
            right = self.eval(node[2])
            if known is False:
                return right
            if self.truthy(right) is True:
                return Unknown(left.reason, truthy=True)
            return left
        if kind == "cmp":
            return self.compare(node[1], self.eval(node[2]), self.eval(node[3]))
        if kind == "call":
            return self.call(node[1], node[2])
        raise ExpressionError(f"unknown node {kind}")

    def prop(self, base: Any, key: Any) -> Any:
        if isinstance(base, Unknown):
            return base
        if isinstance(key, Unknown):
            return key
        if isinstance(base, _Obj):
            return base.get(self.to_str(key))
        if isinstance(base, Mapping):
            lowered = {str(k).lower(): v for k, v in base.items()}
            return lowered.get(self.to_str(key).lower())
        if isinstance(base, list):
            if isinstance(key, float) and key.is_integer():
                index = int(key)
                return base[index] if 0 <= index < len(base) else None
            return [self.prop(item, key) for item in base]
        return None

    def compare(self, op: str, left: Any, right: Any) -> Any:
        unknown = _first_unknown((left, right))
        if unknown:
            return Unknown(unknown.reason)
        if op in ("==", "!="):
            equal = _gh_equal(left, right)
            return equal if op == "==" else not equal
        lnum, rnum = left, right
        if isinstance(left, str) and isinstance(right, str):
            lnum, rnum = left.lower(), right.lower()
        elif type(left) is not type(right):
            lnum, rnum = _gh_number(left), _gh_number(right)
        try:
            return {
                "<": lnum < rnum,
                "<=": lnum <= rnum,
                ">": lnum > rnum,
                ">=": lnum >= rnum,
            }[op]
        except TypeError:
            return False

    # functions -------------------------------------------------------
    def call(self, name: str, arg_nodes: list[tuple]) -> Any:
        status = _STATUS_FUNCTIONS_GH if self.github else _STATUS_FUNCTIONS_AZ
        if name in status:
            return self.status_call(name, arg_nodes)
        if not self.github and name in ("and", "or"):
            return self.az_logic(name, arg_nodes)
        args = [self.eval(node) for node in arg_nodes]
        if name == "coalesce" and not self.github:
            for arg in args:
                if isinstance(arg, Unknown):
                    return arg
                if arg is not None and arg != "":
                    return arg
            return None
        unknown = _first_unknown(args) or _first_unknown(
            item for arg in args if isinstance(arg, list) for item in arg
        )
        if unknown:
            return Unknown(unknown.reason)
        table = _GH_FUNCTIONS if self.github else _AZ_FUNCTIONS
        function = self.functions.get(name) or table.get(name)
        if function is None:
            return Unknown(f"function `{name}` is not modelled")
        return function(self, *args)

    def az_logic(self, name: str, arg_nodes: list[tuple]) -> Any:
        unsure: Unknown | None = None
        stop = name == "or"
        for node in arg_nodes:
            value = self.truthy(self.eval(node))
            if isinstance(value, Unknown):
                unsure = unsure or value
            elif value is stop:
                return stop
        return Unknown(unsure.reason) if unsure else not stop

    def status_call(self, name: str, arg_nodes: list[tuple]) -> Any:
        if name == "always":
            return True
        if name in ("cancelled", "canceled"):
            return False
        if self.status is None:
            return Unknown(f"{name}() is not available here")
        if arg_nodes:
            names = [self.to_str(self.eval(node)) for node in arg_nodes]
            known = {
                k.lower(): v
                for k, v in {
                    **self.status.ancestors,
                    **self.status.direct,
                }.items()
            }
            if any(n.lower() not in known for n in names):
                return Unknown(
                    f"{name}({', '.join(names)}) names no dependency"
                )
            results = [known[n.lower()] for n in names]
        else:
            results = list(self.status.ancestors.values())
        if name in ("success", "succeeded"):
            return _all_in(results, {"success"})
        if name in ("failure", "failed"):
            return _any_in(results, {"failure"})
        if name == "succeededorfailed":
            if arg_nodes:
                return _all_in(results, {"success", "failure"})
            # Documented as true whatever the dependencies did, but reported
            # false after skipped ones (MicrosoftDocs/azure-devops-docs
            # #12846, open): do not guess.
            if any("skipped" in possible for possible in results):
                return Unknown(
                    "succeededOrFailed() after a skipped dependency: the docs"
                    " say it runs, users report it is skipped"
                )
            return True
        raise ExpressionError(name)


_STATUS_FUNCTIONS_GH = {"success", "failure", "always", "cancelled"}
_STATUS_FUNCTIONS_AZ = {
    "succeeded",
    "failed",
    "always",
    "canceled",
    "succeededorfailed",
}


def _gh_number(value: Any) -> float:
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


def _gh_equal(left: Any, right: Any) -> bool:
    """GitHub's loose equality ("Evaluate expressions": Operators)."""
    if left is None and right is None:
        return True
    if type(left) is type(right):
        if isinstance(left, str):
            return left.lower() == right.lower()
        if isinstance(left, (bool, float)):
            return left == right
        return left is right
    return _gh_number(left) == _gh_number(right)


def _gh_format(ev: _Evaluator, template: Any, *args: Any) -> str:
    text = ev.to_str(template)

    def replace(match: re.Match) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        index = int(match.group(1))
        if index >= len(args):
            raise ExpressionError(f"format: no argument {index}")
        return ev.to_str(args[index])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, text)


def _gh_contains(ev: _Evaluator, search: Any, item: Any) -> bool:
    if isinstance(search, list):
        return any(_gh_equal(element, item) for element in search)
    return ev.to_str(item).lower() in ev.to_str(search).lower()


def _to_json_value(value: Any) -> Any:
    if isinstance(value, _Obj):
        return {k: _to_json_value(v) for k, v in value.values.items()}
    if isinstance(value, list):
        return [_to_json_value(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _from_json(ev: _Evaluator, text: Any) -> Any:
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
        return _Obj({k: convert(v) for k, v in item.items()}, lambda _: None)

    return convert(value)


_GH_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": _gh_contains,
    "startswith": lambda ev, a, b: (
        ev.to_str(a).lower().startswith(ev.to_str(b).lower())
    ),
    "endswith": lambda ev, a, b: (
        ev.to_str(a).lower().endswith(ev.to_str(b).lower())
    ),
    "format": _gh_format,
    "join": lambda ev, a, sep=",": (
        ev.to_str(sep).join(ev.to_str(x) for x in a)
        if isinstance(a, list)
        else ev.to_str(a)
    ),
    "tojson": lambda ev, a: json.dumps(_to_json_value(a), indent=2),
    "fromjson": _from_json,
    "hashfiles": lambda ev, *a: Unknown("hashFiles() depends on the files"),
}


# Azure ------------------------------------------------------------------


def _az_convert(ev: _Evaluator, value: Any, like: Any) -> tuple[bool, Any]:
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


def _az_equal(ev: _Evaluator, left: Any, right: Any) -> bool | None:
    """eq: right converted to the left's type; None if that fails."""
    ok, converted = _az_convert(ev, right, left)
    if not ok:
        return None
    if isinstance(left, str):
        return left.lower() == converted.lower()
    return left == converted


def _az_eq(ev: _Evaluator, left: Any, right: Any) -> bool:
    return _az_equal(ev, left, right) is True


def _az_ne(ev: _Evaluator, left: Any, right: Any) -> bool:
    return _az_equal(ev, left, right) is not True


def _az_in(ev: _Evaluator, left: Any, *rest: Any) -> bool:
    return any(_az_equal(ev, left, item) is True for item in rest)


def _az_str(name: str) -> Callable[..., bool]:
    def function(ev: _Evaluator, left: Any, right: Any) -> bool:
        a, b = ev.to_str(left).lower(), ev.to_str(right).lower()
        return {
            "contains": b in a,
            "startswith": a.startswith(b),
            "endswith": a.endswith(b),
        }[name]

    return function


_AZ_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "not": lambda ev, a: not ev.truthy(a),
    "xor": lambda ev, a, b: bool(ev.truthy(a)) != bool(ev.truthy(b)),
    "eq": _az_eq,
    "ne": _az_ne,
    "in": _az_in,
    "notin": lambda ev, left, *rest: not _az_in(ev, left, *rest),
    "contains": _az_str("contains"),
    "startswith": _az_str("startswith"),
    "endswith": _az_str("endswith"),
    "format": _gh_format,
    "lower": lambda ev, a: ev.to_str(a).lower(),
    "upper": lambda ev, a: ev.to_str(a).upper(),
    "length": lambda ev, a: (
        float(len(a.items() if isinstance(a, _Obj) else a))
        if isinstance(a, (str, list, _Obj))
        else 0.0
    ),
    "iif": lambda ev, c, a, b: a if ev.truthy(c) else b,
    "replace": lambda ev, a, b, c: ev.to_str(a).replace(
        ev.to_str(b), ev.to_str(c)
    ),
    "trim": lambda ev, a: ev.to_str(a).strip(),
}


_MAX_EXPRESSION = 21_000  # GitHub's limit on an expression's length


def _parse(text: str, github: bool) -> tuple:
    if len(text) > _MAX_EXPRESSION:
        raise ExpressionError("the expression is too long")
    try:
        return _Parser(text, infix=github).parse()
    except RecursionError as error:
        raise ExpressionError("the expression is nested too deeply") from error


# --------------------------------------------------------------------------
# Filters (branches, paths)


def _gh_glob(pattern: str) -> re.Pattern:
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


def _gh_filter(patterns: Sequence[str], value: str) -> bool:
    """Whether ``value`` matches a list of patterns where a ``!`` pattern
    excludes what an earlier one included (the last match decides)."""
    matched = False
    for raw in patterns:
        text = str(raw)
        negated = text.startswith("!")
        if _gh_glob(text[1:] if negated else text).match(value):
            matched = not negated
    return matched


def _az_match(pattern: str, value: str, prefix: bool) -> bool:
    """Azure filters: wildcards ``*`` and ``?``; a path without wildcard
    matches itself and everything under it."""
    pattern = str(pattern).strip("/")
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(value, pattern)
    if prefix:
        return value == pattern or value.startswith(pattern + "/")
    return value == pattern


def _az_branch_name(ref: str) -> str:
    return ref[len("refs/heads/") :] if ref.startswith("refs/heads/") else ref


# --------------------------------------------------------------------------
# GitHub Actions


def _gh_on(data: Mapping) -> Mapping[str, Any]:
    on = data.get("on", data.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {str(item): None for item in on}
    if isinstance(on, Mapping):
        return on
    return {}


def _gh_trigger(data: Mapping, event: Event) -> tuple[Verdict, str]:
    try:
        return _gh_trigger_filters(data, event)
    except re.error as error:
        return Verdict.UNKNOWN, f"a filter pattern is not valid: {error}"


def _gh_trigger_filters(data: Mapping, event: Event) -> tuple[Verdict, str]:
    on = _gh_on(data)
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
        if not _gh_filter(_as_list(spec["branches"]), event.branch):
            return Verdict.SKIP, (
                f"the {label} {event.branch!r} is not in `on.{name}.branches`"
            )
    elif "branches-ignore" in spec:
        if _gh_filter(_as_list(spec["branches-ignore"]), event.branch):
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
        patterns = _as_list(spec[key])
        hits = [f for f in event.changed_files if _gh_filter(patterns, f)]
        if include and not hits:
            return Verdict.SKIP, f"no changed file matches `on.{name}.paths`"
        if not include and len(hits) == len(event.changed_files):
            return Verdict.SKIP, (
                f"every changed file matches `on.{name}.paths-ignore`"
            )
    return Verdict.RUN, f"`on: {name}` matches branch {event.branch!r}"


def _gh_inputs(data: Mapping, event: Event, kind: str) -> dict[str, Any]:
    spec = _gh_on(data).get(kind) or {}
    declared = _mapping(_mapping(spec).get("inputs"))
    values: dict[str, Any] = {}
    for name, item in declared.items():
        item = _mapping(item)
        default = item.get("default")
        kind_of = item.get("type", "string")
        if kind_of == "boolean":
            default = bool(default) if default is not None else False
        elif kind_of == "number":  # an unset number input is 0
            default = _gh_number(default)
        elif default is None:
            default = ""
        values[str(name)] = default
    for name, value in event.inputs.items():
        kind_of = _mapping(declared.get(name)).get("type", "string")
        if isinstance(value, str) and kind_of in ("boolean", "number"):
            # given as text (a form, --input): read as the declared type
            value = _typed(value, kind_of)
        values[str(name)] = (
            float(value)
            if isinstance(value, int) and not isinstance(value, bool)
            else value
        )
    return values


def _gh_contexts(
    data: Mapping, event: Event, variables: Mapping[str, str]
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
        payload = _Obj(
            {
                "number": float(event.pr_number),
                "pull_request": _Obj(
                    {
                        "number": float(event.pr_number),
                        "base": _Obj({"ref": event.branch}, unknown_field),
                        "head": _Obj({"ref": event.head_branch}, unknown_field),
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
            fields["inputs"] = _Obj(
                {
                    k: ("true" if v is True else "false" if v is False else v)
                    for k, v in _gh_inputs(
                        data, event, "workflow_dispatch"
                    ).items()
                },
                lambda _: None,
            )
        payload = _Obj(fields, unknown_field)
    event_name = {
        "push": "push",
        "pull_request": "pull_request",
        "pull_request_target": "pull_request_target",
        "schedule": "schedule",
        "manual": "workflow_dispatch",
    }.get(event.kind, Unknown("the caller's event is not known"))
    github = _Obj(
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
        _gh_inputs(data, event, inputs_kind)
        if event.kind in ("manual", "workflow_call")
        else {}
    )
    return {
        "github": github,
        "vars": _Obj(dict(variables), lambda _: ""),
        "inputs": _Obj(inputs, lambda _: None),
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


def _gh_condition(raw: Any) -> tuple[str | None, Any]:
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


def _mapping(value: Any) -> Mapping:
    """``value`` if it is a mapping, else an empty one (a malformed file
    gets a plan, and the validators report its shape)."""
    return value if isinstance(value, Mapping) else {}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _ancestors(graph: Mapping[str, Sequence[str]], start: str) -> list[str]:
    seen: list[str] = []
    visited: set[str] = set()  # membership in O(1): linear in the graph
    stack = list(graph.get(start, ()))
    while stack:
        node = stack.pop()
        if node in visited or node not in graph:
            continue
        visited.add(node)
        seen.append(node)
        stack.extend(graph.get(node, ()))
    return seen


def _order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """Topological order; units in a cycle come last, in file order."""
    done: list[str] = []
    pending = list(graph)
    progress = True
    while pending and progress:
        progress = False
        for node in list(pending):
            if all(d in done or d not in graph for d in graph[node]):
                done.append(node)
                pending.remove(node)
                progress = True
    return done + pending


_RESULTS = {
    Verdict.RUN: frozenset({"success"}),
    Verdict.SKIP: frozenset({"skipped"}),
    Verdict.UNKNOWN: frozenset({"success", "skipped"}),
}


def _results(verdict: Verdict, failed: bool) -> frozenset[str]:
    result = _RESULTS[verdict]
    if failed:
        result = frozenset("failure" if r == "success" else r for r in result)
    return result


def _decide(value: Any) -> tuple[Verdict, str]:
    if isinstance(value, Unknown):
        if value.truthy is not None:
            return (Verdict.RUN if value.truthy else Verdict.SKIP), ""
        return Verdict.UNKNOWN, value.reason
    return (Verdict.RUN if value else Verdict.SKIP), ""


def _plan_github(
    data: Mapping,
    event: Event,
    variables: Mapping[str, str],
    failed: Collection[str],
    assume_triggered: bool,
) -> Plan:
    triggered, why = _gh_trigger(data, event)
    if assume_triggered and triggered is not Verdict.RUN:
        why = f"assumed triggered ({why})"
        triggered = Verdict.RUN
    jobs = {str(k): v for k, v in _mapping(data.get("jobs")).items()}
    graph = {
        str(job_id): [str(n) for n in _as_list(_mapping(job).get("needs"))]
        for job_id, job in jobs.items()
    }
    contexts = _gh_contexts(data, event, variables)
    units: dict[str, Unit] = {}
    # The distinct possible results among each job's ancestors, built in
    # dependency order: linear in the graph, however long its chains.
    distinct: dict[str, frozenset[frozenset[str]]] = {}
    for job_id in _order(graph):
        job = _mapping(jobs.get(job_id))
        seen: set[frozenset[str]] = set()
        for need in graph[job_id]:
            if need in units:
                seen.add(_results(units[need].verdict, need in failed))
                seen |= distinct.get(need, frozenset())
        distinct[job_id] = frozenset(seen)
        units[job_id] = _gh_job(
            job_id, job, graph, units, contexts, failed, triggered, why,
            distinct[job_id],
        )  # fmt: skip
    ordered = tuple(units[job_id] for job_id in jobs)
    return Plan("github", event, triggered, why, (), ordered)


def _environment(job: Mapping) -> str | None:
    env = job.get("environment")
    if isinstance(env, Mapping):
        env = env.get("name")
    return None if env is None else str(env)


def _gh_job(
    job_id: str,
    job: Mapping,
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
        environment=_environment(job),
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
            a: _results(done[a].verdict, a in failed)
            for a in _ancestors(graph, job_id)
            if a in done
        }

    results = _AncestorResults(distinct, walk)
    direct = {
        n: _results(done[n].verdict, n in failed) for n in needs if n in done
    }
    text, literal = _gh_condition(raw_if)
    try:
        if text is None:
            node: tuple = ("lit", True if raw_if is None else literal)
        else:
            node = _parse(text, github=True)
    except ExpressionError as error:
        return Unit(
            verdict=Verdict.UNKNOWN,
            reasons=(f"`if:` is not a valid expression: {error}",),
            cause="condition",
            **base,
        )
    implicit = not (_calls(node) & _STATUS_FUNCTIONS_GH)
    if implicit:
        node = ("and", ("call", "success", []), node)

    def needs_context(all_succeed: bool) -> _Obj:
        return _Obj(
            {
                n: _Obj(
                    {
                        "result": "success"
                        if all_succeed
                        else _gh_result(done[n].verdict, n in failed)
                    },
                    _run_time(f"needs.{n}"),
                )
                for n in needs
                if n in done
            },
            lambda key: Unknown(f"`needs.{key}`: {key} is not in `needs`"),
        )

    needs_ctx = needs_context(False)
    evaluator = _Evaluator(
        {**contexts, "needs": needs_ctx},
        github=True,
        status=_Status(ancestors=results, direct=direct),
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
    verdict, unknown_reason = _decide(value)
    if triggered is Verdict.UNKNOWN and verdict is Verdict.RUN:
        verdict, unknown_reason = Verdict.UNKNOWN, trigger_reason
    if verdict is Verdict.RUN:
        return Unit(verdict=verdict, reasons=(_gh_run_reason(raw_if),), **base)
    if verdict is Verdict.UNKNOWN:
        return Unit(
            verdict=verdict,
            reasons=(unknown_reason or "the condition cannot be decided",),
            cause="condition",
            **base,
        )
    # Skipped: by its own condition, or by a skipped need?
    ancestors = _ancestors(graph, job_id)  # a skip: say which one, and why
    skipped = [
        a for a in ancestors if a in done and done[a].verdict is Verdict.SKIP
    ]
    if skipped:
        # Skipped because of the skip up the chain: with every ancestor
        # successful, the condition would not be false.
        optimistic = _Evaluator(
            {**contexts, "needs": needs_context(True)},
            github=True,
            status=_Status(
                ancestors={a: frozenset({"success"}) for a in ancestors},
                direct={n: frozenset({"success"}) for n in needs},
            ),
        )
        if _decide(optimistic.eval(node))[0] is not Verdict.SKIP:
            root = _root_skip(skipped, done)
            chain = _chain(graph, job_id, root)
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
                    + _gh_skip_rule(raw_if, implicit, _calls(node)),
                    *done[root].reasons,
                ),
                cause="needs",
                skipped_need=root,
                **base,
            )
    return Unit(
        verdict=Verdict.SKIP,
        reasons=(
            f"`if: {_short(raw_if)}` is false"
            + (
                " (with the implicit `success()`)"
                if implicit and skipped
                else ""
            )
            + _values_note(evaluator, node),
        ),
        cause="condition",
        **base,
    )


def _gh_skip_rule(raw_if: Any, implicit: bool, calls: set[str]) -> str:
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


def _gh_result(verdict: Verdict, failed: bool) -> Any:
    if verdict is Verdict.RUN:
        return "failure" if failed else "success"
    if verdict is Verdict.SKIP:
        return "skipped"
    return Unknown("the need's result is not known")


def _gh_run_reason(raw_if: Any) -> str:
    if raw_if is None:
        return "no `if:`, and every job up the `needs` chain succeeds"
    return f"`if: {_short(raw_if)}` is true"


def _short(raw: Any) -> str:
    text = " ".join(str(raw).split())
    return text if len(text) <= 120 else text[:117] + "..."


def _root_skip(skipped: Sequence[str], done: Mapping[str, Unit]) -> str:
    """The skipped ancestor whose own condition skipped it."""
    for name in skipped:
        if done[name].cause in ("condition", "trigger", "stage"):
            return name
    for name in skipped:
        if done[name].skipped_need:
            return str(done[name].skipped_need)
    return skipped[0]


def _chain(
    graph: Mapping[str, Sequence[str]], start: str, target: str
) -> list[str]:
    """A dependency path from ``target`` down to ``start``."""
    paths = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for parent in graph.get(path[-1], ()):
            if parent == target:
                return list(reversed([*path, parent]))
            if parent not in seen:
                seen.add(parent)
                paths.append([*path, parent])
    return [target, start]


# --------------------------------------------------------------------------
# Azure Pipelines: compile time (templates, ${{ }})

_MAX_TEMPLATE_DEPTH = 20  # Azure allows 100 files and 20 levels of nesting
_MAX_TEMPLATE_BYTES = 1_000_000
_TEMPLATE_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_MAYBE = "__planner_maybe__"


class _Compiler:
    """Resolves ``${{ }}`` expressions, conditional insertion and local
    templates, as Azure does before any condition runs."""

    def __init__(
        self,
        root: Path | None,
        predefined: Mapping[str, Any],
        base: Path | None = None,
    ) -> None:
        self.root = root
        self.predefined = predefined
        self.bases = [base or root]

    def context(
        self, parameters: Mapping[str, Any], variables: Mapping[str, Any]
    ) -> dict[str, Any]:
        static = {**self.predefined, **variables}
        return {
            "parameters": _Obj(
                dict(parameters),
                lambda key: Unknown(f"parameters.{key} is not declared"),
            ),
            "variables": _Obj(static, _compile_time_miss),
        }

    def value(self, text: str, ctx: Mapping[str, Any]) -> Any:
        try:
            return self._value(text, ctx)
        except ExpressionError as error:
            return Unknown(f"template expression in {text!r}: {error}")

    def _value(self, text: str, ctx: Mapping[str, Any]) -> Any:
        evaluator = _Evaluator(ctx, github=False)
        whole = re.fullmatch(r"\s*\$\{\{(.*)\}\}\s*", text, re.DOTALL)
        if whole and "${{" not in whole.group(1):
            return evaluator.eval(_parse(whole.group(1), github=False))
        parts: list[str] = []
        last = 0
        for match in _TEMPLATE_EXPR.finditer(text):
            parts.append(text[last : match.start()])
            value = evaluator.eval(_parse(match.group(1), github=False))
            if isinstance(value, Unknown):
                return value
            parts.append(evaluator.to_str(value))
            last = match.end()
        parts.append(text[last:])
        return "".join(parts)

    def expand(self, node: Any, ctx: Mapping[str, Any]) -> Any:
        if isinstance(node, str):
            return self.value(node, ctx) if "${{" in node else node
        if isinstance(node, list):
            return self.expand_list(node, ctx)
        if isinstance(node, Mapping):
            return self.expand_map(node, ctx)
        return node

    def directive(self, key: str) -> tuple[str, str] | None:
        match = re.fullmatch(
            r"\s*\$\{\{\s*(if|elseif|else|each)\b(.*?)\}\}\s*", key, re.DOTALL
        )
        if not match:
            return None
        return match.group(1), match.group(2).strip()

    def branches(
        self, items: list[tuple[str, str, Any]], ctx: Mapping[str, Any]
    ) -> list[tuple[Any, Any]]:
        """(certainty, body) for each if/elseif/else chain member that may
        be inserted: certainty True, or an Unknown."""
        chosen: list[tuple[Any, Any]] = []
        unsure: Unknown | None = None
        for kind, expr, body in items:
            if kind == "else":
                value: Any = True
            else:
                value = _Evaluator(ctx, github=False).truthy(
                    _Evaluator(ctx, github=False).eval(_parse(expr, False))
                )
            if value is False:
                continue
            if isinstance(value, Unknown) or unsure:
                unsure = unsure or value
                chosen.append((Unknown(unsure.reason), body))
                continue
            chosen.append((True, body))
            break
        return chosen

    def expand_map(self, node: Mapping, ctx: Mapping[str, Any]) -> Any:
        out: dict[Any, Any] = {}
        chain: list[tuple[str, str, Any]] = []
        keys = list(node.items())

        def flush() -> None:
            for certainty, body in self.branches(chain, ctx):
                expanded = self.expand(body, ctx)
                if isinstance(expanded, Mapping):
                    out.update(expanded)
                    if isinstance(certainty, Unknown):
                        out[_MAYBE] = certainty.reason
            chain.clear()

        for key, value in keys:
            directive = (
                self.directive(str(key)) if isinstance(key, str) else None
            )
            if directive and directive[0] in ("if", "elseif", "else"):
                if directive[0] == "if":
                    flush()
                chain.append((directive[0], directive[1], value))
                continue
            flush()
            if directive:  # each
                for inner in self.each(directive[1], ctx):
                    if isinstance(inner, Unknown):
                        out[_MAYBE] = inner.reason
                        break
                    expanded = self.expand(value, inner)
                    if isinstance(expanded, Mapping):
                        out.update(expanded)
                continue
            new_key = self.expand(key, ctx) if isinstance(key, str) else key
            if isinstance(new_key, Unknown):
                out[_MAYBE] = new_key.reason
                continue
            out[new_key] = self.expand(value, ctx)
        flush()
        return out

    def expand_list(self, node: list, ctx: Mapping[str, Any]) -> list:
        out: list[Any] = []
        chain: list[tuple[str, str, Any]] = []

        def flush() -> None:
            for certainty, body in self.branches(chain, ctx):
                items = self.expand(body, ctx)
                for item in items if isinstance(items, list) else [items]:
                    if isinstance(certainty, Unknown) and isinstance(
                        item, Mapping
                    ):
                        item = {**item, _MAYBE: certainty.reason}
                    out.append(item)
            chain.clear()

        for item in node:
            if isinstance(item, Mapping) and len(item) == 1:
                ((key, value),) = item.items()
                directive = (
                    self.directive(str(key)) if isinstance(key, str) else None
                )
                if directive and directive[0] in ("if", "elseif", "else"):
                    if directive[0] == "if":
                        flush()
                    chain.append((directive[0], directive[1], value))
                    continue
                if directive:
                    flush()
                    for inner in self.each(directive[1], ctx):
                        if isinstance(inner, Unknown):
                            out.append({_MAYBE: inner.reason})
                            break
                        items = self.expand(value, inner)
                        out.extend(
                            items if isinstance(items, list) else [items]
                        )
                    continue
            flush()
            out.append(self.expand(item, ctx))
        flush()
        return out

    def each(self, text: str, ctx: Mapping[str, Any]) -> list[Any]:
        """The contexts of ``${{ each name in collection }}``, one per item
        (a mapping's items have ``key`` and ``value``); [Unknown] when the
        collection is not known."""
        match = re.fullmatch(r"(\w+)\s+in\s+(.+)", text.strip(), re.DOTALL)
        if not match:
            return [Unknown(f"`${{{{ each {text} }}}}` is not valid")]
        try:
            collection = _Evaluator(ctx, github=False).eval(
                _parse(match.group(2), github=False)
            )
        except ExpressionError as error:
            return [Unknown(f"`${{{{ each {text} }}}}`: {error}")]
        if isinstance(collection, Unknown):
            return [collection]
        if isinstance(collection, _Obj):
            items: list[Any] = [
                _Obj(
                    {"key": collection.names.get(k, k), "value": v},
                    lambda _: None,
                )
                for k, v in collection.values.items()
            ]
        elif isinstance(collection, list):
            items = collection
        else:
            items = []
        name = match.group(1).lower()  # names are case-insensitive
        return [{**ctx, name: item} for item in items]

    def template(
        self,
        item: Mapping,
        ctx: Mapping[str, Any],
        kind: str,
        whole: bool = False,
    ) -> list[Any]:
        """The stages or jobs a ``- template:`` item inserts (``whole``: the
        stages of an ``extends:`` template, which may hold jobs or steps)."""
        name = str(item.get("template"))
        reason = f"template `{name}` is not resolved"
        base = self.bases[-1]
        if self.root is None or base is None or "@" in name:
            return [{kind: f"template:{name}", _MAYBE: reason}]
        if len(self.bases) > _MAX_TEMPLATE_DEPTH:
            return [{kind: f"template:{name}", _MAYBE: reason + " (too deep)"}]
        # Relative to the including file; a leading / means the repo root.
        if name.startswith("/"):
            path = (self.root / name.lstrip("/")).resolve()
        else:
            path = (base / name).resolve()
        try:
            path.relative_to(self.root.resolve())
        except ValueError:
            return [
                {
                    kind: f"template:{name}",
                    _MAYBE: reason + " (outside the root)",
                }
            ]
        if not path.is_file():
            return [
                {kind: f"template:{name}", _MAYBE: reason + " (no such file)"}
            ]
        if path.stat().st_size > _MAX_TEMPLATE_BYTES:
            return [{kind: f"template:{name}", _MAYBE: reason + " (too big)"}]
        try:
            data = load(path)
        except (OSError, UnicodeDecodeError, MalformedFileError) as error:
            return [{kind: f"template:{name}", _MAYBE: f"{reason}: {error}"}]
        if not isinstance(data, Mapping):
            return [{kind: f"template:{name}", _MAYBE: reason}]
        passed = item.get("parameters") or {}
        params = _parameter_defaults(data.get("parameters"))
        params.update(
            {
                str(k): self.expand(v, ctx)
                for k, v in (
                    passed.items() if isinstance(passed, Mapping) else []
                )
            }
        )
        inner = {
            **ctx,
            "parameters": _Obj(
                params,
                lambda key: Unknown(
                    f"parameters.{key} is not declared in {name}"
                ),
            ),
        }
        self.bases.append(path.parent)
        try:
            source = data.get(kind + "s") or []
            if kind == "variable" and isinstance(source, Mapping):
                source = [{"name": k, "value": v} for k, v in source.items()]
            if whole and "stages" not in data:
                source = _implicit_stages(data)
            body = self.flatten(self.expand(source, inner), inner, kind)
            if kind == "stage":  # their job templates: relative to this file
                body = [
                    {**item, "jobs": self.flatten(item["jobs"], inner, "job")}
                    if isinstance(item, Mapping) and "jobs" in item
                    else item
                    for item in body
                ]
            if kind in ("stage", "job"):
                body = [self.job_steps(item, inner) for item in body]
            return body
        finally:
            self.bases.pop()

    def job_steps(self, item: Any, ctx: Mapping[str, Any]) -> Any:
        """``item`` (a stage or job) with the step templates of its jobs
        (and deployment lifecycle hooks) inserted, relative to the file
        being read."""
        if not isinstance(item, Mapping):
            return item
        out = dict(item)
        if isinstance(out.get("variables"), list):
            out["variables"] = self.flatten(out["variables"], ctx, "variable")
        if isinstance(out.get("jobs"), list):
            out["jobs"] = [self.job_steps(job, ctx) for job in out["jobs"]]
        if isinstance(out.get("steps"), list):
            out["steps"] = self.flatten(out["steps"], ctx, "step")
        strategy = out.get("strategy")
        if isinstance(strategy, Mapping):
            out["strategy"] = {
                name: {
                    hook: (
                        self.job_steps(body, ctx)
                        if isinstance(body, Mapping)
                        else body
                    )
                    for hook, body in spec.items()
                }
                if isinstance(spec, Mapping)
                else spec
                for name, spec in strategy.items()
            }
        return out

    def flatten(self, items: Any, ctx: Mapping[str, Any], kind: str) -> list:
        out: list[Any] = []
        for item in items if isinstance(items, list) else []:
            if (
                isinstance(item, Mapping)
                and "template" in item
                and not (set(item) & {"job", "deployment", "stage"})
            ):
                inserted = self.template(item, ctx, kind)
                if _MAYBE in item:
                    inserted = [{**i, _MAYBE: item[_MAYBE]} for i in inserted]
                out.extend(inserted)
            else:
                out.append(item)
        return out


def _implicit_stages(data: Mapping) -> list[Any]:
    """The stage list of a pipeline written with only jobs or steps."""
    if "jobs" in data:
        return [{"stage": "__default", "jobs": data.get("jobs") or []}]
    return [
        {
            "stage": "__default",
            "jobs": [{"job": "Job", "steps": data.get("steps")}],
        }
    ]


def _compile_time_miss(name: str) -> Any:
    """A variable a template expression cannot see: null, except predefined
    variables the planner does not model (some exist at compile time)."""
    if name.lower().startswith(_PREDEFINED_PREFIXES):
        return Unknown(f"predefined variable {name} is not modelled")
    return None


def _parameter_defaults(spec: Any) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if isinstance(spec, list):
        for item in spec:
            if isinstance(item, Mapping) and "name" in item:
                values[str(item["name"])] = _az_value(item.get("default"))
    elif isinstance(spec, Mapping):  # the older form: name: default
        values = {str(k): _az_value(v) for k, v in spec.items()}
    return values


def _parameter_types(spec: Any) -> dict[str, str]:
    return {
        str(item["name"]): str(item.get("type", "string")).lower()
        for item in (spec if isinstance(spec, list) else [])
        if isinstance(item, Mapping) and "name" in item
    }


def _typed(value: Any, kind: str | None) -> Any:
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


def _az_value(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        return _Obj(
            {str(k): _az_value(v) for k, v in value.items()}, lambda _: None
        )
    if isinstance(value, list):
        return [_az_value(v) for v in value]
    return str(value)


def _az_variables(spec: Any) -> tuple[dict[str, Any], bool]:
    """Variables defined in a ``variables:`` block, and whether it pulls in
    a variable group or template (whose values are not known)."""
    values: dict[str, Any] = {}
    opaque = False
    if isinstance(spec, Mapping):
        for k, v in spec.items():
            if k == _MAYBE:
                opaque = True
            else:
                values[str(k)] = v
    elif isinstance(spec, list):
        for item in spec:
            if not isinstance(item, Mapping):
                continue
            if _MAYBE in item or "group" in item or "template" in item:
                opaque = True
            if "name" in item:
                values[str(item["name"])] = item.get("value")
    return values, opaque


# --------------------------------------------------------------------------
# Azure Pipelines: triggers and run time


def _az_branch_filter(spec: Any, branch: str) -> bool:
    """``trigger``/``pr``/schedule branch filters: a list of includes, or
    include/exclude. Names may carry ``refs/heads/``."""
    if isinstance(spec, list):
        include, exclude = spec, list[Any]()
    elif isinstance(spec, Mapping):
        branches = spec.get("branches", spec)
        if isinstance(branches, list):
            include, exclude = branches, []
        else:
            include = _as_list(_mapping(branches).get("include", ["*"]))
            exclude = _as_list(_mapping(branches).get("exclude", []))
    else:
        include, exclude = ["*"], []

    def hit(patterns: Iterable[Any]) -> bool:
        return any(
            _az_match(_az_branch_name(str(p)), branch, prefix=False)
            for p in patterns or []
        )

    return hit(include) and not hit(exclude)


def _az_paths(spec: Any, event: Event, key: str) -> tuple[Verdict, str] | None:
    paths = spec.get("paths") if isinstance(spec, Mapping) else None
    if not paths:
        return None
    if event.changed_files is None:
        return Verdict.UNKNOWN, f"`{key}.paths` depends on which files changed"
    include = _as_list(
        paths.get("include", ["*"]) if isinstance(paths, Mapping) else paths
    )
    exclude = _as_list(_mapping(paths).get("exclude", []))
    for path in event.changed_files:
        if any(_az_match(str(p), path, True) for p in include) and not any(
            _az_match(str(p), path, True) for p in exclude
        ):
            return None
    return Verdict.SKIP, f"no changed file matches `{key}.paths`"


def _az_trigger(data: Mapping, event: Event) -> tuple[Verdict, str]:
    if event.kind == "manual":
        return Verdict.RUN, "a run queued by hand"
    if event.kind == "schedule":
        for item in _as_list(data.get("schedules")):
            if isinstance(item, Mapping) and _az_branch_filter(
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
    if not _az_branch_filter(spec, event.branch):
        return Verdict.SKIP, f"`{key}` does not include branch {event.branch!r}"
    paths = _az_paths(spec, event, key)
    if paths:
        return paths
    if key not in data:
        return Verdict.RUN, f"no `{key}:` key, so every branch triggers"
    return Verdict.RUN, f"`{key}` includes branch {event.branch!r}"


def _az_predefined(event: Event, data: Mapping) -> dict[str, Any]:
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


_PREDEFINED_PREFIXES = (
    "build.",
    "system.",
    "agent.",
    "pipeline.",
    "environment.",
    "resources.",
    "strategy.",
)


class _Variables:
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
                    result = _Evaluator(ctx_factory(), github=False).eval(
                        _parse(runtime.group(1), github=False)
                    )
                finally:
                    self.resolving.discard(key)
                return result
            if "$(" in value:
                return Unknown(f"variable {name} uses macro syntax `$( )`")
            return value
        if key.startswith(_PREDEFINED_PREFIXES):
            return Unknown(f"predefined variable {name} is not modelled")
        if self.opaque:
            return Unknown(
                f"variable {name} may come from a variable group or template"
            )
        return None


@dataclass
class _AzUnit:
    id: str
    kind: str
    raw: Mapping
    depends: list[str]
    stage: str | None = None


def _az_depends(raw: Mapping, previous: str | None, stage: bool) -> list[str]:
    if isinstance(raw.get("dependsOn"), Unknown):
        return []
    if "dependsOn" in raw:
        return [str(d) for d in _as_list(raw.get("dependsOn")) if d is not None]
    if stage and previous is not None:
        return [previous]
    return []


def _az_structure(
    data: Mapping, compiler: _Compiler, ctx: Mapping[str, Any]
) -> list[tuple[_AzUnit, list[_AzUnit]]]:
    """Stages, each with its jobs (a pipeline with only jobs or steps has
    one implicit stage)."""
    extends = data.get("extends")
    if "stages" in data:
        raw_stages = compiler.flatten(data.get("stages") or [], ctx, "stage")
    elif isinstance(extends, Mapping) and not ({"jobs", "steps"} & set(data)):
        raw_stages = compiler.template(extends, ctx, "stage", whole=True)
    else:
        raw_stages = _implicit_stages(data)
    out: list[tuple[_AzUnit, list[_AzUnit]]] = []
    previous: str | None = None
    for index, raw in enumerate(raw_stages):
        if not isinstance(raw, Mapping):
            continue
        if isinstance(raw.get("dependsOn"), Unknown):
            raw = {**raw, _MAYBE: raw["dependsOn"].reason}
        stage_id = str(raw.get("stage") or f"Stage{index + 1}")
        stage = _AzUnit(
            stage_id, "stage", raw, _az_depends(raw, previous, True)
        )
        previous = stage_id
        jobs: list[_AzUnit] = []
        for jindex, job in enumerate(
            compiler.flatten(raw.get("jobs") or [], ctx, "job")
        ):
            if not isinstance(job, Mapping):
                continue
            if isinstance(job.get("dependsOn"), Unknown):
                job = {**job, _MAYBE: job["dependsOn"].reason}
            job = compiler.job_steps(job, ctx)
            kind = "deployment" if "deployment" in job else "job"
            job_id = str(job.get(kind) or f"Job{jindex + 1}")
            jobs.append(
                _AzUnit(
                    job_id, kind, job, _az_depends(job, None, False), stage_id
                )
            )
        out.append((stage, jobs))
    return out


_AZ_RESULT = {
    "success": "Succeeded",
    "failure": "Failed",
    "skipped": "Skipped",
}


def _az_result(possible: frozenset[str]) -> Any:
    if len(possible) == 1:
        return _AZ_RESULT[next(iter(possible))]
    return Unknown("the dependency's result is not known")


def _plan_azure(
    data: Mapping,
    event: Event,
    variables: Mapping[str, str],
    failed: Collection[str],
    assume_triggered: bool,
    root: Path | None,
    base: Path | None,
) -> Plan:
    triggered, why = _az_trigger(data, event)
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
    for stage_id in _order(stage_graph):
        stage, jobs = by_id[stage_id]
        stage_vars, stage_opaque = _az_variables(stage.raw.get("variables"))
        runtime = _Variables([root_vars], root_opaque, predefined, variables)
        stage_unit = _az_unit(
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
        runtime_jobs = _Variables(
            [root_vars, stage_vars],
            root_opaque or stage_opaque,
            predefined,
            variables,
        )
        stage_deps = _stage_dependencies(stage, by_id, planned, failed)
        for job_id in _order(job_graph):
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
                    inner = _az_unit(
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
                unit = _az_unit(
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


@dataclass
class CompiledAzure:
    """An Azure pipeline after template expansion, as the agent receives
    it: ``structure`` holds every stage with its jobs (steps and step
    templates inserted), ``root_vars`` the root variables."""

    expanded: Mapping[str, Any]
    structure: list[tuple[_AzUnit, list[_AzUnit]]]
    compiler: _Compiler
    parameters: dict[str, Any]
    root_vars: dict[str, Any]
    root_opaque: bool
    predefined: dict[str, Any]


def compile_azure(
    data: Mapping, event: Event, root: Path | None, base: Path | None
) -> CompiledAzure:
    """Expand templates, ``${{ }}`` and parameters (with ``event.inputs``
    as runtime parameters): the one template expander of the planner, the
    validators and the local runner."""
    predefined = _az_predefined(event, data)
    compiler = _Compiler(root, predefined, base)
    parameters = _parameter_defaults(data.get("parameters"))
    types = _parameter_types(data.get("parameters"))
    parameters.update(
        {
            str(k): _az_value(_typed(v, types.get(str(k))))
            for k, v in event.inputs.items()
        }
    )
    root_vars_raw, _ = _az_variables(data.get("variables"))
    compile_ctx = compiler.context(
        parameters,
        {
            k: v
            for k, v in root_vars_raw.items()
            if isinstance(v, str) and "${{" not in v
        },
    )
    expanded = compiler.expand(
        {k: v for k, v in data.items() if k not in ("parameters",)}, compile_ctx
    )
    root_vars, root_opaque = _az_variables(expanded.get("variables"))
    compile_ctx = compiler.context(parameters, root_vars)
    structure = _az_structure(expanded, compiler, compile_ctx)
    return CompiledAzure(
        expanded,
        structure,
        compiler,
        parameters,
        root_vars,
        root_opaque,
        predefined,
    )


def _stage_dependencies(
    stage: _AzUnit,
    by_id: Mapping[str, Any],
    planned: Mapping[str, Mapping[str, Unit]],
    failed: Collection[str],
) -> _Obj:
    """``stageDependencies.<stage>.<job>`` for a job's condition: the
    results of the jobs in the stages its stage depends on."""

    def job_context(stage_id: str, unit: Unit) -> _Obj:
        result = _az_result(_results(unit.verdict, unit.id in failed))
        return _Obj(
            {"result": result},
            lambda key: Unknown(
                f"stageDependencies.{stage_id}.{unit.id}.{key} is only known"
                " at run time"
            ),
        )

    return _Obj(
        {
            s: _Obj(
                {
                    job_id: job_context(s, unit)
                    for job_id, unit in planned.get(s, {}).items()
                },
                _run_time(f"stageDependencies.{s}"),
            )
            for s in stage.depends
            if s in by_id
        },
        lambda key: Unknown(f"stage {key} is not in `dependsOn`"),
    )


def _unit_from(
    unit: _AzUnit,
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
        environment=_environment(unit.raw),
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


def _az_unit(
    unit: _AzUnit,
    graph: Mapping[str, Sequence[str]],
    done: Mapping[str, Unit],
    runtime: _Variables,
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
    ancestors = _ancestors(graph, unit.id)
    results = {
        a: _results(done[a].verdict, a in failed)
        for a in ancestors
        if a in done
    }
    direct = {d: results[d] for d in unit.depends if d in results}
    raw = unit.raw.get("condition")
    maybe = unit.raw.get(_MAYBE)
    if isinstance(raw, Unknown):
        return _unit_from(unit, Verdict.UNKNOWN, (raw.reason,), "condition")
    text = "succeeded()" if raw is None else str(raw)
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    try:
        node = _parse(text, github=False)
    except ExpressionError as error:
        return _unit_from(
            unit,
            Verdict.UNKNOWN,
            (f"`condition` is not valid: {error}",),
            "condition",
        )

    def dependencies(all_succeed: bool) -> _Obj:
        return _Obj(
            {
                d: _Obj(
                    {
                        "result": "Succeeded"
                        if all_succeed
                        else _az_result(direct[d])
                    },
                    _run_time(f"dependencies.{d}"),
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
        ctx["variables"] = _LazyVars(runtime, lambda: ctx)
        return ctx

    evaluator = _Evaluator(
        contexts(), github=False, status=_Status(results, direct)
    )
    try:
        value = evaluator.eval(node)
    except ExpressionError as error:
        return _unit_from(
            unit,
            Verdict.UNKNOWN,
            (f"`condition` cannot be evaluated: {error}",),
            "condition",
        )
    verdict, unknown_reason = _decide(value)
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
                else f"`condition: {_short(raw)}` is true",
            ),
            "",
        )
    if verdict is Verdict.UNKNOWN:
        return _unit_from(unit, verdict, (unknown_reason,), "condition")
    skipped = [
        a for a in ancestors if a in done and done[a].verdict is Verdict.SKIP
    ]
    if skipped:
        optimistic = _Evaluator(
            contexts(all_succeed=True),
            github=False,
            status=_Status(
                {a: frozenset({"success"}) for a in ancestors},
                {d: frozenset({"success"}) for d in unit.depends},
            ),
        )
        if _decide(optimistic.eval(node))[0] is not Verdict.SKIP:
            root = _root_skip(skipped, done)
            chain = _chain(graph, unit.id, root)
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
                    + _az_skip_rule(raw, _calls(node)),
                    *done[root].reasons,
                ),
                "needs",
                root,
            )
    return _unit_from(
        unit,
        Verdict.SKIP,
        (
            f"`condition: {_short(text)}` is false"
            + _values_note(evaluator, node),
        ),
        "condition",
    )


def _az_skip_rule(raw: Any, calls: set[str]) -> str:
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


class _LazyVars(_Obj):
    """``variables`` in a run-time condition (``$[ ]`` values evaluate on
    demand, with the same contexts)."""

    def __init__(
        self, runtime: _Variables, ctx: Callable[[], Mapping[str, Any]]
    ) -> None:
        super().__init__({}, lambda key: None)
        self.runtime = runtime
        self.ctx = ctx

    def get(self, key: str) -> Any:
        return self.runtime.lookup(key, self.ctx)


# --------------------------------------------------------------------------
# Public functions


def load(path: Path | str) -> Any:
    """A workflow or pipeline file as plain data (``on`` stays a string),
    read as every file a pull request may change is: bounded in size,
    nesting and alias expansion (an included template too)."""
    path = Path(path)
    data, _ = yamlio.load_untrusted(yamlio.read_bounded(path), path)
    return data


def plan(
    data: Mapping,
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
        return _plan_github(data, event, variables, failed, assume_triggered)
    if provider == "azure":
        return _plan_azure(
            data,
            event,
            variables,
            failed,
            assume_triggered,
            (
                Path(root)
                if root is not None
                else (Path(source).parent if source is not None else None)
            ),
            None if source is None else Path(source).parent,
        )
    raise ValueError(f"unknown provider {provider!r} (github or azure)")


def unreachable_deployments(
    data: Mapping,
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
    data: Mapping, provider: str, unit: Unit
) -> tuple[str | int, ...]:
    """Where ``unit`` is written in the planned file, if it is there."""
    if provider == "github":
        return ("jobs", unit.id)

    def index(items: Any, keys: tuple[str, ...], name: str) -> int | None:
        for position, item in enumerate(_as_list(items)):
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
        jobs = _mapping(_as_list(data.get("stages"))[stage]).get("jobs")
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
    above = _ancestors(graph, owner.id)
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
        node = _parse(text or "true", github=github)
    except ExpressionError:
        return set()
    status = _STATUS_FUNCTIONS_GH if github else _STATUS_FUNCTIONS_AZ
    return _calls(node) & status


def _strip_gh(condition: str | None) -> str | None:
    if condition is None:
        return None
    text, _ = _gh_condition(condition)
    return " ".join(text.split()) if text else None


# --------------------------------------------------------------------------
# Run time: the same engine with concrete contexts (the local runner)


def context(values: Mapping[str, Any], missing: Any = None) -> Any:
    """A context object (case-insensitive keys, as both services read
    them); a missing key gives ``missing``."""
    return _Obj(values, lambda _: missing)


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
        status = _Status(ancestors=sets, direct=sets)
    evaluator = _Evaluator(contexts, github, status, functions)
    return _concrete(evaluator.eval(_parse(text, github)), text)


def interpolate(
    text: str,
    contexts: Mapping[str, Any],
    *,
    github: bool,
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """``text`` with each ``${{ }}`` replaced by its value as a string (a
    value alone keeps its type, as both services do)."""
    evaluator = _Evaluator(contexts, github, None, functions)
    whole = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", text, re.DOTALL)
    if whole and "${{" not in whole.group(1):
        return _concrete(evaluator.eval(_parse(whole.group(1), github)), text)
    parts: list[str] = []
    last = 0
    for match in _TEMPLATE_EXPR.finditer(text):
        parts.append(text[last : match.start()])
        value = evaluator.eval(_parse(match.group(1), github))
        parts.append(evaluator.to_str(_concrete(value, match.group(1))))
        last = match.end()
    parts.append(text[last:])
    return "".join(parts)


def to_text(value: Any, *, github: bool) -> str:
    """A value as the service writes it into a string."""
    return _Evaluator({}, github).to_str(value)


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
    if github:
        text, literal = _gh_condition(raw)
        if text is None:
            node: tuple = ("lit", True if raw is None else literal)
        else:
            node = _parse(text, github=True)
        status_names = _STATUS_FUNCTIONS_GH
        implicit: tuple = ("call", "success", [])
    else:
        if isinstance(raw, bool):
            raw = "true" if raw else "false"
        text = "succeeded()" if raw is None else str(raw)
        node = _parse(text, github=False)
        status_names = _STATUS_FUNCTIONS_AZ
        implicit = ("call", "succeeded", [])
    if not (_calls(node) & status_names):
        node = ("and", implicit, node)
    sets = {k: frozenset({v}) for k, v in results.items()}
    evaluator = _Evaluator(
        contexts, github, _Status(ancestors=sets, direct=sets), functions
    )
    value = _concrete(evaluator.eval(node), str(raw))
    return bool(evaluator.truthy(value))


def github_context(
    data: Mapping, event: Event, extra: Mapping[str, Any]
) -> Any:
    """The ``github`` context of a run: the planner's (event name, refs,
    payload, inputs) with ``extra`` run-time fields; other fields are
    null, as an absent field is on the service."""
    planned = _gh_contexts(data, event, {})["github"]
    values = dict(planned.values)
    payload = values.get("event")
    if isinstance(payload, _Obj):
        values["event"] = _Obj(payload.values, lambda _: None)
    values.update({k.lower(): v for k, v in extra.items()})
    return _Obj(values, lambda _: None)


def workflow_inputs(data: Mapping, event: Event) -> dict[str, Any]:
    """The ``inputs`` of a workflow_dispatch (or workflow_call) run: the
    declared defaults, typed, overridden by ``event.inputs``."""
    kind = (
        "workflow_call"
        if event.kind == "workflow_call"
        else ("workflow_dispatch")
    )
    return _gh_inputs(data, event, kind)
