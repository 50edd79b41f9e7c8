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
