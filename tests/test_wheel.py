"""The template works from the installed wheel, offline: build the wheel,
install it into a fresh virtual environment, and generate the sample. A
plain install (runtime dependencies from the index, no test extra) converts
notebooks."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import validators
from conftest import REPO
from helpers import invoke, snapshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation",
         "--outdir", str(dist), str(REPO)],
        check=True, capture_output=True,
    )  # fmt: skip
    return next(dist.glob("mlops_scaffold-*.whl"))


def test_the_installed_wheel_generates_the_sample_offline(
    tmp_path: Path, wheel: Path
):
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlops_scaffold/_template/copier.yml" in names
    # GitHub's workflow definition (MS101), its licence and its source.
    data = "mlops_scaffold/pipelines/data/"
    for name in ("github-workflow-v1.0.json", "README.md",
                 "LICENSE-actions-languageservices"):  # fmt: skip
        assert data + name in names
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
    read = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "from mlops_scaffold.pipelines import github_schema as g\n"
         "print(g.__file__, g.errors({'on': 'push', 'jobs': {'a': {}}}))"],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout  # fmt: skip
    assert "site-packages/mlops_scaffold/pipelines" in read
    assert "does not say what it is" in read
    assert snapshot(tmp_path / "sample-project") == snapshot(
        REPO / "sample-project"
    )


def test_a_plain_install_converts_notebooks(tmp_path: Path, wheel: Path):
    """`pip install mlops-scaffold` alone (a fresh venv that sees none of
    the test environment's packages) converts real notebooks, the same way
    as the test environment when both have the same ruff."""
    venv = tmp_path / "plain"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    isolated = subprocess.run(
        [str(python), "-c", "import pytest"], capture_output=True
    )
    assert isolated.returncode != 0  # no test extra leaks in
    corpus = sorted((REPO / "tests/corpus/notebooks").glob("*.ipynb"))
    out = tmp_path / "scripts"
    result = subprocess.run(
        [str(venv / "bin" / "mlops-scaffold"), "notebook", "convert",
         *map(str, corpus), "-o", str(out)],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    scripts = sorted(out.glob("*.py"))
    assert len(scripts) == len(corpus)
    check = subprocess.run(
        [str(venv / "bin" / "ruff"), "check", "--no-cache", "--isolated",
         "--select", "E9,F63,F7,F82", *map(str, scripts)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout
    versions = {
        subprocess.run(
            [ruff, "--version"], capture_output=True, text=True
        ).stdout
        for ruff in (str(venv / "bin" / "ruff"), validators.tool("ruff"))
    }
    if len(versions) == 1:  # same formatter: same bytes
        here = tmp_path / "here"
        assert invoke("notebook", "convert", *corpus, "-o", here).exit_code == 0
        assert snapshot(here) == snapshot(out)
