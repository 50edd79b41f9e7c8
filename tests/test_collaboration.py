"""Planning and collaboration files: issue forms, PR template, CODEOWNERS,
dependabot, labels, and the re-runnable planning scripts for GitHub and
Azure Boards."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import generate, install_fake

HERE = Path(__file__).parent
OWNERS = {
    "code_owners": "@alice @acme/ml-team",
    "platform_owners": "@acme/platform",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return generate(
        tmp_path_factory.mktemp("collab") / "fraud-model",
        git=False,
        ci_provider="both",
        sprint_length_weeks=3,
        **OWNERS,
    )


def forms(project: Path) -> list[Path]:
    return sorted(
        p
        for p in (project / ".github/ISSUE_TEMPLATE").glob("*.yml")
        if p.name != "config.yml"
    )


def test_the_five_issue_forms_with_unique_ids(project: Path):
    names = {yaml.safe_load(p.read_text())["name"] for p in forms(project)}
    assert names == {
        "User story", "ML experiment", "Bug", "Data issue", "Sprint planning",
    }  # fmt: skip
    for path in forms(project):
        ids = [item["id"] for item in yaml.safe_load(path.read_text())["body"]]
        assert len(ids) == len(set(ids)), path.name


def test_the_experiment_form_asks_what_an_experiment_needs(project: Path):
    form = yaml.safe_load(
        (project / ".github/ISSUE_TEMPLATE/2-ml-experiment.yml").read_text()
    )
    ids = {item["id"] for item in form["body"]}
    assert {"hypothesis", "metric", "baseline", "threshold", "data"} <= ids


def test_form_labels_exist_and_blank_issues_are_off(project: Path):
    labels = {
        label["name"]
        for label in yaml.safe_load(
            (project / ".github/labels.yml").read_text()
        )
    }
    for path in forms(project):
        assert set(yaml.safe_load(path.read_text())["labels"]) <= labels
    config = yaml.safe_load(
        (project / ".github/ISSUE_TEMPLATE/config.yml").read_text()
    )
    assert config["blank_issues_enabled"] is False
    assert config["contact_links"]
    assert "model-monitoring" in labels


def test_codeowners_name_the_owners_per_area(project: Path):
    rules = {}
    for line in (project / ".github/CODEOWNERS").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            pattern, *owners = line.split()
            rules[pattern] = " ".join(owners)
    assert rules["/src/"] == OWNERS["code_owners"]
    assert rules["/.github/"] == OWNERS["platform_owners"]
    assert rules["/azure-pipelines/"] == OWNERS["platform_owners"]
    assert rules["/infra/"] == OWNERS["platform_owners"]


def test_dependabot_updates_uv_and_actions_weekly_in_groups(project: Path):
    config = yaml.safe_load((project / ".github/dependabot.yml").read_text())
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    # uv, not pip: dependabot then updates uv.lock with pyproject.toml.
    assert set(ecosystems) == {"uv", "github-actions"}
    for update in ecosystems.values():
        assert update["schedule"]["interval"] == "weekly"
        assert update["groups"]


def test_the_pr_template_has_the_model_change_checklist(project: Path):
    text = (project / ".github/pull_request_template.md").read_text()
    for words in ("Metrics against the baseline", "Data version", "Tests",
                  "Pipelines", "Infrastructure"):  # fmt: skip
        assert words in text


def test_the_backlog_is_the_same_on_both_boards(project: Path):
    backlog = yaml.safe_load((project / "planning/backlog.yml").read_text())
    with (project / "planning/backlog.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        assert {"Work Item Type", "Title", "Description", "Iteration Path",
                "Tags"} <= set(reader.fieldnames)  # fmt: skip
    assert [r["Title"] for r in rows] == [i["title"] for i in backlog["items"]]
    assert backlog["sprint"]["weeks"] == 3
    titles = " ".join(r["Title"] for r in rows).lower()
    for topic in ("data store", "oidc", "approvers", "quality thresholds"):
        assert topic in titles


def test_readme_says_how_we_work(project: Path):
    readme = (project / "README.md").read_text()
    assert "## How we work" in readme
    assert (
        "Sprints" in readme and "Issue forms" in readme and "Reviews" in readme
    )


def fake(tmp_path: Path, name: str, source: str) -> dict:
    bin_dir = tmp_path / "bin"
    install_fake(bin_dir, name, HERE / source)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_GH_STATE": str(tmp_path / "gh.json"),
        "FAKE_AZ_STATE": str(tmp_path / "az.json"),
        "FAKE_RULES": str(HERE),
    }


@pytest.mark.e2e
def test_github_planning_creates_everything_once(project: Path, tmp_path: Path):
    env = fake(tmp_path, "gh", "fake_gh.py")
    script = [sys.executable, "scripts/setup_github_planning.py", "acme/fraud"]
    for _ in range(2):
        result = subprocess.run(
            script, cwd=project, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    state = json.loads((tmp_path / "gh.json").read_text())
    backlog = yaml.safe_load((project / "planning/backlog.yml").read_text())
    assert [i["title"] for i in state["issues"]] == [
        i["title"] for i in backlog["items"]
    ]
    assert all(i["milestone"] == "Sprint 1" for i in state["issues"])
    assert len(state["milestones"]) == 1
    due = dt.date.fromisoformat(state["milestones"][0]["due_on"][:10])
    assert due == dt.date.today() + dt.timedelta(weeks=3)
    assert "model-monitoring" in state["labels"]


@pytest.mark.e2e
def test_azure_boards_creates_everything_once(project: Path, tmp_path: Path):
    env = fake(tmp_path, "az", "fake_az_boards.py")
    org = "https://dev.azure.com/acme"
    script = [sys.executable, "scripts/setup_azure_boards.py", org, "Fraud",
              "--weeks", "3"]  # fmt: skip
    for _ in range(2):
        result = subprocess.run(
            script, cwd=project, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
    state = json.loads((tmp_path / "az.json").read_text())
    assert state["iterations"] == ["Sprint 1"]
    assert len(state["work_items"]) == 7
    assert {w["iteration"] for w in state["work_items"]} == {"Fraud\\Sprint 1"}
