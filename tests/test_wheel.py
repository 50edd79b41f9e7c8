"""The template works from the installed wheel, offline: build the wheel,
install it into a fresh virtual environment, and generate the sample. The
real pre-commit installs this repository's hook (the package and its runtime
dependencies from the index, in a virtualenv of its own) and runs it on a
generated project; that plain install, which has no test extra, converts
notebooks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import validators
from conftest import REPO
from helpers import git, invoke, snapshot

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


def shadow_repository(root: Path) -> tuple[Path, str]:
    """This repository's working tree (tracked and untracked files, not
    the ignored ones) committed in a repository of its own, as `pre-commit
    try-repo` makes one: what the hook installs from. Returns its path and
    the commit."""
    shadow = root / "mlops-scaffold"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (shadow / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, shadow / name)
    git(shadow, "init", "--quiet", "--initial-branch=main")
    git(shadow, "add", "--all")
    git(shadow, "commit", "--quiet", "-m", "shadow")
    return shadow, git(shadow, "rev-parse", "HEAD")


class PreCommit:
    """The real pre-commit running this repository's hook the way its users
    configure it (repo and a full commit SHA, .pre-commit-hooks.yaml's
    comment) on a copy of a generated project. Its PRE_COMMIT_HOME is kept,
    so the hook is installed once (try-repo installs it again each time)."""

    def __init__(self, root: Path, project: Path):
        shadow, rev = shadow_repository(root)
        self.config = root / "pre-commit-config.yaml"
        self.config.write_text(
            f"repos:\n  - repo: {shadow}\n    rev: {rev}\n"
            "    hooks:\n      - id: mlops-scaffold-check\n",
            encoding="utf-8",
        )
        self.project = project
        self.home = root / "home"
        self.env = {**os.environ, "PRE_COMMIT_HOME": str(self.home)}

    def run(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pre-commit", "run", "--config", str(self.config),
             "--all-files"],
            cwd=self.project, capture_output=True, text=True, env=self.env,
            timeout=900,
        )  # fmt: skip

    def hook_environment(self) -> Path:
        """The virtualenv pre-commit made for the hook: `pip install .` of
        this repository, the runtime dependencies from the index."""
        found = sorted(self.home.glob("repo*/py_env-*/bin/mlops-scaffold"))
        assert len(found) == 1, found
        return found[0].parent.parent


@pytest.fixture(scope="module")
def pre_commit(tmp_path_factory, both_project: Path):
    """The first run of the hook on a clean generated project."""
    if shutil.which("pre-commit") is None:
        pytest.fail("pre-commit is in the test extra: install it")
    root = tmp_path_factory.mktemp("pre-commit")
    project = root / "project"
    shutil.copytree(
        both_project, project, ignore=shutil.ignore_patterns(".git")
    )
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "generated")
    hook = PreCommit(root, project)
    first = hook.run()
    if first.returncode == 3 and "pip" in first.stdout + first.stderr:
        pytest.skip("the package index is unreachable: " + first.stdout[-300:])
    return hook, first


def test_the_pre_commit_hook_passes_on_a_generated_project(pre_commit):
    """Clean, then a planted defect fails the hook."""
    hook, first = pre_commit
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Passed" in first.stdout
    cd = hook.project / ".github/workflows/cd.yml"
    cd.write_text(
        cd.read_text().replace(
            "    timeout-minutes:", "    # timeout-minutes:", 1
        )
    )
    git(hook.project, "commit", "--quiet", "-am", "drop a timeout")
    result = hook.run()
    assert result.returncode == 1 and "MS204" in result.stdout, result.stdout


def test_a_plain_install_converts_notebooks(tmp_path: Path, pre_commit):
    """A plain install of mlops-scaffold (the hook's virtualenv: it sees
    none of the test environment's packages) converts real notebooks, the
    same way as the test environment when both have the same ruff."""
    hook, first = pre_commit
    assert first.returncode == 0, first.stdout + first.stderr
    venv = hook.hook_environment()
    python = venv / "bin" / "python"
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
