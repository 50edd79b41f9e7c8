"""The few git operations mlops-scaffold needs, as plain subprocess calls."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .errors import DirtyRepositoryError, GitError, NotAGitRepositoryError

#: Used only when the user has no git identity configured.
FALLBACK_IDENTITY = (
    "mlops-scaffold",
    "mlops-scaffold@users.noreply.github.com",
)


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


def require_clean(root: Path, *, why: str, hint: str) -> None:
    """Refuse to work on uncommitted changes, naming them."""
    dirty = is_dirty(root)
    if dirty:
        listing = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        raise DirtyRepositoryError(
            f"The working tree has uncommitted changes ({listing}){why}.",
            hint=hint,
        )


def identity(cwd: Path, name: str, email: str) -> tuple[str, str]:
    """The configured git user, each part falling back to the given one."""

    def configured(key: str, fallback: str) -> str:
        found = git("config", key, cwd=cwd, check=False)
        return found.stdout.strip() or fallback

    return configured("user.name", name), configured("user.email", email)


def identity_env(cwd: Path, name: str, email: str) -> dict[str, str]:
    """Author/committer variables for a commit, complete whatever git has."""
    name, email = identity(cwd, name, email)
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
