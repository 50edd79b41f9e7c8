"""Evaluation: one evaluator for both providers, three-valued (a value that
cannot be known offline is ``Unknown``). What differs between GitHub and
Azure (functions, status functions, coercions, the default condition,
triggers) is a ``Provider`` object (``github.GITHUB``, ``azure.AZURE``): to
change how one provider treats ``always()`` you edit its table.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .expressions import (
    And,
    Call,
    Cmp,
    Ctx,
    Lit,
    Node,
    Not,
    Or,
    Prop,
    Star,
    reference_name,
    references,
)
from .types import (
    ContextObject,
    Event,
    ExpressionError,
    Unknown,
    Verdict,
    first_unknown,
)

Function = Callable[..., Any]
"""An expression function: the evaluator, then the evaluated arguments
(never Unknown: the evaluator answers for those)."""
LazyFunction = Callable[["Evaluator", Sequence[Node]], Any]
"""A function that evaluates its own arguments (Azure's short-circuiting
``and``/``or``, ``coalesce``)."""


@dataclass(frozen=True)
class Provider:
    """What one CI service's expressions and plans do their own way, in one
    place: its function tables, its status check functions and the one a
    condition without any gets, how it writes booleans as text, its
    comparison operators and its triggers."""

    name: str
    #: GitHub writes ``a == b && c``; Azure only calls (``and(eq(a, b), c)``).
    infix: bool
    #: The status check functions (lower case).
    status_functions: frozenset[str]
    #: The status check a condition that calls none is and-ed with
    #: (GitHub's implicit ``success()``, Azure's default ``succeeded()``).
    default_status: str
    functions: Mapping[str, Function]
    lazy_functions: Mapping[str, LazyFunction]
    #: How ``False`` and ``True`` read when converted to a string.
    booleans: tuple[str, str]
    #: ``==``, ``!=``, ``<``, ... on two known values (None: no operators).
    compare: Callable[[str, Any, Any], Any] | None
    #: Whether the file's triggers fire for an event, and why.
    trigger: Callable[[Mapping[Any, Any], Event], tuple[Verdict, str]]

    @property
    def default_condition(self) -> Node:
        """The status check a condition without one gets, as a node."""
        return Call(self.default_status, ())


@dataclass
class Status:
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


class Evaluator:
    """Evaluates a parsed expression against contexts, with ``provider``'s
    functions and coercion rules."""

    def __init__(
        self,
        contexts: Mapping[str, Any],
        provider: Provider,
        status: Status | None = None,
        functions: Mapping[str, Function] | None = None,
    ) -> None:
        self.contexts = contexts
        self.provider = provider
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
            return self.provider.booleans[1 if value else 0]
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else repr(value)
        if isinstance(value, (list, ContextObject, dict)):
            return "Array" if isinstance(value, list) else "Object"
        return str(value)

    # evaluation ------------------------------------------------------
    def eval(self, node: Node) -> Any:
        match node:
            case Lit(value):
                return value
            case Ctx(name):
                if name in self.contexts:
                    return self.contexts[name]
                return Unknown(f"`{name}` is not available here")
            case Prop(base, key):
                return self.prop(self.eval(base), self.eval(key))
            case Star(base):
                return self.star(self.eval(base))
            case Not(operand):
                value = self.truthy(self.eval(operand))
                return value if isinstance(value, Unknown) else not value
            case And(left_node, right_node) | Or(left_node, right_node):
                # The value that decides without the right side: false for
                # `&&`, true for `||` (the result is the deciding operand).
                decides = isinstance(node, Or)
                left = self.eval(left_node)
                known = self.truthy(left)
                if known is decides:
                    return left
                right = self.eval(right_node)
                if known is (not decides):
                    return right
                if self.truthy(right) is decides:
                    return Unknown(left.reason, truthy=decides)
                return left
            case Cmp(op, left_node, right_node):
                return self.compare(
                    op, self.eval(left_node), self.eval(right_node)
                )
            case Call(name, args):
                return self.call(name, args)
        raise ExpressionError(f"unknown node {node!r}")

    def star(self, base: Any) -> Any:
        if isinstance(base, Unknown):
            return base
        if isinstance(base, ContextObject):
            return base.items()
        if isinstance(base, list):
            return list(base)
        return []

    def prop(self, base: Any, key: Any) -> Any:
        if isinstance(base, Unknown):
            return base
        if isinstance(key, Unknown):
            return key
        if isinstance(base, ContextObject):
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
        unknown = first_unknown((left, right))
        if unknown:
            return Unknown(unknown.reason)
        if self.provider.compare is None:
            raise ExpressionError(f"{self.provider.name} has no `{op}`")
        return self.provider.compare(op, left, right)

    # functions -------------------------------------------------------
    def call(self, name: str, arg_nodes: Sequence[Node]) -> Any:
        if name in self.provider.status_functions:
            return self.status_call(name, arg_nodes)
        lazy = self.provider.lazy_functions.get(name)
        if lazy is not None:
            return lazy(self, arg_nodes)
        args = [self.eval(node) for node in arg_nodes]
        unknown = first_unknown(args) or first_unknown(
            item for arg in args if isinstance(arg, list) for item in arg
        )
        if unknown:
            return Unknown(unknown.reason)
        function = self.functions.get(name) or self.provider.functions.get(name)
        if function is None:
            return Unknown(f"function `{name}` is not modelled")
        return function(self, *args)

    def status_call(self, name: str, arg_nodes: Sequence[Node]) -> Any:
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


def decide(value: Any) -> tuple[Verdict, str]:
    """A condition's value as a verdict (and why, when unknown)."""
    if isinstance(value, Unknown):
        if value.truthy is not None:
            return (Verdict.RUN if value.truthy else Verdict.SKIP), ""
        return Verdict.UNKNOWN, value.reason
    return (Verdict.RUN if value else Verdict.SKIP), ""


def format_text(ev: Evaluator, template: Any, *args: Any) -> str:
    """``format()`` of both providers: ``{0}`` placeholders, ``{{`` and
    ``}}`` for braces."""
    text = ev.to_str(template)

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        index = int(match.group(1))
        if index >= len(args):
            raise ExpressionError(f"format: no argument {index}")
        return ev.to_str(args[index])

    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, text)


def values_note(evaluator: Evaluator, node: Node) -> str:
    """`` (vars.X = '', github.ref = 'refs/heads/main')``: what the
    condition saw."""
    parts = []
    for ref in references(node)[:6]:
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
        parts.append(f"{reference_name(ref)} = {shown}")
    return f" ({', '.join(parts)})" if parts else ""
