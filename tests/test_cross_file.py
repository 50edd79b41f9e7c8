"""Generated files agree with each other and with the project's rules:
actions pinned to the shared SHAs, least privilege, timeouts, concurrency,
Python versions, and the same checks on both CI providers."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from helpers import load_yaml

PINS = json.loads(
    (REPO / "generator" / "mlops_scaffold" / "action-pins.json").read_text()
)
USES = re.compile(r"uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<comment>.*)")


def workflows(project: Path) -> list[Path]:
    return sorted((project / ".github" / "workflows").glob("*.yml"))


def azure_pipelines(project: Path) -> list[Path]:
    return sorted((project / "azure-pipelines").glob("*.yml"))


def test_vendored_pins_match_the_shared_pins():
    shared = REPO.parent / "shared" / "actions" / "pins.json"
    if not shared.is_file():
        pytest.skip("../shared/actions/pins.json is not beside this checkout")
    assert json.loads(shared.read_text()) == PINS


def test_every_action_is_pinned_to_the_shared_sha(both_project: Path):
    files = [*workflows(both_project)]
    files += list((both_project / ".github" / "actions").rglob("action.yml"))
    seen = set()
    for path in files:
        for match in USES.finditer(path.read_text()):
            action, ref = match["action"], match["ref"]
            if action.startswith("$/"):
                continue
            assert action in PINS, f"{path.name}: {action} has no pin"
            assert ref == PINS[action]["sha"], f"{path.name}: {action}@{ref}"
            assert match["comment"].strip() == f"# {PINS[action]['version']}"
            seen.add(action)
    assert {"actions/checkout", "actions/setup-python"} <= seen


def test_workflows_are_least_privilege_with_timeouts_and_concurrency(
    both_project: Path,
):
    for path in workflows(both_project):
        workflow = load_yaml(path)
        assert workflow.get("permissions") in ({}, {"contents": "read"}), path
        assert "concurrency" in workflow, path
        for name, job in workflow["jobs"].items():
            assert "timeout-minutes" in job, f"{path.name}:{name}"
            assert "permissions" in job, f"{path.name}:{name}"
            for step in job.get("steps", []):
                if str(step.get("uses", "")).startswith("actions/checkout"):
                    assert step["with"]["persist-credentials"] is False
                assert "${{" not in str(step.get("run", "")), (
                    f"{path.name}:{name}: expression inside run:"
                )


def test_azure_jobs_have_timeouts(both_project: Path):
    for path in azure_pipelines(both_project):
        pipeline = yaml.safe_load(path.read_text())
        jobs = pipeline.get("jobs", [])
        for stage in pipeline.get("stages", []):
            jobs += stage.get("jobs", [])
        assert jobs, path
        for job in jobs:
            assert "timeoutInMinutes" in job, f"{path.name}: {job}"


def test_python_versions_agree(both_project: Path):
    pyproject = tomllib.loads((both_project / "pyproject.toml").read_text())
    minimum = pyproject["project"]["requires-python"].removeprefix(">=")
    pinned = (both_project / ".python-version").read_text().strip()
    assert pinned == minimum
    matrix = load_yaml(both_project / ".github/workflows/ci.yml")["jobs"][
        "test"
    ]["strategy"]["matrix"]["python-version"]
    azure = yaml.safe_load(
        (both_project / "azure-pipelines/ci.yml").read_text()
    )
    test_job = next(j for j in azure["jobs"] if j["job"] == "test")
    azure_versions = [
        cell["testPythonVersion"]
        for cell in test_job["strategy"]["matrix"].values()
    ]
    assert matrix == azure_versions
    assert matrix[0] == minimum
    assert pyproject["tool"]["ruff"]["line-length"] == 80


def make_targets(commands: list[str]) -> list[str]:
    return [
        target
        for command in commands
        for target in re.findall(r"\bmake ([a-z-]+)", command)
    ]


def github_checks(project: Path) -> dict[str, list[str]]:
    workflow = load_yaml(project / ".github/workflows/ci.yml")
    return {
        name.replace("_", "-"): make_targets(
            [s["run"] for s in job["steps"] if "run" in s]
        )
        for name, job in workflow["jobs"].items()
    }


def azure_checks(project: Path) -> dict[str, list[str]]:
    pipeline = yaml.safe_load((project / "azure-pipelines/ci.yml").read_text())
    return {
        job["job"].replace("_", "-"): make_targets(
            [s["script"] for s in job["steps"] if "script" in s]
        )
        for job in pipeline["jobs"]
    }


def test_both_providers_run_the_same_checks_with_the_same_commands(
    both_project: Path,
):
    github, azure = github_checks(both_project), azure_checks(both_project)
    assert github == azure
    assert set(github) == {
        "lint",
        "test",
        "quality",
        "notebooks",
        "pipeline-lint",
    }
    makefile = (both_project / "Makefile").read_text()
    for targets in github.values():
        for target in targets:
            assert re.search(rf"^{target}:", makefile, re.M), target


def test_both_providers_keep_the_rendered_notebooks(both_project: Path):
    """The notebook job's HTML is a run artefact on both providers, taken
    from the folder `make notebooks-html` writes."""
    makefile = (both_project / "Makefile").read_text()
    assert "--out reports/notebooks" in makefile
    job = load_yaml(both_project / ".github/workflows/ci.yml")["jobs"][
        "notebooks"
    ]
    upload = next(
        s for s in job["steps"] if "upload-artifact" in s.get("uses", "")
    )
    assert upload["with"]["path"].strip() == "reports/notebooks/"
    assert upload["if"] == "${{ !cancelled() }}"
    pipeline = yaml.safe_load(
        (both_project / "azure-pipelines/ci.yml").read_text()
    )
    azure = next(j for j in pipeline["jobs"] if j["job"] == "notebooks")
    publish = next(s for s in azure["steps"] if "task" in s)
    assert publish["inputs"]["targetPath"] == "reports/notebooks"
    assert publish["condition"] == "succeededOrFailed()"
