"""Every git call mlops-scaffold makes: one module, one timeout policy,
bytes where git speaks bytes (file names and contents)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .errors import (
    DirtyRepositoryError,
    GitError,
    NotAGitRepositoryError,
    UsageError,
)

#: Used only when the user has no git identity configured.
FALLBACK_IDENTITY = (
    "mlops-scaffold",
    "mlops-scaffold@users.noreply.github.com",
)


#: One timeout for every git call: generous for a large repository, short
#: enough that a git waiting on something (a lock, a credential prompt that
#: cannot appear) does not hang a CI job for hours.
TIMEOUT_SECONDS = 600


def run(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input_bytes: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Every git call of the tool goes through here (bytes in and out: file
    names and contents are bytes to git). A missing git, an OS refusal and
    the timeout are GitError; ``check`` makes a non-zero exit one too."""
    if shutil.which("git") is None:
        raise GitError(
            "git is not installed.",
            hint="install git, or pass --no-git to skip the initial commit",
        )
    full_env = {**os.environ, **(env or {})}
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            input=input_bytes,
            timeout=TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        raise GitError(
            f"`git {' '.join(args)}` did not finish in {TIMEOUT_SECONDS} s "
            f"in {cwd}.",
            hint="check that no other git is holding the repository",
        ) from error
    except OSError as error:
        raise GitError(
            f"`git {args[0]}` could not run in {cwd}: {error}"
        ) from error
    if check and result.returncode != 0:
        message = result.stderr.strip() or result.stdout.strip()
        raise GitError(
            f"`git {' '.join(args)}` failed in {cwd}:\n"
            f"{message.decode('utf-8', 'replace')}"
        )
    return result


def git(
    *args: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``run`` for text: output decoded as UTF-8 (undecodable bytes
    replaced), for refs, messages and porcelain output."""
    done = run(
        *args,
        cwd=cwd,
        env=env,
        check=check,
        input_bytes=None if input_text is None else input_text.encode(),
    )
    return subprocess.CompletedProcess(
        done.args,
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def top_level(folder: Path) -> Path | None:
    """git's top level of the repository holding ``folder``; None outside
    a repository or without git."""
    try:
        found = git("rev-parse", "--show-toplevel", cwd=folder, check=False)
    except GitError:
        return None
    if found.returncode != 0:
        return None
    return Path(found.stdout.strip())


def has_ref(root: Path, ref: str) -> bool:
    return (
        run(
            "rev-parse", "--quiet", "--verify", ref, cwd=root, check=False
        ).returncode
        == 0
    )


def show(root: Path, ref: str, relative: str) -> bytes | None:
    """The bytes of ``relative`` at ``ref``; None where it does not exist."""
    done = run("show", f"{ref}:{relative}", cwd=root, check=False)
    return done.stdout if done.returncode == 0 else None


def list_files(root: Path, *patterns: str) -> list[str] | None:
    """Tracked and untracked, not ignored files matching ``patterns`` (NUL
    separated, so any name survives); None when git cannot say."""
    try:
        done = run(
            "ls-files", "-z", "--cached", "--others", "--exclude-standard",
            "--", *patterns, cwd=root, check=False,
        )  # fmt: skip
    except GitError:
        return None
    if done.returncode != 0:
        return None
    names = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [name for name in names if name]


def output(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> str:
    return git(*args, cwd=cwd, env=env).stdout.strip()


def require_new_branch(root: Path, name: str, *, reserved: str) -> None:
    """``name`` (a --branch option) can be created: a valid branch name,
    not ``reserved`` (the template branch), not an existing branch."""
    if name == reserved or not valid_branch_name(root, name):
        raise UsageError(
            f"--branch {name!r} is not a usable branch name.",
            hint="pick a name such as `template-update`",
        )
    if branch_exists(root, f"refs/heads/{name}"):
        raise UsageError(
            f"The branch {name!r} already exists.",
            hint="pick another name, or delete it "
            f"(`git branch -D {name}`) if it is an old one",
        )


def is_shallow(root: Path) -> bool:
    """Whether the clone lacks history (``git clone --depth``)."""
    done = git("rev-parse", "--is-shallow-repository", cwd=root, check=False)
    return done.stdout.strip() == "true"


def repository_root(path: Path) -> Path:
    """The top folder of the repository that holds ``path`` (a folder)."""
    if not path.exists():
        raise UsageError(
            f"{path} does not exist.",
            hint="pass the path of the project's folder",
        )
    if not path.is_dir():
        raise UsageError(
            f"{path} is a file, not a folder.",
            hint="pass the path of the project's folder, not of a file in it",
        )
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


def remote_default_branch(root: Path) -> str | None:
    """The default branch of ``origin`` (its HEAD), None when unknown."""
    remote = git("symbolic-ref", "--short", "refs/remotes/origin/HEAD",
                 cwd=root, check=False)  # fmt: skip
    name = remote.stdout.strip()
    if remote.returncode != 0 or "/" not in name:
        return None
    return name.split("/", 1)[1]


def current_branch(root: Path) -> str | None:
    """The checked-out branch, None on a detached HEAD."""
    return output("branch", "--show-current", cwd=root) or None


def head(root: Path) -> str | None:
    """The commit HEAD points at, None in a repository with no commit."""
    found = git("rev-parse", "--verify", "--quiet", "HEAD", cwd=root,
                check=False)  # fmt: skip
    return found.stdout.strip() or None


def git_path(root: Path, name: str) -> Path:
    """A file inside the repository's git folder (worktrees included)."""
    return root / output("rev-parse", "--git-path", name, cwd=root)


def operation_in_progress(root: Path) -> str | None:
    """The git operation a user left unfinished (merge, rebase...)."""
    for name, what in (
        ("MERGE_HEAD", "merge"),
        ("CHERRY_PICK_HEAD", "cherry-pick"),
        ("REVERT_HEAD", "revert"),
        ("rebase-merge", "rebase"),
        ("rebase-apply", "rebase"),
    ):
        if git_path(root, name).exists():
            return what
    return None


def is_ancestor(root: Path, ancestor: str, descendant: str) -> bool:
    return (
        git(
            "merge-base",
            "--is-ancestor",
            ancestor,
            descendant,
            cwd=root,
            check=False,
        ).returncode  # fmt: skip
        == 0
    )


def tree_files(root: Path, commit: str) -> dict[str, str]:
    """Every file of a commit's tree with its blob id."""
    listing = git("ls-tree", "-r", "-z", "--full-tree", commit, cwd=root)
    files = {}
    for entry in listing.stdout.split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
            files[path] = meta.split()[2]
    return files


def valid_branch_name(root: Path, name: str) -> bool:
    """A name git accepts for a new branch as typed: `--branch` semantics,
    and the full ref too, because --branch expands "@" and "@{-1}" to the
    current or previous branch instead of refusing them."""
    if name.startswith("-") or name == "@" or "@{" in name:
        return False
    return all(
        git("check-ref-format", *args, cwd=root, check=False).returncode == 0
        for args in (("--branch", name), (f"refs/heads/{name}",))
    )
