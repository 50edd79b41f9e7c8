"""`adopt`, on small repositories built in the tests: inference, merges into
existing workflows (golden before/after files), never overwriting, clear
errors, idempotence, and `update` working afterwards."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
import yaml

from helpers import git, invoke, snapshot

# adopt runs end to end on whole repositories (render, merge, commit)
pytestmark = pytest.mark.e2e

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


# ------------------------------------------------ never lose or reach out
def test_a_symlinked_workflow_folder_outside_is_never_written(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "ci.yml").write_text("name: CI\non: push\njobs: {}\n")
    root = repository(tmp_path / "repo", PLAIN)
    (root / ".github").mkdir()
    (root / ".github/workflows").symlink_to(outside)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "linked workflows")
    before_outside = snapshot(outside)
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    assert snapshot(outside) == before_outside
    assert ".github/workflows is a symbolic link" in result.stderr


def test_a_symlinked_workflow_file_is_left_alone(tmp_path):
    outside = tmp_path / "elsewhere.yml"
    outside.write_text("name: CI\non: push\njobs: {}\n")
    root = repository(tmp_path / "repo", PLAIN)
    (root / ".github/workflows").mkdir(parents=True)
    (root / ".github/workflows/ci.yml").symlink_to(outside)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "linked workflow")
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    assert outside.read_text() == "name: CI\non: push\njobs: {}\n"
    assert (root / ".github/workflows/ci.yml").is_symlink()
    assert (root / ".github/workflows/ci.yml.mlops-scaffold").is_file()


def test_an_existing_alongside_file_is_never_overwritten(tmp_path):
    mine = "# my own notes on the template's pyproject\n"
    root = repository(
        tmp_path / "churn", {**PLAIN, "pyproject.toml.mlops-scaffold": mine}
    )
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    assert (root / "pyproject.toml.mlops-scaffold").read_text() == mine
    assert (root / "pyproject.toml.mlops-scaffold-2").is_file()
    assert "pyproject.toml.mlops-scaffold-2" in result.stdout


@pytest.mark.parametrize(
    ("files", "folders", "skipped"),
    [
        ({"docs": "a file where the template has a folder\n"}, [], "docs/"),
        ({"Makefile/README": "a folder named Makefile\n"}, [], "Makefile"),
    ],
    ids=["file-docs", "folder-makefile"],
)
def test_files_where_folders_go_are_skipped_with_a_note(
    tmp_path, files, folders, skipped
):
    root = repository(tmp_path / "churn", {**PLAIN, **files})
    before = {name: (root / name).read_text() for name in files}
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    assert f"not added: {skipped}" in result.stderr
    assert {name: (root / name).read_text() for name in files} == before
    assert git(root, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "pyproject",
    [
        "project = [1, 2]\n",
        "[project]\nname = 5\nrequires-python = 3.11\nauthors = 'Ada'\n",
        "[project]\nname = '../../etc'\ndescription = ['x']\n",
        "[project]\nrequires-python = '>=99.1'\nauthors = [1]\n",
    ],
    ids=["project-list", "wrong-types", "path-name", "odd-values"],
)
def test_odd_pyproject_values_are_ignored(tmp_path, pyproject):
    root = repository(tmp_path / "churn", {"pyproject.toml": pyproject})
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    recorded = answers(root)
    assert recorded["project_slug"] == "churn"
    assert (root / "pyproject.toml").read_text() == pyproject


def test_a_clone_with_the_template_branch_on_origin_is_not_adopted_again(
    tmp_path,
):
    upstream = repository(tmp_path / "upstream", PLAIN)
    assert invoke("adopt", upstream).exit_code == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(upstream), str(clone))
    assert "mlops-scaffold/template" not in git(clone, "branch")
    head = git(clone, "rev-parse", "HEAD")
    result = invoke("adopt", clone)
    assert result.exit_code == 0, result.stderr
    assert "Already adopted" in result.stdout
    assert "restored the local mlops-scaffold/template branch" in result.stdout
    assert git(clone, "rev-parse", "HEAD") == head
    assert invoke("update", clone).exit_code == 0


def test_name_and_slug_come_from_the_templates_own_defaults(tmp_path):
    """The project's name is Copier's default for a folder named after the
    distribution; the slug is the template's default for that name."""
    pyproject = '[project]\nname = "Churn_Predictor.v2"\n'
    root = repository(tmp_path / "x", {"pyproject.toml": pyproject})
    assert invoke("adopt", root).exit_code == 0
    recorded = answers(root)
    assert recorded["project_name"] == "Churn Predictor.v2"
    assert recorded["project_slug"] == "churn-predictor-v2"


# ----------------------------------------------------- keeping formatting
CRLF_BOM_FLOW = {
    "crlf": (
        b"name: CI\r\non: [push]\r\njobs:\r\n  test:\r\n"
        b"    runs-on: ubuntu-latest\r\n    steps:\r\n"
        b"      - run: echo hi\r\n"
    ),
    "bom": (
        b"\xef\xbb\xbfname: CI\non: push\njobs:\n  test:\n"
        b"    runs-on: ubuntu-latest\n    steps:\n    - run: echo hi\n"
    ),
    "flow": (
        b"name: CI\non: {push: {branches: [main]}}\njobs:\n"
        b"  test: {runs-on: ubuntu-latest, steps: [{name: a, run: echo}]}\n"
    ),
    "four-spaces": (
        b"name: CI\non: push\njobs:\n    test:\n"
        b"        runs-on: ubuntu-latest\n        steps:\n"
        b"            - run: echo hi\n"
    ),
}


@pytest.mark.parametrize("case", sorted(CRLF_BOM_FLOW))
def test_every_line_of_theirs_is_kept_verbatim(tmp_path, case):
    from mlops_scaffold.adopt import merge_pipeline

    before = CRLF_BOM_FLOW[case]
    rendered = (
        b"name: CI\non: push\njobs:\n  test:\n    runs-on: x\n"
        b"  lint:\n    runs-on: ubuntu-latest\n    steps:\n"
        b"      - run: make lint\n"
    )
    path = Path(".github/workflows/ci.yml")
    merged = merge_pipeline(before, rendered, path)
    assert merged is not None
    assert merged.startswith(before.rstrip(b"\n").rstrip(b"\r"))
    assert merged.startswith(b"\xef\xbb\xbf") == before.startswith(
        b"\xef\xbb\xbf"
    )
    if b"\r\n" in before:
        assert merged.count(b"\n") == merged.count(b"\r\n")
    else:
        assert b"\r" not in merged
    assert yaml.safe_load(merged.decode("utf-8-sig"))["jobs"]["lint"] == {
        "runs-on": "ubuntu-latest",
        "steps": [{"run": "make lint"}],
    }
    # idempotent: merging again changes nothing
    assert merge_pipeline(merged, rendered, path) == merged


@pytest.mark.parametrize(
    "before",
    [
        b"name:   CI\non: push\njobs:\n  test:\n    runs-on:   x\n",
        # ruamel writes [{run: x}] as [run: x]
        b"name: CI\non: push\njobs:\n  test: {steps: [{run: x}]}\n",
        b"name: CI\non: push\njobs:\n\ttest: {}\n",
        b"name: CI\n\xff\non: push\njobs: {}\n",
    ],
    ids=["spacing", "flow-pair", "tab", "not-utf8"],
)
def test_a_file_that_cannot_keep_its_lines_goes_alongside(before):
    """What a round trip would rewrite: the file is left alone (None)."""
    from mlops_scaffold.adopt import merge_pipeline

    rendered = b"name: CI\non: push\njobs:\n  lint:\n    runs-on: y\n"
    path = Path(".github/workflows/ci.yml")
    assert merge_pipeline(before, rendered, path) is None


# -------------------------------------------------- all or nothing, reruns
@pytest.mark.parametrize(
    "step", ["write", "add", "commit-tree", "update-ref", "branch --quiet"]
)
def test_an_interrupt_at_any_step_is_undone_and_a_rerun_finishes(
    tmp_path, monkeypatch, step
):
    from mlops_scaffold import adopt as adopt_module
    from mlops_scaffold import gitutil

    before = (GOLDEN / "github-ci.before.yml").read_text()
    root = repository(
        tmp_path / "repo", {**PLAIN, ".github/workflows/ci.yml": before}
    )
    head, files = git(root, "rev-parse", "HEAD"), snapshot(root)
    real_git, real_write, calls = gitutil.git, adopt_module._write, []

    def failing_git(*args, **kwargs):
        result = real_git(*args, **kwargs)
        if " ".join(args).startswith(step) and not calls:
            calls.append(args)
            raise KeyboardInterrupt
        return result

    def failing_write(root_, write):
        real_write(root_, write)
        calls.append(write)
        if len(calls) == 5:
            raise KeyboardInterrupt

    if step == "write":  # after the fifth file
        monkeypatch.setattr(adopt_module, "_write", failing_write)
    else:  # just after the git step ran
        monkeypatch.setattr(gitutil, "git", failing_git)
    result = invoke("adopt", root)
    monkeypatch.undo()
    assert result.exit_code == 130 and calls
    if step in ("update-ref", "branch --quiet"):  # committed: kept
        assert git(root, "rev-parse", "HEAD") != head
    else:
        assert git(root, "rev-parse", "HEAD") == head
        assert snapshot(root) == files
        assert git(root, "status", "--porcelain") == ""
    rerun = invoke("adopt", root)
    assert rerun.exit_code == 0, rerun.stderr
    assert (root / ".github/workflows/ci.yml").read_text() != before
    assert git(root, "rev-parse", "--verify", "mlops-scaffold/template")
    assert git(root, "status", "--porcelain") == ""
    assert not list(root.glob("**/*.mlops-scaffold-2"))


def test_a_killed_run_is_rolled_back_by_the_next(tmp_path, monkeypatch):
    """SIGKILL half-way: no Python cleanup ran; the journal in the git
    folder lets the next run put the files back and adopt."""
    from mlops_scaffold import adopt as adopt_module

    root = repository(tmp_path / "repo", PLAIN)
    real_write, written = adopt_module._write, []

    class Killed(BaseException):
        pass

    def dying_write(root_, write):
        real_write(root_, write)
        written.append(write)
        if len(written) == 3:
            raise Killed

    monkeypatch.setattr(adopt_module, "_write", dying_write)
    monkeypatch.setattr(
        adopt_module._Journal, "roll_back", lambda self: None
    )  # a killed process cleans nothing up
    with pytest.raises(Killed):
        adopt_module.adopt_project(root)
    monkeypatch.undo()
    assert git(root, "status", "--porcelain")  # half-written files
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    assert "put back the files of an interrupted adopt" in result.stdout
    assert git(root, "status", "--porcelain") == ""
    assert not list(root.glob("**/*.mlops-scaffold-2"))


def test_a_project_made_by_copier_is_sent_to_update(tmp_path: Path):
    from helpers import generate

    root = generate(tmp_path / "fraud-model", git=False)
    repository(root, {})
    head, before = git(root, "rev-parse", "HEAD"), snapshot(root)
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    assert "says Copier made this project" in result.stdout
    assert "Use `mlops-scaffold update`" in result.stdout
    assert git(root, "rev-parse", "HEAD") == head and snapshot(root) == before


def test_another_copier_templates_answers_are_never_overwritten(tmp_path):
    answers = "_commit: v2\n_src_path: gh:someone/their-template\nname: x\n"
    root = repository(
        tmp_path / "repo", {**PLAIN, ".copier-answers.yml": answers}
    )
    head, before = git(root, "rev-parse", "HEAD"), snapshot(root)
    result = invoke("adopt", root)
    assert result.exit_code == 2, result.stderr
    assert "gh:someone/their-template" in result.stderr
    assert "--answers-file" in result.stderr
    assert snapshot(root) == before
    assert git(root, "rev-parse", "HEAD") == head


def test_a_committed_link_at_a_temporary_name_is_never_written_through(
    tmp_path,
):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    root = repository(
        tmp_path / "repo",
        {
            **PLAIN,
            ".github/workflows/ci.yml": (
                GOLDEN / "github-ci.before.yml"
            ).read_text(),
        },
    )
    workflows = root / ".github" / "workflows"
    for name in (".ci.yml.mlops-scaffold-tmp", ".ci.yml.tmp"):
        (workflows / name).symlink_to(outside)
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "links")
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    assert outside.read_text() == "precious\n"
    ci = workflows / "ci.yml"
    assert ci.is_file() and not ci.is_symlink()
    assert "jobs:" in ci.read_text()


def test_a_rerun_after_a_kill_keeps_what_the_user_edited_since(
    tmp_path, monkeypatch
):
    from mlops_scaffold import adopt as adopt_module

    root = repository(tmp_path / "repo", PLAIN)
    real_write, written = adopt_module._write, []

    class Killed(BaseException):
        pass

    def dying_write(root_, write):
        real_write(root_, write)
        written.append(write)
        if len(written) == 3:
            raise Killed

    monkeypatch.setattr(adopt_module, "_write", dying_write)
    monkeypatch.setattr(
        adopt_module._Journal, "roll_back", lambda self: []
    )  # a killed process cleans nothing up
    with pytest.raises(Killed):
        adopt_module.adopt_project(root)
    monkeypatch.undo()
    target = next(w.target for w in written if "answers" not in w.target)
    edited = root / target
    edited.write_text("# my edit after the crash\n")
    result = invoke("adopt", root)
    assert result.exit_code == 2, result.stderr
    assert edited.read_text() == "# my edit after the crash\n"
    assert f"you changed {target}" in result.stderr
    assert "kept as they are" in result.stderr
    rerun = invoke("adopt", root)  # the journal is gone: a plain refusal
    assert "uncommitted changes" in rerun.stderr


# ------------------------------------------- a setup.py src-layout project
SETUP_PY_PROJECT = {
    "setup.py": (
        "from setuptools import find_packages, setup\n\n"
        "setup(\n    name='legacy-pkg',\n    version='2.3.1',\n"
        "    description='An old model.',\n    author='Ada',\n"
        "    author_email='ada@example.com',\n    python_requires='>=3.10',\n"
        "    install_requires=['requests>=2.0'],\n"
        "    package_dir={'': 'src'},\n    packages=find_packages('src'),\n)\n"
    ),
    "src/legacy_pkg/__init__.py": '"""Legacy."""\n',
    ".gitignore": "*.pyc\n.coverage\n",
    ".github/workflows/old.yml": (
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n      - run: python setup.py test\n"
    ),
}


def test_a_setup_py_project_gets_a_working_pyproject(tmp_path):
    root = repository(tmp_path / "legacy", SETUP_PY_PROJECT)
    result = invoke("adopt", root)
    assert result.exit_code == 0, result.stderr
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["build-system"]["build-backend"] == "setuptools.build_meta"
    meta = project["project"]
    assert (meta["name"], meta["version"]) == ("legacy-pkg", "2.3.1")
    assert "requests>=2.0" in meta["dependencies"]
    assert "scikit-learn>=1.4" in meta["dependencies"]  # the template's code
    assert project["tool"]["setuptools"]["packages"]["find"]["where"] == ["src"]
    assert "tool" in project and "hatch" not in project["tool"]
    assert (root / "setup.py").is_file()  # still there, still builds
    # the Python version moved, and says so
    assert "asks for Python >=3.10" in result.stdout
    # .gitignore merged, the user's lines first and kept
    ignore = (root / ".gitignore").read_text()
    assert ignore.startswith("*.pyc\n.coverage\n")
    assert "mlflow.db" in ignore and "mlruns/" in ignore
    # the old workflow is listed: its findings are warnings
    legacy = (root / ".pipeline-lint-legacy").read_text().splitlines()
    assert ".github/workflows/old.yml" in legacy
    assert git(root, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    "text",
    [
        "from setuptools import setup\nsetup(name=NAME)\n",
        "import setuptools\nsetuptools.setup()\n",
    ],
)
def test_a_setup_py_that_computes_its_name_is_refused(tmp_path, text):
    root = repository(tmp_path / "legacy", {"setup.py": text})
    before = snapshot(root)
    result = invoke("adopt", root)
    assert result.exit_code == 2, result.stderr
    assert "cannot be read without running it" in result.stderr
    assert "[project] table" in result.stderr
    assert snapshot(root) == before


def test_pretend_writes_nothing_and_lists_what_it_would(tmp_path):
    root = repository(tmp_path / "legacy", SETUP_PY_PROJECT)
    head, before = git(root, "rev-parse", "HEAD"), snapshot(root)
    result = invoke("adopt", root, "--pretend")
    assert result.exit_code == 0, result.stderr
    assert "Would add" in result.stdout and "  Makefile\n" in result.stdout
    assert "would merge the missing patterns into .gitignore" in result.stdout
    assert snapshot(root) == before
    assert git(root, "rev-parse", "HEAD") == head
    assert "mlops-scaffold/template" not in git(root, "branch")


def test_branch_commits_the_adoption_for_review(tmp_path):
    root = repository(tmp_path / "legacy", SETUP_PY_PROJECT)
    main = git(root, "rev-parse", "HEAD")
    result = invoke("adopt", root, "--branch", "adopt-pipelines")
    assert result.exit_code == 0, result.stderr
    assert git(root, "branch", "--show-current") == "adopt-pipelines"
    assert git(root, "rev-parse", "main") == main  # main untouched
    assert "Committed on branch adopt-pipelines" in result.stdout
    again = invoke("adopt", root, "--branch", "adopt-pipelines")
    assert "Already adopted" in again.stdout


@pytest.mark.e2e
def test_the_adopted_setup_py_project_installs_with_uv(tmp_path):
    import shutil
    import subprocess

    root = repository(tmp_path / "legacy", SETUP_PY_PROJECT)
    assert invoke("adopt", root).exit_code == 0
    uv = shutil.which("uv")
    assert uv, "uv is a test dependency"
    done = subprocess.run(
        [uv, "lock", "--quiet"], cwd=root, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert 'name = "legacy-pkg"' in (root / "uv.lock").read_text()
