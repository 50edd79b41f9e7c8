"""Copier is the only engine: what Copier does, `new` does (user settings,
folder-derived defaults, validators), and projects are Copier projects that
plain `copier copy` / `copier update` serve too, without --trust."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import helpers
from conftest import REPO
from helpers import generate, git, invoke, snapshot
from mlops_scaffold import __version__

ANSWERS = ".copier-answers.yml"
COPIER = [sys.executable, "-m", "copier"]


def answers_of(project: Path) -> dict:
    return yaml.safe_load((project / ANSWERS).read_text())


def template_repository(root: Path) -> Path:
    """The template tagged with this release."""
    return helpers.template_repository(root, f"v{__version__}")


def next_release(source: Path) -> str:
    """Commit a visible template change and tag it as the next release."""
    makefile = source / "templates/project/Makefile.jinja"
    text = makefile.read_text()
    assert "# The task runner." in text
    makefile.write_text(text.replace("# The task runner.", "# Runner v2."))
    git(source, "commit", "--quiet", "-am", "v2")
    major, minor, patch = (int(p) for p in __version__.split("."))
    tag = f"v{major}.{minor}.{patch + 1}"
    git(source, "tag", tag)
    return tag


def edit_readme(project: Path) -> Path:
    readme = project / "README.md"
    readme.write_text(readme.read_text() + "\nOur notes.\n")
    git(project, "commit", "--quiet", "-am", "our notes")
    return readme


@pytest.fixture()
def copier_settings(tmp_path: Path, monkeypatch) -> Path:
    settings = tmp_path / "copier-settings.yml"
    monkeypatch.setenv("COPIER_SETTINGS_PATH", str(settings))
    return settings


def test_copier_settings_defaults_apply_to_new_defaults(
    tmp_path: Path, copier_settings: Path
):
    """`defaults:` in the user's Copier settings fill what is not given
    (the same defaults Copier's prompts offer)."""
    copier_settings.write_text(
        "defaults:\n  author_name: Ada Lovelace\n"
        "  author_email: ada@example.com\n  ci_provider: azure\n"
    )
    result = invoke("new", tmp_path / "p", "--no-git", "--defaults",
                    "--data", "author_email=given@example.com")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    recorded = answers_of(tmp_path / "p")
    assert recorded["author_name"] == "Ada Lovelace"
    assert recorded["author_email"] == "given@example.com"  # data wins
    assert recorded["ci_provider"] == "azure"
    assert (tmp_path / "p/azure-pipelines/ci.yml").is_file()
    assert not (tmp_path / "p/.github/workflows").exists()


def test_an_invalid_settings_default_is_refused(
    tmp_path: Path, copier_settings: Path
):
    """Copier does not validate defaults; `new` hands every final answer
    back to Copier as data, so a bad default in the settings is caught."""
    copier_settings.write_text("defaults:\n  package_name: email\n")
    result = invoke("new", tmp_path / "p", "--defaults")
    assert result.exit_code == 2
    assert "package_name" in result.stderr and "shadow" in result.stderr
    assert list(tmp_path.iterdir()) == [copier_settings]


def test_defaults_come_from_the_destination_folder(tmp_path: Path):
    project = generate(tmp_path / "card_fraud-scoring", git=False)
    recorded = answers_of(project)
    assert recorded["project_name"] == "Card Fraud Scoring"
    assert recorded["project_slug"] == "card-fraud-scoring"
    assert recorded["package_name"] == "card_fraud_scoring"


@pytest.mark.e2e
def test_copier_copy_of_the_repository_equals_new(tmp_path: Path):
    source = template_repository(tmp_path)
    copied = tmp_path / "copied" / "fraud-model"
    result = subprocess.run(
        [*COPIER, "copy", "--defaults", "--quiet", str(source), str(copied)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    generated = generate(tmp_path / "new" / "fraud-model", git=False)
    copied_files, new_files = snapshot(copied), snapshot(generated)
    copied_answers = yaml.safe_load(copied_files.pop(ANSWERS))
    new_answers = yaml.safe_load(new_files.pop(ANSWERS))
    assert copied_files == new_files
    assert copied_answers.pop("_commit") == new_answers.pop("_commit")
    assert copied_answers.pop("_src_path") == str(source)
    assert copied_answers == {
        k: v for k, v in new_answers.items() if k != "_src_path"
    }


@pytest.mark.e2e
def test_new_from_a_template_source_takes_plain_copier_update(tmp_path):
    """`new --template-source <local git repository>` renders from its
    release tag and records it, so plain `copier update` takes a newer
    tag and keeps the project's own edits."""
    source = template_repository(tmp_path)
    project = tmp_path / "fraud-model"
    result = invoke("new", project, "--defaults",
                    "--template-source", source)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    recorded = answers_of(project)
    assert recorded["_src_path"] == str(source)
    assert recorded["_commit"] == f"v{__version__}"
    readme = edit_readme(project)
    tag = next_release(source)

    update = subprocess.run(
        [*COPIER, "update", "--defaults", "--quiet"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert update.returncode == 0, update.stderr
    assert (project / "Makefile").read_text().startswith("# Runner v2.")
    assert readme.read_text().endswith("\nOur notes.\n")
    assert answers_of(project)["_commit"] == tag


@pytest.mark.e2e
def test_plain_copier_update_serves_copier_users(tmp_path: Path):
    """A project made with `copier copy` of a release tag takes the next
    tag with plain `copier update`."""
    source = template_repository(tmp_path)
    project = tmp_path / "project"
    subprocess.run([*COPIER, "copy", "--defaults", "--quiet", str(source),
                    str(project)], check=True, capture_output=True)  # fmt: skip
    assert answers_of(project)["_commit"] == f"v{__version__}"
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "from copier")
    readme = edit_readme(project)
    tag = next_release(source)
    update = [*COPIER, "update", "--defaults", "--quiet"]
    result = subprocess.run(update, cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (project / "Makefile").read_text().startswith("# Runner v2.")
    assert readme.read_text().endswith("\nOur notes.\n")
    assert answers_of(project)["_commit"] == tag


def test_the_version_lives_in_one_place():
    """pyproject.toml reads the version from the package (hatch); copier.yml
    derives the reviewed tool's version from the tag or from `new`."""
    import tomllib

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["project"]["dynamic"] == ["version"]
    assert "version" not in pyproject["project"]
    path = pyproject["tool"]["hatch"]["version"]["path"]
    assert f'__version__ = "{__version__}"' in (REPO / path).read_text()
    for copier_yml in (REPO / "copier.yml", REPO / "templates/copier.yml"):
        assert __version__ not in copier_yml.read_text()
