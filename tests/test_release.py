"""CD on both providers: the release path's structure, and the release
scripts' logic run against a stand-in for the `az` CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import load_yaml

FAKE_AZ = Path(__file__).with_name("fake_az.py")


# ------------------------------------------------------------ GitHub Actions
@pytest.fixture(scope="module")
def github_cd(both_project: Path) -> dict:
    return load_yaml(both_project / ".github" / "workflows" / "cd.yml")


def test_cd_never_runs_for_pull_requests(github_cd):
    assert set(github_cd["on"]) == {"push", "workflow_dispatch"}
    assert github_cd["on"]["push"]["branches"] == ["main"]
    assert github_cd["concurrency"]["cancel-in-progress"] is False


def test_production_needs_staging_and_its_smoke_test(github_cd):
    jobs = github_cd["jobs"]
    assert jobs["deploy-staging"]["needs"] == "build"
    assert jobs["smoke-test-staging"]["needs"] == "deploy-staging"
    assert jobs["deploy-production"]["needs"] == "smoke-test-staging"
    assert jobs["deploy-staging"]["environment"] == "staging"
    assert jobs["deploy-production"]["environment"] == "production"
    for name in ("deploy-staging", "deploy-production"):
        assert "refs/heads/main" in jobs[name]["if"]


def test_only_environment_jobs_can_mint_cloud_tokens(github_cd):
    for name, job in github_cd["jobs"].items():
        if job["permissions"].get("id-token") == "write":
            assert "environment" in job, name
        else:
            assert "environment" not in job, name
    with_tokens = {
        name
        for name, job in github_cd["jobs"].items()
        if job["permissions"].get("id-token") == "write"
    }
    assert {"deploy-staging", "deploy-production"} <= with_tokens
    assert "build" not in with_tokens


def test_one_artefact_is_built_and_deployed(github_cd):
    uploads = [
        step["with"]["name"]
        for step in github_cd["jobs"]["build"]["steps"]
        if "upload-artifact" in step.get("uses", "")
    ]
    assert uploads == ["release"]
    for name in ("deploy-staging", "deploy-production"):
        downloads = [
            step["with"]["name"]
            for step in github_cd["jobs"][name]["steps"]
            if "download-artifact" in step.get("uses", "")
        ]
        assert downloads == ["release"], name


def test_no_stored_cloud_secret_is_referenced(both_project: Path):
    for path in [
        *(both_project / ".github").rglob("*.yml"),
        *(both_project / "azure-pipelines").rglob("*.yml"),
    ]:
        text = path.read_text()
        assert "secrets." not in text, path
        assert "creds:" not in text, path
        assert "client-secret" not in text.lower(), path
    cd = (both_project / ".github/workflows/cd.yml").read_text()
    # deploy x2, smoke test, Azure ML training, the registry read (baseline)
    assert cd.count("client-id: ${{ vars.AZURE_CLIENT_ID }}") == 5


# ----------------------------------------------------------- Azure Pipelines
@pytest.fixture(scope="module")
def azure_cd(both_project: Path) -> dict:
    text = (both_project / "azure-pipelines" / "cd.yml").read_text()
    return yaml.safe_load(text)


def test_azure_stages_run_build_staging_production(azure_cd):
    assert azure_cd["pr"] == "none"
    stages = {stage["stage"]: stage for stage in azure_cd["stages"]}
    assert list(stages) == ["Build", "DeployStaging", "DeployProduction"]
    assert stages["DeployStaging"]["dependsOn"] == "Build"
    assert stages["DeployProduction"]["dependsOn"] == "DeployStaging"
    for name in ("DeployStaging", "DeployProduction"):
        assert "refs/heads/main" in stages[name]["condition"]
        assert "succeeded" in stages[name]["condition"]


def test_azure_deploys_are_deployment_jobs_on_environments(azure_cd):
    stages = {stage["stage"]: stage for stage in azure_cd["stages"]}
    production = stages["DeployProduction"]["jobs"]
    assert [job["environment"] for job in production] == ["production"]
    for stage in ("DeployStaging", "DeployProduction"):
        for job in stages[stage]["jobs"]:
            assert "deployment" in job and "runOnce" in job["strategy"]
            steps = job["strategy"]["runOnce"]["deploy"]["steps"]
            cli = [s for s in steps if s.get("task") == "AzureCLI@2"]
            assert cli, job["deployment"]
            for step in cli:
                connection = step["inputs"]["azureSubscription"]
                assert connection.startswith("${{ variables."), connection


# ------------------------------------------------- release scripts, offline
@pytest.fixture(scope="module")
def packaged(tmp_path_factory, default_project: Path) -> Path:
    """The default project with a trained, gated and packaged model."""
    project = tmp_path_factory.mktemp("packaged") / "project"
    subprocess.run(["cp", "-r", str(default_project), str(project)], check=True)
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    for module, args in (
        ("train", []),
        ("evaluate", []),
        ("card", ["--out", "dist/model"]),
    ):
        subprocess.run(
            [sys.executable, "-m", f"fraud_model.{module}", *args],
            cwd=project, env=env, check=True, capture_output=True,
        )  # fmt: skip
    return project


@pytest.fixture
def released(tmp_path: Path, packaged: Path):
    """A fresh copy of the packaged project, and a fake az on the PATH."""
    project = tmp_path / "project"
    subprocess.run(["cp", "-r", str(packaged), str(project)], check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(f"#!{sys.executable}\n" + FAKE_AZ.read_text())
    az.chmod(0o755)
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AZ_STATE": str(tmp_path / "az-state.json"),
    }
    return project, env, tmp_path / "az-state.json"


def run(project: Path, env: dict, *command: str, **extra: str):
    return subprocess.run(
        list(command), cwd=project, env={**env, **extra},
        capture_output=True, text=True,
    )  # fmt: skip


def traffic(state: Path) -> dict:
    endpoints = json.loads(state.read_text())["endpoints"]
    return endpoints["fraud-model-staging"]["traffic"]


def test_deploy_goes_blue_then_green_and_keeps_the_previous(released):
    project, env, state = released
    first = run(project, env, "bash", "scripts/deploy.sh", "staging",
                MODEL_VERSION="1")  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert traffic(state) == {"blue": 100}
    second = run(project, env, "bash", "scripts/deploy.sh", "staging",
                 MODEL_VERSION="2")  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert traffic(state) == {"green": 100, "blue": 0}
    deployments = json.loads(state.read_text())["endpoints"][
        "fraud-model-staging"
    ]["deployments"]
    assert deployments == {"blue": "fraud-model:1", "green": "fraud-model:2"}
    calls = json.loads(state.read_text())["calls"]
    smoke = [
        c for c in calls if "invoke" in c and "--deployment-name green" in c
    ]
    shift = [i for i, c in enumerate(calls) if "--traffic green=100" in c]
    assert smoke and calls.index(smoke[0]) < shift[0], "smoke test first"


def test_a_failing_smoke_test_keeps_the_traffic_where_it_was(released):
    project, env, state = released
    assert run(project, env, "bash", "scripts/deploy.sh", "staging",
               MODEL_VERSION="1").returncode == 0  # fmt: skip
    broken = run(
        project, env, "bash", "scripts/deploy.sh", "staging",
        MODEL_VERSION="2", FAKE_AZ_BROKEN_DEPLOYMENT="green",
    )  # fmt: skip
    assert broken.returncode != 0
    assert "smoke test of fraud-model-staging/green failed" in broken.stderr
    assert traffic(state) == {"blue": 100, "green": 0}


def test_rollback_moves_traffic_to_the_previous_release(released):
    project, env, state = released
    for version in ("1", "2"):
        result = run(project, env, "bash", "scripts/deploy.sh", "staging",
                     MODEL_VERSION=version)  # fmt: skip
        assert result.returncode == 0, result.stderr
    rollback = run(project, env, "bash", "scripts/rollback.sh", "staging")
    assert rollback.returncode == 0, rollback.stderr
    assert traffic(state) == {"blue": 100, "green": 0}


def test_the_smoke_test_task_reads_the_environment_settings(released):
    project, env, _ = released
    assert run(project, env, "bash", "scripts/deploy.sh", "staging",
               MODEL_VERSION="1").returncode == 0  # fmt: skip
    result = run(project, env, "make", "smoke-test", "ENVIRONMENT=staging")
    assert result.returncode == 0, result.stderr
    assert "smoke test of fraud-model-staging passed (2 records)" in (
        result.stdout
    )


def test_deploy_refuses_an_unknown_environment(released):
    project, env, _ = released
    result = run(project, env, "bash", "scripts/deploy.sh", "qa")
    assert result.returncode == 2
    assert "no settings for environment 'qa'" in result.stderr


def test_release_settings_match_azure_naming_rules(both_project: Path):
    for path in (both_project / "deploy" / "environments").glob("*.env"):
        settings = dict(
            line.split("=", 1)
            for line in path.read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]{1,31}", settings["ENDPOINT"])
        assert re.fullmatch(
            r"[a-zA-Z0-9][a-zA-Z0-9-]{2,32}", settings["WORKSPACE"]
        )
