"""The few git operations mlops-scaffold needs, as plain subprocess calls."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .errors import NotAGitRepositoryError, ScaffoldError

#: Used only when the user has no git identity configured.
FALLBACK_IDENTITY = (
    "mlops-scaffold",
    "mlops-scaffold@users.noreply.github.com",
)


class GitError(ScaffoldError):
    """A git command failed."""


def git(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    if shutil.which("git") is None:
        raise GitError(
            "git is not installed.",
            hint="install git, or pass --no-git to skip the initial commit",
        )
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input_text,
    )
    if check and result.returncode != 0:
        raise GitError(
            f"`git {' '.join(args)}` failed in {cwd}:\n"
            f"{result.stderr.strip() or result.stdout.strip()}"
        )
    return result


def output(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    return git(*args, cwd=cwd, env=env).stdout.strip()


def repository_root(path: Path) -> Path:
    result = git("rev-parse", "--show-toplevel", cwd=path, check=False)
    if result.returncode != 0:
        raise NotAGitRepositoryError(
            f"{path} is not inside a git repository.",
            hint="run the command in the repository's folder (or pass its "
            "path), or `git init` it first",
        )
    return Path(result.stdout.strip())


def is_dirty(root: Path) -> list[str]:
    """Paths with uncommitted changes, untracked files included."""
    status = git("status", "--porcelain", "--untracked-files=all", cwd=root)
    return [line[3:] for line in status.stdout.splitlines() if line.strip()]


def identity_env(cwd: Path, name: str, email: str) -> dict[str, str]:
    """Author/committer variables for a commit, only where git has none."""
    configured = git("config", "user.email", cwd=cwd, check=False)
    if configured.returncode == 0 and configured.stdout.strip():
        return {}
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": name,
        "GIT_COMMITTER_EMAIL": email,
    }


def branch_exists(root: Path, ref: str) -> bool:
    return (
        git(
            "rev-parse", "--verify", "--quiet", ref, cwd=root, check=False
        ).returncode
        == 0
    )
