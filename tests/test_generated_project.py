"""A generated project passes its own checks: installed in a fresh virtual
environment, the `run:` steps of its CI workflow, executed locally in order,
all succeed (lint, tests, the model-quality gate, pipeline lint), and so does
packaging."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from helpers import generate

pytestmark = pytest.mark.e2e


def make_venv(project: Path) -> Path:
    """A fresh venv that sees this environment's packages (no network), with
    the generated project really installed into it (a wheel build)."""
    venv = project / ".venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    purelib = Path(
        sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})[
            "purelib"
        ]
    )
    (purelib / "_parent_env.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8"
    )
    python = venv / "bin" / "python"
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            ".",
        ],
        cwd=project,
        check=True,
    )
    return python


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    project = generate(
        tmp_path_factory.mktemp("e2e") / "fraud-model", ci_provider="both"
    )
    return project, make_venv(project)


def test_package_builds_the_wheel_and_the_model_artefact(installed):
    project, python = installed
    result = subprocess.run(
        ["make", "package", f"PYTHON={python}", "BUILD_ARGS=--no-isolation"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheels = list((project / "dist").glob("fraud_model-*.whl"))
    assert len(wheels) == 1
    card = (project / "dist" / "model" / "model-card.md").read_text()
    assert "Quality gate: passed" in card
    for name in ("model.joblib", "model-info.json", "metrics.json"):
        assert (project / "dist" / "model" / name).is_file()


def test_the_quality_gate_fails_when_a_threshold_is_raised(installed):
    project, python = installed
    config = project / "config" / "model.yml"
    original = config.read_text()
    try:
        config.write_text(original.replace("roc_auc: 0.95", "roc_auc: 0.9999"))
        result = subprocess.run(
            ["make", "quality", f"PYTHON={python}"],
            cwd=project,
            capture_output=True,
            text=True,
        )
    finally:
        config.write_text(original)
    assert result.returncode != 0
    assert "FAIL: below the minimum 0.9999" in result.stdout
