"""Every generated CI job runs before it ships: `mlops-scaffold run` over
the CI workflow and pipeline of every --ci x --iac combination, with real
uv, make, ruff, pytest and MLflow, from the documented first step (`make
install`, commit the lock). Then mutations of issue 24's defect class
(the EXTRAS leak, a step env: that shadows a Makefile variable, a wrong
working-directory, a missing composite input) must make the run fail.

uv's cache is the user's (shared by every project of the session), and a
job whose content and input files equal one that already ran is not run
again, so the twelve combinations cost minutes. Only the Python 3.11
matrix legs run (the one Python the tests can rely on)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from helpers import generate

pytestmark = pytest.mark.e2e

COMBINATIONS = [
    (ci, iac)
    for ci in ("github", "azure", "both")
    for iac in ("bicep", "terraform", "both", "none")
]
CI_FILES = {
    "github": (
        ".github/workflows/ci.yml",
        ("lint", "test", "quality", "notebooks", "pipeline-lint"),
        ("--matrix", "python-version=3.11"),
    ),
    "azure": (
        "azure-pipelines/ci.yml",
        ("lint", "test", "quality", "notebooks", "pipeline_lint"),
        ("--matrix", "testPythonVersion=3.11"),
    ),
}
# What a job reads besides its own definition: lint and pipeline-lint read
# every file; test and quality the package, its tests and configuration.
CODE = ("src", "tests", "config", "data", "pyproject.toml", "uv.lock")
READS = {"test": CODE, "quality": CODE, "notebooks": (*CODE, "notebooks")}
RAN: dict[str, dict] = {}


@pytest.fixture(scope="session")
def shims(tmp_path_factory) -> Path:
    """uv on PATH (and only uv: the tools the jobs need come from the
    project's .venv, as on a hosted runner)."""
    folder = tmp_path_factory.mktemp("shims")
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if not Path(uv).is_file():
        pytest.fail("uv is not installed (pyproject's test extra pins it)")
    (folder / "uv").symlink_to(uv)
    return folder


@pytest.fixture(scope="session")
def tool_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("tool-cache")


def job_env(shims: Path, tool_cache: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "SYSTEM_", "BUILD_", "AGENT_"))
        and key not in {"CI", "TF_BUILD", "PYTHONPATH", "VIRTUAL_ENV", "EXTRAS"}
    }
    env["PATH"] = f"{shims}{os.pathsep}{env['PATH']}"
    env["MLOPS_SCAFFOLD_TOOL_CACHE"] = str(tool_cache)
    return env


def mlops_run(project: Path, env: dict[str, str], *args: str):
    """The console command as a user runs it (without our PYTHONPATH
    reaching the jobs)."""
    code = (
        f"import sys; sys.path.insert(0, {str(REPO / 'generator')!r}); "
        "from mlops_scaffold.cli import run; "
        f"sys.argv = ['mlops-scaffold', 'run', *{list(args)!r}]; run()"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )


def first_steps(project: Path, env: dict[str, str]) -> None:
    """The generated README's first step: make install, commit the lock."""
    done = subprocess.run(
        ["make", "install"], cwd=project, env=env, capture_output=True,
        text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(
        ["git", "commit", "-q", "--no-verify", "-m", "Lock"],
        cwd=project,
        check=True,
    )


def files_digest(project: Path, under: tuple[str, ...] | None) -> str:
    listed = subprocess.run(
        ["git", "ls-files", "-z"],
        cwd=project,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    digest = hashlib.sha256()
    for name in sorted(n.decode() for n in listed if n):
        if under is None or name.startswith(under):
            digest.update(name.encode() + b"\0")
            digest.update((project / name).read_bytes())
    return digest.hexdigest()


def job_key(project: Path, provider: str, job: str) -> str:
    ci_file, _, _ = CI_FILES[provider]
    setup = (
        ".github/actions/setup-project/action.yml"
        if provider == "github"
        else "azure-pipelines/templates/setup-project.yml"
    )
    parts = [
        provider,
        job,
        (project / ci_file).read_text(),
        (project / setup).read_text(),
        (project / "Makefile").read_text(),
        files_digest(project, READS.get(job)),
    ]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@pytest.mark.parametrize(("ci", "iac"), COMBINATIONS)
def test_every_ci_job_runs_green(tmp_path, shims, tool_cache, ci, iac):
    project = generate(tmp_path / "fraud-model", ci_provider=ci, iac=iac)
    env = job_env(shims, tool_cache)
    first_steps(project, env)
    providers = ["github", "azure"] if ci == "both" else [ci]
    for provider in providers:
        ci_file, jobs, matrix = CI_FILES[provider]
        for job in jobs:
            key = job_key(project, provider, job)
            if key not in RAN:
                done = mlops_run(
                    project, env, ci_file, "--job", job, *matrix,
                    "--format", "json",
                )  # fmt: skip
                assert done.returncode in (0, 1), done.stderr[-3000:]
                RAN[key] = json.loads(done.stdout)
            report = RAN[key]
            ran = [j for j in report["jobs"] if j["status"] != "skipped"]
            assert ran, (provider, job, report)
            assert all(j["status"] == "success" for j in report["jobs"]), (
                provider,
                job,
                json.dumps(report, indent=1)[-4000:],
            )


# mutations -------------------------------------------------------------------

ACTION = ".github/actions/setup-project/action.yml"
AZURE_SETUP = "azure-pipelines/templates/setup-project.yml"
CI = ".github/workflows/ci.yml"


def _edit(project: Path, name: str, old: str, new: str) -> None:
    path = project / name
    text = path.read_text()
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1))


MUTATIONS = {
    # issue 24 itself: the step variable named like make's EXTRAS ?=
    "extras-leak-github": (
        lambda p: (
            _edit(p, ACTION, "SETUP_GROUPS: ${{", "EXTRAS: ${{")
            or _edit(p, ACTION, '"${SETUP_GROUPS//,/ }"', '"${EXTRAS//,/ }"')
        ),
        (CI, "lint"),
        "Extra `dev` is not defined",
    ),
    "extras-leak-azure": (
        lambda p: (
            _edit(p, AZURE_SETUP, "SETUP_GROUPS: ${{", "EXTRAS: ${{")
            or _edit(
                p, AZURE_SETUP, '"${SETUP_GROUPS//,/ }"', '"${EXTRAS//,/ }"'
            )
        ),
        ("azure-pipelines/ci.yml", "lint"),
        "Extra `dev` is not defined",
    ),
    # a step env: that shadows the Makefile's PYTHON ?=
    "env-shadows-make": (
        lambda p: _edit(
            p,
            CI,
            "      - name: Lint\n        run: make lint",
            "      - name: Lint\n        env:\n          PYTHON: python-nowhere"
            "\n        run: make lint",
        ),
        (CI, "lint"),
        "python-nowhere",
    ),
    "wrong-working-directory": (
        lambda p: _edit(
            p,
            CI,
            "      - name: Lint\n        run: make lint",
            "      - name: Lint\n        working-directory: src"
            "\n        run: make lint",
        ),
        (CI, "lint"),
        "No rule to make target 'lint'",
    ),
    # the composite action no longer declares the input the job passes
    "missing-composite-input": (
        lambda p: _edit(
            p,
            ACTION,
            "  extras:\n",
            "  extras-renamed:\n",
        ),
        (CI, "pipeline-lint"),
        # the validators of the pipeline-lint group were never installed
        "pipeline lint failed",
    ),
}


@pytest.fixture(scope="module")
def mutable_project(tmp_path_factory, shims, tool_cache) -> Path:
    project = generate(
        tmp_path_factory.mktemp("mutations") / "fraud-model",
        ci_provider="both",
        iac="none",
    )
    first_steps(project, job_env(shims, tool_cache))
    return project


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_mutation_of_the_defect_class_fails_the_run(
    mutable_project, shims, tool_cache, mutation
):
    mutate, (ci_file, job), message = MUTATIONS[mutation]
    env = job_env(shims, tool_cache)
    project = mutable_project
    mutate(project)
    try:
        done = mlops_run(project, env, ci_file, "--job", job, "--format",
                         "text")  # fmt: skip
    finally:
        subprocess.run(["git", "checkout", "--", "."], cwd=project, check=True)
        # a mutation may have changed .venv (uv sync is exact): restore it
        subprocess.run(
            ["make", "install", "LOCKED=1"],
            cwd=project,
            env=env,
            capture_output=True,
            check=True,
        )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    assert message in done.stdout, done.stdout[-4000:]


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
def cloud_projects(tmp_path_factory, shims, tool_cache):
    """One cloud project per CD owner (with --ci both only one system has
    the cd, infra and monitor pipelines: cd_provider), made on first use."""
    made: dict[str, tuple[Path, dict[str, str]]] = {}

    def get(provider: str) -> tuple[Path, dict[str, str]]:
        if provider not in made:
            made[provider] = _cloud_project(
                tmp_path_factory, shims, tool_cache, provider
            )
        return made[provider]

    return get


def _cloud_project(tmp_path_factory, shims, tool_cache, provider: str):
    """Both providers and both IaC languages, installed and locked, with
    the strict az and gh stand-ins on the PATH: the cloud after the
    documented set-up (`setup_azure_federation.sh identities`, run by an
    Owner), and the person running `run` holding the roles the deployers
    get (locally one login serves every job; on the services each job
    logs in as its environment's identity). MLflow's registry is a local
    store (CI reads it from the workspace)."""
    from test_release import (
        ADMIN,
        install_fake,
        owner_state,
        published_endpoints,
        workspaces_of,
    )

    work = tmp_path_factory.mktemp("cloud")
    project = generate(work / "fraud-model", ci_provider=provider, iac="both")
    env = job_env(shims, tool_cache)
    first_steps(project, env)
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
