"""`update`, tested the way users meet it: generate with version 1 of the
template, commit edits, move to version 2, update."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from helpers import generate, git, invoke, snapshot


@pytest.fixture
def use_template(monkeypatch):
    """Point the tool at a copy of the template (a 'new version')."""

    def use(root: Path) -> None:
        monkeypatch.setenv("MLOPS_SCAFFOLD_TEMPLATE", str(root))

    return use


@pytest.fixture
def version_2(tmp_path: Path) -> Path:
    """A copy of the current template for a test to change."""
    copy = tmp_path / "template-v2"
    shutil.copytree(REPO / "templates", copy)
    return copy


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Version 1 (the current template), with the user's edits committed."""
    root = generate(tmp_path / "fraud-model")
    readme = root / "README.md"
    readme.write_text(readme.read_text() + "\nOur team's notes.\n")
    (root / "src/fraud_model/extra.py").write_text('"""Our own module."""\n')
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "our edits")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_edits_survive_and_template_changes_arrive(
    project, version_2, use_template
):
    edit(
        version_2 / "project/Makefile.jinja",
        "# The task runner.",
        "# The task runner (v2).",
    )
    (version_2 / "project/docs/new-guide.md").write_text("# New in v2\n")
    use_template(version_2)
    result = invoke("update", project)
    assert result.exit_code == 0, result.stderr
    assert "# The task runner (v2)." in (project / "Makefile").read_text()
    assert "Our team's notes." in (project / "README.md").read_text()
    assert (project / "src/fraud_model/extra.py").is_file()
    assert (project / "docs/new-guide.md").read_text() == "# New in v2\n"
    assert git(project, "status", "--porcelain") == ""
    assert "Update from mlops-scaffold" in git(
        project, "log", "-1", "--format=%s"
    )


def test_a_file_the_user_deleted_stays_deleted(
    project, version_2, use_template
):
    git(project, "rm", "--quiet", "docs/deployment.md")
    git(project, "commit", "--quiet", "-m", "we document elsewhere")
    edit(
        version_2 / "project/docs/deployment.md.jinja",
        "# Deployment",
        "# Deployment (v2)",
    )
    use_template(version_2)
    result = invoke("update", project)
    assert result.exit_code == 0, result.stderr
    assert not (project / "docs/deployment.md").exists()
    assert "kept deleted (you removed it): docs/deployment.md" in result.stdout


def test_a_dropped_file_goes_unless_the_user_changed_it(
    project, version_2, use_template
):
    (project / "models/README.md").write_text("Our model notes.\n")
    git(project, "commit", "--quiet", "-am", "model notes")
    (version_2 / "project/data/README.md").unlink()
    (version_2 / "project/models/README.md").unlink()
    use_template(version_2)
    result = invoke("update", project)
    assert result.exit_code == 0, result.stderr
    assert not (project / "data/README.md").exists()
    assert (project / "models/README.md").read_text() == "Our model notes.\n"
    assert (
        "kept (you changed it; the template dropped it): models/README.md"
        in result.stdout
    )
    assert git(project, "status", "--porcelain") == ""


def test_overlapping_edits_are_ordinary_conflicts(
    project, version_2, use_template
):
    edit(project / "config/model.yml", "roc_auc: 0.95", "roc_auc: 0.97")
    git(project, "commit", "--quiet", "-am", "stricter gate")
    edit(
        version_2 / "project/config/model.yml.jinja",
        "roc_auc: 0.95",
        "roc_auc: 0.96",
    )
    use_template(version_2)
    result = invoke("update", project)
    assert result.exit_code == 1
    assert "config/model.yml" in result.stderr and "conflict" in result.stderr
    text = (project / "config/model.yml").read_text()
    assert (
        "<<<<<<<" in text
        and "roc_auc: 0.97" in text
        and "roc_auc: 0.96" in text
    )
    assert "UU config/model.yml" in git(project, "status", "--porcelain")
    assert "Our team's notes." in (project / "README.md").read_text()


def test_a_dirty_tree_is_refused(project, version_2, use_template):
    (project / "README.md").write_text("half-done edit\n")
    before = snapshot(project)
    use_template(version_2)
    result = invoke("update", project)
    assert result.exit_code == 1
    assert "uncommitted changes (README.md)" in result.stderr
    assert snapshot(project) == before


def test_outside_git_is_refused(tmp_path: Path):
    project = generate(tmp_path / "p", git=False)
    result = invoke("update", project)
    assert (
        result.exit_code == 2 and "not inside a git repository" in result.stderr
    )


def test_changing_an_answer_adds_azure_pipelines(project):
    result = invoke("update", project, "--data", "ci_provider=both")
    assert result.exit_code == 0, result.stderr
    assert (project / "azure-pipelines/ci.yml").is_file()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["ci_provider"] == "both"
    assert "Our team's notes." in (project / "README.md").read_text()


def test_pretend_writes_nothing(project, version_2, use_template):
    edit(version_2 / "project/Makefile.jinja", "# The task runner.", "# v2")
    use_template(version_2)
    head = git(project, "rev-parse", "HEAD", "mlops-scaffold/template")
    before = snapshot(project)
    result = invoke("update", project, "--pretend")
    assert result.exit_code == 0, result.stderr
    assert "Would change 1 file(s):\n  Makefile" in result.stdout
    assert snapshot(project) == before
    assert git(project, "rev-parse", "HEAD", "mlops-scaffold/template") == head


def test_branch_commits_the_update_for_review(project, version_2, use_template):
    edit(version_2 / "project/Makefile.jinja", "# The task runner.", "# v2")
    use_template(version_2)
    result = invoke("update", project, "--branch", "template-update")
    assert result.exit_code == 0, result.stderr
    assert git(project, "branch", "--show-current") == "template-update"
    assert "# v2" in (project / "Makefile").read_text()
    assert "# v2" not in git(project, "show", "main:Makefile")


def test_updating_an_old_project_equals_a_fresh_generation(
    tmp_path: Path, version_2, use_template
):
    """A project made by an older template, updated to the current one,
    is exactly what the current template generates."""
    edit(version_2 / "project/Makefile.jinja", "# The task runner.", "# old")
    (version_2 / "project/docs/retired.md").write_text("old\n")
    use_template(version_2)
    old = generate(tmp_path / "sample-project")
    use_template(REPO / "templates")
    assert invoke("update", old).exit_code == 0
    fresh = generate(tmp_path / "fresh" / "sample-project", git=False)
    assert snapshot(old) == snapshot(fresh)
    assert snapshot(fresh) == snapshot(REPO / "sample-project")


def test_the_sample_project_is_up_to_date(tmp_path: Path):
    copy = tmp_path / "sample-project"
    shutil.copytree(REPO / "sample-project", copy)
    git(copy, "init", "--quiet", "--initial-branch=main")
    git(copy, "add", "--all")
    git(copy, "commit", "--quiet", "-m", "sample")
    git(copy, "branch", "mlops-scaffold/template")
    result = invoke("update", copy)
    assert result.exit_code == 0, result.stderr
    assert "Already up to date" in result.stdout
