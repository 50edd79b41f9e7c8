"""`mlops-scaffold notebook convert`: notebooks built in code, converted,
linted, run, and compared with running their code cells."""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from nbformat.v4 import (
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_raw_cell,
)

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
        assert f"# IPython only, not run: {magic}" in text
        assert magic in result.stderr  # the warning lists it
    assert "# IPython only, not run: %%bash\n    # echo never run" in text
    assert "files = None" in text  # a shell escape's value is not run
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
    # the hint is the command that fixes it: the same notebook and -o
    command = shlex.join(
        ["mlops-scaffold", "notebook", "convert", str(rich), "-o", str(target)]
    )
    assert f"run `{command}`" in stale.stderr


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
        (
            json.dumps({"nbformat": "4", "cells": [], "metadata": {}}),
            'has nbformat "4"; the notebook format must be an integer, 4',
        ),
        (
            json.dumps({"nbformat": True, "cells": [], "metadata": {}}),
            "has nbformat true; the notebook format must be an integer",
        ),
        (
            json.dumps({"cells": [], "metadata": {}}),
            "has no nbformat field; the notebook format must be an integer",
        ),
        (
            json.dumps({"nbformat": 4.0, "cells": [], "metadata": {}}),
            "has nbformat 4.0; the notebook format must be an integer",
        ),
    ],
    ids=[
        "corrupt",
        "not-a-notebook",
        "old-format",
        "invalid-cells",
        "format-string",
        "format-bool",
        "format-missing",
        "format-float",
    ],
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


@pytest.mark.parametrize(
    ("source", "where", "why"),
    [
        ("x = 1\ndef f(:\n    pass", 'cell 2 ("x = 1"), line 2', "invalid"),
        ("!ls\n%time y = 2\n  z = 3", 'cell 2 ("!ls"), line 3', "indent"),
        ("for i in range(3):\n    yield i", "line 2", "'yield' outside"),
        ("return 5", 'cell 2 ("return 5"), line 1', "'return' outside"),
        ("rows = 1\nawait go()", "parameters cell cannot await", ""),
        ("%%time\nx = 1\nx = (", 'cell 2 ("%%time"), line 3', "never closed"),
    ],
    ids=[
        "syntax",
        "after-magics",
        "yield",
        "return",
        "await-parameter",
        "in-time-magic",
    ],  # fmt: skip
)
def test_a_cell_that_is_not_python_is_refused_by_cell_and_line(
    tmp_path: Path, source, where, why
):
    tags = ("parameters",) if "await go" in source else ()
    broken = notebook(
        new_markdown_cell("# Title"), code(source, *tags),
        path=tmp_path / "b.ipynb",
    )  # fmt: skip
    result = invoke("notebook", "convert", broken, "-o", tmp_path / "b.py")
    assert result.exit_code == 2, result.stderr
    assert where in result.stderr and why in result.stderr
    assert "exported code" not in result.stderr
    assert "b.ipynb" in result.stderr and "tag it skip" in result.stderr
    assert not (tmp_path / "b.py").exists()


def test_the_tool_runs_the_converter_the_project_ships():
    from mlops_scaffold.notebook import converter

    template = REPO / "templates/project/scripts/notebook_to_script.py"
    assert Path(converter().__file__).resolve() == template.resolve()
    loader = REPO / "generator/mlops_scaffold/notebook.py"
    assert "def build_module" not in loader.read_text(encoding="utf-8")


def convert_one(tmp_path: Path, *cells, name: str = "n") -> tuple:
    source = notebook(*cells, path=tmp_path / f"{name}.ipynb")
    target = tmp_path / f"{name}.py"
    result = invoke("notebook", "convert", source, "-o", target)
    assert result.exit_code == 0, result.stderr
    text = target.read_text(encoding="utf-8")
    compile(text, str(target), "exec")
    return target, text, result


LONG = "x" * 100


def test_shell_escapes_continue_over_lines_and_long_strings_stay_intact(
    tmp_path: Path,
):
    target, text, _ = convert_one(
        tmp_path,
        code("!pip install one \\\n    two \\\n    three\nimport math"),
        code(f"s = '{LONG}' \\\n    'tail'\nprint(len(s))"),
        code(f"t = '''{LONG}\n{LONG}'''\nprint(len(t))"),
        code(
            "for i in range(2):\n    !echo $i\n    print(i)\nprint(math.pi > 3)"
        ),
        code("math?\n??math"),
    )
    assert "# IPython only, not run: !pip install one" in text
    assert "three" in text.split("import math")[0]  # continuation commented
    assert "pass  # IPython only, not run: !echo $i" in text
    assert "# IPython only, not run: math?" in text
    assert "# IPython only, not run: math??" in text
    assert f"{LONG}  # noqa" not in text  # never inside the string
    lint(target)
    assert run(target) == "104\n201\n0\n1\nTrue\n"


def test_raw_cells_are_not_code(tmp_path: Path):
    _, text, _ = convert_one(
        tmp_path, new_raw_cell("\\begin{equation} not python"),
        code("print(1)"),
    )  # fmt: skip
    assert "begin{equation}" not in text


def test_time_magics_run_their_code_as_ipython_does(tmp_path: Path):
    target, text, _ = convert_one(
        tmp_path,
        code("%time a = 2"),
        code("%%time\nb = a * 3\n!echo never"),
        code("c = %time b + 1\nprint(a, b, c)"),
    )
    assert run(target) == "2 6 7\n"
    assert "# IPython only, not run: !echo never" in text


def test_a_notebook_with_its_own_main_does_not_recurse(tmp_path: Path):
    target, text, _ = convert_one(
        tmp_path,
        code("def main():\n    print('theirs')\n    return 1"),
        code("result = main()\nprint(result)"),
    )
    assert "def script_main() -> None:" in text
    assert "    script_main()" in text
    assert run(target) == "theirs\n1\n"


def test_top_level_await_runs_under_asyncio(tmp_path: Path):
    target, text, _ = convert_one(
        tmp_path,
        code("import asyncio\n\nasync def twice(x):\n    return 2 * x"),
        code("value = await twice(21)\nprint(value)"),
        code("display(value + 1)"),
    )
    assert "async def main() -> None:" in text
    assert "asyncio.run(main())" in text
    assert text.count("import asyncio") == 1
    lint(target)
    assert run(target) == "42\n43\n"


def test_an_unrelated_python_file_is_never_overwritten(tmp_path: Path):
    source = notebook(code("print(1)"), path=tmp_path / "n.ipynb")
    mine = tmp_path / "mine.py"
    mine.write_text("print('my own work')\n")
    beside = tmp_path / "n.py"  # the default target, beside the notebook
    beside.write_text("# my analysis\n")
    for args in (["-o", mine], []):
        result = invoke("notebook", "convert", source, *args)
        assert result.exit_code == 2, result.stderr
        assert "was not written by notebook_to_script.py" in result.stderr
    assert mine.read_text() == "print('my own work')\n"
    assert beside.read_text() == "# my analysis\n"
    beside.unlink()
    assert invoke("notebook", "convert", source).exit_code == 0
    notebook(code("print(2)"), path=source)  # ours: converted again
    assert invoke("notebook", "convert", source).exit_code == 0
    assert "print(2)" in beside.read_text()


def test_two_notebooks_with_one_name_are_refused(tmp_path: Path):
    first = notebook(code("print(1)"), path=tmp_path / "x.ipynb")
    (tmp_path / "b").mkdir()
    second = notebook(code("print(2)"), path=tmp_path / "b" / "x.ipynb")
    before = snapshot(tmp_path)
    result = invoke(
        "notebook", "convert", first, second, "-o", tmp_path / "out"
    )
    assert result.exit_code == 2
    assert "would both be written to" in result.stderr
    assert snapshot(tmp_path) == before and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "failure", [OSError(28, "No space left"), KeyboardInterrupt()]
)
def test_several_scripts_are_written_all_or_nothing(
    tmp_path: Path, monkeypatch, failure
):
    from mlops_scaffold.notebook import converter

    out = tmp_path / "scripts"
    sources = [
        notebook(code(f"print({i})"), path=tmp_path / f"n{i}.ipynb")
        for i in range(3)
    ]
    assert invoke("notebook", "convert", *sources, "-o", out).exit_code == 0
    for i, source in enumerate(sources):
        notebook(code(f"print({i + 10})"), path=source)
    before = snapshot(tmp_path)
    module = converter()
    real_replace, moves = module.os.replace, []

    def replace_then_fail(src, dst):
        moves.append(dst)
        if len(moves) == 2:
            raise failure
        real_replace(src, dst)

    monkeypatch.setattr(module.os, "replace", replace_then_fail)
    result = invoke("notebook", "convert", *sources, "-o", out)
    assert result.exit_code == (130 if moves and isinstance(
        failure, KeyboardInterrupt) else 1)  # fmt: skip
    monkeypatch.undo()
    assert snapshot(tmp_path) == before  # the first move was undone
    assert invoke("notebook", "convert", *sources, "-o", out).exit_code == 0
    assert run(out / "n2.py") == "12\n"


def test_the_sample_notebook_script_is_up_to_date(tmp_path: Path):
    sample = REPO / "sample-project"
    result = invoke(
        "notebook", "convert", "--check",
        *sorted((sample / "notebooks").glob("*.ipynb")),
        "-o", sample / "notebooks" / "scripts",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr


CORPUS = REPO / "tests" / "corpus" / "notebooks"
CORPUS_NOTEBOOKS = sorted(CORPUS.glob("*.ipynb"))


@pytest.fixture(scope="module")
def corpus_scripts(tmp_path_factory) -> Path:
    """Every corpus notebook converted in one run, into one folder."""
    out = tmp_path_factory.mktemp("corpus")
    result = invoke("notebook", "convert", *CORPUS_NOTEBOOKS, "-o", out)
    assert result.exit_code == 0, result.stderr
    return out


def test_the_corpus_holds_real_notebooks_with_their_licences():
    licences = (CORPUS / "LICENSES.md").read_text(encoding="utf-8")
    assert len(CORPUS_NOTEBOOKS) >= 30
    repos = set()
    for path in CORPUS_NOTEBOOKS:
        row = next(
            line for line in licences.splitlines()
            if line.startswith(f"| {path.name} |")
        )  # fmt: skip
        _, repo, commit, source, licence = (
            cell.strip() for cell in row.strip("|").split("|")
        )
        assert licence in ("MIT", "Apache-2.0")
        assert len(commit) == 40 and source.endswith(".ipynb")
        repos.add(repo)
    assert len(repos) >= 3


@pytest.mark.e2e
def test_corpus_conversion_is_deterministic(corpus_scripts: Path):
    again = invoke(
        "notebook", "convert", "--check", *CORPUS_NOTEBOOKS,
        "-o", corpus_scripts,
    )  # fmt: skip
    assert again.exit_code == 0, again.stderr


def test_corpus_scripts_compile_without_undefined_names(corpus_scripts: Path):
    scripts = sorted(corpus_scripts.glob("*.py"))
    assert len(scripts) == len(CORPUS_NOTEBOOKS)
    with warnings.catch_warnings():  # the notebooks' own invalid escapes
        warnings.simplefilter("ignore")
        for script in scripts:
            compile(script.read_bytes(), str(script), "exec")
    check = subprocess.run(
        [validators.tool("ruff"), "check", "--no-cache", "--isolated",
         "--select", "E9,F63,F7,F82", *map(str, scripts)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout


# Property-based: hostile notebooks, contract kept ----------------------------

SNIPPETS = [
    "x = 1",
    "print(x)",
    "%matplotlib inline",
    "!pip install a \\\n  b",
    "files = !ls",
    "%time y = 2",
    "%%time\nz = 3",
    "%%bash\necho hi",
    "x?",
    "??x",
    "await asyncio.sleep(0)",
    "yield 1",
    "return 2",
    "def main():\n    return 1",
    "main()",
    "import asyncio",
    "display(x)",
    f"s = '{'q' * 90}' \\\n    'r'",
    f"t = '''{'w' * 90}\n{'v' * 90}'''",
    "class A:\n    b = x",
    "def f(a=x):\n    return a",
    "global x",
    "if x:\n    !echo $x",
    "get_ipython().system('ls')",
    "lambda: (yield)",
    "from __future__ import annotations",
    "del x",
    "x: int = 3",
    "\t x = 1",
    "def f(:",
    "'unterminated",
    "café = 'ü'",
    "async def g():\n    await g()",
    "a = 1; get_ipython().system('ls')",
    "if x: get_ipython().magic('x')",
    "%%capture out\nx = 1",
    "%load_ext autoreload\n%autoreload 2",
]
texts = st.text(max_size=30)  # surrogates too: JSON can escape them
sources = st.one_of(
    st.lists(st.sampled_from(SNIPPETS), max_size=4).map("\n".join),
    texts,
)
cells = st.fixed_dictionaries(
    {
        "cell_type": st.sampled_from(["code", "markdown", "raw"]),
        "source": st.one_of(sources, st.lists(sources, max_size=3)),
        "metadata": st.fixed_dictionaries(
            {},
            optional={
                "tags": st.lists(
                    st.sampled_from(["skip", "parameters", "x"]),
                    unique=True,
                    max_size=2,
                )
            },
        ),
    }
)


# Line breaks str.splitlines() knows and Python's parser does not.
BREAKS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
# Kernels a notebook may name: Python's, others, none, wrong shapes.
kernels = st.one_of(
    st.none(),
    st.sampled_from([
        {"name": "python3", "language": "python"},
        {"name": "ir", "language": "R"},
        {"name": "julia-1.10", "language": "julia"},
        {"language": ""}, {"language": 3}, {"name": "x"},
    ]),
)  # fmt: skip


def with_breaks(source: str, brk: str | None) -> str:
    """A source with a stray line break in its comments, where one fits."""
    return source if brk is None else source.replace("#", f"# a{brk}b", 1)


def notebook_bytes(
    cell_list: list[dict],
    encoding: str,
    kernel: dict | None = None,
    brk: str | None = None,
) -> bytes:
    for index, cell in enumerate(cell_list):
        cell["id"] = f"c{index}"
        if isinstance(cell["source"], str):
            cell["source"] = with_breaks(cell["source"], brk)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    metadata = {} if kernel is None else {"kernelspec": kernel}
    data = {
        "cells": cell_list, "metadata": metadata, "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    if encoding == "json-escapes":
        return json.dumps(data).encode("ascii")
    return json.dumps(data, ensure_ascii=False).encode(encoding, "replace")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3)
    ),
    max_leaves=8,
)
files = st.one_of(
    st.builds(
        notebook_bytes,
        st.lists(cells, max_size=6),
        st.sampled_from(["utf-8", "json-escapes", "latin-1", "utf-16"]),
        kernels,
        st.one_of(st.none(), st.sampled_from(BREAKS)),
    ),
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda n: b"[" * n, st.integers(1, 100_000)),
)


@settings(
    max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
@given(content=files)
def test_any_file_keeps_the_contract(content: bytes):
    """Exit 0, 1 or 2 and no exception; what is written compiles; the same
    input gives the same bytes."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "n.ipynb"
        source.write_bytes(content)
        first, second = Path(folder) / "a.py", Path(folder) / "b.py"
        result = invoke("notebook", "convert", source, "-o", first)
        assert result.exit_code in (0, 1, 2), result.stderr
        event(f"exit {result.exit_code}")
        assert "please report" not in result.stderr  # no converter defect
        if result.exit_code:
            assert "n.ipynb" in result.stderr and not first.exists()
            return
        text = first.read_text(encoding="utf-8")
        compile(text, "a.py", "exec", dont_inherit=True)
        # no shell escape is ever left live, whatever breaks a comment holds
        assert not [
            node
            for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.Attribute)
            and node.attr in ("system", "getoutput")
            and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "get_ipython"
        ]
        assert (
            invoke("notebook", "convert", source, "-o", second).exit_code == 0
        )
        assert second.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("name", ['we"""ird', "back\\slash", "Größe ü"])
def test_any_notebook_name_gives_a_valid_header(tmp_path: Path, name: str):
    source = notebook(code("print(1)"), path=tmp_path / f"{name}.ipynb")
    target = tmp_path / "out.py"
    assert invoke("notebook", "convert", source, "-o", target).exit_code == 0
    module = ast.parse(target.read_text(encoding="utf-8"))
    assert ast.get_docstring(module).startswith(f"Converted from {name}.ipynb")
    again = invoke("notebook", "convert", source, "-o", target)
    assert again.exit_code == 0 and "(unchanged)" in again.stdout


def test_explicit_get_ipython_calls_become_none_in_place(tmp_path: Path):
    target, text, result = convert_one(
        tmp_path,
        code(
            "import sys\n"
            "if 'colab' in sys.modules: get_ipython().system('pip install x')\n"
            "a = 1; get_ipython().run_line_magic('matplotlib', 'inline')\n"
            "shell = get_ipython()  # the shell\n"
            "print(a, shell, f'{get_ipython()}')"
        ),
    )
    assert 'if "colab" in sys.modules:\n        None' in text
    assert "shell = None  # the shell" in text
    assert "!pip install x" in result.stderr
    assert run(target) == "1 None None\n"


def test_a_string_continued_by_a_backslash_stays_intact(tmp_path: Path):
    """No place inside such a string takes a comment; the file gets ruff's
    file-level mark instead, and the string keeps its value."""
    target, text, _ = convert_one(
        tmp_path, code(f's = "{LONG}\\\n{LONG}"\nprint(len(s))')
    )
    assert "\n# ruff: noqa: E501\n" in text
    assert "\\  # noqa" not in text and f"{LONG}  # noqa" not in text
    lint(target)
    assert run(target) == "200\n"


def test_definitions_that_read_notebook_state_run_after_it(tmp_path: Path):
    target, text, _ = convert_one(
        tmp_path,
        code("rate = 0.5"),
        code("def scaled(x, r=rate):\n    return x * r"),
        code("class Config:\n    factor = rate * 2"),
        code("def plain(x):\n    return x"),
        code("print(scaled(2), Config.factor, plain(3))"),
    )
    assert text.index("def plain(x):") < text.index("def main()")
    assert text.index("def main()") < text.index("def scaled(")
    lint(target)
    assert run(target) == "1.0 1.0 3\n"


def test_an_oversized_notebook_is_refused(tmp_path: Path, monkeypatch):
    from mlops_scaffold.notebook import converter

    monkeypatch.setattr(converter(), "MAX_BYTES", 100)
    big = notebook(code("x = 1\n" * 50), path=tmp_path / "big.ipynb")
    result = invoke("notebook", "convert", big, "-o", tmp_path / "big.py")
    assert result.exit_code == 2 and "larger than" in result.stderr
    assert not (tmp_path / "big.py").exists()


def test_a_broken_ruff_configuration_is_a_clear_failure(tmp_path: Path):
    """ruff formats with the configuration of the target's folder; when
    that configuration is broken the command fails cleanly, writing
    nothing."""
    source = notebook(code("print(1)"), path=tmp_path / "n.ipynb")
    project = tmp_path / "project"
    project.mkdir()
    (project / "ruff.toml").write_text("line-length = 'wide'\n")
    result = invoke("notebook", "convert", source, "-o", project / "n.py")
    assert result.exit_code == 1, result.stderr
    assert "ruff" in result.stderr and "n.py" in result.stderr
    assert not (project / "n.py").exists()


def test_a_missing_ruff_is_a_clear_failure(tmp_path: Path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ruff", None)  # import ruff fails
    monkeypatch.setitem(sys.modules, "ruff.__main__", None)
    source = notebook(code("print(1)"), path=tmp_path / "n.ipynb")
    result = invoke("notebook", "convert", source, "-o", tmp_path / "n.py")
    assert result.exit_code == 1
    assert "ruff is not installed" in result.stderr
    assert "reinstall mlops-scaffold" in result.stderr
    assert not (tmp_path / "n.py").exists()


@pytest.mark.parametrize("module", ["IPython", "nbformat"])
def test_the_shipped_script_names_a_missing_dependency(
    tmp_path: Path, module: str
):
    """A project's script run where its dev extra is not installed: exit 1
    and what to install, no traceback (a subprocess, as `make` runs it)."""
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\n"
        f"sys.modules[{module!r}] = None\n"
    )  # fmt: skip
    source = notebook(
        code("%matplotlib inline\nx = 1"), path=tmp_path / "n.ipynb"
    )
    result = subprocess.run(
        [sys.executable,
         str(REPO / "templates/project/scripts/notebook_to_script.py"),
         str(source), "-o", str(tmp_path / "n.py")],
        capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(blocker)},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert f"{module.lower()} is not installed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "n.py").exists()


def test_a_symlinked_target_is_left_alone(tmp_path: Path):
    """Writing through a link could change a file anywhere."""
    elsewhere = tmp_path / "elsewhere.py"
    elsewhere.write_text(
        '"""Converted from x.ipynb by notebook_to_script.py.\n'
    )
    link = tmp_path / "n.py"
    link.symlink_to(elsewhere)
    source = notebook(code("print(1)"), path=tmp_path / "n.ipynb")
    result = invoke("notebook", "convert", source)
    assert result.exit_code == 2 and "not a regular file" in result.stderr
    assert link.is_symlink() and "x.ipynb" in elsewhere.read_text()


SHIPPED = REPO / "templates/project/scripts/notebook_to_script.py"


def _limit_memory() -> None:  # a regression must fail, not eat the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))


@pytest.mark.parametrize("kind", ["device", "fifo", "folder", "dir-link"])
@pytest.mark.parametrize("check", [False, True], ids=["write", "check"])
def test_a_notebook_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, kind: str, check: bool
):
    """A pull request can commit a link to /dev/zero (endless) or a FIFO
    (never answers): refused, named, nothing read or written. The shipped
    script runs in a subprocess with a time and memory bound, as CI runs
    it, so a regression fails instead of hanging."""
    source = tmp_path / "nb.ipynb"
    if kind == "device":
        source.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(source)
    elif kind == "folder":
        source.mkdir()
    else:
        (tmp_path / "real").mkdir()
        source.symlink_to(tmp_path / "real")
    good = notebook(code("print(1)"), path=tmp_path / "good.ipynb")
    before = snapshot(tmp_path)
    command = [sys.executable, str(SHIPPED), str(good), str(source)]
    command += ["--check"] if check else ["-o", str(tmp_path / "out")]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120,
        preexec_fn=_limit_memory,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"{source}: is not a regular file" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before


def test_the_tool_refuses_a_link_to_a_device(tmp_path: Path):
    source = tmp_path / "nb.ipynb"
    source.symlink_to("/dev/zero")
    result = invoke("notebook", "convert", source, "-o", tmp_path / "z.py")
    assert result.exit_code == 2, result.stderr
    assert "nb.ipynb: is not a regular file" in result.stderr
    assert not (tmp_path / "z.py").exists()


def test_a_notebook_is_read_no_further_than_the_limit(
    tmp_path: Path, monkeypatch
):
    """The size comes from what is read (MAX_BYTES + 1 at most), not from
    a stat that a growing file outruns."""
    from mlops_scaffold.notebook import converter

    module = converter()
    monkeypatch.setattr(module, "MAX_BYTES", 100)
    big = tmp_path / "big.ipynb"
    big.write_bytes(b" " * 5000)
    assert len(module._read_bounded(big)) == 101


@contextlib.contextmanager
def umask(mask: int):
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077], ids=oct)
def test_scripts_are_created_with_the_umask_mode(tmp_path: Path, mask: int):
    """As a plain open() creates them: others (CI containers, teammates)
    read them under the usual umask 022."""
    source = notebook(code("print(1)"), path=tmp_path / "n.ipynb")
    with umask(mask):
        result = invoke("notebook", "convert", source, "-o", tmp_path / "s")
    assert result.exit_code == 0, result.stderr
    mode = (tmp_path / "s" / "n.py").stat().st_mode & 0o777
    assert mode == 0o666 & ~mask


@pytest.mark.parametrize("mode", [0o640, 0o755, 0o600], ids=oct)
def test_a_replaced_script_keeps_its_mode(tmp_path: Path, mode: int):
    target = tmp_path / "n.py"
    source = notebook(code("print(1)"), path=tmp_path / "n.ipynb")
    assert invoke("notebook", "convert", source, "-o", target).exit_code == 0
    target.chmod(mode)
    notebook(code("print(2)"), path=source)
    with umask(0o022):
        result = invoke("notebook", "convert", source, "-o", target)
    assert result.exit_code == 0 and "(written)" in result.stdout
    assert "print(2)" in target.read_text()
    assert target.stat().st_mode & 0o7777 == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.ipynb", "n.py"]


@pytest.mark.parametrize(
    ("output", "blocker"),
    [
        ("good.ipynb/x.py", "good.ipynb"),
        ("good.ipynb/a/b/x.py", "good.ipynb"),
        ("good.ipynb/scripts", "good.ipynb"),
        ("notes.txt/x.py", "notes.txt"),
        ("link/x.py", "link"),
    ],
    ids=["file", "deep", "folder-option", "other-file", "dangling-link"],
)
def test_an_output_below_a_file_is_bad_input(
    tmp_path: Path, monkeypatch, output: str, blocker: str
):
    monkeypatch.chdir(tmp_path)
    notebook(code("print(1)"), path=tmp_path / "good.ipynb")
    (tmp_path / "notes.txt").write_text("notes\n")
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    before = snapshot(tmp_path)
    result = invoke("notebook", "convert", "good.ipynb", "-o", output)
    assert result.exit_code == 2, result.stderr
    assert f"{blocker}: is not a folder" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(tmp_path) == before


# ------------------------------------------- hostile notebooks, round 2


def test_a_star_import_in_a_try_stays_at_module_level(tmp_path: Path):
    target, text, _ = convert_one(
        tmp_path,
        code(
            "try:\n    from os.path import *\nexcept ImportError:\n"
            "    pass\nprint(join('a', 'b'))"
        ),
    )
    assert text.index("from os.path import *") < text.index("def main")
    assert run(target).strip() == os.path.join("a", "b")


@pytest.mark.parametrize("brk", ["\x0c", "\x1c", "\x1d", "\x1e", "\x85"])
def test_a_line_break_python_keeps_inside_a_line_shifts_nothing(
    tmp_path: Path, brk: str
):
    target, text, result = convert_one(
        tmp_path, code(f"x = 1  # a{brk}b\n!echo live\nprint(x)")
    )
    assert "get_ipython()" not in text  # the shell escape is a comment
    assert "# IPython only, not run: !echo live" in text
    assert "b" in text.split("x = 1", 1)[1].split("\n")[0]  # comment kept
    assert run(target).strip() == "1"


@pytest.mark.parametrize(
    ("kernelspec", "named"),
    [
        ({"name": "ir", "display_name": "R", "language": "R"}, "R"),
        ({"name": "julia-1.10", "display_name": "Julia",
          "language": "julia"}, "julia"),
    ],
)  # fmt: skip
def test_a_notebook_of_another_language_is_refused(
    tmp_path: Path, kernelspec: dict, named: str
):
    nb = new_notebook(cells=[new_code_cell("print('hi')")])
    nb.metadata["kernelspec"] = kernelspec
    source = tmp_path / "other.ipynb"
    nbformat.write(nb, source)
    result = invoke("notebook", "convert", source, "-o", tmp_path / "o.py")
    assert result.exit_code == 2, result.stderr
    assert f"is written in {named}" in result.stderr
    assert not (tmp_path / "o.py").exists()


def test_names_used_but_never_defined_are_named_with_their_cell(
    tmp_path: Path,
):
    _, _, result = convert_one(
        tmp_path,
        code("import math\nvalue = math.pi"),
        code("print(spark.version, value, len([1]))"),
    )
    assert "cell 2: `spark`" in result.stderr
    assert "`value`" not in result.stderr and "`len`" not in result.stderr
