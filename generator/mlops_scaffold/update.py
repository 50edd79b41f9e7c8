"""`update`: bring the installed template's improvements into a project.

A three-way merge done by git, offline. The branch ``mlops-scaffold/template``
holds the pristine output of the template as it was last applied (``new``
and ``adopt`` create it): that is the base. ``update`` renders the installed
template with the recorded answers (plus any ``--data``) into a staging
folder, commits that tree on top of the template branch without touching the
working tree, and merges the branch into the current one:

- a user's edit survives, a template change arrives, a new template file
  arrives (ordinary merging);
- a file the user deleted stays deleted, and a file the template dropped is
  kept when the user changed it (the two modify/delete cases, resolved);
- overlapping edits are ordinary git conflicts, listed, with exit code 1.

``--pretend`` computes the same merge with ``git merge-tree`` and writes
nothing. Projects made by plain ``copier copy`` from this repository's git
URL are served by ``copier update`` as usual.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, gitutil
from .answers import check_known
from .errors import (
    ScaffoldError,
    UpdateConflictError,
    UsageError,
)
from .render import render, staging_folder
from .template import ANSWERS_FILE, TEMPLATE_BRANCH


@dataclass
class UpdateResult:
    changed: list[str] = field(default_factory=list)
    kept_deleted: list[str] = field(default_factory=list)
    kept_modified: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    up_to_date: bool = False
    branch: str | None = None


def recorded_answers(root: Path) -> dict[str, Any]:
    import yaml

    path = root / ANSWERS_FILE
    if not path.is_file():
        raise UsageError(
            f"{root} has no {ANSWERS_FILE}: it was not made by mlops-scaffold.",
            hint="run `mlops-scaffold adopt` to add the pipelines to it",
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {k: v for k, v in data.items() if not str(k).startswith("_")}


def template_ref(root: Path) -> str:
    for ref in (TEMPLATE_BRANCH, f"origin/{TEMPLATE_BRANCH}"):
        if gitutil.branch_exists(root, ref):
            return ref
    raise UsageError(
        f"No `{TEMPLATE_BRANCH}` branch: update needs the template output it "
        "last merged.",
        hint=f"`git fetch origin {TEMPLATE_BRANCH}:{TEMPLATE_BRANCH}` if a "
        "clone lacks it; a project made by plain `copier copy` updates with "
        "`copier update`",
    )


def commit_tree(
    root: Path, tree_dir: Path, parent: str | None, message: str
) -> str:
    """Commit the contents of ``tree_dir`` on top of ``parent`` (a root
    commit when None) without touching the repository's index or working
    tree."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        gitutil.git("--work-tree", str(tree_dir), "add", "--all", "--force",
                    ".", cwd=root, env=env)  # fmt: skip
        tree = gitutil.output("write-tree", cwd=root, env=env)
    identity = gitutil.identity_env(root, *gitutil.FALLBACK_IDENTITY)
    parents = ["-p", parent] if parent else []
    return gitutil.output(
        "commit-tree", tree, *parents, "-m", message, cwd=root, env=identity
    )


def _unmerged(root: Path) -> dict[str, set[str]]:
    """Conflicted paths and which sides have them (stages 1 base, 2 ours,
    3 theirs)."""
    stages: dict[str, set[str]] = {}
    for line in gitutil.output("ls-files", "--unmerged", cwd=root).splitlines():
        meta, path = line.split("\t", 1)
        stages.setdefault(path, set()).add(meta.split()[2])
    return stages


def _resolve_deletions(root: Path, result: UpdateResult) -> None:
    for path, stages in _unmerged(root).items():
        if "2" not in stages and "3" in stages:  # the user deleted it
            gitutil.git("rm", "--quiet", "--cached", "--", path, cwd=root)
            (root / path).unlink(missing_ok=True)
            result.kept_deleted.append(path)
        elif "3" not in stages and "2" in stages:  # the template dropped it
            gitutil.git("add", "--", path, cwd=root)
            result.kept_modified.append(path)


def update_project(
    path: Path | str = ".",
    *,
    data: Mapping[str, Any] | None = None,
    pretend: bool = False,
    branch: str | None = None,
) -> UpdateResult:
    root = gitutil.repository_root(Path(path).absolute())
    gitutil.require_clean(
        root,
        why="; an update would mix them with the template's",
        hint="commit or stash them first (`git stash`), then update",
    )
    overrides = dict(data or {})
    check_known(overrides)
    answers = {**recorded_answers(root), **overrides}
    base = gitutil.output("rev-parse", template_ref(root), cwd=root)
    result = UpdateResult(branch=branch)

    with staging_folder(Path(tempfile.gettempdir())) as staging:
        rendered = staging / "project"
        render(rendered, data=answers, defaults=True)
        message = f"Template output of mlops-scaffold {__version__}"
        new = commit_tree(root, rendered, base, message)

    if gitutil.output(
        "rev-parse", f"{new}^{{tree}}", cwd=root
    ) == gitutil.output("rev-parse", f"{base}^{{tree}}", cwd=root):
        result.up_to_date = True
        return result

    if pretend:
        return _pretend(root, new, result)

    if branch:
        gitutil.git("switch", "--quiet", "--create", branch, cwd=root)
    gitutil.git("update-ref", f"refs/heads/{TEMPLATE_BRANCH}", new, cwd=root)
    head_before = gitutil.output("rev-parse", "HEAD", cwd=root)
    identity = gitutil.identity_env(root, *gitutil.FALLBACK_IDENTITY)
    merge = gitutil.git(
        "merge", "--no-ff", "--no-edit", "-m",
        f"Update from mlops-scaffold {__version__}", TEMPLATE_BRANCH,
        cwd=root, env=identity, check=False,
    )  # fmt: skip
    if merge.returncode != 0:
        if not _unmerged(root):
            raise ScaffoldError(f"git merge failed: {merge.stderr.strip()}")
        _resolve_deletions(root, result)
        remaining = sorted(_unmerged(root))
        if remaining:
            result.conflicts = remaining
            raise UpdateConflictError(remaining)
        gitutil.git("commit", "--no-edit", "--quiet", cwd=root, env=identity)
    result.changed = gitutil.output(
        "diff", "--name-only", head_before, "HEAD", cwd=root
    ).splitlines()
    return result


def _pretend(root: Path, new: str, result: UpdateResult) -> UpdateResult:
    merged = gitutil.git(
        "merge-tree", "--write-tree", "--name-only", "HEAD", new,
        cwd=root, check=False,
    )  # fmt: skip
    lines = merged.stdout.splitlines()
    tree = lines[0] if lines else ""
    if merged.returncode == 1:
        names = []
        for line in lines[1:]:
            if not line.strip():
                break
            names.append(line.strip())
        result.conflicts = sorted(set(names))
    elif merged.returncode != 0:
        raise ScaffoldError(f"git merge-tree failed: {merged.stderr.strip()}")
    result.changed = gitutil.output(
        "diff", "--name-only", "HEAD", tree, cwd=root
    ).splitlines()
    return result
