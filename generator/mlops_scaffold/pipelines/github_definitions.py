"""GitHub's own definition of a workflow file, as its parser loads it
(actions/languageservices ``workflow-parser/src/templates/schema/*.ts``):
``data/github-workflow-v1.0.json``, read by ``github_schema``.

It is a template schema, not a JSON Schema. Each definition is one of a
``mapping`` (``properties``, each a type name maybe ``required``;
``loose-key-type`` and ``loose-value-type`` for any other key), a
``sequence`` (``item-type``), a ``one-of`` (names), ``allowed-values``
(a one-of of string constants), a ``string`` (``constant``,
``ignore-case``, ``require-non-empty``), ``boolean``, ``number`` or
``null``; any of them may name a ``context``: what an expression there may
use (named values such as ``matrix``, functions such as
``hashFiles(1,255)`` with their argument counts). A place's context is its
definition's added to the context of every definition it is nested in.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_FILE = Path(__file__).with_name("data") / "github-workflow-v1.0.json"
#: workflow-parser/src/workflows/workflow-constants.ts WORKFLOW_ROOT.
ROOT = "workflow-root-strict"
#: expressions/src/funcs.ts wellKnownFunctions: allowed everywhere, with
#: their (fewest, most) arguments.
WELL_KNOWN_FUNCTIONS = {
    "case": (3, 2**53), "contains": (2, 2), "endswith": (2, 2),
    "format": (1, 255), "fromjson": (1, 1), "join": (1, 2),
    "startswith": (2, 2), "tojson": (1, 1),
}  # fmt: skip
_FUNCTION = re.compile(r"^([a-zA-Z0-9_]+)\(([0-9]+),([0-9]+|MAX)\)$")


@dataclass
class Definition:
    """One definition (template-schema.ts' definition classes in one)."""

    kind: str  # null, boolean, number, string, sequence, mapping, one-of
    context: tuple[str, ...] = ()
    constant: str = ""
    ignore_case: bool = False
    non_empty: bool = False
    item_type: str = ""
    #: property -> (type, required)
    properties: dict[str, tuple[str, bool]] = field(default_factory=dict)
    loose_key: str = ""
    loose_value: str = ""
    one_of: tuple[str, ...] = ()

    def takes(self, value: Any) -> bool:
        """ScalarDefinition.isMatch: the scalar as YAML typed it."""
        if self.kind == "null":
            return value is None
        if self.kind == "boolean":
            return isinstance(value, bool)
        if self.kind == "number":
            return isinstance(value, (int, float)) and not isinstance(
                value, bool
            )
        if self.kind != "string" or not isinstance(value, str):
            return False
        if self.constant and self.ignore_case:
            return self.constant.upper() == value.upper()
        if self.constant:
            return self.constant == value
        return bool(value) or not self.non_empty


class Schema:
    """The definitions by name, with the reader's built-in ones."""

    def __init__(self, raw: dict[str, Any]) -> None:
        scalars = ("null", "boolean", "number", "string")
        self.definitions = {name: Definition(name) for name in scalars}
        self.definitions["sequence"] = Definition("sequence", item_type="any")
        self.definitions["mapping"] = Definition(
            "mapping", loose_key="string", loose_value="any"
        )
        self.definitions["any"] = Definition(
            "one-of", one_of=(*scalars, "sequence", "mapping")
        )
        for name, body in raw["definitions"].items():
            self.definitions[name] = self._read(name, body)
        # An upstream slip: `repository-dispatch-string` is the constant
        # "branch_protection_rule", which refuses `on: repository_dispatch`
        # (documented, and accepted by GitHub).
        slip = self.definitions.get("repository-dispatch-string")
        if slip is not None and slip.constant == "branch_protection_rule":
            slip.constant = "repository_dispatch"

    def _read(self, name: str, body: dict[str, Any]) -> Definition:
        context = tuple(body.get("context", ()))
        # The first key but `context` and `description` says the kind.
        kind = next(k for k in body if k not in ("context", "description"))
        spec = body[kind]
        if kind == "allowed-values":
            for value in spec:
                self.definitions[f"{name}-{value}"] = Definition(
                    "string", constant=value
                )
            members = tuple(f"{name}-{value}" for value in spec)
            return Definition("one-of", context, one_of=members)
        if kind == "one-of":
            return Definition(kind, context, one_of=tuple(spec))
        if kind == "sequence":
            return Definition(kind, context, item_type=spec["item-type"])
        if kind == "mapping":
            properties = {
                key: (value, False)
                if isinstance(value, str)
                else (value["type"], bool(value.get("required")))
                for key, value in spec.get("properties", {}).items()
            }
            return Definition(
                kind,
                context,
                properties=properties,
                loose_key=spec.get("loose-key-type", ""),
                loose_value=spec.get("loose-value-type", ""),
            )
        return Definition(
            kind,
            context,
            constant=spec.get("constant", ""),
            ignore_case=bool(spec.get("ignore-case")),
            non_empty=bool(spec.get("require-non-empty")),
        )

    def scalars(self, name: str) -> list[Definition]:
        """getScalarDefinitions: nested one-ofs expanded."""
        definition = self.definitions[name]
        if definition.kind == "one-of":
            return [s for n in definition.one_of for s in self.scalars(n)]
        if definition.kind in ("sequence", "mapping"):
            return []
        return [definition]

    def of_kind(self, name: str, kind: str) -> list[Definition]:
        """getDefinitionsOfType: the definition, or its one-of members
        (one level down), of ``kind``."""
        definition = self.definitions[name]
        if definition.kind == kind:
            return [definition]
        if definition.kind != "one-of":
            return []
        members = (self.definitions[n] for n in definition.one_of)
        return [m for m in members if m.kind == kind]


@functools.cache
def schema() -> Schema:
    return Schema(json.loads(_FILE.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Place:
    """DefinitionInfo: a definition, and the context allowed there."""

    name: str
    context: tuple[str, ...] = ()

    def enter(self, name: str) -> Place:
        """The place of a definition nested in this one."""
        return _enter(self, name)

    @property
    def definition(self) -> Definition:
        return schema().definitions[self.name]

    def names(self) -> set[str]:
        return {c.lower() for c in self.context if not _FUNCTION.match(c)}

    def functions(self) -> dict[str, tuple[int, int]]:
        return {**WELL_KNOWN_FUNCTIONS, **_functions(self.context)}

    def shown(self) -> str:
        """The context in words: ``github, matrix, hashFiles()``."""
        return ", ".join(re.sub(r"\(.*", "()", c) for c in self.context)


@functools.cache
def _enter(outer: Place, name: str) -> Place:
    own = schema().definitions[name].context
    seen = {c.upper() for c in outer.context}
    return Place(
        name, outer.context + tuple(c for c in own if c.upper() not in seen)
    )


def _functions(context: tuple[str, ...]) -> dict[str, tuple[int, int]]:
    found = {}
    for item in context:
        match = _FUNCTION.match(item)
        if match:
            most = 2**53 if match[3] == "MAX" else int(match[3])
            found[match[1].lower()] = (int(match[2]), most)
    return found


@functools.cache
def everywhere() -> tuple[frozenset[str], dict[str, str]]:
    """The named values and functions (lower case -> as spelt) some place
    allows: what GitHub has at all (others are MS212's "unknown")."""
    every = tuple(c for d in schema().definitions.values() for c in d.context)
    functions = {m[1].lower(): m[1] for m in map(_FUNCTION.match, every) if m}
    return frozenset(Place("any", every).names()), functions


def expected(place: Place) -> str:
    """What the place takes, in words."""
    known = schema()
    scalars = known.scalars(place.name)
    words: list[str] = []
    texts = [s for s in scalars if s.kind == "string" and not s.constant]
    if texts:
        every = all(s.non_empty for s in texts)
        words.append("a non-empty string" if every else "a string")
    constants = [f"`{s.constant}`" for s in scalars if s.constant]
    if constants:
        more = ", ..." if len(constants) > 8 else ""
        words.append(f"one of {', '.join(constants[:8])}{more}")
    for kind, word in (
        ("number", "a number"),
        ("boolean", "true or false"),
        ("null", "empty"),
    ):
        if any(s.kind == kind for s in scalars):
            words.append(word)
    if known.of_kind(place.name, "sequence"):
        words.append("a list")
    if known.of_kind(place.name, "mapping"):
        words.append("a mapping")
    if place.context:
        words.append("an expression")
    if len(words) < 2:
        return "".join(words) or "nothing"
    return f"{', '.join(words[:-1])} or {words[-1]}"
