"""Every generated CI job of the ``--ci both`` projects runs green before
it ships: `mlops-scaffold run` over the CI files of each --iac choice (see
runjobs.py for how a job runs, and why an identical job runs once). Then
mutations of issue 24's defect class (the EXTRAS leak, a step env: that
shadows a Makefile variable, a wrong working-directory, a missing
composite input) must make the run fail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from runjobs import (
    every_ci_job_test,
    first_steps,
    job_env,
    mlops_run,
    repository,
)

pytestmark = pytest.mark.e2e


test_every_ci_job_runs_green = every_ci_job_test("both")


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
def mutable_project(
    tmp_path_factory, shims, tool_cache, seed_lock, rendered
) -> Path:
    project = repository(
        rendered,
        tmp_path_factory.mktemp("mutations") / "fraud-model",
        ci_provider="both",
        iac="none",
    )
    first_steps(project, job_env(shims, tool_cache), seed_lock)
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
