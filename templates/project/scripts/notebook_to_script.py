"""Notebooks to production scripts.

    notebook_to_script.py NOTEBOOK... [-o OUTPUT] [--check]

Converts Jupyter notebooks into Python modules with nbconvert's Python
exporter, in-process, then restructures them for review and reuse:

- outputs are dropped; cells tagged ``skip`` are left out;
- IPython magics and shell escapes (``%matplotlib inline``, ``!pip install``)
  become comments, and a warning lists them; they are never run;
- the cell tagged ``parameters`` becomes module-level constants at the top;
- markdown becomes comments; imports, functions and classes stay at module
  level; every other top-level statement moves into ``main()``, which runs
  under ``if __name__ == "__main__":``. Names the notebook assigns stay module
  globals (``global``), so the code behaves as it did in the notebook;
- the module starts with a header naming the notebook, is formatted with
  ruff at 80 columns, and is deterministic: the same notebook gives the
  same bytes.

``--check`` writes nothing and exits 1 when a script is out of date.

This file is self-contained (standard library, nbformat, nbconvert and ruff)
so that projects made by mlops-scaffold carry a copy of it as
``scripts/notebook_to_script.py``; `mlops-scaffold notebook convert` is the
same code.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path

SKIP_TAG = "skip"
PARAMETERS_TAG = "parameters"
LINE_LENGTH = 80
MAGIC = re.compile(r"^\s*(%|!)|^\s*\w+\s*=\s*(%|!)")
EXIT_OK, EXIT_STALE, EXIT_BAD_INPUT = 0, 1, 2


class NotebookError(ValueError):
    """The input is not a notebook this converter can read."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"{path}: {detail}")
        self.path = path


@dataclass
class Conversion:
    source: Path
    target: Path
    text: str
    magics: list[str] = field(default_factory=list)


def read_notebook(path: Path):
    """The notebook as an nbformat v4 node, or a clear NotebookError."""
    import nbformat

    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise NotebookError(
            path, f"cannot read it ({error.strerror})"
        ) from error
    except ValueError as error:
        raise NotebookError(
            path, f"is not valid JSON (line {getattr(error, 'lineno', '?')})"
        ) from error
    if (
        not isinstance(raw, dict)
        or "cells" not in raw
        and "worksheets" not in raw
    ):
        raise NotebookError(path, "is JSON but not a Jupyter notebook")
    version = raw.get("nbformat")
    if not isinstance(version, int) or version < 4:
        raise NotebookError(
            path,
            f"uses notebook format {version}, older than 4; open it in a "
            "current Jupyter and save it to upgrade it",
        )
    try:
        notebook = nbformat.reads(json.dumps(raw), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds
        message = str(error).splitlines()[0]
        raise NotebookError(
            path, f"is not a valid notebook: {message}"
        ) from error
    return notebook


def _comment_magics(source: str, found: list[str]) -> str:
    """IPython-only lines become comments; cell magics comment the cell.
    A cell that is valid Python is left alone, whatever its lines start
    with."""
    try:
        ast.parse(source)
        return source
    except SyntaxError:
        pass
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        found.append(lines[0].strip())
        return "\n".join(f"# {line}" if line else "#" for line in lines)
    out = []
    for line in lines:
        if MAGIC.match(line):
            found.append(line.strip())
            out.append(f"# (IPython only, not run) {line.strip()}")
        else:
            out.append(line)
    return "\n".join(out)


def _export(notebook) -> str:
    """nbconvert's Python exporter, in-process, without prompts."""
    from nbconvert import PythonExporter

    exporter = PythonExporter()
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    with warnings.catch_warnings():
        # Without IPython installed nbconvert warns that it cannot rewrite
        # magics; they are comments by now, so there is nothing to rewrite.
        warnings.simplefilter("ignore")
        body, _ = exporter.from_notebook_node(notebook)
    return body


def _statement(node: ast.stmt, text: str, annotations: list[str]) -> str:
    """A top-level statement as it goes into main(): a bare value shown in
    the notebook (not a call) does nothing in a script, so it becomes a
    comment; an annotated assignment keeps its annotation at module level
    (a name declared global cannot be annotated inside the function)."""
    lines = text.splitlines()
    head = len(lines) - (node.end_lineno - node.lineno + 1)
    leading, own = lines[:head], "\n".join(lines[head:])
    if isinstance(node, ast.Expr) and not isinstance(
        node.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)
    ):
        own = "\n".join(
            f"# shown in the notebook: {line}" for line in lines[head:]
        )
    elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        annotations.append(f"{node.target.id}: {ast.unparse(node.annotation)}")
        if node.value is None:
            own = ""
        else:
            own = f"{node.target.id} = {ast.unparse(node.value)}"
    return "\n".join([*leading, own])


def _wrap_comments(text: str) -> str:
    out = []
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("#") and len(line) > LINE_LENGTH:
            indent = line[: len(line) - len(stripped)]
            body = stripped.lstrip("#").strip()
            out += textwrap.wrap(
                body,
                LINE_LENGTH - len(indent) - 2,
                initial_indent=f"{indent}# ",
                subsequent_indent=f"{indent}# ",
                break_long_words=False,
                break_on_hyphens=False,
            ) or [f"{indent}#"]
        else:
            out.append(line)
    return "\n".join(out)


def _chunks(code: str):
    """Top-level statements, each with the comment lines just above it."""
    tree = ast.parse(code)
    lines = code.splitlines()
    start = 0
    for node in tree.body:
        end = node.end_lineno
        yield node, "\n".join(lines[start:end]).strip("\n")
        start = end
    tail = "\n".join(lines[start:]).strip("\n")
    if tail.strip():
        yield None, tail


def _assigned_names(nodes) -> list[str]:
    names: list[str] = []
    for node in nodes:
        for sub in ast.walk(node):
            if isinstance(
                sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
            ):
                continue
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                if sub.id not in names:
                    names.append(sub.id)
    return names


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


def build_module(notebook, source_name: str, magics: list[str]) -> str:
    """The restructured, unformatted module text."""
    parameters, cells = [], []
    for cell in notebook.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if SKIP_TAG in tags:
            continue
        if cell.cell_type == "code":
            cell.source = _comment_magics(cell.source, magics)
            cell.outputs, cell.execution_count = [], None
            if PARAMETERS_TAG in tags:
                parameters.append(cell.source)
                continue
        cells.append(cell)
    notebook.cells = cells
    code = _export(notebook)
    code = re.sub(r"^#!.*\n", "", code)
    code = re.sub(r"^# coding: utf-8\n", "", code, flags=re.M)

    imports, definitions, body, annotations = [], [], [], []
    for node, text in _chunks(code):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(text)
        elif isinstance(
            node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        ):
            definitions.append(text)
        elif node is None:
            body.append((node, text))
        else:
            body.append((node, _statement(node, text, annotations)))
    assigned = _assigned_names([n for n, _ in body if n is not None])

    parts = [
        f'"""Converted from {source_name} by notebook_to_script.py.\n\n'
        "Edit the notebook and convert it again; do not edit this file.\n"
        '"""',
        "\n\n".join(imports),
    ]
    if parameters:
        parts.append(
            "# Parameters (the notebook's cell tagged "
            f'"{PARAMETERS_TAG}").\n' + "\n".join(parameters)
        )
    if annotations:
        parts.append(
            "# Names the notebook annotated.\n" + "\n".join(annotations)
        )
    parts += definitions
    main_lines = ["def main() -> None:"]
    main_lines += _globals(assigned)
    statements = "\n\n".join(text for _, text in body).strip("\n")
    if statements:
        main_lines.append(textwrap.indent(statements, "    "))
    if not assigned and not any(node is not None for node, _ in body):
        main_lines.append("    pass")
    parts.append("\n".join(main_lines))
    parts.append('if __name__ == "__main__":\n    main()')
    return "\n\n\n".join(p for p in parts if p.strip()) + "\n"


def _ruff(*args: str, text: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *args, "--line-length",
         str(LINE_LENGTH), "--stdin-filename", "converted.py", "-"],
        input=text, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode not in (0, 1) or not result.stdout:
        raise RuntimeError(f"ruff failed: {result.stderr.strip()}")
    return result.stdout


def format_module(text: str) -> str:
    """Sort imports, apply safe fixes and format at 80 columns; what still
    cannot fit (a long string) is marked for the reader."""
    text = _ruff("check", "--fix", "--select", "I,UP", "--no-cache",
                 "--quiet", "--exit-zero", text=text)  # fmt: skip
    text = _ruff("format", "--no-cache", "--quiet", text=text)
    text = _wrap_comments(text)
    lines = []
    for line in text.splitlines():
        if len(line) > LINE_LENGTH and "noqa" not in line:
            line += "  # noqa: E501"
        lines.append(line)
    return "\n".join(lines) + "\n"


def target_for(source: Path, output: Path | None, many: bool) -> Path:
    name = re.sub(r"\W", "_", source.stem) + ".py"
    if output is None:
        return source.with_name(name)
    if many or output.is_dir() or output.suffix != ".py":
        return output / name
    return output


def convert(source: Path, target: Path) -> Conversion:
    notebook = read_notebook(source)
    magics: list[str] = []
    try:
        module = build_module(notebook, source.name, magics)
        ast.parse(module)
        text = format_module(module)
    except SyntaxError as error:
        raise NotebookError(
            source, f"a code cell has invalid Python: {error.msg} "
            f"(line {error.lineno} of the exported code)"
        ) from error  # fmt: skip
    return Conversion(source, target, text, magics)


def convert_notebooks(
    sources: list[Path], output: Path | None = None, *, check: bool = False
) -> tuple[list[Conversion], list[Path]]:
    """Convert every notebook (all are read before anything is written);
    return the conversions and the targets that were (or would be) stale."""
    many = len(sources) > 1
    conversions = [
        convert(source, target_for(source, output, many)) for source in sources
    ]
    stale = [
        c.target
        for c in conversions
        if not c.target.is_file()
        or c.target.read_text(encoding="utf-8") != c.text
    ]
    if not check:
        for conversion in conversions:
            if conversion.target in stale:
                conversion.target.parent.mkdir(parents=True, exist_ok=True)
                conversion.target.write_text(conversion.text, encoding="utf-8")
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
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for conversion in conversions:
        if conversion.magics:
            print(
                f"warning: {conversion.source}: IPython-only lines became "
                "comments: " + "; ".join(conversion.magics),
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
