"""Every generated CI job of the ``--ci github`` projects runs green before
it ships: `mlops-scaffold run` over the CI files of each --iac choice (see
runjobs.py for how a job runs, and why an identical job runs once)."""

import pytest
from runjobs import every_ci_job_test

pytestmark = pytest.mark.e2e

test_every_ci_job_runs_green = every_ci_job_test("github")
