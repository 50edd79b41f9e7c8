"""Every generated deployment pipeline runs before it ships: CD reaches
production on a push to main on both providers, and infra and monitor run
with every construct emulated, with `mlops-scaffold run` against the strict
`az` and `gh` stand-ins (the CI jobs: test_run_ci_*_e2e.py)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from runjobs import first_steps, job_env, mlops_run, repository

from helpers import install_fake

pytestmark = pytest.mark.e2e


# deployments against the strict stand-ins -----------------------------------

PRODUCTION = {
    ".github/workflows/cd.yml": "deploy-production",
    "azure-pipelines/cd.yml": "deploy_production",
}
OTHER_DEPLOYMENT_FILES = [
    (".github/workflows/infra.yml", "push"),
    (".github/workflows/monitor.yml", "schedule"),
    ("azure-pipelines/infra.yml", "push"),
    ("azure-pipelines/monitor.yml", "schedule"),
]


def provider_of(pipeline: str) -> str:
    return "github" if pipeline.startswith(".github") else "azure"


@pytest.fixture(scope="module")
def cloud_projects(tmp_path_factory, shims, tool_cache, seed_lock, rendered):
    """One cloud project per CD owner (with --ci both only one system has
    the cd, infra and monitor pipelines: cd_provider), made on first use."""
    made: dict[str, tuple[Path, dict[str, str]]] = {}

    def get(provider: str) -> tuple[Path, dict[str, str]]:
        if provider not in made:
            made[provider] = _cloud_project(
                tmp_path_factory,
                shims,
                tool_cache,
                seed_lock,
                rendered,
                provider,
            )
        return made[provider]

    return get


def _cloud_project(
    tmp_path_factory, shims, tool_cache, seed_lock, rendered, provider: str
):
    """Both providers and both IaC languages, installed and locked, with
    the strict az and gh stand-ins on the PATH: the cloud after the
    documented set-up (`setup_azure_federation.sh identities`, run by an
    Owner), and the person running `run` holding the roles the deployers
    get (locally one login serves every job; on the services each job
    logs in as its environment's identity). MLflow's registry is a local
    store (CI reads it from the workspace)."""
    from test_release import (
        ADMIN,
        owner_state,
        published_endpoints,
        workspaces_of,
    )

    work = tmp_path_factory.mktemp("cloud")
    project = repository(
        rendered, work / "fraud-model", ci_provider=provider, iac="both"
    )
    env = job_env(shims, tool_cache)
    first_steps(project, env, seed_lock)
    bin_dir = work / "bin"
    tests = Path(__file__).parent
    install_fake(bin_dir, "az", tests / "fake_az.py")
    install_fake(bin_dir, "gh", tests / "fake_gh.py")
    state = work / "az-state.json"
    state.write_text(json.dumps(owner_state(workspaces_of(project))))
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        FAKE_AZ_STATE=str(state),
        FAKE_GH_STATE=str(work / "gh-state.json"),
        FAKE_RULES=str(tests),
        FAKE_AZ_IDENTITY=ADMIN,
        AZURE_CONFIG_DIR=str(work / "azure-config"),
        MLFLOW_TRACKING_URI=f"sqlite:///{work / 'registry.db'}",
    )
    done = subprocess.run(
        ["bash", "scripts/setup_azure_federation.sh", "identities"],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    cloud = json.loads(state.read_text())
    # What the infrastructure deployment published (the endpoint names the
    # release scripts read from the workspace's tags).
    cloud["workspace_tags"] = published_endpoints(project)
    cloud["role_assignments"] += [
        {**grant, "principal": ADMIN}
        for grant in cloud["role_assignments"]
        if grant["principal"] != ADMIN
    ]
    state.write_text(json.dumps(cloud))
    return project, env


@pytest.mark.parametrize("pipeline", sorted(PRODUCTION))
def test_cd_reaches_production_on_a_push_to_main(cloud_projects, pipeline):
    project, env = cloud_projects(provider_of(pipeline))
    done = mlops_run(
        project, env, pipeline, "--include-deployments", "--strict",
        "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    jobs = {job["id"]: job["status"] for job in json.loads(done.stdout)["jobs"]}
    assert jobs[PRODUCTION[pipeline]] == "success", jobs
    assert set(jobs.values()) <= {"success", "skipped"}, jobs
    # What the build packaged (`make package`): one wheel, and the model
    # artefact the deployments registered, with its gate verdict.
    assert len(list((project / "dist").glob("fraud_model-*.whl"))) == 1
    model = project / "dist" / "model"
    for name in ("model.joblib", "model-info.json", "metrics.json"):
        assert (model / name).is_file(), name
    assert "Quality gate: passed" in (model / "model-card.md").read_text()


@pytest.mark.parametrize(("pipeline", "event"), OTHER_DEPLOYMENT_FILES)
def test_infra_and_monitor_run_with_every_construct_supported(
    cloud_projects, pipeline, event
):
    """--strict makes any action, task or construct the runner does not
    emulate an error (exit 2): every one these files use is emulated.
    Monitoring runs green; infra runs as far as the stand-in reaches (it
    has no `az bicep build`; `terraform init` needs the registry)."""
    project, env = cloud_projects(provider_of(pipeline))
    done = mlops_run(
        project, env, pipeline, "--event", event, "--include-deployments",
        "--strict", "--format", "json",
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert any(job["status"] != "skipped" for job in report["jobs"]), report
    if "monitor" in pipeline:  # the drift check runs green end to end
        assert done.returncode == 0, json.dumps(report, indent=1)[-4000:]
