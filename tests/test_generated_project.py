"""A generated project's quality gate fails when the model misses a raised
threshold. (That it passes its own checks is shown by running every CI job
of every combination, test_run_ci_*_e2e.py, and packaging by CD's build job,
test_run_e2e.py.)"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers import generate

pytestmark = pytest.mark.e2e


def test_the_quality_gate_fails_when_a_threshold_is_raised(tmp_path):
    project = generate(tmp_path / "fraud-model", iac="none")
    config = project / "config" / "model.yml"
    config.write_text(
        config.read_text().replace("roc_auc: 0.95", "roc_auc: 0.9999")
    )
    result = subprocess.run(
        ["make", "quality", f"PYTHON={sys.executable}"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src"), "CI": "true"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "FAIL: below the minimum 0.9999" in result.stdout
