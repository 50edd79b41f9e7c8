"""A data scientist's day on a generated project, as a new user meets it:
`make install` once, then every task from a fresh shell that never activated
the venv (`env -i` with PATH and HOME only; see `installed_project`)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import NETWORK_VARIABLES, REPO, InstalledProject
from helpers import git, load_yaml

pytestmark = pytest.mark.e2e


def notebook(*cells: str) -> str:
    """A minimal notebook whose code cells hold ``cells``, without outputs."""
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"cell-{number}",
                    "metadata": {},
                    "outputs": [],
                    "source": source.splitlines(keepends=True),
                }
                for number, source in enumerate(cells)
            ],
            "metadata": {
                "kernelspec": {
                    "display_name": "Python 3",
                    "language": "python",
                    "name": "python3",
                },
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


@pytest.fixture
def scratch(installed_project: InstalledProject):
    """Files a test adds to the shared project, removed (and unstaged)
    afterwards so that the next test sees the project as generated."""
    added: list[Path] = []

    def add(relative: str, text: str | None = None) -> Path:
        """Write ``text`` to ``relative``; with no text, only remove it
        afterwards (a file that a task under test writes)."""
        path = installed_project.path / relative
        if text is not None:
            path.write_text(text, encoding="utf-8")
        added.append(path)
        return path

    yield add
    for path in added:
        path.unlink(missing_ok=True)
    installed_project.run("git", "reset", "--quiet")


def test_pipeline_lint_finds_the_venv_tools_without_activation(
    installed_project: InstalledProject,
):
    result = installed_project.make("pipeline-lint")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "is not installed" not in result.stderr
    assert "pipeline lint: all validators passed" in result.stdout


def test_legacy_workflows_warn_but_do_not_fail_pipeline_lint(
    installed_project: InstalledProject, scratch
):
    """What adopt lists in .pipeline-lint-legacy (the project's own older
    workflows) is checked, and its findings are warnings."""
    scratch(
        ".github/workflows/old.yml",
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - run: python setup.py test\n",
    )
    failing = installed_project.make("pipeline-lint")
    assert failing.returncode != 0  # unpinned, no permissions: findings
    scratch(".pipeline-lint-legacy", "# adopt\n.github/workflows/old.yml\n")
    result = installed_project.make("pipeline-lint")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    assert "legacy files (warnings only): .github/workflows/old.yml" in (
        result.stdout
    )
    assert "the legacy files have findings" in result.stderr


def test_format_fixes_what_a_fix_and_the_formatter_can_fix(
    installed_project: InstalledProject, scratch
):
    scratch(
        "src/fraud_model/scratch_format.py",
        'import os\nrates = {"a_rather_long_key": 0.25, "another_long_key": '
        '0.5, "yet_another_key_here": 0.75}\n',
    )
    result = installed_project.make("format")
    assert result.returncode == 0, result.stdout + result.stderr
    fixed = (
        installed_project.path / "src/fraud_model/scratch_format.py"
    ).read_text()
    assert "import os" not in fixed
    assert max(len(line) for line in fixed.splitlines()) <= 80


@pytest.mark.parametrize(
    ("cell", "passes"),
    [
        # prose-like code: a long string is fine in a notebook
        (
            'title = "A long title for a chart that a data scientist would '
            'never wrap by hand, since it is one sentence"',
            True,
        ),
        # an unused import fails both, as it does in the package
        ("import os", False),
    ],
    ids=["long-line", "unused-import"],
)
def test_pre_commit_and_make_lint_agree_on_a_notebook(
    installed_project: InstalledProject, scratch, cell: str, passes: bool
):
    scratch("notebooks/02-scratch.ipynb", notebook(cell))
    scratch("notebooks/scripts/02_scratch.py")  # `make notebooks` writes it
    converted = installed_project.make("notebooks")
    assert converted.returncode == 0, converted.stderr
    installed_project.run("git", "add", "notebooks")
    lint = installed_project.make("lint")
    hooks = installed_project.run(
        ".venv/bin/pre-commit",
        "run",
        "--files",
        "notebooks/02-scratch.ipynb",
        "notebooks/scripts/02_scratch.py",
    )
    assert (lint.returncode == 0) is passes, lint.stdout + lint.stderr
    assert (hooks.returncode == 0) is passes, hooks.stdout
    if not passes:
        assert "F401" in lint.stdout and "F401" in hooks.stdout


def test_quality_after_train_neither_retrains_nor_loads_mlflow(
    installed_project: InstalledProject,
):
    trained = installed_project.make("train")
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "mlflow: run" in trained.stdout
    gate = installed_project.make(
        "quality", "PYTHON=.venv/bin/python -X importtime"
    )
    assert gate.returncode == 0, gate.stdout + gate.stderr[-3000:]
    assert "trained fraud-model" not in gate.stdout
    assert "has this verdict already" in gate.stdout
    imported = [line for line in gate.stderr.splitlines() if "mlflow" in line]
    assert not imported, imported[:5]
    (installed_project.path / "config" / "model.yml").touch()
    again = installed_project.make("quality")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "trained fraud-model" in again.stdout


def ci_job_commands(project: Path, job: str) -> list[str]:
    """The `run:` commands of a job of the generated ci.yml, in order."""
    workflow = load_yaml(project / ".github" / "workflows" / "ci.yml")
    return [
        step["run"] for step in workflow["jobs"][job]["steps"] if "run" in step
    ]


def test_ci_notebook_job_fails_on_a_cell_that_raises_and_keeps_the_html(
    installed_project: InstalledProject, scratch
):
    """`mlops-scaffold run` executes CI's notebooks job as the runner does
    (setup-project, then `make notebooks-html`): a cell that raises fails
    the job, and the HTML of every notebook is kept."""
    scratch(
        "notebooks/02-broken.ipynb",
        notebook(
            'print("before the " + "error")',
            'raise ValueError("data " + "moved")',
        ),
    )
    html = installed_project.path / "reports" / "notebooks"
    scratch("reports/notebooks/02-broken.html")
    commands = ci_job_commands(installed_project.path, "notebooks")
    assert commands == ["make notebooks-html"]
    run = installed_project.run(
        sys.executable, "-m", "mlops_scaffold", "run",
        ".github/workflows/ci.yml", "--job", "notebooks",
        PYTHONPATH=str(REPO / "generator"),
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr
    assert "FAILED  notebooks" in run.stdout
    results = [run]
    assert results[-1].returncode != 0
    output = results[-1].stdout + results[-1].stderr
    assert "02-broken.ipynb: ValueError: data moved" in output
    assert "notebooks that do not run: notebooks/02-broken.ipynb" in output
    broken = (html / "02-broken.html").read_text()
    assert "before the error" in broken and "data moved" in broken
    assert "ROC AUC: 0." in (html / "01-exploration.html").read_text()


def test_notebooks_run_with_the_network_off(
    installed_project: InstalledProject, scratch
):
    scratch(
        "notebooks/02-online.ipynb",
        notebook(
            "import urllib.request\n"
            'urllib.request.urlopen("https://pypi.org/simple/", timeout=5)'
        ),
    )
    scratch("reports/notebooks/02-online.html")
    result = installed_project.make("notebooks-html")
    assert result.returncode != 0
    assert "network access to 'pypi.org' is off" in result.stderr


def readme_block(project: Path, containing: str) -> str:
    """The README's ```sh block that contains ``containing``."""
    readme = (project / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    return next(block for block in blocks if containing in block)


def network_env() -> dict[str, str]:
    return {k: os.environ[k] for k in NETWORK_VARIABLES if k in os.environ}


def test_the_readme_install_without_uv_works_on_a_default_venv(
    installed_project: InstalledProject, tmp_path: Path
):
    """A venv's own pip (23.x here) has no --group until the README's
    upgrade step. The last line resolves without installing (--dry-run):
    the same resolution `make install` already proved."""
    block = readme_block(installed_project.path, "pip install --upgrade pip")
    block = block.replace(".venv/", f"{tmp_path}/venv/").replace(
        "-m venv .venv", f"-m venv {tmp_path}/venv"
    )
    script = block.rstrip() + " --dry-run --no-deps\n"
    result = installed_project.run("sh", "-e", "-c", script, **network_env())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert "Would install" in result.stdout
    assert "ipykernel" in result.stdout and "zizmor" in result.stdout


def test_make_serve_answers_the_readme_curl_line(
    installed_project: InstalledProject,
):
    block = readme_block(installed_project.path, "make serve")
    install = next(
        line for line in block.splitlines() if "make install" in line
    )
    installed = installed_project.run(
        "sh", "-c", install.split("#")[0], **network_env()
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    curl = block[block.index("curl") :].replace("\\\n", " ").strip()
    curl = curl.replace("localhost:5001", f"127.0.0.1:{port}")
    server = subprocess.Popen(
        ["make", "serve", f"PORT={port}"],
        cwd=installed_project.path,
        env=installed_project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            answer = installed_project.run("sh", "-c", curl)
            if (
                answer.returncode == 0
                and answer.stdout
                or (time.monotonic() > deadline or server.poll() is not None)
            ):
                break
            time.sleep(1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        log = server.communicate(timeout=30)[0]
    predictions = json.loads(answer.stdout)
    assert set(predictions) == {"predictions", "probabilities"}, log[-3000:]
    assert len(predictions["predictions"]) == 2


def test_the_readme_installs_the_tool_from_the_recorded_source(
    installed_project: InstalledProject, tmp_path: Path
):
    """The recorded source is the tool's repository at the release tag (an
    annotated tag, so the commit is the peeled one): a clone of this
    worktree's HEAD stands in for the published repository."""
    from mlops_scaffold import __version__

    clone = tmp_path / "mlops-scaffold"
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO), str(clone)], check=True
    )
    tag = f"v{__version__}"
    git(clone, "tag", "-a", "-m", tag, tag)
    commit = git(clone, "rev-parse", "HEAD")
    answers = installed_project.path / ".copier-answers.yml"
    original = answers.read_text()
    recorded = re.sub(
        r"(?m)^_src_path: .*$", f"_src_path: file://{clone}", original
    )
    answers.write_text(recorded)
    block = readme_block(installed_project.path, "uv tool install")
    tools = {
        "UV_TOOL_DIR": str(tmp_path / "tools"),
        "UV_TOOL_BIN_DIR": str(tmp_path / "bin"),
    }
    try:
        result = installed_project.run(
            "sh", "-e", "-c", block, **tools, **network_env()
        )
    finally:
        answers.write_text(original)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"MLOPS_SCAFFOLD_SOURCE=git+file://{clone}@{commit}" in (
        result.stdout
    )
    version = subprocess.run(
        [str(tmp_path / "bin" / "mlops-scaffold"), "--version"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert __version__ in version.stdout, version.stdout + version.stderr


def test_make_test_measures_the_package_with_dependencies_preloaded(
    installed_project: InstalledProject,
):
    """`make test` imports pandas, scikit-learn and scipy before coverage
    starts (tests/preload_dependencies.py); the package is still measured
    from its first line."""
    result = installed_project.make("test")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    coverage = (installed_project.path / "reports/coverage.xml").read_text()
    assert 'filename="src/fraud_model/config.py"' in coverage
    total = re.search(r"^TOTAL\s.*\s(\d+)%$", result.stdout, re.M)
    assert total and int(total[1]) >= 50, result.stdout[-2000:]
