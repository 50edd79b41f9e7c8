"""Running generated CI jobs with `mlops-scaffold run`, as the end-to-end
tests do (test_run_*_e2e.py): with real uv, make, ruff, pytest and MLflow,
from the documented first step (`make install`, commit the lock).

uv's cache is the user's (shared by every project of the test run), and a
job whose content and input files equal one that already ran in this test
run is not run again, so the twelve combinations cost minutes. Only the
Python 3.11 matrix legs run (the one Python the tests can rely on)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from helpers import git

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


def repository(rendered, destination: Path, **answers) -> Path:
    """The project ``rendered`` for these answers (once per test run),
    copied to ``destination`` and committed: what `new` writes, without
    rendering it again."""
    shutil.copytree(rendered(**answers), destination)
    git(destination, "init", "--quiet", "--initial-branch=main")
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--no-verify", "-m", "Generated")
    return destination


def first_steps(project: Path, env: dict[str, str], seed_lock) -> None:
    """The generated README's first step: make install, commit the lock
    (resolved once per pyproject.toml in a test run: ``seed_lock``)."""
    seed_lock(project)
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


def every_ci_job_runs_green(once, project: Path, env: dict[str, str], ci: str):
    """Run each CI job of the project's CI files (``ci``: github, azure or
    both) and assert it went green. A job whose key (its definition and
    the files it reads) equals one already run in this test run, by any
    worker, is not run again: its report is read."""
    providers = ["github", "azure"] if ci == "both" else [ci]
    for provider in providers:
        ci_file, jobs, matrix = CI_FILES[provider]
        for job in jobs:
            key = job_key(project, provider, job)
            execute = functools.partial(
                _run, project, env, ci_file, "--job", job, *matrix
            )
            report = json.loads(once("ci job", key, execute))
            ran = [j for j in report["jobs"] if j["status"] != "skipped"]
            assert ran, (provider, job, report)
            assert all(j["status"] == "success" for j in report["jobs"]), (
                provider,
                job,
                json.dumps(report, indent=1)[-4000:],
            )


def _run(project: Path, env: dict[str, str], *args: str) -> bytes:
    done = mlops_run(project, env, *args, "--format", "json")
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return done.stdout.encode()


def every_ci_job_test(ci: str):
    """The test that every CI job of the ``--ci ci`` projects runs green,
    one case per --iac choice: each test_run_ci_*_e2e.py module holds one,
    so that xdist spreads the three over its workers."""

    @pytest.mark.parametrize("iac", ["bicep", "terraform", "both", "none"])
    def test_every_ci_job_runs_green(
        tmp_path, shims, tool_cache, seed_lock, once, rendered, iac
    ):
        project = repository(
            rendered, tmp_path / "fraud-model", ci_provider=ci, iac=iac
        )
        env = job_env(shims, tool_cache)
        first_steps(project, env, seed_lock)
        every_ci_job_runs_green(once, project, env, ci)

    return test_every_ci_job_runs_green
