"""Reading YAML: fast loading with line numbers for checks, and one
configured round-trip ruamel.yaml instance for edits that keep comments.

Workflows are read the way GitHub reads them for our purposes: ``on`` stays
the string key "on" (only true/false are booleans, as in YAML 1.2).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import MalformedFileError

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BASE):  # type: ignore[misc, valid-type]
    """SafeLoader (C when available) with YAML 1.2 booleans."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:bool"
    ]
    for first, resolvers in _BASE.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list(_first),
    )

Lines = dict[tuple, int]


def load_plain(text: Any) -> Any:
    """YAML as ``yaml.safe_load`` reads it (YAML 1.1, as Copier reads
    ``copier.yml`` and typed answers), with the C loader when available."""
    return yaml.load(text, Loader=_BASE)


def malformed_yaml(
    path: Path | str, error: Exception, *, hint: str = ""
) -> MalformedFileError:
    """The one translation of a YAML syntax error (PyYAML's or ruamel's) into
    a MalformedFileError: the problem, and the line where an unclosed
    bracket or quote opened, else where reading failed."""
    mark = getattr(error, "context_mark", None) or getattr(
        error, "problem_mark", None
    )
    problem = (
        getattr(error, "problem", None)
        or getattr(error, "context", None)
        or str(error)
    )
    return MalformedFileError(
        path,
        f"is not valid YAML: {problem}",
        line=mark.line + 1 if mark else None,
        hint=hint,
    )


def _line_map(node, path: tuple, lines: Lines) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                child = (*path, key.value)
                lines[child] = key.start_mark.line + 1
                _line_map(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), lines)


def load_with_lines(text: str, source: Path | str) -> tuple[Any, Lines]:
    """The document's data and the line of every mapping key / list item,
    keyed by their path. Malformed YAML is a MalformedFileError with the
    line."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as error:
        raise malformed_yaml(source, error) from error
    finally:
        loader.dispose()
    lines: Lines = {}
    if node is not None:
        _line_map(node, (), lines)
    return data, lines


def line_of(lines: Lines, path: tuple) -> int:
    """The line of ``path``, or of its nearest ancestor that has one."""
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def round_trip():
    """The one ruamel.yaml configuration for edits: YAML 1.2 (so `on` stays
    a key), our templates' indentation, no line wrapping, quotes kept."""
    from ruamel.yaml import YAML

    instance = YAML(typ="rt")
    instance.version = None
    instance.indent(mapping=2, sequence=4, offset=2)
    instance.width = 4096
    instance.preserve_quotes = True
    return instance
