"""Fixtures shared by the tests: isolation from the user's git and Copier
settings, and generated projects built once per session."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from helpers import generate

REPO = Path(__file__).resolve().parents[1]

# The test tiers. `python -m pytest -m "not e2e"` is the inner loop (under
# a minute); everything runs in CI. A test is end-to-end when it trains,
# installs or runs a whole project, a wheel or an external tool: marked in
# its module, or here by the fixtures that do that work.
E2E_FIXTURES = frozenset(
    {
        "trained",  # test_monitoring: a model trained by the project's code
        "installed",  # test_generated_project: the project installed
        "locked_project",  # test_toolchain: uv lock against the index
        "packaged",  # test_release: trained, gated and packaged
        "federated",
        "released",
        "setup_cloud",  # test_release: set-up scripts on the stand-ins
        "every_combination",  # test_validators: every validator
    }
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory):
    """No user git config, identity or Copier settings leak into tests."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    saved = dict(os.environ)
    os.environ.update(
        {
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "COPIER_SETTINGS_PATH": str(home / "copier-settings.yml"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            # an unexpected exception fails the test with its traceback
            # instead of becoming cli.main's "internal error" message
            "MLOPS_SCAFFOLD_DEBUG": "1",
        }
    )
    for variable in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        os.environ.pop(variable, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def default_project(tmp_path_factory) -> Path:
    """`new fraud-model --defaults`, generated once."""
    return generate(tmp_path_factory.mktemp("default") / "fraud-model")


@pytest.fixture(scope="session")
def both_project(tmp_path_factory) -> Path:
    """Both CI providers and both IaC languages, generated once."""
    return generate(
        tmp_path_factory.mktemp("both") / "fraud-model",
        ci_provider="both",
        iac="both",
    )


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, worker_id):
    """``rendered(**answers)``: a project rendered once per test run for
    those answers (no git), shared by every test that reads it, across
    xdist workers (a folder beside the workers' own, under a file lock).
    A test that changes files copies the project first."""
    run = tmp_path_factory.getbasetemp()
    # Under xdist each worker's folder is inside this run's folder.
    shared = (run if worker_id == "master" else run.parent) / "rendered"
    shared.mkdir(exist_ok=True)

    def render(**answers) -> Path:
        key = json.dumps(answers, sort_keys=True, default=repr)
        folder = shared / hashlib.sha256(key.encode()).hexdigest()[:16]
        project = folder / "fraud-model"
        folder.mkdir(exist_ok=True)
        with (folder / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / ".done").exists():
                shutil.rmtree(project, ignore_errors=True)
                generate(project, git=False, **answers)
                (folder / ".done").write_text(key)
        return project

    return render
