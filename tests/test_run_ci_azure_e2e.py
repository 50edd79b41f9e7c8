"""Every generated CI job of the ``--ci azure`` projects runs green before
it ships: `mlops-scaffold run` over the CI files of each --iac choice (see
runjobs.py for how a job runs, and why an identical job runs once)."""

from __future__ import annotations

import pytest
from runjobs import every_ci_job_runs_green, first_steps, job_env

from helpers import generate

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("iac", ["bicep", "terraform", "both", "none"])
def test_every_ci_job_runs_green(tmp_path, shims, tool_cache, seed_lock, once,
                                 iac):  # fmt: skip
    project = generate(tmp_path / "fraud-model", ci_provider="azure", iac=iac)
    env = job_env(shims, tool_cache)
    first_steps(project, env, seed_lock)
    every_ci_job_runs_green(once, project, env, "azure")
