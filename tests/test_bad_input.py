"""Every row of docs/bad-input.md, run: the message, the exit code, and
nothing changed on disk."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from pathlib import Path

import pytest

from conftest import REPO
from helpers import generate, git, invoke, snapshot

DOC = REPO / "docs" / "bad-input.md"
ROW = re.compile(r"^\| ([a-z-]+) \| `([^`]+)`[^|]* \| (.+?) \| (\d) \|$")


def alias_bomb() -> str:
    """A billion laughs in YAML flow style: 10**10 values after aliases."""
    parts = ["&a0 [" + ", ".join(["a"] * 10) + "]"]
    parts += [
        f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)
    ]
    return "[" + ", ".join(parts) + ", *a9]"


NEW_DATA_FILES = {
    "data-file-too-large": "description: " + "x" * 1_000_000 + "\n",
    "alias-bomb-data-file": f"sprint_length_weeks: {alias_bomb()}\n",
    "alias-bomb-data-text": f"retrain_on_drift: '{alias_bomb()}'\n",
    "deep-data-file": "description: " + "[" * 100_000 + "\n",
}


def rows() -> list[tuple[str, str, str, int]]:
    found = []
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match:
            found.append((match[1], match[2], match[3], int(match[4])))
    return found


def committed_repo(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "theirs")
    return root


def notebook_cells(path: Path, *sources: str) -> None:
    """A notebook: a markdown cell, then a code cell per source."""
    cells = [{"cell_type": "markdown", "id": "m", "metadata": {},
              "source": "# Title"}]  # fmt: skip
    cells += [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "metadata": {},
            "source": s,
            "outputs": [],
            "execution_count": None,
        }  # fmt: skip
        for i, s in enumerate(sources)
    ]
    data = {"cells": cells, "metadata": {}, "nbformat": 4}
    path.write_text(json.dumps({**data, "nbformat_minor": 5}))


def setup(case: str, tmp: Path, generated: Path) -> dict[str, Path]:
    """Build the situation a row describes; return the placeholders."""
    places = {"DEST": tmp / "dest", "FOLDER": tmp / "folder",
              "MISSING": tmp / "missing", "REPO": tmp / "repo"}  # fmt: skip
    places["FOLDER"].mkdir()
    if case == "over-long-name":
        places["LONG"] = tmp / ("a" * 256)
    elif case == "binary-answers-file":
        (tmp / "binary.yml").write_bytes(bytes(range(256)) * 4)
    elif case == "dangling-symlink-destination":
        places["DEST"].symlink_to(tmp / "nowhere")
    elif case == "template-source-without-tag":
        committed_repo(places["FOLDER"], {"copier.yml": "{}\n"})
    elif case == "non-empty-destination":
        places["DEST"].mkdir()
        (places["DEST"] / "notes.txt").write_text("mine")
    elif case == "destination-is-a-file":
        places["DEST"].write_text("a file")
    elif case in NEW_DATA_FILES:
        (tmp / "answers.yml").write_text(NEW_DATA_FILES[case])
    elif case == "malformed-answers-file":
        (tmp / "answers.yml").write_text("description: ok\nname: [oops\n")
    elif case.startswith("update"):
        places["PROJECT"] = tmp / "project"
        shutil.copytree(generated, places["PROJECT"], symlinks=True)
        places["FILE"] = places["PROJECT"] / "README.md"
        committed_repo(places["REPO"], {"README.md": "not scaffolded\n"})
        update_situation(case, places["PROJECT"])
    elif case.startswith(("adopt", "check", "review", "run")):
        workflow = (
            "name: CI\non: push\njobs:\n  test:\n    steps: x\n   bad: y\n"
        )
        if case not in ("adopt-malformed-yaml", "run-malformed-yaml"):
            workflow = "name: CI\non: push\njobs: {}\n"
        files = {".github/workflows/ci.yml": workflow}
        if case in ADOPT_PYPROJECT:
            files["pyproject.toml"] = ADOPT_PYPROJECT[case]
        if case == "adopt-other-template":
            files[".copier-answers.yml"] = "_src_path: gh:them/template\n"
        if case == "adopt-computed-setup":
            files["setup.py"] = "from setuptools import setup\nsetup(name=N)\n"
        if case == "check-deep-pyproject":
            deep = "[" * 100_000 + "]" * 100_000
            files["pyproject.toml"] = f"[tool.x]\nv = {deep}\n"
        if case == "adopt-no-commit":
            git(places["REPO"].parent, "init", "--quiet", str(places["REPO"]))
        else:
            committed_repo(places["REPO"], files)
        places["WORKFLOW"] = places["REPO"] / ".github/workflows/ci.yml"
        places["GITHEAD"] = places["REPO"] / ".git/HEAD"
        if case == "check-fifo-file":
            os.mkfifo(places["REPO"] / ".github/workflows/f.yml")
        if case == "adopt-dirty-tree":
            (places["REPO"] / "notes.txt").write_text("wip")
        elif case == "adopt-detached-head":
            git(places["REPO"], "switch", "--quiet", "--detach")
    elif case.startswith("notebook"):
        (tmp / "bad.ipynb").write_text("{not json")
        (tmp / "data.ipynb").write_text(json.dumps({"rows": [1, 2]}))
        (tmp / "old.ipynb").write_text(
            json.dumps({"nbformat": 3, "nbformat_minor": 0, "worksheets": []})
        )
        notebook_cells(tmp / "good.ipynb", "print(1)")
        (tmp / "sub").mkdir()
        notebook_cells(tmp / "sub" / "good.ipynb", "print(2)")
        notebook_cells(tmp / "broken.ipynb", "x = 1\ndef f(:")
        notebook_cells(tmp / "gen.ipynb", "for i in range(3):\n    yield i")
        notebook_cells(tmp / "r.ipynb", "print('hi')")
        r_notebook = json.loads((tmp / "r.ipynb").read_text())
        r_notebook["metadata"]["kernelspec"] = {
            "name": "ir", "display_name": "R", "language": "R",
        }  # fmt: skip
        (tmp / "r.ipynb").write_text(json.dumps(r_notebook))
        (tmp / "latin.ipynb").write_bytes(
            '{"nbformat": 4, "é": 1}'.encode("latin-1")
        )
        (tmp / "mine.py").write_text("print('my own work')\n")
        (tmp / "good.py").write_text("# my own analysis\n")
        (tmp / "notes.txt").write_text("notes\n")
        (tmp / "text.ipynb").write_text(
            json.dumps({"nbformat": "4", "cells": [], "metadata": {}})
        )
        if case == "notebook-device":
            (tmp / "zero.ipynb").symlink_to("/dev/zero")
        elif case == "notebook-fifo":
            os.mkfifo(tmp / "pipe.ipynb")
    return places


ADOPT_PYPROJECT = {
    "adopt-bad-pyproject": "[project\nname = 'x'\n",
    "adopt-inferred-invalid": "[project]\nauthors = [{name = '%s'}]\n"
    % ("A" * 300),
}
UPDATE_ANSWERS = {
    "update-corrupt-answers": b"project_name: [oops\n",
    "update-list-answers": b"- project_name\n- fraud\n",
    "update-binary-answers": b"project_name: \xff\xfe\n",
    "update-wrong-type-answer": b"project_name: Fraud\nci_provider: [a, b]\n",
    "update-alias-bomb-answers": b"project_name: Fraud\n"
    + f"sprint_length_weeks: {alias_bomb()}\n".encode(),
    "update-alias-bomb-text": b"project_name: Fraud\n"
    + f"retrain_on_drift: '{alias_bomb()}'\n".encode(),
    "update-deep-answers": b"project_name: " + b"[" * 100_000 + b"\n",
    "update-huge-answers": b"project_name: " + b"x" * 300_000 + b"\n",
}


def update_situation(case: str, project: Path) -> None:
    """The states of a generated project that the update rows start from."""
    if case == "update-dirty-tree":
        (project / "README.md").write_text("half-done\n")
    elif case in UPDATE_ANSWERS:
        (project / ".copier-answers.yml").write_bytes(UPDATE_ANSWERS[case])
        git(project, "commit", "--quiet", "-am", "broken answers")
    elif case == "update-index-lock":
        (project / ".git/index.lock").write_text("")
    elif case == "update-on-template-branch":
        git(project, "switch", "--quiet", "mlops-scaffold/template")
    elif case == "update-detached-head":
        git(project, "switch", "--quiet", "--detach")
    elif case == "update-pretend-conflict":
        (project / "README.md").write_text("Our own README.\n")
        git(project, "commit", "--quiet", "-am", "our README")
    elif case == "update-ignored-file":
        (project / ".git/info/exclude").write_text("azure-pipelines/\n")
        (project / "azure-pipelines").mkdir()
        (project / "azure-pipelines/ci.yml").write_text("# my draft\n")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated project, rendered once; the update rows use copies."""
    return generate(tmp_path_factory.mktemp("generated") / "project")


def test_the_table_covers_every_command():
    commands = {command.split()[0] for _, command, _, _ in rows()}
    assert commands == {
        "new", "update", "adopt", "check", "review", "notebook", "run",
    }  # fmt: skip
    assert len(rows()) >= 20


def _row(case: str, command: str, message: str, code: int):
    """A table row; update and adopt rows run on whole projects (e2e)."""
    whole = command.split()[0] in {"update", "adopt"}
    marks = [pytest.mark.e2e] if whole else []
    return pytest.param(case, command, message, code, marks=marks, id=case)


@pytest.mark.parametrize(
    ("case", "command", "message", "code"), [_row(*row) for row in rows()]
)
def test_bad_input(
    tmp_path, monkeypatch, generated, case, command, message, code
):
    monkeypatch.chdir(tmp_path)
    places = setup(case, tmp_path, generated)
    args = [str(places.get(word, word)) for word in shlex.split(command)]
    repo_state = {
        name: git(path, "rev-parse", "--all")
        if (path / ".git").exists()
        else ""
        for name, path in places.items()
        if name != "LONG" and path.is_dir()
    }
    before = snapshot(tmp_path)
    result = invoke(*args)
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(tmp_path) == before
    for name, path in places.items():
        if name in repo_state and repo_state[name]:
            assert git(path, "rev-parse", "--all") == repo_state[name]


@pytest.mark.e2e
@pytest.mark.parametrize(
    "failure", [RuntimeError("disk full"), KeyboardInterrupt()]
)
def test_an_interrupted_update_leaves_the_project_as_it_was(
    tmp_path: Path, monkeypatch, failure
):
    from mlops_scaffold import update as update_module

    project = generate(tmp_path / "project")
    refs, before = git(project, "show-ref"), snapshot(project)
    real_commit_tree = update_module.commit_tree

    def commit_then_fail(*args, **kwargs):
        real_commit_tree(*args, **kwargs)
        raise failure

    monkeypatch.setattr(update_module, "commit_tree", commit_then_fail)
    with pytest.raises(type(failure)):
        update_module.update_project(project, data={"ci_provider": "both"})
    assert snapshot(project) == before
    assert git(project, "show-ref") == refs
    assert git(project, "status", "--porcelain") == ""
