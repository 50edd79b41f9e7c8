"""`adopt`, on small repositories built in the tests: inference, merges into
existing workflows (golden before/after files), never overwriting, clear
errors, idempotence, and `update` working afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from helpers import git, invoke, snapshot

GOLDEN = Path(__file__).parent / "golden" / "adopt"


def repository(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "their project")
    return root


PLAIN = {
    "pyproject.toml": (
        '[project]\nname = "churn-predictor"\nversion = "1.0"\n'
        'description = "Predicts customer churn."\n'
        'requires-python = ">=3.12"\n'
        'authors = [{name = "Ada", email = "ada@example.com"}]\n'
    ),
    "src/churn_predictor/__init__.py": '"""Churn."""\n',
    "tests/test_nothing.py": "def test_nothing():\n    assert True\n",
}


def answers(root: Path) -> dict:
    return yaml.safe_load((root / ".copier-answers.yml").read_text())


def test_a_plain_package_is_inferred_and_completed(tmp_path: Path):
    root = repository(tmp_path / "churn", PLAIN)
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    recorded = answers(root)
    assert recorded["package_name"] == "churn_predictor"
    assert recorded["project_slug"] == "churn-predictor"
    assert recorded["python_version"] == "3.12"
    assert recorded["author_email"] == "ada@example.com"
    assert recorded["description"] == "Predicts customer churn."
    assert recorded["default_branch"] == "main"
    assert (root / ".github/workflows/ci.yml").is_file()
    assert (root / "src/churn_predictor/train.py").is_file()
    # never overwritten: theirs kept, the template's beside it
    assert (root / "pyproject.toml").read_text() == PLAIN["pyproject.toml"]
    assert (root / "pyproject.toml.mlops-scaffold").is_file()
    assert "pyproject.toml.mlops-scaffold" in result.stdout
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "rev-parse", "--verify", "mlops-scaffold/template")


@pytest.mark.parametrize(
    ("case", "relative", "extra"),
    [
        ("github-ci", ".github/workflows/ci.yml", {}),
        ("azure-ci", "azure-pipelines/ci.yml", {}),
    ],
)
def test_existing_pipelines_get_the_missing_jobs(
    tmp_path, case, relative, extra
):
    before = (GOLDEN / f"{case}.before.yml").read_text()
    root = repository(tmp_path / "repo", {**PLAIN, relative: before, **extra})
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    after = (root / relative).read_text()
    expected = GOLDEN / f"{case}.after.yml"
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(after)
    assert after == expected.read_text()
    assert f"merged the missing jobs into {relative}" in result.stdout
    # everything the user wrote is still there, comments included
    for line in before.splitlines():
        assert line in after


def test_the_github_merge_keeps_their_jobs_and_adds_ours(tmp_path: Path):
    before = (GOLDEN / "github-ci.before.yml").read_text()
    root = repository(
        tmp_path / "repo", {**PLAIN, ".github/workflows/ci.yml": before}
    )
    invoke("adopt", root)
    jobs = yaml.safe_load((root / ".github/workflows/ci.yml").read_text())[
        "jobs"
    ]
    assert list(jobs)[:2] == ["test", "docs"]
    assert {"lint", "quality", "pipeline-lint"} <= set(jobs)
    assert jobs["test"]["steps"] == [{"run": 'echo "our tests"'}]


def test_azure_pipelines_are_detected(tmp_path: Path):
    before = (GOLDEN / "azure-ci.before.yml").read_text()
    root = repository(
        tmp_path / "repo", {**PLAIN, "azure-pipelines/ci.yml": before}
    )
    assert invoke("adopt", root).exit_code == 0
    assert answers(root)["ci_provider"] == "azure"
    assert not (root / ".github/workflows").exists()


def test_a_second_adopt_changes_nothing(tmp_path: Path):
    root = repository(tmp_path / "repo", PLAIN)
    assert invoke("adopt", root).exit_code == 0
    head, before = git(root, "rev-parse", "HEAD"), snapshot(root)
    again = invoke("adopt", root)
    assert again.exit_code == 0 and "Already adopted" in again.stdout
    assert git(root, "rev-parse", "HEAD") == head and snapshot(root) == before


def test_malformed_yaml_is_named_with_its_line_and_nothing_is_written(tmp_path):
    broken = "name: CI\njobs:\n  test:\n    steps: [\n"
    root = repository(
        tmp_path / "repo", {**PLAIN, ".github/workflows/ci.yml": broken}
    )
    head, before = git(root, "rev-parse", "HEAD"), snapshot(root)
    result = invoke("adopt", root)
    assert result.exit_code == 2
    assert ".github/workflows/ci.yml:" in result.stderr
    assert (
        "not valid YAML" in result.stderr
        and "nothing was written" in result.stderr
    )
    assert snapshot(root) == before and git(root, "rev-parse", "HEAD") == head


def test_a_dirty_tree_is_refused(tmp_path: Path):
    root = repository(tmp_path / "repo", PLAIN)
    (root / "notes.txt").write_text("wip")
    result = invoke("adopt", root)
    assert result.exit_code == 1 and "uncommitted changes" in result.stderr
    assert not (root / ".copier-answers.yml").exists()


def test_update_works_after_adopt(tmp_path: Path):
    root = repository(tmp_path / "repo", PLAIN)
    assert invoke("adopt", root).exit_code == 0
    assert "Already up to date" in invoke("update", root).stdout
    result = invoke("update", root, "--ci", "both")
    assert result.exit_code == 0, result.stderr
    assert (root / "azure-pipelines/ci.yml").is_file()
    assert (root / "pyproject.toml").read_text() == PLAIN["pyproject.toml"]
