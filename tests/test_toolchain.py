"""The generated project's everyday toolchain: CI installs from uv.lock with
a pinned uv and its cache, pre-commit runs the locked tools offline, `make
train` leaves an MLflow run, deploy/conda.yml pins the locked versions, and
the quality gate's three baseline cases against a local MLflow registry."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from helpers import generate, load_yaml

pytestmark = (
    pytest.mark.e2e
)  # uv installs, MLflow runs and pre-commit on generated projects

PINS = json.loads(
    (REPO / "generator" / "mlops_scaffold" / "action-pins.json").read_text()
)
SETUP_ACTION = Path(".github/actions/setup-project/action.yml")
AZURE_SETUP = Path("azure-pipelines/templates/setup-project.yml")


@pytest.fixture(scope="module", params=["github", "azure", "both"])
def ci_project(request, tmp_path_factory) -> Path:
    return generate(
        tmp_path_factory.mktemp(request.param) / "fraud-model",
        ci_provider=request.param,
        iac="none",
    )


def test_ci_installs_from_the_lock_with_a_pinned_uv(ci_project: Path):
    github = ci_project / SETUP_ACTION
    azure = ci_project / AZURE_SETUP
    assert github.is_file() or azure.is_file()
    versions = set()
    if github.is_file():
        steps = load_yaml(github)["runs"]["steps"]
        uv = next(s for s in steps if "setup-uv" in s.get("uses", ""))
        action, sha = uv["uses"].split("@")
        assert sha == PINS[action]["sha"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", uv["with"]["version"])
        assert uv["with"]["cache-dependency-glob"] == "uv.lock"
        versions.add(uv["with"]["version"])
        assert "make install LOCKED=1" in steps[-1]["run"]
        assert steps.index(uv) < len(steps) - 1
    if azure.is_file():
        steps = yaml.safe_load(azure.read_text())["steps"]
        scripts = [s.get("script", "") for s in steps]
        pinned = [re.search(r'"uv==([\d.]+)"', s) for s in scripts]
        versions |= {m[1] for m in pinned if m}
        cache = next(s for s in steps if s.get("task") == "Cache@2")
        assert cache["inputs"]["path"] == "$(UV_CACHE_DIR)"
        assert "uv.lock" in cache["inputs"]["key"]
        assert "make install LOCKED=1" in scripts[-1]
        for pipeline in (ci_project / "azure-pipelines").glob("*.yml"):
            text = pipeline.read_text()
            if "templates/setup-project.yml" in text:
                assert "UV_CACHE_DIR:" in text, pipeline.name
    assert len(versions) == 1, versions


def test_install_fails_clearly_without_the_lock_in_ci(ci_project: Path):
    result = subprocess.run(
        ["make", "install", "LOCKED=1", "UV=true"],
        cwd=ci_project,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "uv.lock is missing" in result.stderr
    assert "commit uv.lock" in result.stderr


def test_install_says_how_to_get_uv(ci_project: Path):
    result = subprocess.run(
        ["make", "install", "UV=no-such-uv-here"],
        cwd=ci_project,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "uv is not installed" in result.stderr
    assert "astral.sh/uv/install.sh" in result.stderr
    assert "--group dev" in result.stderr


def test_every_tool_the_makefile_runs_is_locked(ci_project: Path):
    pyproject = tomllib.loads((ci_project / "pyproject.toml").read_text())
    groups = pyproject["dependency-groups"]
    locked = {
        re.split(r"[<>=\[ ]", req)[0].replace("-", "_")
        for group in groups.values()
        for req in group
    }
    makefile = (ci_project / "Makefile").read_text()
    modules = set(re.findall(r"\$\(PYTHON\) -m ([a-z_]+)", makefile))
    modules.discard(pyproject["project"]["name"].replace("-", "_"))
    modules -= {"$"}
    assert {"ruff", "yamllint", "pytest", "build"} <= modules
    assert modules <= locked, modules - locked
    config = yaml.safe_load(
        (ci_project / ".pre-commit-config.yaml").read_text()
    )
    for hook in config["repos"][0]["hooks"]:
        assert hook["language"] == "system"
        assert hook["entry"].startswith("sh scripts/in_venv.sh ")


@pytest.fixture(scope="module")
def locked_project(tmp_path_factory, seed_lock) -> Path:
    """A project with a real uv.lock (uv resolves against the package index,
    the only network the tests use) and deploy/conda.yml exported from it."""
    project = generate(
        tmp_path_factory.mktemp("locked") / "fraud-model", ci_provider="both"
    )
    seed_lock(project)
    subprocess.run(
        [sys.executable, "scripts/serving_env.py"], cwd=project, check=True
    )
    return project


@pytest.mark.e2e
def test_the_serving_environment_pins_the_locked_versions(locked_project):
    lock = tomllib.loads((locked_project / "uv.lock").read_text())
    locked = {}
    for package in lock["package"]:
        locked.setdefault(package["name"], set()).add(package["version"])
    conda = yaml.safe_load((locked_project / "deploy/conda.yml").read_text())
    pip = next(d for d in conda["dependencies"] if isinstance(d, dict))["pip"]
    pins = {}
    for requirement in pip:
        name, version = requirement.split(";")[0].strip().split("==")
        pins.setdefault(name.lower(), set()).add(version)
    for name in ("scikit-learn", "numpy", "pandas", "scipy", "joblib"):
        assert pins[name] and pins[name] <= locked[name], name
    assert "azureml-inference-server-http" in pins
    assert not {"pytest", "ruff", "pre-commit"} & set(pins)
    environment = yaml.safe_load(
        (locked_project / "deploy/environment.yml").read_text()
    )
    assert environment["version"] == "2"
    check = subprocess.run(
        [sys.executable, "scripts/serving_env.py", "--check"],
        cwd=locked_project,
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    conda_file = locked_project / "deploy/conda.yml"
    conda_file.write_text(conda_file.read_text().replace("==", "==0", 1))
    stale = subprocess.run(
        [sys.executable, "scripts/serving_env.py", "--check"],
        cwd=locked_project,
        capture_output=True,
        text=True,
    )
    assert stale.returncode == 1
    assert "make serving-env" in stale.stderr


def tool_env(project: Path) -> dict[str, str]:
    """This environment's tools first on PATH, no CI variables, offline."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "SYSTEM_", "BUILD_"))
        and key not in {"CI", "TF_BUILD", "MLFLOW_TRACKING_URI"}
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(project / "src")
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    env["PIP_NO_INDEX"] = "1"
    env["UV_OFFLINE"] = "1"
    return env


def test_the_pre_commit_config_is_the_same_for_every_combination(rendered):
    """So one combination shows the hooks' wiring; what they run (make lint
    and make pipeline-lint) runs on every combination as CI jobs
    (test_run_ci_*_e2e.py)."""
    configs = {
        (rendered(ci_provider=ci, iac=iac) / ".pre-commit-config.yaml")
        .read_bytes()
        for ci, iac in (("github", "bicep"), ("azure", "terraform"),
                        ("both", "both"), ("github", "none"))
    }  # fmt: skip
    assert len(configs) == 1


@pytest.mark.e2e
def test_pre_commit_passes_offline_on_a_fresh_project(tmp_path):
    """Both providers and both IaC languages: every hook has files."""
    project = generate(tmp_path / "fraud-model", ci_provider="both", iac="both")
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=project,
        env={**tool_env(project), "PRE_COMMIT_HOME": str(tmp_path / "pc")},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    hooks = ("ruff (lint)", "yamllint", "make pipeline-lint", "notebooks")
    for hook in hooks:
        assert re.search(rf"{re.escape(hook)}.*Passed", result.stdout, re.I)


def make(project: Path, *args: str, **env: str):
    return subprocess.run(
        ["make", *args, f"PYTHON={sys.executable}"],
        cwd=project,
        env={**tool_env(project), **env},
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    project = generate(
        tmp_path_factory.mktemp("mlflow") / "fraud-model", iac="none"
    )
    result = make(project, "train")
    assert result.returncode == 0, result.stderr[-3000:]
    return project


def mlflow_client(project: Path):
    import mlflow

    return mlflow.MlflowClient(f"sqlite:///{project / 'mlflow.db'}")


@pytest.mark.e2e
def test_make_train_leaves_an_mlflow_run_with_the_gate_metrics(trained):
    client = mlflow_client(trained)
    info = json.loads((trained / "models/model-info.json").read_text())
    run = client.get_run(info["mlflow_run_id"])
    config = yaml.safe_load((trained / "config/model.yml").read_text())
    assert set(config["quality"]["thresholds"]) <= set(run.data.metrics)
    assert run.data.tags["data_version"] == info["data_version"]
    # the thresholds-only verdict is on the run from the start, so the gate
    # that follows has nothing to log (and does not load MLflow)
    assert run.data.tags["quality_gate"] == "passed"
    assert info["mlflow_verdict"]["passed"] is True
    assert run.data.params["seed"] == "42"
    bundle = {a.path for a in client.list_artifacts(run.info.run_id, "bundle")}
    assert "bundle/model.joblib" in bundle
    # the model is a run folder, not a LoggedModel (docs/decisions/0005)
    model = {a.path for a in client.list_artifacts(run.info.run_id, "model")}
    assert "model/MLmodel" in model
    assert info["packages"]["scikit-learn"]
    status = subprocess.run(
        ["git", "status", "--porcelain"],
        cwd=trained,
        capture_output=True,
        text=True,
    ).stdout
    assert "mlflow.db" not in status and "mlruns" not in status


def gate(project: Path, **env: str):
    baseline = make(project, "baseline", **env)
    if baseline.returncode != 0:
        return baseline, None
    return baseline, make(project, "evaluate")


@pytest.mark.e2e
def test_the_gate_says_when_no_production_model_exists(trained):
    shutil.rmtree(trained / "models/production", ignore_errors=True)
    baseline, evaluate = gate(trained)
    assert baseline.returncode == 0, baseline.stderr
    assert "no production model registered yet" in baseline.stdout
    assert evaluate.returncode == 0, evaluate.stderr
    assert "Baseline: no production model registered yet" in evaluate.stdout


@pytest.mark.e2e
def test_the_gate_fails_on_the_default_branch_when_the_registry_is_unreadable(
    trained, tmp_path
):
    broken = tmp_path / "broken.db"
    broken.write_text("not a database\n" * 100)
    uri = f"sqlite:///{broken}"
    result = make(trained, "baseline", MLFLOW_TRACKING_URI=uri)
    assert result.returncode != 0
    assert "cannot read the model registry" in result.stderr
    assert "Traceback" not in result.stderr
    elsewhere = make(
        trained, "baseline", "DEFAULT_BRANCH=other", MLFLOW_TRACKING_URI=uri
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "warning: cannot read the model registry" in elsewhere.stdout
    evaluate = make(trained, "evaluate")
    assert "WARNING: the model registry could not be read" in evaluate.stdout


@pytest.mark.e2e
def test_the_gate_scores_the_production_model_on_the_same_rows(trained):
    promoted = make(trained, "promote", "MODEL_DIR=models")
    assert promoted.returncode == 0, promoted.stderr[-3000:]
    assert "version 1 is production" in promoted.stdout
    baseline, evaluate = gate(trained)
    assert baseline.returncode == 0, baseline.stderr
    assert evaluate is not None and evaluate.returncode == 0, evaluate.stderr
    assert "production model fraud-model version 1" in evaluate.stdout
    report = json.loads((trained / "reports/metrics.json").read_text())
    primary = next(c for c in report["checks"] if c["metric"] == "roc_auc")
    # The same model on the same held-out rows: the same score.
    assert primary["baseline"] == primary["value"]
    client = mlflow_client(trained)
    version = client.get_model_version_by_alias("fraud-model", "production")
    assert str(version.version) == "1"


@pytest.mark.e2e
def test_a_registry_without_aliases_finds_the_version_tagged_production(
    trained,
):
    """Azure ML's registry has no aliases; a release tags the version."""
    client = mlflow_client(trained)
    client.delete_registered_model_alias("fraud-model", "production")
    promoted = make(trained, "promote", "MODEL_DIR=models")
    assert promoted.returncode == 0, promoted.stderr[-3000:]
    client.delete_registered_model_alias("fraud-model", "production")
    client.delete_model_version_tag("fraud-model", "1", "production")
    baseline, evaluate = gate(trained)
    assert baseline.returncode == 0, baseline.stderr
    assert "fraud-model version 2" in baseline.stdout
    assert evaluate is not None and "version 2" in evaluate.stdout


@pytest.mark.e2e
def test_a_ci_job_without_a_tracking_server_logs_nothing(tmp_path):
    """A runner's local store would vanish with it: CI says so instead."""
    project = generate(tmp_path / "fraud-model", iac="none")
    result = make(project, "train", CI="true")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "mlflow: not logged (a CI job without MLFLOW_TRACKING_URI" in (
        result.stdout
    )
    assert not (project / "mlflow.db").exists()
