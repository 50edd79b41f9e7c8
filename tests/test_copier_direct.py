"""People who run plain `copier copy` on this repository get the same project
as `mlops-scaffold new`, without --trust."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import REPO
from helpers import generate, git, snapshot

ANSWERS = ".copier-answers.yml"


def copier_source(tmp_path: Path) -> Path:
    """This repository as committed plus the working tree's changes, in a
    git repository of its own (what a user's clone looks like)."""
    source = tmp_path / "mlops-scaffold"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "__pycache__", "*.egg-info", "sample-project"
        ),
    )
    git(source, "init", "--quiet")
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "-m", "snapshot")
    return source


def test_copier_copy_of_the_repository_equals_new(tmp_path: Path):
    source = copier_source(tmp_path)
    copied = tmp_path / "copied" / "fraud-model"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--defaults",
            "--quiet",
            "--vcs-ref",
            "HEAD",
            str(source),
            str(copied),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    generated = generate(tmp_path / "new" / "fraud-model", git=False)

    copied_files, new_files = snapshot(copied), snapshot(generated)
    copied_answers = yaml.safe_load(copied_files.pop(ANSWERS))
    new_answers = yaml.safe_load(new_files.pop(ANSWERS))
    assert copied_files == new_files
    for answers in (copied_answers, new_answers):
        answers.pop("_src_path")
        answers.pop("_commit")
    assert copied_answers == new_answers


def test_plain_copier_update_serves_copier_users(tmp_path: Path):
    """A project made with `copier copy` from this repository's git URL
    takes a tagged template change with plain `copier update`."""
    source = copier_source(tmp_path)
    git(source, "tag", "v0.1.0")
    project = tmp_path / "project"
    copier = [sys.executable, "-m", "copier"]
    subprocess.run([*copier, "copy", "--defaults", "--quiet", str(source),
                    str(project)], check=True, capture_output=True)  # fmt: skip
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "from copier")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur notes.\n")
    git(project, "commit", "--quiet", "-am", "our notes")
    makefile = source / "templates/project/Makefile.jinja"
    makefile.write_text(
        makefile.read_text().replace("# The task runner.", "# Runner v2.")
    )
    git(source, "commit", "--quiet", "-am", "v2")
    git(source, "tag", "v0.2.0")
    update = [*copier, "update", "--defaults", "--quiet"]
    result = subprocess.run(update, cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (project / "Makefile").read_text().startswith("# Runner v2.")
    assert readme.read_text().endswith("\nOur notes.\n")
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.0"
