"""Monitoring pipelines: scheduled checks on both providers that raise ONE
issue or work item per breach and can start retraining."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_collaboration import fake

from helpers import load_yaml


@pytest.fixture(scope="module")
def project(rendered) -> Path:
    return rendered(ci_provider="both")


def test_github_monitor_runs_on_a_schedule_with_least_privilege(project: Path):
    workflow = load_yaml(project / ".github/workflows/monitor.yml")
    assert workflow["on"]["schedule"][0]["cron"]
    assert "workflow_dispatch" in workflow["on"]
    jobs = workflow["jobs"]
    writers = {
        name
        for name, job in jobs.items()
        if job["permissions"].get("issues") == "write"
    }
    assert writers == {"report"}
    assert jobs["report"]["if"] == "${{ needs.check.outputs.breach == 'true' }}"
    assert jobs["retrain"]["permissions"]["actions"] == "write"
    assert "vars.RETRAIN_ON_DRIFT == 'true' || false" in jobs["retrain"]["if"]


def test_retraining_on_drift_is_an_answer(rendered):
    project = rendered(ci_provider="github", retrain_on_drift=True)
    workflow = load_yaml(project / ".github/workflows/monitor.yml")
    assert "|| true" in workflow["jobs"]["retrain"]["if"]
    project = rendered(ci_provider="azure", retrain_on_drift=True)
    azure = yaml.safe_load(
        (project / "azure-pipelines/monitor.yml").read_text()
    )
    assert azure["variables"]["retrainOnDrift"] == "true"


def test_azure_monitor_is_scheduled_and_reports_on_breach(rendered):
    project = rendered(ci_provider="azure")
    pipeline = yaml.safe_load(
        (project / "azure-pipelines/monitor.yml").read_text()
    )
    assert pipeline["trigger"] == "none" and pipeline["pr"] == "none"
    assert pipeline["schedules"][0]["cron"]
    jobs = {job["job"]: job for job in pipeline["jobs"]}
    assert "check.breach" in jobs["report"]["condition"]
    assert (
        "monitoring.py report --provider azure-boards"
        in (jobs["report"]["steps"][-1]["script"])
    )


def run_script(project: Path, env: dict, *args: str):
    return subprocess.run(
        [sys.executable, "scripts/monitoring.py", *args],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip


def test_a_breach_opens_one_issue_then_comments(project: Path, tmp_path: Path):
    env = fake(tmp_path, "gh", "fake_gh.py")
    body = tmp_path / "report.md"
    body.write_text("## Model monitoring: BREACH\n")
    outputs = []
    for _ in range(3):
        result = run_script(project, env, "report", "--provider", "github",
                            "--body", str(body))  # fmt: skip
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout.strip())
    state = json.loads((tmp_path / "gh.json").read_text())
    assert len(state["issues"]) == 1
    assert state["issues"][0]["labels"] == ["model-monitoring"]
    # A repository where planning was never set up: the label is created
    # (idempotently) before the issue that carries it.
    assert "model-monitoring" in state["labels"]
    assert not state.get("refused")
    assert len(state["issues"][0]["comments"]) == 2
    assert outputs == ["opened an issue", "commented on issue #1",
                       "commented on issue #1"]  # fmt: skip


def test_the_gh_stand_in_refuses_a_label_the_repository_lacks(
    project: Path, tmp_path: Path
):
    env = fake(tmp_path, "gh", "fake_gh.py")
    create = ["gh", "issue", "create", "--title", "t", "--body", "b",
              "--label", "model-monitoring"]  # fmt: skip
    refused = subprocess.run(create, env=env, capture_output=True, text=True)
    assert refused.returncode == 1
    assert "'model-monitoring' not found" in refused.stderr
    label = ["gh", "label", "create", "model-monitoring"]
    for extra, code in (([], 0), ([], 1), (["--force"], 0)):
        result = subprocess.run([*label, *extra], env=env,
                                capture_output=True, text=True)  # fmt: skip
        assert result.returncode == code, result.stderr
    done = subprocess.run(create, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_monitoring_label_is_the_one_planning_creates(project: Path):
    labels = load_yaml(project / ".github/labels.yml")
    planned = next(x for x in labels if x["name"] == "model-monitoring")
    spec = importlib.util.spec_from_file_location(
        "monitoring", project / "scripts/monitoring.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (module.LABEL, module.LABEL_COLOR, module.LABEL_DESCRIPTION) == (
        planned["name"],
        str(planned["color"]),
        planned["description"],
    )


def test_a_closed_issue_means_a_new_episode(project: Path, tmp_path: Path):
    env = fake(tmp_path, "gh", "fake_gh.py")
    body = tmp_path / "report.md"
    body.write_text("breach\n")
    run_script(
        project, env, "report", "--provider", "github", "--body", str(body)
    )
    state_file = tmp_path / "gh.json"
    state = json.loads(state_file.read_text())
    state["issues"][0]["state"] = "closed"
    state_file.write_text(json.dumps(state))
    run_script(
        project, env, "report", "--provider", "github", "--body", str(body)
    )
    assert len(json.loads(state_file.read_text())["issues"]) == 2


def test_a_breach_creates_one_work_item_then_updates_it(
    project: Path, tmp_path: Path
):
    env = fake(tmp_path, "az", "fake_az_boards.py")
    body = tmp_path / "report.md"
    body.write_text("breach\n")
    for job in range(2):
        env = {**env, "HOME": str(tmp_path / f"job-{job}")}  # a fresh agent
        azure_devops_defaults(project, env)
        result = run_script(project, env, "report", "--provider",
                            "azure-boards", "--body", str(body))  # fmt: skip
        assert result.returncode == 0, result.stderr
    items = json.loads((tmp_path / "az.json").read_text())["work_items"]
    assert len(items) == 1 and items[0]["discussion"] == ["breach\n"]


def azure_devops_defaults(project: Path, env: dict) -> None:
    """What the monitor pipeline's step runs before the script."""
    subprocess.run(
        ["az", "devops", "configure", "--defaults",
         "organization=https://dev.azure.com/acme", "project=Fraud"],
        cwd=project, env=env, check=True,
    )  # fmt: skip


def test_the_boards_stand_in_needs_the_defaults_of_this_job(
    project: Path, tmp_path: Path
):
    env = fake(tmp_path, "az", "fake_az_boards.py")
    azure_devops_defaults(project, {**env, "HOME": str(tmp_path / "job-1")})
    body = tmp_path / "report.md"
    body.write_text("breach\n")
    result = run_script(project, {**env, "HOME": str(tmp_path / "job-2")},
                        "report", "--provider", "azure-boards",
                        "--body", str(body))  # fmt: skip
    assert result.returncode != 0
    assert "--organization must be specified" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["boards", "work-item", "create", "--org", "o", "--type", "Issue"],
         "required: --title"),
        (["boards", "work-item", "update", "--org", "o", "--id", "1",
          "--project", "p"], "unrecognized arguments: --project"),
        (["boards", "query", "--org", "o", "--wiql", "x", "--bogus"],
         "unrecognized arguments: --bogus"),
    ],
)  # fmt: skip
def test_the_boards_stand_in_refuses_what_az_refuses(
    project: Path, tmp_path: Path, args, message
):
    env = fake(tmp_path, "az", "fake_az_boards.py")
    result = subprocess.run(["az", *args], cwd=project, env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 2 and message in result.stderr


def test_retrain_starts_the_cd_pipeline(project: Path, tmp_path: Path):
    env = fake(tmp_path, "az", "fake_az_boards.py")
    env = {**env, "HOME": str(tmp_path / "job"),
           "CD_PIPELINE_NAME": "fraud-model-cd"}  # fmt: skip
    azure_devops_defaults(project, env)
    result = run_script(project, env, "retrain", "--provider",
                        "azure-pipelines")  # fmt: skip
    assert result.returncode == 0, result.stderr
    runs = json.loads((tmp_path / "az.json").read_text())["runs"]
    assert runs == ["fraud-model-cd"]


def test_the_gh_stand_in_refuses_an_unknown_flag(project: Path, tmp_path: Path):
    env = fake(tmp_path, "gh", "fake_gh.py")
    result = subprocess.run(
        ["gh", "issue", "list", "--label", "x", "--labels", "y"],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    assert "unknown flag: --labels" in result.stderr


def test_retrain_starts_the_cd_workflow(project: Path, tmp_path: Path):
    env = fake(tmp_path, "gh", "fake_gh.py")
    result = run_script(project, env, "retrain", "--provider", "github")
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "gh.json").read_text())["dispatched"] == [
        "cd.yml"
    ]


@pytest.fixture(scope="module")
def trained(project: Path, tmp_path_factory) -> tuple[Path, dict]:
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    out = tmp_path_factory.mktemp("trained")
    subprocess.run(
        [sys.executable, "-m", "fraud_model.train", "--out", str(out)],
        cwd=project, env=env, check=True, capture_output=True,
    )  # fmt: skip
    return out, {**env, "MODEL_DIR": str(out)}


@pytest.mark.parametrize(("shift", "breach"), [(0.0, "false"), (3.0, "true")])
def test_run_tells_the_pipeline_whether_there_was_a_breach(
    project: Path, trained, tmp_path: Path, shift, breach
):
    import pandas as pd

    model_dir, env = trained
    reference = pd.read_csv(model_dir / "reference.csv")
    current = reference.sample(frac=0.3, random_state=1).drop(columns="target")
    column = current.columns[0]
    current[column] = current[column] + shift * reference[column].std()
    current.to_csv(tmp_path / "current.csv", index=False)
    outputs, summary = tmp_path / "out", tmp_path / "summary.md"
    github = {
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    result = run_script(
        project,
        {**env, **github},
        "run", "--reference", str(model_dir / "reference.csv"),
        "--current", str(tmp_path / "current.csv"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert outputs.read_text() == f"breach={breach}\n"
    assert "## Model monitoring" in summary.read_text()


def test_run_without_a_current_batch_is_a_quiet_no(project: Path, tmp_path):
    outputs = tmp_path / "out"
    env = {**os.environ, "GITHUB_OUTPUT": str(outputs)}
    env.pop("MONITOR_CURRENT_URI", None)
    result = run_script(project, env, "run")
    assert result.returncode == 0
    assert "no current batch" in result.stdout
    assert outputs.read_text() == "breach=false\n"


@pytest.mark.parametrize("ci", ["github", "azure"])
def test_the_monitor_installs_the_azureml_datastore_driver(rendered, ci):
    """MONITOR_CURRENT_URI may be an azureml:// URI: the job that reads it
    installs azureml-fsspec (the azure-data group) and logs in as the
    monitoring identity (Reader and Storage Blob Data Reader)."""
    import tomllib

    project = rendered(ci_provider=ci)
    groups = tomllib.loads((project / "pyproject.toml").read_text())[
        "dependency-groups"
    ]
    assert any(d.startswith("azureml-fsspec") for d in groups["azure-data"])
    if ci == "github":
        jobs = load_yaml(project / ".github/workflows/monitor.yml")["jobs"]
        steps = [s for job in jobs.values() for s in job["steps"]]
        setups = [s for s in steps if "setup-project" in str(s.get("uses"))]
    else:
        pipeline = yaml.safe_load(
            (project / "azure-pipelines/monitor.yml").read_text()
        )
        steps = [s for job in pipeline["jobs"] for s in job["steps"]]
        setups = [s for s in steps if "setup-project" in str(s.get("template"))]
    key = "with" if ci == "github" else "parameters"
    installs = [s.get(key, {}).get("extras", "dev") for s in setups]
    assert any("azure-data" in groups.split(",") for groups in installs)
