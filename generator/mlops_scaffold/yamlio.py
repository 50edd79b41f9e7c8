"""Reading YAML: fast loading with line numbers for checks, and one
configured round-trip ruamel.yaml instance for edits that keep comments.

Workflows are read the way GitHub reads them for our purposes: ``on`` stays
the string key "on" (only true/false are booleans, as in YAML 1.2).
"""

from __future__ import annotations

import os
import re
import stat
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


# ------------------------------------------------- untrusted pipeline files
# A pull-request author controls the pipeline files `check` and `review`
# read in CI: bound what one file may cost before anything walks it.
MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 200_000  # after alias expansion


class NotRegularFileError(MalformedFileError):
    """A path that is a FIFO, device, socket or folder: never read (a read
    could block forever or never end)."""


def read_bounded(
    path: Path | str, limit: int = MAX_BYTES, *, hint: str = ""
) -> bytes:
    """The bytes of a regular file, at most ``limit``: the one reader for
    every file a user or a pull request hands the tool (pipelines, settings,
    ``--data-file``, ``.copier-answers.yml``). The file is opened without
    blocking and checked on the opened descriptor, so a FIFO or a device
    such as /dev/zero swapped in after a ``stat`` is never read, and no more
    than ``limit + 1`` bytes are. Every failure is a MalformedFileError
    naming the file (NotRegularFileError for a FIFO, device or folder)."""

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    flags |= getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise MalformedFileError(
            path, f"cannot be read: {error.strerror}", hint=hint
        ) from error
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(
                path,
                "is not a regular file (a FIFO, device, socket or folder); "
                "not read",
                hint=hint,
            )
        if info.st_size > limit:
            raise _too_big(path, info.st_size, limit, hint)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise MalformedFileError(
            path, f"cannot be read: {error.strerror}", hint=hint
        ) from error
    finally:
        os.close(descriptor)
    if size > limit:
        raise _too_big(path, size, limit, hint)
    return b"".join(chunks)


def _too_big(
    path: Path | str, size: int, limit: int, hint: str = ""
) -> MalformedFileError:
    return MalformedFileError(
        path,
        f"is {size:,} bytes or more, over the {limit:,}-byte limit for "
        "a file mlops-scaffold reads",
        hint=hint,
    )


def decode_untrusted(raw: bytes, source: Path | str) -> str:
    """Bytes as text: UTF-8 (a BOM allowed), at most ``MAX_BYTES``."""
    if len(raw) > MAX_BYTES:
        raise MalformedFileError(
            source,
            f"is {len(raw):,} bytes, over the {MAX_BYTES:,}-byte limit for "
            "a pipeline file",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise MalformedFileError(
            source,
            f"is not UTF-8 text (byte {error.start}); save it as UTF-8",
            line=line,
        ) from None


def _bounded(node, source: Path | str) -> None:
    """Refuse recursive aliases, nesting deeper than MAX_DEPTH and documents
    whose aliases expand to more than MAX_NODES nodes (alias bombs), without
    expanding anything: the expanded size of each node is counted once."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack = [(node, 1, False)]
    while stack:
        current, depth, done = stack.pop()
        key = id(current)
        children = _children(current)
        if done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in children)
            if size > MAX_NODES:
                raise MalformedFileError(
                    source,
                    f"expands to more than {MAX_NODES:,} values through "
                    "YAML aliases (&anchor / *alias); write the values out",
                    line=current.start_mark.line + 1,
                )
            sizes[key] = size
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise MalformedFileError(
                source,
                "has a YAML alias that contains itself; remove the "
                "recursive *alias",
                line=current.start_mark.line + 1,
            )
        if depth > MAX_DEPTH:
            raise MalformedFileError(
                source,
                f"nests deeper than {MAX_DEPTH} levels; flatten it",
                line=current.start_mark.line + 1,
            )
        on_path.add(key)
        stack.append((current, depth, True))
        for child in children:
            if id(child) in on_path:
                raise MalformedFileError(
                    source,
                    "has a YAML alias that contains itself; remove the "
                    "recursive *alias",
                    line=child.start_mark.line + 1,
                )
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def _children(node) -> list:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def load_untrusted(
    raw: bytes | str, source: Path | str, *, yaml11: bool = False
) -> tuple[Any, Lines]:
    """Like ``load_with_lines`` for a file a stranger may have written:
    bounded size, nesting and alias expansion; a MalformedFileError (with
    the line) for anything over a bound, never a RecursionError or an
    exhausted memory. ``yaml11`` reads booleans as ``load_plain`` (and
    Copier) do."""
    text = decode_untrusted(raw, source) if isinstance(raw, bytes) else raw
    if len(text) > MAX_BYTES:
        raise MalformedFileError(
            source, f"is over the {MAX_BYTES:,}-byte limit for a pipeline file"
        )
    loader = (_BASE if yaml11 else _Loader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: Lines = {}
        if _line_map_bounded(node, lines, source):
            _bounded(node, source)  # aliases: count what they expand to
        data = loader.construct_document(node)
    except yaml.YAMLError as error:
        mark = getattr(error, "context_mark", None) or getattr(
            error, "problem_mark", None
        )
        problem = getattr(error, "problem", None) or str(error)
        raise MalformedFileError(
            source,
            f"is not valid YAML: {problem}",
            line=mark.line + 1 if mark else None,
        ) from None
    except (RecursionError, MemoryError):
        raise MalformedFileError(
            source, f"nests deeper than {MAX_DEPTH} levels; flatten it"
        ) from None
    finally:
        loader.dispose()
    return data, lines


def _line_map_bounded(node, lines: Lines, source: Path | str) -> bool:
    """The line of every key and item, iteratively, refusing nesting deeper
    than MAX_DEPTH; an aliased node is mapped once (at its first place), so
    the map stays the document's size. True when a node is shared (the
    document uses aliases)."""
    seen: set[int] = set()
    shared = False
    stack: list[tuple[Any, tuple[Any, ...]]] = [(node, ())]
    while stack:
        current, path = stack.pop()
        lines.setdefault(path, current.start_mark.line + 1)
        if id(current) in seen:
            shared = True
            continue
        if len(path) >= MAX_DEPTH:
            raise MalformedFileError(
                source,
                f"nests deeper than {MAX_DEPTH} levels; flatten it",
                line=current.start_mark.line + 1,
            )
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                if isinstance(key, yaml.ScalarNode):
                    child = (*path, key.value)
                    lines.setdefault(child, key.start_mark.line + 1)
                    stack.append((value, child))
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                stack.append((item, (*path, index)))
    return shared


def anchors_and_merge_keys(text: str) -> tuple[int | None, int | None]:
    """The first line with an anchor or alias, and the first with a merge
    key (``<<:``), or None: Azure Pipelines refuses anchors ("Anchors are
    not currently supported"); GitHub Actions takes anchors and aliases but
    not merge keys. Read from YAML's tokens, so text in strings and
    comments does not count. Call on text that already parsed."""
    anchor = merge = None
    previous_is_key = False
    try:
        for token in yaml.scan(text, Loader=_BASE):
            if anchor is None and isinstance(
                token, (yaml.AnchorToken, yaml.AliasToken)
            ):
                anchor = token.start_mark.line + 1
            if (
                merge is None
                and previous_is_key
                and isinstance(token, yaml.ScalarToken)
                and token.plain
                and token.value == "<<"
            ):
                merge = token.start_mark.line + 1
            previous_is_key = isinstance(token, yaml.KeyToken)
            if anchor is not None and merge is not None:
                break
    except yaml.YAMLError:
        pass  # the loader has reported it
    return anchor, merge


def duplicate_key(text: str) -> tuple[int, str] | None:
    """The line and name of the first key written twice in one mapping,
    or None. YAML requires unique keys, and both GitHub Actions and Azure
    Pipelines refuse the file ("'x' is already defined"), where PyYAML
    silently keeps the last value. Read from YAML's tokens; call on text
    that already parsed."""
    frames: list[set[str] | None] = []
    after_key = False
    try:
        for token in yaml.scan(text, Loader=_BASE):
            if isinstance(
                token, (yaml.BlockMappingStartToken, yaml.FlowMappingStartToken)
            ):
                frames.append(set())
            elif isinstance(
                token,
                (yaml.BlockSequenceStartToken, yaml.FlowSequenceStartToken),
            ):
                frames.append(None)
            elif isinstance(
                token,
                (
                    yaml.BlockEndToken,
                    yaml.FlowMappingEndToken,
                    yaml.FlowSequenceEndToken,
                ),
            ):
                if frames:
                    frames.pop()
            elif (
                after_key
                and isinstance(token, yaml.ScalarToken)
                and frames
                and frames[-1] is not None
            ):
                keys = frames[-1]
                if token.value in keys:
                    return token.start_mark.line + 1, token.value
                keys.add(token.value)
            after_key = isinstance(token, yaml.KeyToken)
    except yaml.YAMLError:
        pass  # the loader has reported it
    return None
