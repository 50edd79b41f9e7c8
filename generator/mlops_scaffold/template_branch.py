"""The template branch protocol, in one place: the branch that holds
pristine template output (``TEMPLATE_BRANCH``), how its commits are
written and recognised (their messages), and the first commit of a new
project, whose tree is pristine output too. ``new`` starts the branch,
``update`` and ``adopt`` move it; all three go through here."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import __version__, gitutil
from .errors import GitError

TEMPLATE_BRANCH = "mlops-scaffold/template"
#: The first line of every commit that holds pristine template output (and
#: of the first commit ``new`` makes, whose tree is one).
TEMPLATE_MESSAGE = "Template output of mlops-scaffold"
INITIAL_MESSAGE = "Initial commit from mlops-scaffold"


def message(version: str | None = None) -> str:
    return f"{TEMPLATE_MESSAGE} {version or __version__}"


def commit_tree(
    root: Path, tree_dir: Path, parent: str | None, message: str
) -> str:
    """Commit the contents of ``tree_dir`` on top of ``parent`` (a root
    commit when None) without touching the repository's index, working
    tree or any branch."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        # The scratch index is not the checkout's: its sparsity (a sparse
        # checkout refuses paths outside its cone) does not apply.
        gitutil.git("-c", "core.sparseCheckout=false",
                    "--work-tree", str(tree_dir), "add", "--all", "--force",
                    ".", cwd=root, env=env)  # fmt: skip
        tree = gitutil.output("write-tree", cwd=root, env=env)
    identity = gitutil.identity_env(root, *gitutil.FALLBACK_IDENTITY)
    parents = ["-p", parent] if parent else []
    return gitutil.output(
        "commit-tree", tree, *parents, "-m", message, cwd=root, env=identity
    )


def template_commits(root: Path, *revisions: str) -> list[str]:
    """Pristine-output commits among ``revisions`` (rev-list syntax),
    newest first."""
    return gitutil.output(
        "rev-list", "--topo-order",
        f"--grep=^{TEMPLATE_MESSAGE}", f"--grep=^{INITIAL_MESSAGE}",
        *revisions, cwd=root,
    ).split()  # fmt: skip


def initial_commit(project: Path, answers: Mapping[str, Any]) -> None:
    """`git init` with one commit, and the pristine-template branch that
    `update` merges from.

    The commit is written by one `git fast-import` stream (one pack, no
    loose object per file), about three times faster than `git add` and
    `git commit` for a new project."""
    branch = str(answers.get("default_branch", "main"))
    gitutil.git("init", "--quiet", f"--initial-branch={branch}", cwd=project)

    name, email = gitutil.identity(
        project,
        commit_name(str(answers["author_name"])),
        str(answers["author_email"]),
    )
    stamp = f"{int(time.time())} +0000"
    chunks = [f"commit refs/heads/{branch}\n".encode()]
    message = f"{INITIAL_MESSAGE}\n".encode()
    who = f"{name} <{email}> {stamp}\n".encode()
    chunks += [b"author " + who, b"committer " + who]
    chunks.append(b"data %d\n" % len(message) + message)
    for path in sorted(project.rglob("*")):
        relative = path.relative_to(project)
        if relative.parts[0] == ".git" or not path.is_file():
            continue
        mode = b"100755" if os.access(path, os.X_OK) else b"100644"
        content = path.read_bytes()
        chunks.append(
            b"M " + mode + b" inline " + relative.as_posix().encode() + b"\n"
        )
        chunks.append(b"data %d\n" % len(content) + content + b"\n")
    reset = f"reset refs/heads/{TEMPLATE_BRANCH}\nfrom refs/heads/{branch}\n"
    chunks.append(b"\n" + reset.encode())
    result = gitutil.run(
        "fast-import", "--quiet", cwd=project, input_bytes=b"".join(chunks),
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise GitError(
            "git fast-import failed: "
            + result.stderr.decode("utf-8", "replace").strip()
        )
    gitutil.git("read-tree", "HEAD", cwd=project)  # index = the commit


#: What git strips from both ends of a name ("crud"); a name of nothing else
#: is refused as empty.
_GIT_CRUD = "".join(chr(c) for c in range(33)) + ".,:;<>\"\\'"


def commit_name(author: str) -> str:
    """The author name as a git ident can hold it (used only when no git
    identity is configured): git forbids "<", ">" and newlines in a name
    and refuses one made only of punctuation and spaces."""
    name = "".join(c for c in author if c not in "<>" and c.isprintable())
    name = name.strip(_GIT_CRUD)
    return name or gitutil.FALLBACK_IDENTITY[0]
