"""Every generated file passes the independent validators with zero findings,
for every combination of CI provider and IaC language, and for answers full
of characters that break naive templating."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import pytest

import validators
from helpers import generate

pytestmark = pytest.mark.e2e  # seven external validators over every combination

CI = ("github", "azure", "both")
IAC = ("bicep", "terraform", "both", "none")

#: Text that breaks naive templating in YAML, shell, HCL, Bicep or Jinja.
TRICKY = {
    "project_name": 'Ünïcode\'s "Fraud": #1 ${{ github.token }} {{ x }} $(id)',
    "description": (
        "Quotes ' \" colons: hashes # ${{ secrets.X }} {{ y }} [[ z ]] "
        "$(rm -rf /) `whoami` %{ for } ${var} \\ backslash, ünïcödé ✓"
    ),
    "author_name": 'O\'Brien "Bob" #1: `id` $(id) ${HOME}',
}


@pytest.fixture(scope="module")
def every_combination(tmp_path_factory, rendered) -> Path:
    """One folder holding a project per combination (rendered once per test
    run, and shared with the other modules that read them), plus
    tricky-text ones, so that each validator runs once over all of them."""
    root = tmp_path_factory.mktemp("combinations")
    for ci, iac in itertools.product(CI, IAC):
        shutil.copytree(rendered(ci_provider=ci, iac=iac), root / f"{ci}-{iac}")
    for ci in CI:
        generate(
            root / f"tricky-{ci}",
            git=False,
            ci_provider=ci,
            iac="both",
            project_slug="tricky-text",
            default_branch="release/2026.11_hot-fix.for-a-long-name",
            **TRICKY,
        )
    return root


def test_yamllint_strict(every_combination: Path):
    findings = [
        finding
        for project in sorted(every_combination.iterdir())
        for finding in validators.yamllint(project)
    ]
    assert findings == []


@pytest.fixture(scope="module")
def distinct_files(every_combination: Path, tmp_path_factory) -> Path:
    """The combinations without repeated folders: what the validators that
    read files one by one (or a module folder at a time) need to see."""
    return validators.distinct(
        every_combination, tmp_path_factory.mktemp("distinct")
    )


def test_distinct_keeps_every_distinct_file(
    every_combination: Path, distinct_files: Path
):
    def contents(root: Path) -> set[tuple[str, bytes]]:
        return {
            (path.name, path.read_bytes())
            for path in root.rglob("*")
            if path.is_file()
        }

    kept = contents(distinct_files)
    assert contents(every_combination) == kept
    assert sum(1 for p in distinct_files.rglob("*") if p.is_file()) < sum(
        1 for p in every_combination.rglob("*") if p.is_file()
    )


def test_json_schemas(distinct_files: Path):
    assert validators.schemas(distinct_files, under="*/") == []


def test_actionlint_with_shellcheck_and_pyflakes(every_combination: Path):
    findings = [
        finding
        for project in sorted(every_combination.iterdir())
        for finding in validators.actionlint(project)
    ]
    assert findings == []


def test_zizmor_offline_pedantic(every_combination: Path):
    findings = [
        finding
        for project in sorted(every_combination.iterdir())
        for finding in validators.zizmor(project)
    ]
    assert findings == []


def test_checkov(distinct_files: Path):
    frameworks = ["github_actions", "azure_pipelines", "terraform", "bicep"]
    assert validators.checkov(distinct_files, frameworks) == []


def test_shellcheck(distinct_files: Path):
    assert validators.shellcheck(distinct_files) == []


def test_the_validators_really_validate(tmp_path: Path):
    """Guard against a harness that passes everything: broken files must
    produce findings from each validator."""
    project = tmp_path / "broken"
    workflows = project / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    pipelines = project / "azure-pipelines"
    pipelines.mkdir()
    (pipelines / "bad.yml").write_text("jobs:\n  - job: x\n    stepz: []\n")
    assert validators.schemas(project)
    (workflows / "typo.yml").write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n"
    )
    assert validators.actionlint(project)
    assert validators.zizmor(project)
    assert validators.checkov(project, ["github_actions"])
    (project / "x.yml").write_text("a:  1\nb: [1,2]\n")
    assert validators.yamllint(project)
    # and over a folder of projects, as the combinations are checked
    assert validators.schemas(tmp_path, under="*/")
    (project / "scripts").mkdir()
    (project / "scripts" / "bad.sh").write_text("#!/bin/bash\nrm -rf $1/\n")
    assert validators.shellcheck(tmp_path)


def test_ruff_lint_and_format_at_80_columns(every_combination: Path):
    for project in sorted(every_combination.iterdir()):
        check = validators.run(
            [validators.tool("ruff"), "check", "--no-cache", "."], project
        )
        assert check.returncode == 0, (project.name, check.stdout)
        form = validators.run(
            [validators.tool("ruff"), "format", "--check", "--no-cache", "."],
            project,
        )
        assert form.returncode == 0, (project.name, form.stdout)


def test_no_template_syntax_survives(every_combination: Path):
    """(The tricky-text projects carry such text on purpose, as data.)"""
    leftover = re.compile(r"\[\[ ?[a-z_]+[^\]]*\]\]|\[%|%\]|\[#|#\]")
    for path in sorted(every_combination.glob("[!t]*/**/*")):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not leftover.search(text), path
            assert "[%" not in str(path) and "[[" not in str(path), path


def test_user_text_is_data_and_never_reaches_a_pipeline_or_script(
    every_combination: Path,
):
    import tomllib

    import yaml

    for project in sorted(every_combination.glob("tricky-*")):
        pyproject = tomllib.loads((project / "pyproject.toml").read_text())
        assert pyproject["project"]["description"] == TRICKY["description"]
        assert (
            pyproject["project"]["authors"][0]["name"] == TRICKY["author_name"]
        )
        answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
        assert {key: answers[key] for key in TRICKY} == TRICKY
        runnable = [
            *project.glob(".github/**/*.yml"),
            *project.glob("azure-pipelines/**/*.yml"),
            *project.glob("scripts/*"),
            *project.glob("infra/**/*"),
            *project.glob("Makefile"),
        ]
        for path in runnable:
            if path.is_file():
                text = path.read_text(encoding="utf-8")
                for value in TRICKY.values():
                    assert value not in text, (path, value)


def test_mlops_scaffold_check(every_combination: Path):
    """Every combination (and the tricky text) passes the tool's own
    pipeline check, schemas and rules."""
    from mlops_scaffold.pipelines.check import check_repository

    findings = {
        project.name: check_repository(project)
        for project in sorted(every_combination.iterdir())
    }
    assert findings == {name: [] for name in findings}
