"""`mlops-scaffold notebook convert`: notebooks built in code, converted,
linted, run, and compared with running their code cells."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import validators
from conftest import REPO
from helpers import invoke, snapshot

LONG_TEXT = "ünïcödé " * 20


def notebook(*cells, path: Path) -> Path:
    nb = new_notebook(cells=list(cells))
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{index}"  # stable ids: deterministic files
    nbformat.write(nb, path)
    return path


def code(source: str, *tags: str):
    cell = new_code_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old")]
    cell.execution_count = 7
    return cell


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    """A notebook with everything the converter must handle."""
    return notebook(
        new_markdown_cell(f"# Exploration ✓\n\n{LONG_TEXT}"),
        code("%matplotlib inline\n!pip install nothing\nimport math"),
        code("rows = 3\nlabel = 'Größe'", "parameters"),
        code("print('this cell is skipped')", "skip"),
        code(""),
        code("def area(r):\n    return round(math.pi * r * r, 3)"),
        code(
            "values = [area(r) for r in range(rows)]\n"
            "print(label, values)\n"
            "files = !ls\n"
            f"message = '{'x' * 120}'\n"
            "print(len(message))"
        ),
        code("def total():\n    return sum(values)\n\nprint(total())"),
        code("values"),
        code("%%bash\necho never run"),
        path=tmp_path / "rich.ipynb",
    )


def expected_output(path: Path) -> str:
    """What running the notebook's code cells top to bottom prints (cells
    tagged skip and IPython-only lines left out)."""
    nb = nbformat.read(path, as_version=4)
    namespace: dict = {}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if cell.cell_type != "code" or "skip" in tags:
                continue
            if cell.source.startswith("%%"):
                continue
            lines = [
                line
                for line in cell.source.splitlines()
                if not line.lstrip().startswith(("%", "!"))
                and "= !" not in line
            ]
            exec(compile("\n".join(lines), "cell", "exec"), namespace)
    return out.getvalue()


def run(script: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def lint(script: Path) -> None:
    ruff = validators.tool("ruff")
    check = subprocess.run(
        [ruff, "check", "--no-cache", "--isolated", "--line-length", "80",
         "--select", "E,F,W,I,B,UP", str(script)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout
    form = subprocess.run(
        [ruff, "format", "--check", "--no-cache", "--isolated",
         "--line-length", "80", str(script)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert form.returncode == 0, form.stdout


def test_a_rich_notebook_becomes_a_clean_script(rich: Path, tmp_path: Path):
    target = tmp_path / "out" / "rich.py"
    result = invoke("notebook", "convert", rich, "-o", target)
    assert result.exit_code == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    assert text.startswith('"""Converted from rich.ipynb')
    lint(target)
    assert run(target) == expected_output(rich)
    assert "this cell is skipped" not in text
    assert "old" not in text  # outputs dropped
    for magic in ("%matplotlib inline", "!pip install nothing", "!ls"):
        assert "# (IPython only, not run) " in text and magic in text
        assert magic in result.stderr  # the warning lists it
    assert "# %%bash" in text and "# echo never run" in text
    # parameters first, at module level, before main()
    assert text.index("rows = 3") < text.index("def main()")
    assert "\nimport math" in text and "\ndef area(r):" in text
    assert "# # Exploration ✓" in text
    assert 'if __name__ == "__main__":\n    main()' in text


def test_conversion_is_deterministic(rich: Path, tmp_path: Path):
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    assert invoke("notebook", "convert", rich, "-o", first).exit_code == 0
    assert invoke("notebook", "convert", rich, "-o", second).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_check_reports_a_stale_script_and_writes_nothing(
    rich: Path, tmp_path: Path
):
    target = tmp_path / "rich.py"
    missing = invoke("notebook", "convert", "--check", rich, "-o", target)
    assert missing.exit_code == 1 and not target.exists()
    assert invoke("notebook", "convert", rich, "-o", target).exit_code == 0
    assert (
        invoke("notebook", "convert", "--check", rich, "-o", target).exit_code
        == 0
    )
    nb = nbformat.read(rich, as_version=4)
    nb.cells.append(new_code_cell("print('new')"))
    nbformat.write(nb, rich)
    before = target.read_bytes()
    stale = invoke("notebook", "convert", "--check", rich, "-o", target)
    assert stale.exit_code == 1 and "out of date" in stale.stderr
    assert target.read_bytes() == before


def test_several_notebooks_into_a_folder(tmp_path: Path):
    first = notebook(code("print(1)"), path=tmp_path / "first-look.ipynb")
    second = notebook(code("print(2)"), path=tmp_path / "second.ipynb")
    out = tmp_path / "scripts"
    result = invoke("notebook", "convert", first, second, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "first_look.py",
        "second.py",
    ]
    assert run(out / "first_look.py") == "1\n"


def test_an_empty_notebook_gives_a_valid_module(tmp_path: Path):
    empty = notebook(code(""), new_markdown_cell(""), path=tmp_path / "e.ipynb")
    target = tmp_path / "e.py"
    assert invoke("notebook", "convert", empty, "-o", target).exit_code == 0
    lint(target)
    assert run(target) == ""


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "is not valid JSON"),
        ('{"hello": "world"}', "not a Jupyter notebook"),
        (
            json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []}),
            "older than 4",
        ),
        (
            json.dumps(
                {
                    "nbformat": 4,
                    "nbformat_minor": 5,
                    "cells": [{}],
                    "metadata": {},
                }
            ),
            "not a valid notebook",
        ),  # fmt: skip
    ],
    ids=["corrupt", "not-a-notebook", "old-format", "invalid-cells"],
)
def test_bad_notebooks_get_clear_errors_and_no_output(
    tmp_path: Path, content, words
):
    source = tmp_path / "bad.ipynb"
    source.write_text(content)
    good = notebook(code("print(1)"), path=tmp_path / "good.ipynb")
    before = snapshot(tmp_path)
    result = invoke("notebook", "convert", good, source, "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert words in result.stderr and "bad.ipynb" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before  # not even the good one is written


def test_invalid_python_in_a_cell_is_a_clear_error(tmp_path: Path):
    broken = notebook(code("def f(:\n    pass"), path=tmp_path / "b.ipynb")
    result = invoke("notebook", "convert", broken, "-o", tmp_path / "b.py")
    assert result.exit_code == 2
    assert "invalid Python" in result.stderr
    assert not (tmp_path / "b.py").exists()


def test_the_generated_project_carries_the_same_converter():
    template = REPO / "templates/project/scripts/notebook_to_script.py"
    module = REPO / "generator/mlops_scaffold/notebook.py"
    assert template.read_bytes() == module.read_bytes()


def test_the_sample_notebook_script_is_up_to_date(tmp_path: Path):
    sample = REPO / "sample-project"
    result = invoke(
        "notebook", "convert", "--check",
        *sorted((sample / "notebooks").glob("*.ipynb")),
        "-o", sample / "notebooks" / "scripts",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
