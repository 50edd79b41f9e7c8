"""Fixtures shared by the tests: isolation from the user's git and Copier
settings, and generated projects built once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers import generate

REPO = Path(__file__).resolve().parents[1]


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
