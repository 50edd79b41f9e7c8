"""uv.lock for a new project, so that its first push installs in CI.

CI installs exactly the locked versions (`make install LOCKED=1`), so a
project committed without uv.lock fails its first CI run. `new` locks when
uv and the package index are reachable; otherwise it says in one line what
to run. Tests skip the lock with MLOPS_SCAFFOLD_NO_LOCK=1 (it needs the
package index and takes seconds)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: Long enough for a cold cache resolving the project's dependency groups.
LOCK_TIMEOUT = 300
NO_LOCK = "MLOPS_SCAFFOLD_NO_LOCK"


def find_uv() -> str | None:
    """uv on the PATH, else the one the `uv` Python package ships."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        # Not a dependency: present where the tool was installed beside uv.
        shipped = importlib.import_module("uv")
    except ImportError:
        return None
    try:
        return str(shipped.find_uv_bin())
    except (AttributeError, FileNotFoundError):
        return None


def lock_wanted() -> bool:
    return os.environ.get(NO_LOCK, "") not in {"1", "true", "yes"}


def lock_project(project: Path) -> str | None:
    """Write uv.lock and deploy/conda.yml (its export) in ``project``.
    Returns None when both are written, else why not (for one line)."""
    uv = find_uv()
    if uv is None:
        return "uv is not installed"
    env = {**os.environ, "UV_NO_PROGRESS": "1"}
    env["PATH"] = os.pathsep.join([str(Path(uv).parent), env.get("PATH", "")])
    try:
        locked = subprocess.run(
            [uv, "lock", "--quiet"], cwd=project, env=env,
            capture_output=True, text=True, timeout=LOCK_TIMEOUT,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"uv lock did not finish ({error.__class__.__name__})"
    if locked.returncode != 0:
        (project / "uv.lock").unlink(missing_ok=True)
        return "uv lock failed (is the package index reachable?)"
    exporter = project / "scripts" / "serving_env.py"
    if exporter.is_file():
        exported = subprocess.run(
            [sys.executable, str(exporter)], cwd=project, env=env,
            capture_output=True, text=True, timeout=LOCK_TIMEOUT,
        )  # fmt: skip
        if exported.returncode != 0:
            return (
                "uv.lock is written, but deploy/conda.yml could not be exported"
            )
    return None
