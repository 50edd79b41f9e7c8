"""The package is typed: mypy is clean on it (pyproject's [tool.mypy]),
and a user's type checker sees the public API's real signatures through the
lazy imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.e2e  # mypy over the package: seconds, not ms


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_package_is_clean_under_mypy():
    done = mypy()
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_user_sees_the_real_type_of_the_public_api(tmp_path):
    user = tmp_path / "user.py"
    user.write_text(
        "import mlops_scaffold\n"
        "reveal_type(mlops_scaffold.new_project)\n"
        "reveal_type(mlops_scaffold.check_repository)\n"
    )
    done = mypy("--config-file=", str(user))
    assert "def (destination:" in done.stdout, done.stdout
    assert "-> mlops_scaffold.create.NewProject" in done.stdout
    assert "-> list[mlops_scaffold.pipelines.findings.Finding]" in done.stdout
    assert (REPO / "generator" / "mlops_scaffold" / "py.typed").is_file()
