"""``mlops-scaffold run``: execute a GitHub workflow or an Azure Pipelines
file on this machine, the way the services' runners do.

The planner decides which jobs run for the event; ``github`` and ``azure``
execute them in dependency order with the planner's expression engine and
template expander; ``shell`` runs each step's process; ``actions`` holds
the emulated well-known actions and tasks; ``report`` the results.
See docs/decisions/0004-local-runner.md for what is emulated and why."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...errors import RunInterruptedError, UnsupportedPipelineError
from ..discovery import classify
from .base import Options, Session
from .report import QuietLog, RunResult, TextLog, summary
from .shell import StepInterrupted

__all__ = ["Options", "RunResult", "run", "summary"]


def repository_root(path: Path) -> Path:
    """The git top level of ``path``, else its folder's parent chain's
    first folder holding .github or azure-pipelines, else the cwd."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if done.returncode == 0 and done.stdout.strip():
            return Path(done.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    return Path.cwd()


def run(
    path: Path | str,
    options: Options,
    *,
    echo: Callable[[str], None] | None = None,
    root: Path | None = None,
) -> RunResult:
    """Run the workflow or pipeline at ``path``; ``echo`` receives the
    progress lines (None: quiet). Raises UnsupportedPipelineError for bad
    input and RunInterruptedError (with the partial result) on Ctrl-C."""
    path = Path(path)
    if not path.is_file():
        raise UnsupportedPipelineError(f"{path} is not a file")
    root = (root or repository_root(path.resolve())).resolve()
    if not path.resolve().is_relative_to(root):
        raise UnsupportedPipelineError(
            f"{path} is not in the repository {root}; `run` runs only the"
            " repository's own files"
        )
    log = TextLog(echo) if echo else QuietLog()
    session = Session(root, options, log)
    relative = path.resolve().relative_to(root).as_posix()
    try:
        data = session.load(path)
        kind = classify(relative, data)
        if kind is None or kind[1] not in ("workflow", "pipeline", "template"):
            raise UnsupportedPipelineError(
                f"{relative} is not a GitHub workflow or an Azure pipeline",
                hint="pass .github/workflows/NAME.yml or an Azure Pipelines"
                " file with a trigger",
            )
        result = RunResult(kind[0], relative)
        try:
            runner: Any
            if kind[0] == "github":
                from .github import GitHubRun

                runner = GitHubRun(session, path, data)
            else:
                from .azure import AzureRun

                runner = AzureRun(session, path, data)
            runner.results = result.jobs
            runner.run()
        except (StepInterrupted, KeyboardInterrupt):
            result.interrupted = True
            raise RunInterruptedError(
                "Interrupted: the running step was stopped." + summary(result)
            ) from None
        return result
    finally:
        session.close()
