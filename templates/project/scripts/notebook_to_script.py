"""Notebooks to production scripts.

    notebook_to_script.py NOTEBOOK... [-o OUTPUT] [--check]

Converts Jupyter notebooks into Python modules for review and reuse:

- outputs are dropped; cells tagged ``skip`` and raw cells are left out;
- IPython syntax is read by IPython's own rules (its ``TransformerManager``:
  cell and line magics, shell escapes with their continuation lines, ``?``
  help). What IPython would run is never run by the script: a magic or a
  shell escape becomes a comment (its value, where one is assigned, becomes
  ``None``), and a warning lists them. ``%time`` and ``%%time`` run their
  code, as IPython does; ``display()`` prints, as it does outside IPython;
- the cell tagged ``parameters`` becomes module-level constants at the top;
- markdown becomes comments; imports, functions and classes stay at module
  level; every other top-level statement moves into ``main()`` (renamed when
  the notebook defines its own ``main``), which runs under
  ``if __name__ == "__main__":``, through ``asyncio.run`` when the notebook
  awaits at top level. Names the notebook assigns stay module globals;
- a cell that is not valid Python (also for IPython: ``yield`` or
  ``return`` outside a function) is refused, naming the cell and the line;
  the module is compiled before anything is written;
- the module starts with a header naming the notebook, is formatted with
  ruff at 80 columns, and is deterministic: the same notebook gives the
  same bytes. An existing file without that header is never overwritten;
  several scripts are written all or nothing, created as a plain open()
  creates a file (the umask decides; a replaced script keeps its mode);
- notebooks come from pull requests: one that is not a regular file (a
  link to /dev/zero, a FIFO) is refused unread; one over 64 MiB is
  refused after reading no more than that.

``--check`` writes nothing and exits 1 when a script is out of date.

This file is the only copy of the converter: projects made by mlops-scaffold
carry it as ``scripts/notebook_to_script.py`` and `mlops-scaffold notebook
convert` loads it from its template. It needs the standard library,
nbformat, IPython and ruff.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import textwrap
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path

SKIP_TAG = "skip"
PARAMETERS_TAG = "parameters"
LINE_LENGTH = 80
MAX_BYTES = 64 * 2**20  # notebooks come from pull requests: bound them
EXIT_OK, EXIT_STALE, EXIT_BAD_INPUT, EXIT_FAILED = 0, 1, 2, 1
HEADER = re.compile(r'"""Converted from .* by notebook_to_script\.py\.\n')
NOT_RUN = "IPython only, not run:"
# Magics whose code IPython runs once, unchanged: so does the script.
RUN_ONCE_MAGICS = frozenset({"time"})
TOP_LEVEL_AWAIT = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
BODY_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


class NotebookError(ValueError):
    """The input cannot be converted (exit 2): the message names the file,
    and the cell and line where one is to blame."""

    def __init__(self, path: Path, detail: str, hint: str = "") -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path
        self.detail = detail
        self.hint = hint


class DependencyError(RuntimeError):
    """ruff, IPython or nbformat is missing, or ruff failed (exit 1): the
    environment, not the input."""


class ConverterDefect(RuntimeError):
    """The converter failed on a notebook it should handle (exit 1)."""


class _CellError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Conversion:
    source: Path
    target: Path
    text: str
    ipython: list[str] = field(default_factory=list)
    #: "cell N: `name`" for names the notebook uses but never defines
    undefined: list[str] = field(default_factory=list)


def _require(name: str):
    """Import a dependency, or say how to install it."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError as error:
        package = name.split(".")[0].lower()
        raise DependencyError(
            f"{package} is not installed; install it (pip install {package}, "
            "or the project's dev extra)"
        ) from error


def _read_bounded(path: Path) -> bytes:
    """At most MAX_BYTES + 1 bytes of a regular file. Anything else (a
    link to /dev/zero, a FIFO, a folder) is refused before it is read: it
    could be endless or never answer. O_NONBLOCK keeps the open of a FIFO
    from waiting for a writer; fstat checks what was opened."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise NotebookError(path, _NOT_REGULAR, hint=_REGULAR_HINT)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags)
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise NotebookError(path, _NOT_REGULAR, hint=_REGULAR_HINT)
        return stream.read(MAX_BYTES + 1)


_NOT_REGULAR = "is not a regular file (a device, FIFO, socket or folder)"
_REGULAR_HINT = "convert only .ipynb files saved by Jupyter"


def _format_problem(version) -> str | None:
    """Why the notebook's nbformat field is unusable, or None."""
    if isinstance(version, int) and not isinstance(version, bool):
        if version >= 4:
            return None
        return (
            f"uses notebook format {version}, older than 4; open it in a "
            "current Jupyter and save it to upgrade it"
        )
    if version is None:
        shown = "no nbformat field"
    else:
        shown = json.dumps(version)
        shown = f"nbformat {shown if len(shown) <= 20 else shown[:17] + '...'}"
    return (
        f"has {shown}; the notebook format must be an integer, 4 or "
        "later; open it in a current Jupyter and save it again"
    )


def _kernel_language(notebook) -> str | None:
    """The kernel's language when the notebook says it is not Python
    (kernelspec.language, else language_info.name); None for Python or
    when the notebook does not say."""
    metadata = notebook.get("metadata", {}) or {}
    spec = metadata.get("kernelspec") or {}
    info = metadata.get("language_info") or {}
    for value in (spec.get("language"), info.get("name")):
        if isinstance(value, str) and value.strip():
            name = value.strip()
            if name.lower() in ("python", "python3", "ipython", "ipython3"):
                return None
            kernel = spec.get("name")
            return f"{name} (kernel `{kernel}`)" if kernel else name
    return None


def read_notebook(path: Path):
    """The notebook as an nbformat v4 node, or a clear NotebookError."""
    nbformat = _require("nbformat")
    try:
        data = _read_bounded(path)
    except OSError as error:
        raise NotebookError(
            path, f"cannot read it ({error.strerror})"
        ) from error
    size = len(data)
    try:
        raw = None if size > MAX_BYTES else json.loads(data)
    except UnicodeDecodeError as error:
        raise NotebookError(path, "is not UTF-8 text") from error
    except ValueError as error:
        raise NotebookError(
            path, f"is not valid JSON (line {getattr(error, 'lineno', '?')})"
        ) from error
    except RecursionError as error:
        raise NotebookError(path, "is JSON nested too deeply") from error
    if size > MAX_BYTES:
        raise NotebookError(
            path,
            f"is larger than {MAX_BYTES // 2**20} MiB; strip its outputs "
            "(scripts/check_notebooks.py --fix) and convert it again",
        )
    if not isinstance(raw, dict) or (
        "cells" not in raw and "worksheets" not in raw
    ):
        raise NotebookError(path, "is JSON but not a Jupyter notebook")
    problem = _format_problem(raw.get("nbformat"))
    if problem:
        raise NotebookError(path, problem)
    try:
        notebook = nbformat.from_dict(raw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cells without ids: fine here
            nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds
        message = (str(error).splitlines() or [type(error).__name__])[0]
        raise NotebookError(
            path, f"is not a valid notebook: {message}"
        ) from error
    language = _kernel_language(notebook)
    if language is not None:
        raise NotebookError(
            path,
            f"is written in {language}; only Python notebooks convert to "
            "Python scripts",
            hint="convert notebooks whose kernel is Python",
        )
    return notebook


# IPython syntax -----------------------------------------------------------

_TRANSFORMER = None


def _transform(source: str) -> str:
    """The cell as IPython runs it: magics become get_ipython() calls."""
    global _TRANSFORMER
    if _TRANSFORMER is None:
        module = _require("IPython.core.inputtransformer2")
        _TRANSFORMER = module.TransformerManager()
    try:
        return _TRANSFORMER.transform_cell(source)
    except Exception:  # IPython gives up: the compiler will say why
        return source


_LINE_END = re.compile(r"\r\n|\r|\n")


def _lines(text: str) -> list[str]:
    """``text`` split where Python ends a line (\\n, \\r\\n, \\r), unlike
    ``str.splitlines``, which also splits at a form feed, \\x1c-\\x1e,
    \\x85 and U+2028/9: those are inside a line for the parser, so line
    numbers of the syntax tree and of the text agree."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _compile(text: str, name: str, flags: int = 0):
    """compile(), without the notebook's own warnings (invalid escapes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compile(text, name, "exec", flags=flags, dont_inherit=True)


def _parse(text: str) -> ast.Module:
    return _compile(text, "<cell>", ast.PyCF_ONLY_AST | TOP_LEVEL_AWAIT)


def _is_ipython(node: ast.AST) -> bool:
    """get_ipython() or get_ipython().anything(...)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "get_ipython"
    return (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
    )


def _call_parts(call: ast.Call) -> tuple[str, list[str] | None]:
    method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    try:
        args = [ast.literal_eval(arg) for arg in call.args]
    except ValueError:
        return method, None
    if not all(isinstance(arg, str) for arg in args):
        return method, None
    return method, args


def _describe(call: ast.Call) -> str:
    """What the notebook said, rebuilt from IPython's call."""
    method, args = _call_parts(call)
    if args is not None:
        if method == "run_line_magic" and len(args) == 2:
            name, line = args
            if name in ("pinfo", "pinfo2"):
                return f"{line}{'?' if name == 'pinfo' else '??'}"
            return f"%{name} {line}".rstrip()
        if method == "run_cell_magic" and len(args) == 3:
            return f"%%{args[0]} {args[1]}".rstrip() + "\n" + args[2]
        if method in ("system", "getoutput") and len(args) == 1:
            return f"!{args[0]}"
    return ast.unparse(call)


def _run_once_code(call: ast.Call) -> str | None:
    """The code of %time / %%time, which IPython runs once."""
    method, args = _call_parts(call)
    if args is None:
        return None
    if method == "run_line_magic" and len(args) == 2:
        name, code = args
    elif method == "run_cell_magic" and len(args) == 3 and not args[1]:
        name, code = args[0], args[2]
    else:
        return None
    return code if name in RUN_ONCE_MAGICS else None


def _value_of(node: ast.Call, found: list[str]) -> str:
    """What replaces an IPython value: the expression %time measures, or
    None (not run)."""
    code = _run_once_code(node)
    if code is not None and "\n" not in code.strip():
        try:
            ast.parse(code.strip(), mode="eval")
            return f"({code.strip()})"
        except SyntaxError:
            pass
    found.append(_describe(node).split("\n")[0])
    return "None"


def _ipython_values(statement: ast.stmt):
    """The outermost IPython calls (and bare get_ipython names) among the
    statement's own expressions."""
    inner: set[int] = set()
    for node in _own_nodes(statement):
        if id(node) in inner:
            continue
        is_call = _is_ipython(node)
        is_name = isinstance(node, ast.Name) and node.id == "get_ipython"
        if is_call or is_name:
            inner.update(id(sub) for sub in ast.walk(node))
            yield node


def _own_nodes(statement: ast.stmt):
    """The statement's expressions, not those of the statements it holds."""
    for name, value in ast.iter_fields(statement):
        if name in BODY_FIELDS:
            for item in value:
                if isinstance(item, ast.ExceptHandler) and item.type:
                    yield from ast.walk(item.type)
                if isinstance(item, ast.match_case):
                    yield from ast.walk(item.pattern)
                    if item.guard:
                        yield from ast.walk(item.guard)
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ast.AST):
                yield from ast.walk(item)


def _indent(code: str, indent: str) -> str:
    """textwrap.indent that leaves the inside of multi-line strings alone."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        tokens = []
    inside = {
        line
        for first, last, _triple in _string_spans(tokens)
        for line in range(first + 1, last + 1)
    }
    return "\n".join(
        line if number in inside or not line.strip() else indent + line
        for number, line in enumerate(code.split("\n"), start=1)
    )


def _comment(text: str, indent: str, nested: bool) -> list[str]:
    lines = _lines(text) or [""]
    first = f"{indent}{'pass  ' if nested else ''}# {NOT_RUN} {lines[0]}"
    return [first.rstrip()] + [
        f"{indent}# {line}".rstrip() for line in lines[1:]
    ]


def _owns_lines(statement: ast.stmt, lines: list[str]) -> bool:
    """Nothing else shares the statement's lines (``a = 1; get_ipython()``
    or ``if x: get_ipython()`` do)."""
    first = lines[statement.lineno - 1].encode("utf-8")
    last = lines[statement.end_lineno - 1].encode("utf-8")
    before = first[: statement.col_offset].strip()
    after = last[statement.end_col_offset :].strip()
    return not before and (not after or after.startswith(b"#"))


def _edits(body, lines, found, nested, out) -> None:
    """Collect edits (line, column, end line, end column, replacement lines)
    that turn IPython's calls into plain Python."""
    for statement in body:
        indent = re.match(r"\s*", lines[statement.lineno - 1]).group()
        whole = (statement.lineno, -1, statement.end_lineno, -1)
        value = statement.value if isinstance(statement, ast.Expr) else None
        if _is_ipython(value) and _owns_lines(statement, lines):
            code = _run_once_code(value)
            if code is not None:
                try:
                    new = _python(code, found).strip("\n")
                except _CellError as error:  # a line of the magic's code
                    cell = value.func.attr == "run_cell_magic"
                    error.line += statement.lineno - (0 if cell else 1)
                    raise
                new = _indent(new, indent) if new.strip() else indent + "pass"
                out.append((*whole, _lines(new)))
                continue
            text = _describe(value)
            found.append(text.split("\n")[0])
            out.append((*whole, _comment(text, indent, nested)))
            continue
        values = list(_ipython_values(statement))
        if values:
            before = len(found)
            for node in values:
                new = "None"
                if isinstance(node, ast.Call):
                    new = _value_of(node, found)
                else:
                    found.append("get_ipython")
                position = (node.lineno, node.col_offset)
                end = (node.end_lineno, node.end_col_offset)
                out.append((*position, *end, [new]))
            notes = "; ".join(found[before:])
            if notes and _owns_lines(statement, lines):
                note = f"{indent}# {NOT_RUN} {notes} (None here)"
                out.append((statement.lineno, -2, statement.lineno, -2, [note]))
        for name in BODY_FIELDS:
            children = getattr(statement, name, [])
            if children and isinstance(children[0], ast.stmt):
                _edits(children, lines, found, True, out)
                continue
            for item in children:  # except handlers, match cases
                _edits(item.body, lines, found, True, out)


def _apply(lines: list[str], edits) -> list[str]:
    """Apply edits bottom-up: whole lines (column -1), a comment line
    inserted above (column -2), or a span of columns (UTF-8 offsets)."""
    lines = list(lines)
    for start, column, end, end_column, new in sorted(
        edits, key=lambda edit: (edit[0], edit[1]), reverse=True
    ):
        if column == -1:
            lines[start - 1 : end] = new
        elif column == -2:
            lines[start - 1 : start - 1] = new
        else:
            head = lines[start - 1].encode("utf-8")[:column].decode("utf-8")
            tail = lines[end - 1].encode("utf-8")[end_column:].decode("utf-8")
            lines[start - 1 : end] = [head + new[0] + tail]
    return lines


def _original_line(source: str, text: str, line: int | None) -> int:
    """A line of IPython's translation, as a line of the cell."""
    if not line:
        return 1
    ours, theirs = _lines(source), _lines(text)
    if len(ours) == len(theirs):
        return line
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    best = 1
    for a, b, size in matcher.get_matching_blocks():
        if b <= line - 1 < b + size:
            return a + line - b
        if b <= line - 1:
            best = a + size + 1
    return min(best, max(len(ours), 1))


def _check_unicode(source: str) -> None:
    """A lone surrogate (possible in JSON, not in a Python file)."""
    try:
        source.encode("utf-8")
    except UnicodeEncodeError as error:
        line = source.count("\n", 0, error.start) + 1
        raise _CellError(
            line, "holds a character that is not valid Unicode (a lone "
            f"surrogate, {source[error.start]!a})",
        ) from error  # fmt: skip


def _python(source: str, found: list[str]) -> str:
    """A code cell as plain Python: IPython syntax translated (see the
    module docstring). Raises _CellError for what IPython would refuse."""
    text = _transform(source)
    try:
        tree = _parse(text)
        _compile(text, "<cell>", TOP_LEVEL_AWAIT)
    except SyntaxError as error:
        raise _CellError(
            _original_line(source, text, error.lineno), error.msg
        ) from error
    except (ValueError, MemoryError, RecursionError) as error:
        raise _CellError(1, str(error) or type(error).__name__) from error
    lines = _lines(text)
    edits: list = []
    _edits(tree.body, lines, found, False, edits)
    return "\n".join(_apply(lines, edits))


# Module structure ---------------------------------------------------------


def _statement(node: ast.stmt, text: str, annotations: list[str]) -> str:
    """A top-level statement as it goes into main(): a bare value shown in
    the notebook (not a call) does nothing in a script, so it becomes a
    comment; an annotated assignment keeps its annotation at module level
    (a name declared global cannot be annotated inside the function)."""
    lines = _lines(text)
    head = len(lines) - (node.end_lineno - node.lineno + 1)
    leading, own = lines[:head], "\n".join(lines[head:])
    if isinstance(node, ast.Expr) and not isinstance(
        node.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)
    ):
        own = "\n".join(
            f"# shown in the notebook: {line}".rstrip() for line in lines[head:]
        )
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        annotations.append(f"{node.target.id}: {ast.unparse(node.annotation)}")
        own = "" if node.value is None else (
            f"{node.target.id} = {ast.unparse(node.value)}"
        )  # fmt: skip
    elif isinstance(node, ast.Global):
        own = ""  # at module level it changes nothing
    return "\n".join([*leading, own])


def _chunks(code: str):
    """Top-level statements, each with the comment lines just above it."""
    tree = _parse(code)
    lines = _lines(code)
    start = 0
    for node in tree.body:
        end = node.end_lineno
        yield node, "\n".join(lines[start:end]).strip("\n")
        start = end
    tail = "\n".join(lines[start:]).strip("\n")
    if tail.strip():
        yield None, tail


class _Bindings(ast.NodeVisitor):
    """Names a statement binds in its own scope (what main() must declare
    global), not those of the functions, classes or lambdas it holds."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def _add(self, name: str) -> None:
        if name not in self.names:
            self.names.append(name)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self._add(node.id)

    def visit_alias(self, node: ast.alias) -> None:
        if node.name != "*":
            self._add((node.asname or node.name).split(".")[0])

    def _definition(self, node) -> None:
        self._add(node.name)
        for decorator in node.decorator_list:
            self.visit(decorator)

    visit_FunctionDef = visit_AsyncFunctionDef = _definition
    visit_ClassDef = _definition

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass

    def _comprehension(self, node) -> None:
        for generator in node.generators:
            self.visit(generator.iter)  # only walrus targets leak; rare

    visit_ListComp = visit_SetComp = visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._add(node.name)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self._add(node.name)
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._add(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self._add(node.rest)
        self.generic_visit(node)


def _assigned_names(nodes) -> list[str]:
    finder = _Bindings()
    for node in nodes:
        finder.visit(node)
    return finder.names


DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _definition_time_names(node: ast.AST) -> set[str]:
    """Names a def or class reads when it is defined (decorators, defaults,
    annotations, bases, a class body), not when it is called."""
    names: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = item.args
            stack += [*item.decorator_list, *args.defaults]
            stack += [d for d in args.kw_defaults if d is not None]
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
            every += [a for a in (args.vararg, args.kwarg) if a]
            stack += [a.annotation for a in every if a.annotation]
            if item.returns:
                stack.append(item.returns)
            continue
        if isinstance(item, ast.Lambda):
            stack += [*item.args.defaults]
            continue
        if isinstance(item, ast.Name) and isinstance(item.ctx, ast.Load):
            names.add(item.id)
        stack.extend(ast.iter_child_nodes(item))
    return names


def _stateful_definitions(nodes) -> set[ast.AST]:
    """Definitions that read what top-level code assigns when they are
    defined: they stay in order inside main(), after what they read."""
    state = set(
        _assigned_names(
            n
            for n in nodes
            if n is not None
            and not isinstance(n, (ast.Import, ast.ImportFrom, *DEFINITIONS))
        )
    )
    stateful: set[ast.AST] = set()
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if (
                isinstance(node, DEFINITIONS)
                and node not in stateful
                and _definition_time_names(node) & state
            ):
                stateful.add(node)
                state.add(node.name)
                changed = True
    return stateful


def _awaits(nodes) -> bool:
    """Whether top-level code awaits (IPython's auto-await)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
        ):
            continue
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            return True
        if isinstance(node, ast.comprehension) and node.is_async:
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


_ALWAYS_THERE = {"get_ipython", "display", "__file__", "__name__"}


def _undefined_names(cells: list[tuple[int, str]]) -> list[str]:
    """Names read somewhere in the notebook and bound nowhere in it (nor
    built in): "cell N: `name`" at the first cell that reads each. Bound
    anywhere counts as defined (over-generous on purpose: no false alarm);
    a star import could bind anything, so then nothing is reported."""
    import builtins

    trees = [(index, _parse(code)) for index, code in cells]
    bound = set(dir(builtins)) | _ALWAYS_THERE
    for _, tree in trees:
        for node in ast.walk(tree):
            if _star_import(node):
                return []
            if isinstance(node, ast.Name) and not isinstance(
                node.ctx, ast.Load
            ):
                bound.add(node.id)
            elif isinstance(node, ast.arg):
                bound.add(node.arg)
            elif isinstance(node, ast.alias):
                bound.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, (*DEFINITIONS, ast.ExceptHandler)):
                if getattr(node, "name", None):
                    bound.add(node.name)
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                bound.update(node.names)
            elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
                bound.add(node.name)
            elif isinstance(node, ast.MatchMapping) and node.rest:
                bound.add(node.rest)
    found: dict[str, int] = {}
    for index, tree in trees:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)
                and node.id not in bound
            ):
                found.setdefault(node.id, index)
    return [f"cell {index}: `{name}`" for name, index in found.items()]


def _star_import(node: ast.AST | None) -> bool:
    """Whether ``node`` holds ``from x import *`` outside any function or
    class of its own."""
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if isinstance(current, ast.ImportFrom) and any(
            alias.name == "*" for alias in current.names
        ):
            return True
        for child in ast.iter_child_nodes(current):
            if not isinstance(child, (*DEFINITIONS, ast.Lambda)):
                stack.append(child)
    return False


def _globals(names: list[str]) -> list[str]:
    lines, current = [], []
    for name in names:
        candidate = ", ".join([*current, name])
        if current and len("    global ") + len(candidate) > LINE_LENGTH:
            lines.append("    global " + ", ".join(current))
            current = [name]
        else:
            current.append(name)
    if current:
        lines.append("    global " + ", ".join(current))
    return lines


def _comment_block(text: str) -> str:
    """Markdown as comments; what a comment cannot hold (a NUL, a lone
    surrogate) is written as an escape."""
    text = text.replace("\x00", "\\x00")
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return "\n".join(f"# {line}".rstrip() for line in _lines(text))


def _entry_name(trees) -> str:
    """main, unless the notebook uses that name for something else."""
    used = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                used.add(node.id)
            elif isinstance(
                node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
            ):
                used.add(node.name)
            elif isinstance(node, ast.alias):
                used.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, ast.arg):
                used.add(node.arg)
    name, number = "main", 1
    while name in used:
        name = "script_main" if number == 1 else f"script_main_{number}"
        number += 1
    return name


def _header(source_name: str) -> str:
    shown = "".join(
        char
        if char.isprintable() and char not in '\\"'
        else char.encode("unicode_escape").decode("ascii").replace('"', '\\"')
        for char in source_name
    )
    return (
        f'"""Converted from {shown} by notebook_to_script.py.\n\n'
        "Edit the notebook and convert it again; do not edit this file.\n"
        '"""'
    )


def _first_line(source: str) -> str:
    line = next((s.strip() for s in _lines(source) if s.strip()), "")
    line = line.encode("utf-8", "backslashreplace").decode("utf-8")
    line = "".join(c if c.isprintable() else "?" for c in line)
    return line if len(line) <= 40 else line[:37] + "..."


def build_module(
    notebook,
    source_name: str,
    found: list[str],
    undefined: list[str] | None = None,
) -> str:
    """The restructured, unformatted module text. Raises _CellError with
    the cell's position in ``args`` when a cell cannot be translated.
    ``undefined`` receives "cell N: `name`" for each name the notebook
    uses but never defines (a script would stop there)."""
    parameters: list[str] = []
    cells: list[tuple[int, str]] = []
    chunks: list[tuple[ast.stmt | None, str]] = []
    pending = ""  # markdown waiting for the next statement
    for index, cell in enumerate(notebook.cells, start=1):
        tags = cell.get("metadata", {}).get("tags", [])
        if SKIP_TAG in tags or cell.cell_type == "raw":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):  # JSON keeps long text as lines
            source = "".join(source)
        if cell.cell_type == "markdown":
            if source.strip():
                pending += _comment_block(source) + "\n\n"
            continue
        if cell.cell_type != "code":
            continue
        try:
            _check_unicode(source)
            code = _python(source, found)
            cells.append((index, code))
            if PARAMETERS_TAG in tags:
                if _awaits(_parse(code).body):
                    raise _CellError(1, "a parameters cell cannot await")
                parameters.append(code)
                continue
            cell_chunks = list(_chunks(pending + code))
        except _CellError as error:
            error.cell = (index, _first_line(source))
            raise
        pending = ""
        chunks += cell_chunks
    if pending.strip():
        chunks.append((None, pending.strip("\n")))

    if undefined is not None:
        undefined += _undefined_names(cells)
    stateful = _stateful_definitions([n for n, _ in chunks])
    imports, definitions, body, annotations = [], [], [], []
    for node, text in chunks:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or _star_import(node):
            # a statement holding `from x import *` (in a try, an if) is
            # only valid at module level: it stays there, in order
            future = isinstance(node, ast.ImportFrom) and (
                node.module == "__future__"
            )
            imports.insert(0, text) if future else imports.append(text)
        elif isinstance(node, DEFINITIONS) and node not in stateful:
            definitions.append(text)
        elif node is None:
            body.append((node, text))
        else:
            body.append((node, _statement(node, text, annotations)))
    statements = [n for n, _ in body if n is not None]
    assigned = _assigned_names(statements)
    every = [n for n, _ in chunks if n is not None] + [
        _parse(p) for p in parameters
    ]
    entry = _entry_name(every)
    asynchronous = _awaits(statements)
    bound = set(_assigned_names(every))

    parts = [_header(source_name)]
    if asynchronous and "asyncio" not in bound:
        imports.append("import asyncio")
    parts.append("\n\n".join(imports))
    if parameters:
        parts.append(
            "# Parameters (the notebook's cell tagged "
            f'"{PARAMETERS_TAG}").\n' + "\n".join(parameters)
        )
    if annotations:
        parts.append(
            "# Names the notebook annotated.\n" + "\n".join(annotations)
        )
    if "display" not in bound and any(
        isinstance(n, ast.Name) and n.id == "display"
        for tree in every
        for n in ast.walk(tree)
    ):
        parts.append(
            "# IPython's display() prints when no notebook shows it.\n"
            "display = print"
        )
    parts += definitions
    keyword = "async def" if asynchronous else "def"
    main_lines = [f"{keyword} {entry}() -> None:"]
    main_lines += _globals([n for n in assigned if n != entry])
    text = "\n\n".join(text for _, text in body).strip("\n")
    if text:
        main_lines.append(_indent(text, "    "))
    if not any(
        line.strip() and not line.lstrip().startswith("#")
        for line in _lines(text)
    ):  # only comments (values shown in the notebook): still a function
        main_lines.append("    pass")
    parts.append("\n".join(main_lines))
    call = f"asyncio.run({entry}())" if asynchronous else f"{entry}()"
    parts.append(f'if __name__ == "__main__":\n    {call}')
    return "\n\n\n".join(p for p in parts if p.strip()) + "\n"


# Formatting ---------------------------------------------------------------


def _ruff_binary() -> str:
    try:
        from ruff import find_ruff_bin
    except ImportError:
        try:  # ruff releases before find_ruff_bin moved to the package
            from ruff.__main__ import find_ruff_bin
        except ImportError:
            raise DependencyError(
                "ruff is not installed; it formats the scripts (pip install "
                "ruff, or the project's dev extra)"
            ) from None
    try:
        return os.fsdecode(find_ruff_bin())
    except FileNotFoundError as error:
        raise DependencyError(f"ruff's program is missing: {error}") from error


def _ruff(*args: str, text: str, target: Path) -> str:
    try:
        result = subprocess.run(
            [_ruff_binary(), *args, "--line-length", str(LINE_LENGTH),
             "--stdin-filename", str(target), "-"],
            input=text.encode("utf-8"), capture_output=True,
        )  # fmt: skip
    except OSError as error:
        raise DependencyError(f"ruff could not start: {error}") from error
    output = result.stdout.decode("utf-8", "replace")
    if result.returncode not in (0, 1) or not output:
        message = result.stderr.decode("utf-8", "replace").strip()
        last = message.splitlines()[-1] if message else "no output"
        raise DependencyError(f"ruff {args[0]} failed on {target}: {last}")
    return output


def _string_spans(tokens) -> list[tuple[int, int, bool]]:
    """The lines each multi-line string (or f-string) covers, and whether
    it is triple-quoted."""
    spans, starts = [], []
    fstring_start = getattr(tokenize, "FSTRING_START", None)
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    for token in tokens:
        if token.type == tokenize.STRING:
            quotes = token.string.lstrip("bBrRuUfF")[:3]
            triple = quotes in ('"""', "'''")
            spans.append((token.start[0], token.end[0], triple))
        elif fstring_start is not None and token.type == fstring_start:
            starts.append((token.start[0], token.string[-3:]))
        elif fstring_end is not None and token.type == fstring_end and starts:
            first, quotes = starts.pop()
            triple = quotes in ('"""', "'''")
            spans.append((first, token.end[0], triple))
    return [span for span in spans if span[0] != span[1]]


def _wrap_comments(text: str, tokens) -> str:
    """Comment-only lines over 80 columns, re-wrapped."""
    lines = _lines(text)
    for token in reversed(tokens):
        if token.type != tokenize.COMMENT:
            continue
        number = token.start[0]
        line = lines[number - 1]
        if len(line) <= LINE_LENGTH or line[: token.start[1]].strip():
            continue
        indent = line[: token.start[1]]
        body = token.string.lstrip("#").strip()
        lines[number - 1 : number] = textwrap.wrap(
            body,
            LINE_LENGTH - len(indent) - 2,
            initial_indent=f"{indent}# ",
            subsequent_indent=f"{indent}# ",
            break_long_words=False,
            break_on_hyphens=False,
        ) or [f"{indent}#"]
    return "\n".join(lines) + "\n"


MARK = "  # noqa: E501"
FILE_MARK = (
    "# A long line inside a string continued with a backslash cannot carry\n"
    "# its own noqa comment.\n"
    "# ruff: noqa: E501"
)


def _mark_long_lines(text: str) -> str:
    """What cannot fit in 80 columns (a long string) is marked for the
    reader with ``# noqa: E501`` where ruff reads it: at the end of the
    line, of a triple-quoted string, or of a backslash continuation; never
    inside a string. A long line inside a one-quote string continued with a
    backslash has no such place: the file gets ruff's file-level mark."""
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    lines = _lines(text)
    spans = _string_spans(tokens)
    ends = {
        t.start[0] for t in tokens if t.type in (tokenize.NEWLINE, tokenize.NL)
    }
    targets, whole_file = set(), False
    for number, line in enumerate(lines, start=1):
        if len(line) <= LINE_LENGTH or line.endswith(MARK):
            continue
        if any(
            first <= number < last and not triple
            for first, last, triple in spans
        ):
            whole_file = True
            continue
        target = number
        for _ in range(len(lines)):
            moved = target
            for first, last, _triple in spans:
                if first <= target < last:
                    moved = last
            while moved <= len(lines) and lines[moved - 1].endswith("\\"):
                moved += 1
            if moved == target:
                break
            target = moved
        if target in ends:
            targets.add(target)
        else:
            whole_file = True
    for target in targets:
        if not lines[target - 1].endswith(MARK):
            lines[target - 1] += MARK
    if whole_file:
        docstring = next(t for t in tokens if t.type == tokenize.STRING)
        lines[docstring.end[0] : docstring.end[0]] = ["", FILE_MARK]
    return "\n".join(lines) + "\n"


def format_module(text: str, target: Path) -> str:
    """Sort imports, apply safe fixes and format at 80 columns, with the
    ruff configuration that governs the target's folder."""
    fixes = ("--fix", "--select", "I,UP", "--no-cache", "--quiet")
    text = _ruff("check", *fixes, "--exit-zero", text=text, target=target)
    text = _ruff("format", "--no-cache", "--quiet", text=text, target=target)
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    text = _wrap_comments(text, tokens)
    return _mark_long_lines(text)


# Files --------------------------------------------------------------------


def target_for(source: Path, output: Path | None, many: bool) -> Path:
    name = re.sub(r"\W", "_", source.stem) + ".py"
    if output is None:
        return source.with_name(name)
    if many or output.is_dir() or output.suffix != ".py":
        return output / name
    return output


def convert(source: Path, target: Path) -> Conversion:
    notebook = read_notebook(source)
    found: list[str] = []
    undefined: list[str] = []
    try:
        module = build_module(notebook, source.name, found, undefined)
    except _CellError as error:
        index, first = error.cell
        raise NotebookError(
            source,
            f'cell {index} ("{first}"), line {error.line}: {error.message}',
            hint="fix that cell in Jupyter, or tag it skip to leave it out",
        ) from error
    except Exception as error:  # a defect of this converter
        raise ConverterDefect(
            f"{source}: the converter failed ({type(error).__name__}: "
            f"{error}); nothing was written; please report this notebook to "
            "the mlops-scaffold developers"
        ) from error
    try:
        _compile(module, str(target))
        text = format_module(module, target)
        _compile(text, str(target))
    except DependencyError:
        raise
    except Exception as error:  # a defect of this converter
        raise ConverterDefect(
            f"{source}: the converted script is not valid Python ({error}); "
            "nothing was written; please report this notebook to the "
            "mlops-scaffold developers"
        ) from error
    return Conversion(source, target, text, found, undefined)


def _refuse_foreign(target: Path) -> None:
    """A file there that this converter did not write is the user's."""
    if target.is_symlink() or target.exists() and not target.is_file():
        raise NotebookError(
            target,
            "exists and is not a regular file; it is left alone",
            hint="choose another output with -o",
        )
    if target.is_file():
        try:
            with target.open("rb") as handle:
                head = handle.read(4096).decode("utf-8", "replace")
        except OSError as error:
            raise NotebookError(
                target, f"cannot be read ({error.strerror})"
            ) from error
        if not HEADER.match(head):
            raise NotebookError(
                target,
                "exists and was not written by notebook_to_script.py; it "
                "is left alone",
                hint="choose another output with -o, or move that file",
            )


def _refuse_non_folder(target: Path) -> None:
    """Every existing folder above the target must be a folder: a file
    there (``-o good.ipynb/x.py``) is a mistake in the command."""
    parent = target.parent
    while not parent.is_dir() and parent != parent.parent:
        if parent.exists() or parent.is_symlink():
            raise NotebookError(
                parent,
                f"is not a folder, so {target} cannot be written there",
                hint="give -o a path whose folders exist or can be made",
            )
        parent = parent.parent


def _plan(sources: list[Path], output: Path | None) -> list[tuple[Path, Path]]:
    unique: dict[Path, Path] = {}
    for source in sources:
        unique.setdefault(Path(os.path.abspath(source)), source)
    sources = list(unique.values())
    many = len(sources) > 1
    if output is not None and output.exists() and not output.is_dir():
        if many or output.suffix != ".py":
            raise NotebookError(
                output,
                "is a file; several notebooks need a folder"
                if many
                else "is not a .py file or a folder",
                hint="give -o a folder, or a .py file for one notebook",
            )
    plan, seen = [], {}
    for source in sources:
        target = target_for(source, output, many)
        key = Path(os.path.abspath(target))
        if key in seen:
            raise NotebookError(
                source,
                f"and {seen[key]} would both be written to {target}",
                hint="rename one notebook, or convert them into "
                "different folders",
            )
        seen[key] = source
        _refuse_non_folder(target)
        plan.append((source, target))
    return plan


def _stage(target: Path, mode: int | None) -> tuple[Path, int]:
    """A new, empty file beside the target. Created as a plain open()
    would create it (0o666 less the umask, which the kernel applies), or
    with the mode of the script it replaces, so others can read it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            handle = os.open(name, flags, 0o666)
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.fchmod(handle, mode)
            except BaseException:
                os.close(handle)
                name.unlink(missing_ok=True)
                raise
        return name, handle
    raise FileExistsError(f"{target.parent}: no free temporary name")


def _write_all(conversions: list[Conversion]) -> None:
    """All or nothing: stage every script beside its target, then move them
    into place; on any failure (or Ctrl-C) restore what was there."""
    staged: list[tuple[Path, Path, bytes | None]] = []
    made: list[Path] = []
    moved: list[tuple[Path, bytes | None]] = []
    try:
        for conversion in conversions:
            target = conversion.target
            missing = []
            parent = target.parent
            while not parent.exists():
                missing.append(parent)
                parent = parent.parent
            for folder in reversed(missing):
                folder.mkdir()
                made.append(folder)
            before = target.read_bytes() if target.is_file() else None
            mode = None
            if before is not None:  # keep the mode of the script replaced
                mode = stat.S_IMODE(target.stat().st_mode)
            name, handle = _stage(target, mode)
            staged.append((name, target, before))
            with os.fdopen(handle, "wb") as stream:
                stream.write(conversion.text.encode("utf-8"))
        for temporary, target, before in staged:
            os.replace(temporary, target)
            moved.append((target, before))
    except BaseException:
        for target, before in reversed(moved):
            if before is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(before)
        for temporary, _, _ in staged:
            temporary.unlink(missing_ok=True)
        for folder in reversed(made):
            try:
                folder.rmdir()
            except OSError:
                pass
        raise


def _holds(target: Path, data: bytes) -> bool:
    """The target is a regular file with exactly these bytes (read only
    when the size matches: a committed script may be huge)."""
    try:
        if target.is_symlink() or not target.is_file():
            return False
        if target.stat().st_size != len(data):
            return False
        return target.read_bytes() == data
    except OSError:
        return False


def convert_notebooks(
    sources: list[Path], output: Path | None = None, *, check: bool = False
) -> tuple[list[Conversion], list[Path]]:
    """Convert every notebook (all are read and converted before anything
    is written, and written all or nothing); return the conversions and the
    targets that were (or would be) stale."""
    plan = _plan(sources, output)
    conversions = [convert(source, target) for source, target in plan]
    stale = []
    for conversion in conversions:
        target = conversion.target
        if _holds(target, conversion.text.encode("utf-8")):
            continue
        stale.append(target)
    if not check:
        for target in stale:
            _refuse_foreign(target)
        _write_all([c for c in conversions if c.target in stale])
    return conversions, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Notebooks to scripts.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    try:
        conversions, stale = convert_notebooks(
            args.notebooks, args.output, check=args.check
        )
    except NotebookError as error:
        hint = f"\n  hint: {error.hint}" if error.hint else ""
        print(f"error: {error}{hint}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (DependencyError, ConverterDefect, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    for conversion in conversions:
        if conversion.ipython:
            print(
                f"warning: {conversion.source}: IPython-only code became "
                "comments: " + "; ".join(conversion.ipython),
                file=sys.stderr,
            )
        if conversion.undefined:
            print(
                f"warning: {conversion.source}: used but never defined in "
                "the notebook (the script stops there unless something "
                "defines it): " + "; ".join(conversion.undefined),
                file=sys.stderr,
            )
    if args.check:
        for target in stale:
            print(f"{target} is out of date with its notebook; convert again")
        return EXIT_STALE if stale else EXIT_OK
    for conversion in conversions:
        state = "written" if conversion.target in stale else "unchanged"
        print(f"{conversion.source} -> {conversion.target} ({state})")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
