"""The expression language of both providers: one tokenizer and one
recursive-descent parser (GitHub's infix syntax; Azure's function calls are
its ``primary`` part), and the walks over the parsed nodes.

A node is one of nine typed, immutable classes: ``Lit`` (a literal),
``Ctx`` (a named context), ``Prop`` (``base.key`` / ``base[key]``), ``Star``
(``base.*``), ``Not``, ``And``, ``Or``, ``Cmp`` (``==`` ... ``>=``) and
``Call`` (a function call); ``Node`` is their union, for ``match``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeAlias

from .types import ExpressionError


@dataclass(frozen=True, slots=True)
class Lit:
    value: Any


@dataclass(frozen=True, slots=True)
class Ctx:
    name: str


@dataclass(frozen=True, slots=True)
class Prop:
    base: Node
    key: Node


@dataclass(frozen=True, slots=True)
class Star:
    base: Node


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Or:
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Cmp:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node: TypeAlias = Lit | Ctx | Prop | Star | Not | And | Or | Cmp | Call


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly inside ``node``, in reading order."""
    match node:
        case Prop(base, key):
            return (base, key)
        case Star(base):
            return (base,)
        case Not(operand):
            return (operand,)
        case And(left, right) | Or(left, right) | Cmp(_, left, right):
            return (left, right)
        case Call(_, args):
            return args
    return ()


def walk(node: Node) -> list[Node]:
    """``node`` and every node inside it, outermost first."""
    found: list[Node] = []
    stack = [node]
    while stack:
        item = stack.pop()
        found.append(item)
        stack.extend(reversed(children(item)))
    return found


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

    def parse(self) -> Node:
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

    def expr(self) -> Node:
        if not self.infix:
            return self.postfix()
        return self.or_()

    def or_(self) -> Node:
        node = self.and_()
        while self.accept("||"):
            node = Or(node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.eq()
        while self.accept("&&"):
            node = And(node, self.eq())
        return node

    def eq(self) -> Node:
        node = self.rel()
        while True:
            token = self.peek()
            if token and token[1] in ("==", "!="):
                self.pos += 1
                node = Cmp(token[1], node, self.rel())
            else:
                return node

    def rel(self) -> Node:
        node = self.unary()
        while True:
            token = self.peek()
            if token and token[1] in ("<", "<=", ">", ">="):
                self.pos += 1
                node = Cmp(token[1], node, self.unary())
            else:
                return node

    def unary(self) -> Node:
        if self.accept("!"):
            return Not(self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                token = self.take()
                if token[1] == "*":
                    node = Star(node)
                elif token[0] in ("name", "num"):
                    node = Prop(node, Lit(token[1]))
                else:
                    raise ExpressionError(f"bad property in {self.text!r}")
            elif self.accept("["):
                if self.accept("*"):
                    node = Star(node)
                else:
                    node = Prop(node, self.expr())
                self.take("]")
            else:
                return node

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "str":
            return Lit(value[1:-1].replace("''", "'"))
        if kind == "num":
            return Lit(_number_literal(value))
        if kind == "op" and value == "(" and self.infix:
            node = self.expr()
            self.take(")")
            return node
        if kind != "name":
            raise ExpressionError(f"unexpected {value!r} in {self.text!r}")
        lowered = value.lower()
        if self.accept("("):
            args: list[Node] = []
            if not self.accept(")"):
                args.append(self.expr())
                while self.accept(","):
                    args.append(self.expr())
                self.take(")")
            return Call(lowered, tuple(args))
        if lowered in ("true", "false"):
            if self.infix and value != lowered:
                raise ExpressionError(f"{value!r} is not a literal")
            return Lit(lowered == "true")
        if lowered == "null":
            return Lit(None)
        return Ctx(lowered)


def _number_literal(text: str) -> Any:
    if text.count(".") >= 2:
        return text  # an Azure version literal, compared as text
    if text.lower().startswith(("0x", "-0x")):
        return float(int(text, 16))
    return float(text)


def references(node: Node) -> list[Node]:
    """The context lookups in ``node`` with literal keys (``vars.X``,
    ``variables['Build.SourceBranch']``), outermost first, each once."""
    found: list[Node] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Prop) and reference_name(item):
            if item not in found:
                found.append(item)
            continue
        stack.extend(reversed(children(item)))
    return found


def reference_name(node: Node) -> str | None:
    match node:
        case Ctx(name):
            return name
        case Prop(base, Lit(key)):
            prefix = reference_name(base)
            if prefix is not None:
                return f"{prefix}.{key}"
    return None


def calls(node: Node) -> set[str]:
    """Names of all functions called in ``node``."""
    return {item.name for item in walk(node) if isinstance(item, Call)}


_MAX_EXPRESSION = 21_000  # GitHub's limit on an expression's length


def parse(text: str, github: bool) -> Node:
    if len(text) > _MAX_EXPRESSION:
        raise ExpressionError("the expression is too long")
    try:
        return _Parser(text, infix=github).parse()
    except RecursionError as error:
        raise ExpressionError("the expression is nested too deeply") from error
