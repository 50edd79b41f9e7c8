"""`update`, tested the way users meet it: generate with version 1 of the
template, commit edits, move to version 2, update."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from helpers import generate, git, invoke, snapshot, template_repository

# update runs end to end on whole projects (render, merge, commit)
pytestmark = pytest.mark.e2e


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


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """`new fraud-model --defaults` with version 1 (the current template),
    rendered once for this module; tests work on copies."""
    return generate(tmp_path_factory.mktemp("v1") / "fraud-model")


@pytest.fixture
def project(tmp_path: Path, generated: Path) -> Path:
    """Version 1, with the user's edits committed."""
    root = tmp_path / "fraud-model"
    shutil.copytree(generated, root, symlinks=True)
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


# ------------------------------------------------- failures a rerun finishes
@pytest.fixture
def conflicting(project, version_2, use_template) -> Path:
    """A v2 template whose change overlaps the user's edit."""
    edit(project / "config/model.yml", "roc_auc: 0.95", "roc_auc: 0.97")
    git(project, "commit", "--quiet", "-am", "stricter gate")
    edit(
        version_2 / "project/config/model.yml.jinja",
        "roc_auc: 0.95",
        "roc_auc: 0.96",
    )
    use_template(version_2)
    return project


def template_tip(project: Path) -> str:
    return git(project, "rev-parse", "mlops-scaffold/template")


def test_an_aborted_merge_comes_back_on_the_next_update(conflicting):
    tip = template_tip(conflicting)
    assert invoke("update", conflicting).exit_code == 1
    assert template_tip(conflicting) == tip  # not moved before the merge
    git(conflicting, "merge", "--abort")
    again = invoke("update", conflicting)
    assert again.exit_code == 1, again.stdout
    assert "config/model.yml" in again.stderr
    assert "<<<<<<<" in (conflicting / "config/model.yml").read_text()


def test_a_merge_resolved_by_hand_is_recorded_by_the_next_update(
    conflicting,
):
    first = invoke("update", conflicting)
    assert "next `mlops-scaffold update` records" in first.stderr
    (conflicting / "config/model.yml").write_text(
        git(conflicting, "show", "HEAD:config/model.yml")
    )
    git(conflicting, "add", "config/model.yml")
    git(conflicting, "commit", "--quiet", "--no-edit")
    merged_template = git(conflicting, "rev-parse", "HEAD^2")
    result = invoke("update", conflicting)
    assert result.exit_code == 0, result.stderr
    assert "Already up to date" in result.stdout
    assert "recorded the template update already merged" in result.stdout
    assert template_tip(conflicting) == merged_template


def test_a_pull_request_closed_unmerged_is_offered_again(
    project, version_2, use_template
):
    edit(version_2 / "project/Makefile.jinja", "# The task runner.", "# v2")
    use_template(version_2)
    tip = template_tip(project)
    assert invoke("update", project, "--branch", "tpl").exit_code == 0
    assert template_tip(project) == tip  # recorded only once merged
    git(project, "switch", "--quiet", "main")
    git(project, "branch", "--quiet", "-D", "tpl")
    result = invoke("update", project)
    assert result.exit_code == 0, result.stderr
    assert "# v2" in (project / "Makefile").read_text()
    assert template_tip(project) != tip


def test_a_merged_pull_request_is_recorded(project, version_2, use_template):
    edit(version_2 / "project/Makefile.jinja", "# The task runner.", "# v2")
    use_template(version_2)
    assert invoke("update", project, "--branch", "tpl").exit_code == 0
    git(project, "switch", "--quiet", "main")
    git(project, "merge", "--quiet", "--no-edit", "tpl")
    result = invoke("update", project)
    assert result.exit_code == 0 and "Already up to date" in result.stdout
    assert git(project, "show", "mlops-scaffold/template:Makefile").startswith(
        "# v2"
    )


def test_a_detached_head_is_refused_unless_a_branch_is_named(
    project, version_2, use_template
):
    edit(version_2 / "project/Makefile.jinja", "# The task runner.", "# v2")
    use_template(version_2)
    git(project, "switch", "--quiet", "--detach")
    refused = invoke("update", project)
    assert refused.exit_code == 2 and "HEAD is detached" in refused.stderr
    result = invoke("update", project, "--branch", "tpl")
    assert result.exit_code == 0, result.stderr
    assert git(project, "branch", "--show-current") == "tpl"


@pytest.mark.parametrize("where", ["ignored", "untracked-folder"])
def test_files_git_does_not_track_are_never_overwritten(
    project, version_2, use_template, where
):
    (version_2 / "project/docs/new-guide.md").write_text("# New in v2\n")
    use_template(version_2)
    if where == "ignored":
        (project / ".git/info/exclude").write_text("docs/new-guide.md\n")
        (project / "docs/new-guide.md").write_text("my private notes\n")
    else:
        (version_2 / "project/notes").mkdir()
        (version_2 / "project/notes/a.md").write_text("a\n")
        (project / ".git/info/exclude").write_text("notes\n")
        (project / "notes").write_text("a file where a folder goes\n")
    before, head = snapshot(project), git(project, "rev-parse", "--all")
    result = invoke("update", project)
    assert result.exit_code == 1, result.stdout
    expected = "docs/new-guide.md" if where == "ignored" else "notes"
    assert f"  - {expected}" in result.stderr
    assert "git does not track" in result.stderr
    assert snapshot(project) == before
    assert git(project, "rev-parse", "--all") == head


def test_pretend_exits_1_when_it_predicts_conflicts(conflicting):
    before = snapshot(conflicting)
    result = invoke("update", conflicting, "--pretend")
    assert result.exit_code == 1
    assert "would leave conflicts" in result.stderr
    assert "config/model.yml" in result.stderr
    assert snapshot(conflicting) == before


@pytest.mark.parametrize(
    ("step", "when", "branch"),
    [
        ("commit-tree", "after", []),
        ("switch", "after", ["--branch", "tpl"]),
        ("merge", "before", []),
        ("merge", "after", ["--branch", "tpl"]),
        ("diff", "after", []),
        ("update-ref", "after", []),
    ],
)
def test_an_interrupt_at_any_git_step_is_undone_and_a_rerun_finishes(
    project, version_2, use_template, monkeypatch, step, when, branch
):
    """Ctrl-C just before or just after a git step of the update: refs and
    files are as before, and the next run brings the change."""
    from mlops_scaffold import gitutil

    edit(version_2 / "project/Makefile.jinja", "# The task runner.", "# v2")
    use_template(version_2)
    refs, before = git(project, "show-ref"), snapshot(project)
    real, hit = gitutil.git, []

    def interrupted(*args, **kwargs):
        if args[0] == step and not hit:
            hit.append(args)
            if when == "after":
                real(*args, **kwargs)
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(gitutil, "git", interrupted)
    result = invoke("update", project, *branch)
    monkeypatch.setattr(gitutil, "git", real)
    if not hit:  # no switch without --branch; with it, the branch stays
        assert result.exit_code == 0
        assert step == ("update-ref" if branch else "switch")
        return
    assert result.exit_code == 130, result.stderr
    assert git(project, "show-ref") == refs
    assert snapshot(project) == before
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "branch", "--show-current") == "main"
    assert invoke("update", project, *branch).exit_code == 0
    assert "# v2" in (project / "Makefile").read_text()


# ------------------------------------------- projects made by copier copy
def test_a_project_made_by_plain_copier_copy_updates(tmp_path: Path):
    """`copier copy` from a tagged git repository of this template, then
    `mlops-scaffold update`: the base is rendered from what Copier recorded,
    so the user's edits survive and the template's changes arrive."""
    import copier

    source = template_repository(
        tmp_path,
        "v0.0.1",
        lambda copy: edit(
            copy / "templates/project/Makefile.jinja",
            "# The task runner.",
            "# The old runner.",
        ),
    )
    project = tmp_path / "fraud-model"
    copier.run_copy(str(source), project, defaults=True, quiet=True)
    git(project, "init", "--quiet", "--initial-branch=main")
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur notes.\n")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "from copier, with notes")
    assert "# The old runner." in (project / "Makefile").read_text()
    refs, before = git(project, "show-ref"), snapshot(project)
    pretend = invoke("update", project, "--pretend")
    assert pretend.exit_code == 0, pretend.stderr
    assert "\n  Makefile\n" in pretend.stdout
    assert git(project, "show-ref") == refs and snapshot(project) == before

    result = invoke("update", project)
    assert result.exit_code == 0, result.stderr
    assert "base: what Copier recorded" in result.stdout
    assert (project / "Makefile").read_text().startswith("# The task runner.")
    assert readme.read_text().endswith("\nOur notes.\n")
    assert git(project, "status", "--porcelain") == ""
    # the branch now exists, and the next update is a plain one
    assert git(project, "rev-parse", "--verify", "mlops-scaffold/template")
    again = invoke("update", project)
    assert again.exit_code == 0 and "Already up to date" in again.stdout
    assert "Copier" not in again.stdout


def test_an_answer_change_reaches_a_plain_copier_project_at_a_tag(
    tmp_path: Path,
):
    """`copier copy` from a local template at a tag, then `update --ci
    both`: the base is the RECORDED answers, so the change lands."""
    import copier

    source = template_repository(tmp_path, "v0.0.1")
    project = tmp_path / "fraud-model"
    copier.run_copy(str(source), project, defaults=True, quiet=True)
    _answer_change_lands(project)


def _answer_change_lands(project: Path) -> None:
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "from copier")
    assert not (project / "azure-pipelines").exists()
    result = invoke("update", project, "--ci", "both")
    assert result.exit_code == 0, result.stderr
    assert "Already up to date" not in result.stdout
    assert (project / "azure-pipelines").is_dir()
    assert (project / ".github/workflows").is_dir()
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["ci_provider"] == "both"
    assert git(project, "status", "--porcelain") == ""
    again = invoke("update", project)
    assert again.exit_code == 0, again.stderr
    assert "Already up to date" in again.stdout


def test_an_answer_change_reaches_a_project_without_a_template_branch(
    tmp_path: Path,
):
    """The hostile-review repro: `new --defaults --no-git`, `git init`,
    commit, `update --ci both` used to say "Already up to date"."""
    created = invoke("new", tmp_path / "u4", "--defaults", "--no-git")
    assert created.exit_code == 0, created.stderr
    _answer_change_lands(tmp_path / "u4")


def test_a_copier_project_whose_template_is_gone_takes_the_installed_one(
    tmp_path: Path,
):
    project = generate(tmp_path / "fraud-model", git=False)
    # what plain copier records: a source that is not on this machine
    answers = project / ".copier-answers.yml"
    answers.write_text(
        re.sub(
            r"(?m)^_src_path: .*$",
            "_src_path: https://example.invalid/mlops-scaffold.git",
            answers.read_text(),
        )
    )
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "from copier")
    result = invoke("update", project)
    assert result.exit_code == 0, result.stderr
    assert "not available here: the installed template is the base" in (
        result.stdout
    )
    assert git(project, "rev-parse", "--verify", "mlops-scaffold/template")


def test_update_ignores_the_git_variables_of_a_hook(
    tmp_path: Path, project: Path, monkeypatch
):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "--quiet")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git/index"))
    result = invoke("update", project, "--ci", "both")
    monkeypatch.delenv("GIT_DIR")
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert result.exit_code == 0, result.stderr
    assert (project / "azure-pipelines").is_dir()
    assert git(project, "status", "--porcelain") == ""
    assert git(other, "for-each-ref") == ""


def test_an_index_lock_stops_the_update_before_any_change(project: Path):
    lock = project / ".git/index.lock"
    lock.write_text("")
    refs, before = git(project, "show-ref"), snapshot(project)
    result = invoke("update", project, "--ci", "both")
    assert result.exit_code == 1, result.stderr
    assert "another git process seems to be running" in result.stderr
    assert f"remove {lock}" in result.stderr
    assert git(project, "show-ref") == refs and snapshot(project) == before
    lock.unlink()
    again = invoke("update", project, "--ci", "both")
    assert again.exit_code == 0, again.stderr
    assert (project / "azure-pipelines").is_dir()


def test_update_keeps_the_recorded_template_source(tmp_path: Path):
    source = "https://example.invalid/our-fork/mlops-scaffold.git"
    created = invoke(
        "new", tmp_path / "p", "--defaults", "--template-source", source
    )
    assert created.exit_code == 0, created.stderr
    result = invoke("update", tmp_path / "p", "--ci", "both")
    assert result.exit_code == 0, result.stderr
    answers = yaml.safe_load((tmp_path / "p/.copier-answers.yml").read_text())
    assert answers["_src_path"] == source
    assert answers["ci_provider"] == "both"


def test_pretend_works_in_a_sparse_checkout(project):
    git(project, "sparse-checkout", "set", "src", "tests", "config")
    before = snapshot(project)
    result = invoke(
        "update", project, "--pretend", "--data", "ci_provider=both"
    )
    assert result.exit_code == 0, result.stderr
    assert "azure-pipelines/ci.yml" in result.stdout
    assert snapshot(project) == before


def test_a_shallow_clone_is_told_to_fetch_its_history(project, tmp_path):
    (project / "NOTES.md").write_text("# ours\n")
    git(project, "add", "NOTES.md")
    git(project, "commit", "--quiet", "-m", "notes")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", "--no-single-branch",
        f"file://{project}", str(clone))  # fmt: skip
    git(clone, "branch", "--quiet", "mlops-scaffold/template",
        "origin/mlops-scaffold/template")  # fmt: skip
    result = invoke("update", clone, "--data", "ci_provider=both")
    assert result.exit_code == 2, result.stderr
    assert "shallow clone" in result.stderr
    assert "git fetch --unshallow" in result.stderr
    assert "git branch -D" not in result.stderr  # the misleading hint
    git(clone, "fetch", "--quiet", "--unshallow")
    assert invoke("update", clone, "--data", "ci_provider=both").exit_code == 0
