"""CD on both providers: the release path's structure, and the release
scripts' logic run against a stand-in for the `az` CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from cli_rules import AZURE_DEVOPS_APP

from helpers import generate, install_fake, load_yaml

pytestmark = pytest.mark.e2e  # release scripts run against the strict stand-ins

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
    # The build's token is the read-only monitoring identity's, and it logs
    # in only to read training data in a datastore (the test below).
    assert github_cd["jobs"]["build"]["environment"] == "monitoring"


WORKSPACE_DATA = "${{ steps.data.outputs.in-workspace == 'true' }}"


def build_steps(project: Path, owner: str) -> tuple[list[dict], dict]:
    """The CD build job's steps (Azure: the Build stage's job) and its
    variables."""
    if owner == "github":
        job = load_yaml(project / ".github/workflows/cd.yml")["jobs"]["build"]
        return job["steps"], {}
    pipeline = load_yaml(project / "azure-pipelines/cd.yml")
    stage = next(s for s in pipeline["stages"] if s["stage"] == "Build")
    return stage["jobs"][0]["steps"], pipeline["variables"]


@pytest.mark.parametrize("owner", ["github", "azure"])
def test_the_build_logs_in_only_to_read_training_data_in_a_datastore(
    both_project, azure_cd_project, owner
):
    """The gate trains and scores on data.source: when `make
    data-in-workspace` says it is an Azure ML datastore, the build installs
    the azure-data group (azureml-fsspec) and runs `make package` logged in
    as the read-only monitoring identity; otherwise it logs in nowhere
    (GitHub) or runs `make package` outside any AzureCLI task (Azure). The
    same on both providers."""
    project = both_project if owner == "github" else azure_cd_project
    steps, variables = build_steps(project, owner)
    text = [str(s.get("run", "")) + str(s.get("script", ""))
            + str((s.get("inputs") or {}).get("inlineScript", ""))
            for s in steps]  # fmt: skip
    decide = next(
        i for i, x in enumerate(text) if "make data-in-workspace" in x
    )
    install = next(i for i, x in enumerate(text) if "azure-data" in x)
    package = [i for i, x in enumerate(text) if x.strip() == "make package"]
    assert 'make install LOCKED=1 GROUPS="dev azure-data"' in text[install]
    assert decide < install < min(package)
    if owner == "github":
        assert steps[decide]["id"] == "data"
        assert "in-workspace=" in steps[decide]["run"]
        logins = [
            s
            for s in steps
            if str(s.get("uses", "")).startswith("Azure/login@")
        ]
        assert logins and all(s["if"] == WORKSPACE_DATA for s in logins)
        assert steps[install]["if"] == WORKSPACE_DATA
        assert steps.index(logins[0]) < min(package)
        assert len(package) == 1 and "if" not in steps[package[0]]
        return
    assert "task.setvariable variable=dataInWorkspace" in text[decide]
    in_workspace = "and(succeeded(), eq(variables.dataInWorkspace, 'true'))"
    assert steps[install]["condition"] == in_workspace
    by_condition = {steps[i].get("condition"): steps[i] for i in package}
    logged_in = by_condition[in_workspace]
    assert logged_in["task"] == "AzureCLI@2"
    connection = re.fullmatch(
        r"\$\{\{ variables\.(\w+) \}\}",
        logged_in["inputs"]["azureSubscription"],
    )[1]
    assert variables[connection] == f"{SLUG}-monitoring"
    local = by_condition[
        "and(succeeded(), ne(variables.dataInWorkspace, 'true'))"
    ]
    assert "task" not in local and local["script"] == "make package"


@pytest.mark.parametrize(
    ("source", "answer"),
    [
        ("sklearn:breast_cancer", "false"),
        ("data/raw/train.csv", "false"),
        ("azureml://subscriptions/s/resourcegroups/g/workspaces/w/datastores"
         "/d/paths/train.csv", "true"),
    ],
)  # fmt: skip
def test_make_data_in_workspace_reads_data_source(
    default_project, tmp_path, source, answer
):
    project = tmp_path / "project"
    subprocess.run(["cp", "-r", str(default_project), str(project)],
                   check=True)  # fmt: skip
    set_data_source(project, source)
    done = subprocess.run(
        ["make", "--no-print-directory", "data-in-workspace",
         f"PYTHON={sys.executable}"],
        cwd=project, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{answer}\n"


STATUS_FUNCTIONS = ("success()", "failure()", "always()", "cancelled()")


@pytest.mark.parametrize("workflow", ["cd", "pipeline-review", "monitor"])
def test_jobs_after_a_skippable_job_name_their_status(both_project, workflow):
    """GitHub wraps an `if:` without a status function in success(), which
    is false when ANY job up the needs chain was skipped (train-azureml is,
    by default): every job below a conditional job must say what it needs."""
    jobs = load_yaml(both_project / f".github/workflows/{workflow}.yml")["jobs"]

    def ancestors(name: str) -> set[str]:
        needs = jobs[name].get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        return set(needs).union(*(ancestors(n) for n in needs))

    for name, job in jobs.items():
        skippable = [a for a in ancestors(name) if "if" in jobs[a]]
        if skippable:
            condition = str(job.get("if", ""))
            assert any(f in condition for f in STATUS_FUNCTIONS), (
                name,
                skippable,
            )
            direct = job["needs"] if isinstance(job["needs"], str) else None
            if direct and workflow == "cd" and direct != "train-azureml":
                assert f"needs.{direct}.result == 'success'" in condition


def _install_step(both_project: Path) -> str:
    review = load_yaml(both_project / ".github/workflows/pipeline-review.yml")
    steps = review["jobs"]["review"]["steps"]
    return next(s["run"] for s in steps if s.get("id") == "install")


@pytest.mark.parametrize(
    ("source", "code", "ready"),
    [
        ("", 0, "ready=false"),
        ("mlops-scaffold==0.1.0", 1, None),
        ("git+https://github.com/o/mlops-scaffold@main", 1, None),
        (
            "git+https://github.com/o/mlops-scaffold@" + "a1" * 20,
            0,
            "ready=true",
        ),
    ],
)
def test_pipeline_review_installs_only_a_pinned_commit(
    both_project, tmp_path, source, code, ready
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_python = bin_dir / "python"
    fake_python.write_text('#!/bin/sh\necho "$@" > "$INSTALLED"\n')
    fake_python.chmod(0o755)
    output = tmp_path / "output"
    result = subprocess.run(
        ["bash", "-eo", "pipefail", "-c", _install_step(both_project)],
        env={**os.environ, "SOURCE": source, "GITHUB_OUTPUT": str(output),
             "INSTALLED": str(tmp_path / "installed"),
             "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == code, result.stdout + result.stderr
    if ready:
        assert output.read_text().strip() == ready
    installed = tmp_path / "installed"
    assert installed.exists() == (ready == "ready=true")
    if installed.exists():
        assert installed.read_text().split() == ["-m", "pip", "install", source]


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
    # and the build's read of training data in a datastore
    assert cd.count("client-id: ${{ vars.AZURE_CLIENT_ID }}") == 6


@pytest.mark.parametrize("owner", [None, "github", "azure"])
def test_with_both_ci_systems_exactly_one_deploys(tmp_path: Path, owner):
    """Two CD systems would release to the same endpoints with their own
    version counters: the CD owner (default: the first provider) has the
    cd, infra and monitor pipelines; the other runs CI only."""
    answers = {"cd_provider": owner} if owner else {}
    project = generate(tmp_path / "p", git=False, ci_provider="both",
                       iac="both", **answers)  # fmt: skip
    folders = {"github": ".github/workflows", "azure": "azure-pipelines"}
    for provider, folder in folders.items():
        deploys = provider == (owner or "github")
        for name in ("cd.yml", "infra.yml", "monitor.yml"):
            assert (project / folder / name).exists() == deploys, (folder, name)
        assert (project / folder / "ci.yml").exists()


# ----------------------------------------------------------- Azure Pipelines
@pytest.fixture(scope="module")
def azure_cd(azure_cd_project: Path) -> dict:
    text = (azure_cd_project / "azure-pipelines" / "cd.yml").read_text()
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


def settings(project: Path, environment: str) -> dict[str, str]:
    path = project / "deploy" / "environments" / f"{environment}.env"
    return dict(
        line.split("=", 1)
        for line in path.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )


ADMIN = "admin"  # the person who runs the one-time set-up


def owner_state(workspaces: dict, roles=("Owner",)) -> dict:
    """A cloud with the project's workspaces and an administrator holding
    `roles` on the subscription: nothing else, no identity yet."""
    return {"models": {}, "environments": [], "endpoints": {}, "calls": [],
            "jobs": {}, "workspaces": workspaces,
            "role_assignments": [
                {"principal": ADMIN, "scope": "subscription", "role": role}
                for role in roles
            ]}  # fmt: skip


def printed_ids(stdout: str) -> dict[str, str]:
    """The AZURE_* lines setup_azure_federation.sh prints."""
    return dict(
        line.split("=", 1)
        for line in stdout.splitlines()
        if line.startswith("AZURE_") and "=" in line
    )


SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"


def published_endpoints(project: Path, subscription: str = SUBSCRIPTION):
    """What infra/ publishes on each workspace: the tag online-endpoint,
    ENDPOINT plus the suffix main.tf derives from the resource group's id."""
    import hashlib

    tags = {}
    for env in ("staging", "production"):
        found = settings(project, env)
        group = (
            f"/subscriptions/{subscription}/resourceGroups/"
            + (found["RESOURCE_GROUP"])
        )
        suffix = hashlib.sha1(group.lower().encode()).hexdigest()[:6]
        tags[found["WORKSPACE"]] = {
            "online-endpoint": f"{found['ENDPOINT']}-{suffix}"
        }
    return tags


def workspaces_of(project: Path) -> dict[str, str]:
    return {
        settings(project, env)["WORKSPACE"]: settings(project, env)[
            "RESOURCE_GROUP"
        ]
        for env in ("staging", "production")
    }


@pytest.fixture(scope="module")
def federated(tmp_path_factory, packaged: Path):
    """The cloud after `setup_azure_federation.sh identities`, run once as
    an Owner: the identities and the roles infra/identities.yml gives them
    (nothing in this file says which roles anyone holds)."""
    work = tmp_path_factory.mktemp("federated")
    bin_dir = work / "bin"
    install_fake(bin_dir, "az", FAKE_AZ)
    state = work / "az-state.json"
    cloud = owner_state(workspaces_of(packaged))
    cloud["workspace_tags"] = published_endpoints(packaged)
    state.write_text(json.dumps(cloud))
    result = subprocess.run(
        ["bash", "scripts/setup_azure_federation.sh", "identities"],
        cwd=packaged, capture_output=True, text=True,
        env={**os.environ, "HOME": str(work),
             "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
             "FAKE_AZ_STATE": str(state),
             "FAKE_RULES": str(Path(__file__).parent),
             "FAKE_AZ_IDENTITY": ADMIN},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    cloud = json.loads(state.read_text())
    cloud["calls"] = []
    return cloud, printed_ids(result.stdout)


def login(ids: dict, identity: str) -> dict[str, str]:
    """A job logged in as one identity (its client id)."""
    return {"FAKE_AZ_IDENTITY": ids[f"AZURE_CLIENT_ID_{identity}"]}


@pytest.fixture
def released(tmp_path: Path, packaged: Path, federated):
    """A fresh copy of the packaged project, a strict fake az on the PATH,
    and a cloud with the project's workspaces and identities; the job logs
    in as the staging identity."""
    project = tmp_path / "project"
    subprocess.run(["cp", "-r", str(packaged), str(project)], check=True)
    bin_dir = tmp_path / "bin"
    install_fake(bin_dir, "az", FAKE_AZ)
    state = tmp_path / "az-state.json"
    cloud, ids = federated
    state.write_text(json.dumps(cloud))
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AZ_STATE": str(state),
        "FAKE_RULES": str(Path(__file__).parent),
        "FAKE_AZ_IDS": json.dumps(ids),
        **login(ids, "STAGING"),
    }
    return project, env, state


def run(project: Path, env: dict, *command: str, **extra: str):
    """One CI job: a fresh HOME, so nothing `az configure` or `az extension
    add` did in an earlier job is there."""
    jobs = Path(env["FAKE_AZ_STATE"]).parent
    home = tempfile.mkdtemp(prefix="job-home-", dir=jobs)
    return subprocess.run(
        list(command), cwd=project,
        env={**env, "HOME": home, **extra},
        capture_output=True, text=True,
    )  # fmt: skip


def endpoint_of(state: Path, environment: str = "staging") -> dict:
    """The environment's endpoint, under the name infra/ published."""
    cloud = json.loads(state.read_text())
    workspace = f"mlw-fraudmodel-{environment}"
    name = cloud["workspace_tags"][workspace]["online-endpoint"]
    return cloud["endpoints"][f"{workspace}/{name}"]


def traffic(state: Path, environment: str = "staging") -> dict:
    return endpoint_of(state, environment)["traffic"]


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
    deployments = endpoint_of(state)["deployments"]
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
    assert re.search(r"smoke test of fraud-model-staging-\w{6}/green failed",
                     broken.stderr)  # fmt: skip
    assert traffic(state) == {"blue": 100, "green": 0}


def test_a_failing_smoke_test_after_the_switch_rolls_back(released):
    """The new deployment passes alone but fails behind the endpoint: the
    traffic goes back to the previous release and the job fails."""
    project, env, state = released
    assert run(project, env, "bash", "scripts/deploy.sh", "staging",
               MODEL_VERSION="1").returncode == 0  # fmt: skip
    broken = run(
        project, env, "bash", "scripts/deploy.sh", "staging",
        MODEL_VERSION="2", FAKE_AZ_BROKEN_WHEN_ROUTED="green",
    )  # fmt: skip
    assert broken.returncode == 1
    assert "rolling back to blue" in broken.stderr
    assert traffic(state) == {"blue": 100, "green": 0}


def test_a_failing_first_release_fails_the_job(released):
    project, env, state = released
    broken = run(
        project, env, "bash", "scripts/deploy.sh", "staging",
        MODEL_VERSION="1", FAKE_AZ_BROKEN_WHEN_ROUTED="blue",
    )  # fmt: skip
    assert broken.returncode == 1
    assert "no previous deployment to roll back to" in broken.stderr


def test_a_version_registered_by_another_commit_is_refused(released):
    """With two CI systems (or a re-used number) the same version can come
    from another commit: deploy.sh refuses it rather than deploying it."""
    project, env, state = released
    first = run(project, env, "bash", "scripts/deploy.sh", "staging",
                MODEL_VERSION="7", GITHUB_SHA="a" * 40)  # fmt: skip
    assert first.returncode == 0, first.stderr
    again = run(project, env, "bash", "scripts/deploy.sh", "staging",
                MODEL_VERSION="7", GITHUB_SHA="a" * 40)  # fmt: skip
    assert again.returncode == 0, again.stderr
    other = run(project, env, "bash", "scripts/deploy.sh", "staging",
                MODEL_VERSION="7", GITHUB_SHA="b" * 40)  # fmt: skip
    assert other.returncode == 1
    assert f"registered for commit '{'a' * 40}'" in other.stderr
    assert traffic(state) == {"green": 100, "blue": 0}


def test_the_model_version_is_the_commit_s_time(released):
    """Every job and CI system releasing one commit names one version."""
    project, env, _ = released
    result = run(project, env, "bash", "-c",
                 ". scripts/release_lib.sh && model_version")  # fmt: skip
    expected = subprocess.run(
        ["git", "log", "-1", "--format=%ct", "HEAD"], cwd=project,
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert result.stdout.strip() == expected


def test_two_teams_with_the_same_project_name_both_deploy(released, tmp_path):
    """Endpoint names are unique per region: the scripts deploy under the
    name infra/ published (suffixed per resource group), so another team's
    fraud-model in another subscription does not collide; the name from
    the settings file alone would."""
    project, env, state = released
    cloud = json.loads(state.read_text())
    theirs = "mlw-fraudmodel-staging-other"
    cloud["workspaces"][theirs] = "rg-other-team"
    prefix = settings(project, "staging")["ENDPOINT"]
    other = published_endpoints(project, "11111111-0000-0000-0000-000000000000")
    endpoint = other["mlw-fraudmodel-staging"]["online-endpoint"]
    cloud["endpoints"][f"{theirs}/{endpoint}"] = {
        "traffic": {}, "deployments": {}}  # fmt: skip
    cloud["endpoints"][f"{theirs}/{prefix}"] = {
        "traffic": {},
        "deployments": {},
    }
    state.write_text(json.dumps(cloud))
    result = run(project, env, "bash", "scripts/deploy.sh", "staging",
                 MODEL_VERSION="1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert traffic(state) == {"blue": 100}
    # the stand-in refuses what Azure refuses: the unsuffixed name is taken
    refused = run(project, env, "bash", "-c",
                  "az extension add --name ml --yes && az ml online-endpoint"
                  " create -g rg-fraud-model-staging -w mlw-fraudmodel-staging"
                  f" --name {prefix} --file deploy/endpoint.yml")  # fmt: skip
    assert refused.returncode == 1
    assert "unique per region" in refused.stderr


def test_deploy_needs_the_name_infra_published(released):
    project, env, state = released
    cloud = json.loads(state.read_text())
    cloud["workspace_tags"] = {}
    state.write_text(json.dumps(cloud))
    result = run(project, env, "bash", "scripts/deploy.sh", "staging",
                 MODEL_VERSION="1")  # fmt: skip
    assert result.returncode == 1
    assert "no online-endpoint tag" in result.stderr


def without_workspaces(state: Path) -> None:
    """The cloud on the first push: identities, no environment yet."""
    cloud = json.loads(state.read_text())
    cloud["workspaces"] = {}
    state.write_text(json.dumps(cloud))


def test_the_first_push_skips_the_release_with_a_notice(released):
    """CD runs before the infrastructure pipeline has made the workspace:
    deploy and smoke test skip with a notice instead of going red."""
    project, env, state = released
    without_workspaces(state)
    deploy = run(project, env, "bash", "scripts/deploy.sh", "staging",
                 MODEL_VERSION="1", GITHUB_ACTIONS="true")  # fmt: skip
    assert deploy.returncode == 0, deploy.stderr
    assert (
        "::notice::mlw-fraudmodel-staging does not exist yet" in deploy.stdout
    )
    assert json.loads(state.read_text())["endpoints"] == {}
    smoke = run(project, env, "make", "smoke-test", "ENVIRONMENT=staging",
                TF_BUILD="True")  # fmt: skip
    assert smoke.returncode == 0, smoke.stderr
    assert "##vso[task.logissue type=warning]" in smoke.stdout


def test_the_first_push_gates_against_the_thresholds(released):
    """On the default branch a registry that cannot be read fails the gate,
    but a production workspace that does not exist yet means no production
    model: the first CD run stays green."""
    project, env, state = released
    without_workspaces(state)
    result = run(project, env, "bash", "scripts/fetch_baseline.sh",
                 PACKAGE="fraud_model", CI="true", GITHUB_ACTIONS="true",
                 GITHUB_REF_NAME="main")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "::notice::" in result.stdout
    baseline = json.loads(
        (project / "models/production/baseline.json").read_text()
    )
    assert baseline == {"status": "none", "name": "fraud-model"}


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
    assert re.search(r"smoke test of fraud-model-staging-\w{6} passed "
                     r"\(2 records\)", result.stdout)  # fmt: skip


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


# ------------------------------------- the stand-ins refuse what az refuses
def az(project: Path, env: dict, *args: str, **extra: str):
    return run(project, env, "az", *args, **extra)


def test_fake_az_refuses_a_workspace_never_set_in_this_job(released):
    project, env, _ = released
    ws = settings(project, "staging")
    # `az configure --defaults` in one job ...
    configured = run(project, env, "bash", "-c",
                     "az extension add --name ml --yes && az configure "
                     f"--defaults group={ws['RESOURCE_GROUP']} "
                     f"workspace={ws['WORKSPACE']} && az ml online-endpoint "
                     "show --name x")  # fmt: skip
    assert "(ResourceNotFound) endpoint" in configured.stderr
    # ... is gone in the next one.
    fresh = run(project, env, "bash", "-c",
                "az extension add --name ml --yes && "
                "az ml online-endpoint show --name x")  # fmt: skip
    assert fresh.returncode == 2
    assert "required: --workspace-name/-w, --resource-group/-g" in fresh.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ml", "online-endpoint", "invoke", "--name", "e", "--bogus", "1"],
         "unrecognized arguments: --bogus"),
        (["ml", "online-deployment", "show", "--name", "blue"],
         "required: --endpoint-name"),
        (["ml", "online-endpoint", "show"], "required: --name"),
        (["ml", "job", "stream"], "required: --name"),
    ],
)  # fmt: skip
def test_fake_az_refuses_unknown_and_missing_arguments(released, args, message):
    project, env, _ = released
    ws = settings(project, "staging")
    workspace = ["--resource-group", ws["RESOURCE_GROUP"],
                 "--workspace-name", ws["WORKSPACE"]]  # fmt: skip
    result = run(project, env, "bash", "-c",
                 'az extension add --name ml --yes && az "$@"', "az",
                 *args, *workspace)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr


def test_fake_az_refuses_ml_before_the_extension_is_installed(released):
    project, env, _ = released
    result = az(project, env, "ml", "job", "show", "--name", "x")
    assert result.returncode == 2
    assert "'ml' is misspelled or not recognized" in result.stderr


def test_deploy_is_refused_to_the_read_only_pull_request_identity(released):
    project, env, state = released
    ids = json.loads(env["FAKE_AZ_IDS"])
    result = run(project, env, "bash", "scripts/deploy.sh", "staging",
                 MODEL_VERSION="1", **login(ids, "PULL_REQUEST"))  # fmt: skip
    assert result.returncode != 0
    assert "AuthorizationFailed" in result.stderr
    assert json.loads(state.read_text())["endpoints"] == {}


def test_production_is_refused_to_the_staging_identity(released):
    project, env, _ = released
    ids = json.loads(env["FAKE_AZ_IDS"])
    result = run(project, env, "bash", "scripts/deploy.sh", "production",
                 MODEL_VERSION="1")  # fmt: skip
    assert result.returncode != 0
    staging = ids["AZURE_CLIENT_ID_STAGING"]
    assert f"'{staging}' does not have authorization" in result.stderr


@pytest.mark.parametrize(
    ("uri", "resource", "message"),
    [
        ("https://dev.azure.com/o/p/_apis/distributedtask/environments"
         "?api-version=5.0", AZURE_DEVOPS_APP, "out of range"),
        ("https://dev.azure.com/o/p/_apis/pipelinechecks/configurations"
         "?api-version=7.1", AZURE_DEVOPS_APP, "area does not exist"),
        ("https://dev.azure.com/o/p/_apis/pipelines/checks/configurations"
         "?api-version=7.1", AZURE_DEVOPS_APP, "out of range"),
        ("https://dev.azure.com/o/p/_apis/distributedtask/environments"
         "?api-version=7.1", "https://management.azure.com", "Unauthorized"),
        ("https://dev.azure.com/o/p/_apis/pipelines/pipelinepermissions"
         "/endpoint/1?api-version=7.1", AZURE_DEVOPS_APP, "out of range"),
        ("https://dev.azure.com/o/p/_apis/pipelines/pipelinepermissions"
         "/serviceendpoint/1?api-version=7.1-preview.1", AZURE_DEVOPS_APP,
         "not supported"),
        ("https://dev.azure.com/o/p/_apis/pipelines/pipelinepermissions"
         "/endpoint/nope?api-version=7.1-preview.1", AZURE_DEVOPS_APP,
         "Not Found(404)"),
    ],
)  # fmt: skip
def test_fake_rest_refuses_unknown_areas_versions_and_tokens(
    released, uri, resource, message
):
    project, env, _ = released
    result = az(project, env, "rest", "--method", "get", "--uri", uri,
                "--resource", resource)  # fmt: skip
    assert result.returncode == 1
    assert message in result.stderr


def test_azure_ml_yaml_loads_with_the_real_sdk(both_project: Path):
    """The Azure ML SDK's own loaders (what `az ml` uses) accept the files."""
    aiml = pytest.importorskip("azure.ai.ml")
    deploy = both_project / "deploy"
    endpoint = aiml.load_online_endpoint(deploy / "endpoint.yml")
    assert endpoint.auth_mode == "aml_token"
    deployment = aiml.load_online_deployment(deploy / "deployment.yml")
    assert deployment.code_configuration.scoring_script.endswith("score.py")
    assert (deploy / deployment.code_configuration.code).resolve().is_dir()
    environment = aiml.load_environment(deploy / "environment.yml")
    assert environment.conda_file and environment.version
    job = aiml.load_job(deploy / "train-job.yml")
    assert "model" in job.outputs and job.compute == "cpu-cluster"


# ---------------------------------- set-up scripts against strict stand-ins
@pytest.fixture
def setup_cloud(tmp_path: Path, azure_cd_project: Path):
    """A copy of the both-providers project (Azure Pipelines deploying; the
    set-up records the Terraform state account in it), strict az and gh on
    the PATH, and an administrator's login (Owner of the subscription)."""
    both_project = tmp_path / "fraud-model"
    subprocess.run(["cp", "-r", str(azure_cd_project), str(both_project)],
                   check=True)  # fmt: skip
    bin_dir = tmp_path / "bin"
    install_fake(bin_dir, "az", FAKE_AZ)
    install_fake(bin_dir, "gh", FAKE_AZ.with_name("fake_gh.py"))
    groups = workspaces_of(both_project)
    state = tmp_path / "az-state.json"
    state.write_text(json.dumps(owner_state(groups)))
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_AZ_STATE": str(state),
        "FAKE_GH_STATE": str(tmp_path / "gh-state.json"),
        "FAKE_RULES": str(Path(__file__).parent),
        "FAKE_AZ_IDENTITY": ADMIN,
    }
    return both_project, env, state, groups


def identities_yml(project: Path) -> dict:
    return yaml.safe_load((project / "infra/identities.yml").read_text())


SLUG = "fraud-model"  # the both_project fixture's answers


def federate(project: Path, env: dict) -> dict[str, str]:
    result = run(project, env, "bash", "scripts/setup_azure_federation.sh",
                 "github", "acme/fraud")  # fmt: skip
    assert result.returncode == 0, result.stderr
    return printed_ids(result.stdout)


def held_roles(state: Path, client_id: str) -> set[tuple[str, str]]:
    return {
        (grant["scope"], grant["role"])
        for grant in json.loads(state.read_text())["role_assignments"]
        if grant["principal"] == client_id
    }


def test_federation_gives_each_environment_its_own_identity(setup_cloud):
    project, env, state, groups = setup_cloud
    ids = federate(project, env)
    again = federate(project, env)  # safe to re-run
    assert ids == again
    names = ["STAGING", "PRODUCTION", "MONITORING", "PULL_REQUEST"]
    assert len({ids[f"AZURE_CLIENT_ID_{n}"] for n in names}) == 4
    cloud = json.loads(state.read_text())
    subjects = {
        name: sorted(c["subject"] for c in identity["credentials"])
        for name, identity in cloud["identities"].items()
    }
    # By name, and with the immutable owner and repository IDs (gh api).
    assert subjects[f"id-{SLUG}-pull-request"] == [
        "repo:acme/fraud:environment:pull-request",
        "repo:acme@11/fraud@22:environment:pull-request",
    ]
    assert subjects[f"id-{SLUG}-production"] == [
        "repo:acme/fraud:environment:production",
        "repo:acme@11/fraud@22:environment:production",
    ]
    staging_rg, production_rg = groups.values()
    resource_groups = set(groups.values())

    def groups_of(name: str) -> set[str]:
        roles = held_roles(state, ids[f"AZURE_CLIENT_ID_{name}"])
        return {scope for scope, _ in roles if scope in resource_groups}

    assert groups_of("STAGING") == {staging_rg}
    assert groups_of("PRODUCTION") == {production_rg}
    # Monitoring reads production (batches, registry) and, for CD's build,
    # staging's training data: read-only roles only (below).
    assert groups_of("MONITORING") == {staging_rg, production_rg}
    pull_request = held_roles(state, ids["AZURE_CLIENT_ID_PULL_REQUEST"])
    monitoring = held_roles(state, ids["AZURE_CLIENT_ID_MONITORING"])
    for _, role in pull_request | monitoring:
        assert "Reader" in role or role == "what-if-reader", role


@pytest.mark.parametrize(
    ("roles", "refused"),
    [
        (["Owner"], None),
        (["User Access Administrator", "Contributor"], None),
        (["Contributor"], "Microsoft.Authorization/roleAssignments/write"),
        (["User Access Administrator"], "register/action"),
    ],
)
def test_federation_needs_a_role_that_may_assign_roles(
    setup_cloud, roles, refused
):
    project, env, state, groups = setup_cloud
    state.write_text(json.dumps(owner_state(groups, roles)))
    result = run(project, env, "bash", "scripts/setup_azure_federation.sh",
                 "github", "acme/fraud")  # fmt: skip
    if refused is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode != 0
    assert "AuthorizationFailed" in result.stderr
    assert refused in result.stderr
    # The script says up front who may run it.
    script = (project / "scripts/setup_azure_federation.sh").read_text()
    assert "Owner (or User Access Administrator and" in script


def test_github_environments_get_one_identity_each(setup_cloud):
    project, env, _, _ = setup_cloud
    ids = federate(project, env)
    env = {**env, **ids, "AZURE_TENANT_ID": "t", "AZURE_SUBSCRIPTION_ID": "s"}
    for _ in range(2):
        result = run(project, env, "bash",
                     "scripts/setup_github_environments.sh", "acme/fraud",
                     "alice", "acme/ml-leads")  # fmt: skip
        assert result.returncode == 0, result.stderr
    gh = json.loads(Path(env["FAKE_GH_STATE"]).read_text())
    variables = gh["variables"]
    for name, key in [("staging", "STAGING"), ("production", "PRODUCTION"),
                      ("monitoring", "MONITORING"),
                      ("pull-request", "PULL_REQUEST")]:  # fmt: skip
        assert (
            variables[f"env:{name}"]["AZURE_CLIENT_ID"]
            == ids[f"AZURE_CLIENT_ID_{key}"]
        )
    assert "AZURE_CLIENT_ID" not in variables  # nothing repository-wide
    assert variables["env:production"]["AZUREML_WORKSPACE"].endswith(
        "production"
    )
    environments = gh["environments"]
    assert environments["production"]["prevent_self_review"] is True
    assert len(environments["production"]["reviewers"]) == 2
    assert environments["production"]["branches"] == ["main"]
    assert environments["pull-request"]["deployment_branch_policy"] is None


def test_github_environments_need_an_admin_token(setup_cloud):
    project, env, _, _ = setup_cloud
    env = {**env, **federate(project, env), "AZURE_TENANT_ID": "t",
           "AZURE_SUBSCRIPTION_ID": "s"}  # fmt: skip
    result = run(project, env, "bash", "scripts/setup_github_environments.sh",
                 "acme/fraud", "alice", FAKE_GH_PERMISSION="write")  # fmt: skip
    assert result.returncode != 0
    assert "Must have admin rights" in result.stderr


def test_azure_devops_gets_an_approval_and_a_connection_per_identity(
    setup_cloud,
):
    project, env, state, _ = setup_cloud
    env = {**env, **federate(project, env), "AZURE_TENANT_ID": "t",
           "AZURE_SUBSCRIPTION_ID": "s"}  # fmt: skip
    for _ in range(2):
        result = run(project, env, "bash", "scripts/setup_azure_devops.sh",
                     "https://dev.azure.com/acme", "Fraud",
                     "alice@example.com", "ML Leads")  # fmt: skip
        assert result.returncode == 0, result.stderr
    devops = json.loads(state.read_text())["devops"]
    assert [e["name"] for e in devops["environments"]] == [
        "staging",
        "production",
    ]
    principals = {
        c["name"]: c["authorization"]["parameters"]["serviceprincipalid"]
        for c in devops["connections"]
    }
    assert principals == {
        f"{SLUG}-staging": env["AZURE_CLIENT_ID_STAGING"],
        f"{SLUG}-production": env["AZURE_CLIENT_ID_PRODUCTION"],
        f"{SLUG}-monitoring": env["AZURE_CLIENT_ID_MONITORING"],
        f"{SLUG}-pull-request": env["AZURE_CLIENT_ID_PULL_REQUEST"],
    }
    [approval] = devops["checks"]
    production = next(
        e for e in devops["environments"] if e["name"] == "production"
    )
    assert approval["resource"] == {
        "type": "environment", "id": str(production["id"]),
        "name": "production",
    }  # fmt: skip
    assert approval["type"]["id"] == "8C6F20A7-A545-4486-9777-F762FAFE0D4D"
    assert len(approval["settings"]["approvers"]) == 2
    assert {p["name"] for p in devops["pipelines"]} >= {
        f"{SLUG}-cd", f"{SLUG}-monitor",
    }  # fmt: skip
    # The pipelines name these same connections.
    cd = (project / "azure-pipelines/cd.yml").read_text()
    monitor = (project / "azure-pipelines/monitor.yml").read_text()
    assert f'"{SLUG}-staging"' in cd
    assert f'"{SLUG}-production"' in cd
    assert f'"{SLUG}-monitoring"' in monitor
    # Each pipeline may use exactly the connections and environments its
    # file uses, so no first run waits for a permission; nothing is open
    # to all pipelines.
    ids = {p["id"]: p["name"] for p in devops["pipelines"]}
    names = {
        **{f"endpoint/{c['id']}": c["name"] for c in devops["connections"]},
        **{f"environment/{e['id']}": e["name"]
           for e in devops["environments"]},
    }  # fmt: skip
    granted = {
        names[resource]: {ids[i] for i in pipelines}
        for resource, pipelines in devops["permissions"].items()
    }
    expected: dict[str, set[str]] = {}
    for pipeline, used in pipeline_resources(project).items():
        for resource in used:
            expected.setdefault(resource, set()).add(pipeline)
    assert granted == expected
    assert granted[f"{SLUG}-production"] == {f"{SLUG}-cd", f"{SLUG}-infra"}
    assert granted["production"] == {f"{SLUG}-cd", f"{SLUG}-infra"}
    assert granted[f"{SLUG}-monitoring"] == {f"{SLUG}-cd", f"{SLUG}-monitor"}
    assert granted[f"{SLUG}-pull-request"] == {f"{SLUG}-infra"}


def _collect_resources(node, variables: dict, used: set[str]) -> None:
    if isinstance(node, dict):
        if "deployment" in node and "environment" in node:
            env = node["environment"]
            used.add(env["name"] if isinstance(env, dict) else env)
        subscription = node.get("azureSubscription")
        if isinstance(subscription, str):
            ref = re.fullmatch(
                r"\$\{\{ *variables\.(\w+) *\}\}|\$\((\w+)\)",
                subscription.strip(),
            )
            used.add(variables[ref[1] or ref[2]] if ref else subscription)
        for value in node.values():
            _collect_resources(value, variables, used)
    elif isinstance(node, list):
        for value in node:
            _collect_resources(value, variables, used)


def pipeline_resources(project: Path) -> dict[str, set[str]]:
    """Per Azure pipeline (named as the set-up names it), the service
    connections its AzureCLI tasks log in with (resolving
    ${{ variables.X }} and $(X)) and the environments of its deployment
    jobs, read from the generated YAML."""
    found = {}
    for path in sorted((project / "azure-pipelines").glob("*.yml")):
        pipeline = yaml.safe_load(path.read_text())
        variables = pipeline.get("variables") or {}
        if isinstance(variables, list):
            variables = {v["name"]: v["value"] for v in variables
                         if "name" in v}  # fmt: skip
        used: set[str] = set()
        _collect_resources(pipeline, variables, used)
        found[f"{SLUG}-{path.stem}"] = used
    return found


#: What `make train-azureml` hands scripts/train_azureml.sh.
TRAIN = {"PACKAGE": "fraud_model", "PYTHON": sys.executable}


def set_data_source(project: Path, source: str) -> None:
    config = project / "config/model.yml"
    config.write_text(
        re.sub(
            r"^  source: .*$",
            f"  source: {source}",
            config.read_text(),
            count=1,
            flags=re.M,
        )  # fmt: skip
    )


def datastore_uri(project: Path, environment: str = "staging") -> str:
    found = settings(project, environment)
    return (
        f"azureml://subscriptions/{SUBSCRIPTION}/resourcegroups/"
        f"{found['RESOURCE_GROUP']}/workspaces/{found['WORKSPACE']}"
        "/datastores/workspaceblobstore/paths/fraud/train.csv"
    )


def test_training_on_azure_ml_brings_the_model_back(released):
    project, env, state = released
    result = run(project, env, "bash", "scripts/train_azureml.sh", "staging",
                 **TRAIN)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (project / "models" / ".trained-on-azureml").exists()
    calls = json.loads(state.read_text())["calls"]
    staging = settings(project, "staging")["WORKSPACE"]
    ml_calls = [c for c in calls if c.startswith("ml ")]
    assert ml_calls and all(
        f"--workspace-name {staging}" in c for c in ml_calls
    )
    # A fresh workspace: the job's environment is registered before the job
    # that runs on it is submitted (the stand-in refuses it otherwise).
    verbs = [" ".join(c.split()[1:3]) for c in ml_calls]
    assert verbs.index("environment create") < verbs.index("job create")
    registered = json.loads(state.read_text())["environments"]
    assert registered == [f"{staging}/{SLUG}-inference:1"]
    # The bundled sample is passed to `train --data` as it is.
    spec = json.loads(state.read_text())["job_specs"]["job-1"]
    assert spec["inputs"]["data"] == "sklearn:breast_cancer"
    assert spec["identity"] == {"type": "managed"}


def test_the_training_job_downloads_workspace_data_as_the_cluster(released):
    """data.source in a datastore of the staging workspace: Azure ML
    downloads it for the job as the compute cluster's managed identity,
    which infra/ gives a blob data role (the stand-in refuses a job that
    reads an identity-based datastore with no identity, as a job with the
    default AmlToken fails), and `train --data` reads that copy."""
    project, env, state = released
    set_data_source(project, datastore_uri(project))
    result = run(project, env, "bash", "scripts/train_azureml.sh", "staging",
                 **TRAIN)  # fmt: skip
    assert result.returncode == 0, result.stderr
    spec = json.loads(state.read_text())["job_specs"]["job-1"]
    assert spec["identity"] == {"type": "managed"}
    assert spec["inputs"]["data"] == {
        "type": "uri_file",
        "mode": "download",
        "path": "azureml://datastores/workspaceblobstore/paths/fraud/train.csv",
    }
    assert "--data ${{inputs.data}}" in spec["command"]


def test_a_datastore_of_another_workspace_is_refused_before_submitting(
    released,
):
    project, env, state = released
    set_data_source(project, datastore_uri(project, "production"))
    result = run(project, env, "bash", "scripts/train_azureml.sh", "staging",
                 **TRAIN)  # fmt: skip
    assert result.returncode == 2
    assert "register the data there" in result.stderr
    assert not [c for c in json.loads(state.read_text())["calls"]
                if c.startswith("ml job create")]  # fmt: skip


def test_a_local_data_file_is_refused_before_submitting(released):
    """data/ is not uploaded with the job's code: a local file would fail
    the job an hour later; the script says what to do instead."""
    project, env, state = released
    set_data_source(project, "data/train.csv")
    result = run(project, env, "bash", "scripts/train_azureml.sh", "staging",
                 **TRAIN)  # fmt: skip
    assert result.returncode == 2
    assert "is a local file" in result.stderr
    assert "register it as a datastore" in result.stderr
    assert not [c for c in json.loads(state.read_text())["calls"]
                if c.startswith("ml job create")]  # fmt: skip


@pytest.mark.parametrize(
    ("identity", "refusal"),
    [("", "with identity aml_token"), ("aml_token", "with identity aml_token")],
)
def test_fake_az_refuses_a_datastore_job_without_a_job_identity(
    released, identity, refusal
):
    """The job file before this change (no `identity:`) cannot read the
    workspace's identity-based datastores: the stand-in says so."""
    project, env, state = released
    job = project / "deploy/train-job.yml"
    text = re.sub(r"^identity:\n  type: managed\n", "", job.read_text(),
                  flags=re.M)  # fmt: skip
    if identity:
        text += f"identity:\n  type: {identity}\n"
    job.write_text(text)
    set_data_source(project, datastore_uri(project))
    result = run(project, env, "bash", "scripts/train_azureml.sh", "staging",
                 **TRAIN)  # fmt: skip
    assert result.returncode != 0
    assert refusal in result.stderr


@pytest.mark.parametrize("refreshes", [True, False])
def test_a_job_longer_than_the_token_is_waited_for(
    released, tmp_path, refreshes
):
    """The job outlives the CI login's OIDC token (2 s here, minutes on
    GitHub): train_azureml.sh logs in again with a fresh token at each
    poll. Without a fresh token the stand-in refuses, as Entra does."""
    project, env, state = released
    cloud = json.loads(state.read_text())
    cloud["login_at"] = __import__("time").time()
    state.write_text(json.dumps(cloud))
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "curl").write_text(
        '#!/bin/sh\necho \'{"value": "fresh-id-token"}\'\n'
    )
    (tools / "curl").chmod(0o755)
    # data.source at once: a Python start would use up the 2-second token
    # before the first call (on GitHub the token lasts minutes).
    (tools / "python").write_text("#!/bin/sh\necho sklearn:breast_cancer\n")
    (tools / "python").chmod(0o755)
    oidc = {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/?x=1",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
            "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}  # fmt: skip
    result = run(
        project, {**env, "PATH": f"{tools}{os.pathsep}{env['PATH']}"},
        "bash", "scripts/train_azureml.sh", "staging",
        **{**TRAIN, "PYTHON": str(tools / "python")},
        FAKE_AZ_TOKEN_LIFETIME="2", FAKE_AZ_JOB_POLLS="3", POLL_SECONDS="1",
        **(oidc if refreshes else {}),
    )  # fmt: skip
    if refreshes:
        assert result.returncode == 0, result.stderr
        assert (project / "models" / ".trained-on-azureml").exists()
    else:
        assert result.returncode != 0
        assert "AADSTS700024" in result.stderr


def test_fake_az_refuses_a_job_on_an_unregistered_environment(released):
    project, env, state = released
    staging = settings(project, "staging")
    result = run(project, env, "bash", "-c",
                 "az extension add --name ml && az ml job create"
                 f" --resource-group {staging['RESOURCE_GROUP']}"
                 f" --workspace-name {staging['WORKSPACE']}"
                 " --file deploy/train-job.yml")  # fmt: skip
    assert result.returncode == 1
    assert "environment azureml:" in result.stderr


def test_the_review_comment_is_created_once_then_edited(
    setup_cloud, tmp_path: Path
):
    project, env, _, _ = setup_cloud
    review = tmp_path / "pipeline-review.md"
    for text in ("first", "second"):
        review.write_text(f"<!-- pipeline-review -->\n{text}\n")
        result = run(project, {**env, "GH_REPO": "acme/fraud"}, sys.executable,
                     "scripts/pr_comment.py", "7", str(review))  # fmt: skip
        assert result.returncode == 0, result.stderr
    comments = json.loads(Path(env["FAKE_GH_STATE"]).read_text())["pr_comments"]
    assert [c["body"].splitlines()[1] for c in comments] == ["second"]


@pytest.mark.parametrize("workflow", ["ci", "pipeline-review"])
def test_pull_request_jobs_never_get_a_write_identity(both_project, workflow):
    """A pull request's author controls the code its jobs run: no job there
    may mint an Azure token, except as the read-only pull-request identity."""
    jobs = load_yaml(both_project / f".github/workflows/{workflow}.yml")["jobs"]
    for name, job in jobs.items():
        if job.get("permissions", {}).get("id-token") == "write":
            assert job.get("environment") == "pull-request", name
    text = (both_project / f"azure-pipelines/{workflow}.yml").read_text()
    assert "AzureCLI@" not in text and "azureSubscription" not in text


def test_each_environment_logs_in_as_its_own_identity(
    both_project, azure_cd_project
):
    """GitHub: the Azure ids come from environment-scoped variables, so each
    job that logs in declares the environment whose identity it uses.
    Azure Pipelines: one service connection per environment."""
    for workflow in ("cd", "monitor"):
        jobs = load_yaml(both_project / f".github/workflows/{workflow}.yml")[
            "jobs"
        ]
        for name, job in jobs.items():
            logs_in = any(
                "azure/login" in step.get("uses", "").lower()
                for step in job["steps"]
            )
            assert logs_in == ("environment" in job), (workflow, name)
    cd = yaml.safe_load(
        (azure_cd_project / "azure-pipelines/cd.yml").read_text()
    )
    monitor = yaml.safe_load(
        (azure_cd_project / "azure-pipelines/monitor.yml").read_text()
    )
    connections = {
        cd["variables"]["stagingServiceConnection"],
        cd["variables"]["productionServiceConnection"],
        monitor["variables"]["monitoringServiceConnection"],
    }
    assert connections == {
        f"{SLUG}-staging", f"{SLUG}-production", f"{SLUG}-monitoring"
    }  # fmt: skip


@pytest.mark.parametrize("kind", ["entra", "vstoken"])
def test_azure_devops_identities_trust_their_own_connection(setup_cloud, kind):
    """The documented order: identities, then the Azure DevOps set-up (which
    creates the connections), then the trust, which is exactly the issuer
    and subject each connection shows: new connections use the Microsoft
    Entra issuer and an opaque subject, older ones Azure DevOps's issuer
    and sc://ORG/PROJECT/<connection>."""
    project, env, state, _ = setup_cloud
    env = {**env, "FAKE_AZ_CONNECTION_ISSUER": kind}
    first = run(project, env, "bash", "scripts/setup_azure_federation.sh",
                "identities")  # fmt: skip
    assert first.returncode == 0, first.stderr
    ids = printed_ids(first.stdout)
    cloud = json.loads(state.read_text())
    assert all(not i["credentials"] for i in cloud["identities"].values())
    env = {**env, **ids, "AZURE_TENANT_ID": "tenant-1"}
    trust_args = (
        "bash",
        "scripts/setup_azure_federation.sh",
        "azure-devops",
        "https://dev.azure.com/acme",
        "Fraud",
    )
    early = run(project, env, *trust_args)
    assert early.returncode == 1 and "setup_azure_devops.sh" in early.stderr
    setup = run(project, env, "bash", "scripts/setup_azure_devops.sh",
                "https://dev.azure.com/acme", "Fraud",
                "alice@example.com")  # fmt: skip
    assert setup.returncode == 0, setup.stderr
    connections = json.loads(state.read_text())["devops"]["connections"]
    shown = {
        c["name"]: (
            c["authorization"]["parameters"][
                "workloadIdentityFederationIssuer"],
            c["authorization"]["parameters"][
                "workloadIdentityFederationSubject"],
        )
        for c in connections
    }  # fmt: skip
    for issuer, subject in shown.values():
        assert issuer in setup.stdout and subject in setup.stdout
        if kind == "entra":
            assert issuer == "https://login.microsoftonline.com/tenant-1/v2.0"
            assert subject.startswith("/eid1/c/pub/t/")
        else:
            assert issuer.startswith("https://vstoken.dev.azure.com/")
            assert subject.startswith("sc://acme/Fraud/")
    trust = run(project, env, *trust_args)
    assert trust.returncode == 0, trust.stderr
    assert printed_ids(trust.stdout) == ids  # the same identities
    identities = json.loads(state.read_text())["identities"]
    assert len(identities) == 4
    config = identities_yml(project)["identities"]
    by_client = {
        c["authorization"]["parameters"]["serviceprincipalid"]: c["name"]
        for c in connections
    }
    trusted = {}
    for key, identity in config.items():
        [credential] = identities[identity["name"]]["credentials"]
        # The connection that uses this identity is the one it trusts,
        # with exactly the issuer and subject that connection reports.
        client = identities[identity["name"]]["clientId"]
        connection = by_client[client]
        assert connection == identity["azure_devops"], key
        trusted[connection] = (credential["issuer"], credential["subject"])
    assert trusted == shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--environment", "qa"], "smoke test: "),
        (["--endpoint", "e"], "--endpoint needs --resource-group"),
    ],
)
def test_the_smoke_test_refuses_a_target_without_a_workspace(
    released, args, message
):
    project, env, _ = released
    result = run(project, env, sys.executable, "scripts/smoke_test.py", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["setup_azure_federation.sh", "identities"], "az login"),
        (["setup_github_environments.sh", "acme/fraud", "alice"],
         "set AZURE_CLIENT_ID_STAGING (scripts/setup_azure_federation.sh)"),
        (["setup_azure_devops.sh", "https://dev.azure.com/acme", "Fraud",
          "alice@example.com"],
         "set AZURE_CLIENT_ID_STAGING (scripts/setup_azure_federation.sh)"),
    ],
)  # fmt: skip
def test_a_set_up_step_run_too_early_says_what_to_do(
    setup_cloud, command, message
):
    """Without `az login`, or before the identities exist: the message
    names the step to run first, and nothing is created."""
    project, env, state, _ = setup_cloud
    env = {**env, "AZURE_TENANT_ID": "t", "AZURE_SUBSCRIPTION_ID": "s"}
    env.pop("FAKE_AZ_IDENTITY")
    result = run(project, env, "bash", f"scripts/{command[0]}", *command[1:])
    assert result.returncode in (1, 2)
    assert message in result.stderr
    cloud = json.loads(state.read_text())
    assert not cloud.get("identities") and not cloud.get("groups")


def test_the_roles_the_federation_grants_are_the_roles_a_release_needs(
    released,
):
    """Run the federation set-up as an Owner, then release as each identity
    with exactly the roles infra/identities.yml gave it: staging and
    production each reach only their own environment, monitoring and pull
    requests reach neither, and every `az` call of the release, smoke test
    and rollback is allowed for the identity that makes it."""
    project, env, state = released
    cloud = owner_state(workspaces_of(project))
    cloud["workspace_tags"] = published_endpoints(project)
    state.write_text(json.dumps(cloud))
    federation = run(project, env, "bash", "scripts/setup_azure_federation.sh",
                     "github", "acme/fraud",
                     FAKE_AZ_IDENTITY=ADMIN)  # fmt: skip
    assert federation.returncode == 0, federation.stderr
    ids = printed_ids(federation.stdout)

    def as_identity(identity: str, *command: str, **extra: str):
        return run(project, env, *command, **login(ids, identity), **extra)

    def refused() -> list[str]:
        """Calls the stand-in refused for a role or an argument (a "not
        found" is an expected answer: the scripts probe before creating)."""
        return [
            r
            for r in json.loads(state.read_text()).get("refused", [])
            if "Authorization" in r or "argument" in r
        ]

    for environment in ("staging", "production"):
        identity = environment.upper()
        for version in ("1", "2"):
            result = as_identity(
                identity, "bash", "scripts/deploy.sh", environment,
                MODEL_VERSION=version,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
        smoke = as_identity(identity, "make", "smoke-test",
                            f"ENVIRONMENT={environment}")  # fmt: skip
        assert smoke.returncode == 0, smoke.stderr
        rollback = as_identity(identity, "bash", "scripts/rollback.sh",
                               environment)  # fmt: skip
        assert rollback.returncode == 0, rollback.stderr
        assert refused() == [], refused()
    # Monitoring reads production's registry, and nothing else.
    workspace = settings(project, "production")
    read = as_identity("MONITORING", "bash", "-c",
                       "az extension add --name ml --yes && az ml model show "
                       f"--name fraud-model --version 1 --resource-group "
                       f"{workspace['RESOURCE_GROUP']} --workspace-name "
                       f"{workspace['WORKSPACE']}")  # fmt: skip
    assert read.returncode == 0, read.stderr
    for environment, identity in [("production", "STAGING"),
                                  ("staging", "PRODUCTION"),
                                  ("production", "MONITORING"),
                                  ("staging", "MONITORING"),
                                  ("staging", "PULL_REQUEST"),
                                  ("production", "PULL_REQUEST")]:  # fmt: skip
        result = as_identity(identity, "bash", "scripts/deploy.sh",
                             environment, MODEL_VERSION="3")  # fmt: skip
        assert result.returncode != 0, (environment, identity)
        assert "AuthorizationFailed" in result.stderr, result.stderr


def test_the_deployment_guide_names_what_the_pipelines_and_scripts_read(
    both_project,
):
    """Every repository variable a workflow reads (in the README or the
    guide), every client-id variable the federation script prints, and the
    Azure DevOps grants a first run needs are in docs/deployment.md, and
    the set-up order there is the one the scripts need."""
    docs = (both_project / "docs/deployment.md").read_text()
    readme = (both_project / "README.md").read_text()
    read = set()
    for path in (both_project / ".github/workflows").glob("*.yml"):
        read |= set(re.findall(r"vars\.([A-Z_]+)", path.read_text()))
    set_by_scripts = {"AZURE_CLIENT_ID", "AZURE_TENANT_ID",
                      "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP",
                      "AZUREML_WORKSPACE"}  # fmt: skip
    for name in read - set_by_scripts:
        assert f"`{name}" in docs + readme, name
    for key in identities_yml(both_project)["identities"]:
        variable = "AZURE_CLIENT_ID_" + key.upper().replace("-", "_")
        assert f"`{variable}`" in docs, variable
    order = [
        docs.index("scripts/setup_azure_federation.sh github OWNER/REPO"),
        docs.index("scripts/setup_azure_devops.sh https://"),
        docs.index("azure-devops https://dev.azure.com/ORG PROJECT"),
    ]
    assert order == sorted(order)
    for needed in ("MLOPS_SCAFFOLD_SOURCE", '"Queue builds"',
                   "Edit work items in this node", "branch policy",
                   "paid GitHub plan", "User Access Administrator",
                   "Permit each service connection and "
                   "environment"):  # fmt: skip
        assert needed in docs, needed


def test_two_teams_with_one_project_name_get_their_own_state_account(
    setup_cloud, tmp_path
):
    """Storage account names are global. Two teams that both call their
    project fraud-model set it up in their own subscriptions: each gets its
    own Terraform state account (the stand-in refuses a name another
    subscription holds, as Azure does), recorded where Terraform's backend
    and scripts/infra.sh read it; a rerun reads the record instead of
    deriving the name again."""
    project, env, state, _ = setup_cloud
    other = tmp_path / "other-team" / "fraud-model"
    subprocess.run(["mkdir", "-p", str(other.parent)], check=True)
    subprocess.run(["cp", "-r", str(project), str(other)], check=True)
    teams = ((project, "sub-a"), (other, "sub-b"))
    for where, subscription in teams:
        result = run(
            where, env, "bash", "scripts/setup_azure_federation.sh",
            "identities", FAKE_AZ_SUBSCRIPTION=subscription,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
    names = {}
    for where, subscription in teams:
        record = (where / "infra/terraform/state.backend.hcl").read_text()
        names[subscription] = re.search(
            r'^storage_account_name = "([a-z0-9]{3,24})"$', record, re.M
        )[1]
    assert names["sub-a"] != names["sub-b"]
    accounts = json.loads(state.read_text())["storage_accounts"]
    for subscription, name in names.items():
        assert accounts[name]["subscription"] == subscription
        assert accounts[name]["allowSharedKeyAccess"] == "false"
    prefix = identities_yml(project)["state"]["storage_account_prefix"]
    assert all(name.startswith(prefix) for name in names.values())
    again = run(project, env, "bash", "scripts/setup_azure_federation.sh",
                "identities", FAKE_AZ_SUBSCRIPTION="sub-a")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert set(json.loads(state.read_text())["storage_accounts"]) == set(
        names.values()
    )


def test_a_state_record_from_another_subscription_says_what_to_do(
    setup_cloud,
):
    """The recorded name is never derived again, so a project moved to
    another subscription meets the name its old account holds: the set-up
    stops with the fix, and records nothing new."""
    project, env, state, _ = setup_cloud
    first = run(project, env, "bash", "scripts/setup_azure_federation.sh",
                "identities", FAKE_AZ_SUBSCRIPTION="sub-a")  # fmt: skip
    assert first.returncode == 0, first.stderr
    record = (project / "infra/terraform/state.backend.hcl").read_text()
    moved = run(project, env, "bash", "scripts/setup_azure_federation.sh",
                "identities", FAKE_AZ_SUBSCRIPTION="sub-b")  # fmt: skip
    assert moved.returncode == 1
    assert "StorageAccountAlreadyTaken" in moved.stderr
    assert "remove it and run this script again" in moved.stderr
    assert (project / "infra/terraform/state.backend.hcl").read_text() == (
        record
    )


def test_fake_az_refuses_a_storage_account_name_another_team_holds(
    setup_cloud,
):
    project, env, state, _ = setup_cloud
    create = [
        "az", "storage", "account", "create", "--name", "sttfshared1",
        "--resource-group", "rg-shared", "--location", "westeurope",
    ]  # fmt: skip
    for subscription in ("sub-a", "sub-b"):
        group = run(project, env, "az", "group", "create", "--name",
                    "rg-shared", "--location", "westeurope",
                    FAKE_AZ_SUBSCRIPTION=subscription)  # fmt: skip
        assert group.returncode == 0, group.stderr
    assert run(project, env, *create,
               FAKE_AZ_SUBSCRIPTION="sub-a").returncode == 0  # fmt: skip
    taken = run(project, env, *create, FAKE_AZ_SUBSCRIPTION="sub-b")
    assert taken.returncode == 1
    assert "StorageAccountAlreadyTaken" in taken.stderr
    hidden = run(project, env, "az", "storage", "account", "show", "--name",
                 "sttfshared1", "--resource-group", "rg-shared",
                 FAKE_AZ_SUBSCRIPTION="sub-b")  # fmt: skip
    assert hidden.returncode == 3 and "ResourceNotFound" in hidden.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["group", "create", "--name", "rg"], "required: --location"),
        (["deployment", "sub", "create", "--template-file", "x.bicep"],
         "required: --location"),
        (["role", "assignment", "create", "--role", "Reader",
          "--assignee-object-id", "o"], "required: --scope"),
        (["provider", "register", "--namespace", "Microsoft.Storage",
          "--bogus"], "unrecognized arguments: --bogus"),
        (["storage", "container-rm", "create", "--name", "tfstate"],
         "required: --storage-account"),
        (["identity", "show", "--name", "id-x"],
         "required: --resource-group"),
    ],
)  # fmt: skip
def test_fake_az_refuses_set_up_calls_the_cli_refuses(
    setup_cloud, args, message
):
    project, env, state, _ = setup_cloud
    result = run(project, env, "az", *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "groups" not in json.loads(state.read_text())


@pytest.mark.parametrize("ci", ["github", "azure", "both"])
def test_the_deployment_guide_covers_a_new_user_s_first_run(tmp_path, ci):
    """What a new user missed: creating and pushing the repository, gh,
    starting the infrastructure pipeline by hand, cost and quota, which
    system deploys, the trust a run removes, and where $/ actions run."""
    project = generate(tmp_path / "fraud-model", git=False, ci_provider=ci,
                       iac="both")  # fmt: skip
    guide = (project / "docs/deployment.md").read_text()
    assert "**Create and push the repository.**" in guide
    assert "## What it costs, and the quota it needs" in guide
    assert "blue/green keeps the previous release deployed" in guide
    if ci == "azure":
        assert "az repos create" in guide
        assert "az pipelines run --name fraud-model-infra" in guide
    else:
        assert "gh repo create OWNER/REPO" in guide and "`gh`" in guide
        assert "gh workflow run infra.yml" in guide
        assert "GitHub Enterprise Server does not accept it" in guide
    if ci != "github":
        assert "**Warning:** name every CI system" in guide
    assert ("**Which system deploys:** GitHub Actions" in guide) == (
        ci == "both"
    )


def test_the_stand_in_scores_once_per_code_model_and_request(
    tmp_path: Path, monkeypatch
):
    """fake_az.score keeps an answer for the same package code, model files
    and request ($FAKE_AZ_SCORE_CACHE) and computes it again when any of
    them changes."""
    import importlib

    project = tmp_path / "project"
    package = project / "src" / "pkg"
    package.mkdir(parents=True)
    calls = tmp_path / "calls"
    (package / "score.py").write_text(
        "import os\nfrom pathlib import Path\n"
        "def init():\n    pass\n"
        "def run(raw):\n"
        f"    with open({str(calls)!r}, 'a') as f:\n        f.write('x')\n"
        "    model = Path(os.environ['AZUREML_MODEL_DIR'], 'm').read_text()\n"
        "    return {'model': model, 'request': raw}\n"
    )
    model = tmp_path / "model"
    model.mkdir()
    (model / "m").write_text("v1")
    request = tmp_path / "request.json"
    request.write_text('{"data": [1]}')
    monkeypatch.setenv("FAKE_AZ_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("FAKE_AZ_SCORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model))  # score() sets it
    monkeypatch.chdir(project)
    fake = importlib.import_module("fake_az")

    def score() -> dict:
        return fake.score(str(model), str(request))

    first = score()
    assert first == {"model": "v1", "request": '{"data": [1]}'}
    assert score() == first and calls.read_text() == "x"  # kept
    (model / "m").write_text("v2")
    assert score()["model"] == "v2" and calls.read_text() == "xx"
    request.write_text('{"data": [2]}')
    assert score()["request"] == '{"data": [2]}' and calls.read_text() == "xxx"
    (package / "score.py").write_text(
        (package / "score.py").read_text().replace("'model'", "'weights'")
    )
    assert "weights" in score() and calls.read_text() == "xxxx"
