"""The template works from the installed wheel, offline: build the wheel,
install it into a fresh virtual environment, and generate the sample."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from helpers import snapshot

pytestmark = pytest.mark.slow


def test_the_installed_wheel_generates_the_sample_offline(tmp_path: Path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation",
         "--outdir", str(tmp_path / "dist"), str(REPO)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next((tmp_path / "dist").glob("mlops_scaffold-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlops_scaffold/_template/copier.yml" in names
    assert any(n.startswith("mlops_scaffold/_template/project/") for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = Path(
        sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})[
            "purelib"
        ]
    )
    # The dependencies come from this environment: nothing is downloaded.
    (purelib / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    result = subprocess.run(
        [str(venv / "bin" / "mlops-scaffold"), "new", "sample-project",
         "--defaults", "--no-git"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    located = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import mlops_scaffold.template as t; print(t.template_root())"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert "site-packages/mlops_scaffold/_template" in located
    assert snapshot(tmp_path / "sample-project") == snapshot(
        REPO / "sample-project"
    )
