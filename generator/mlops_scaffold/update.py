"""`update`: bring the installed template's improvements into a project.

A three-way merge done by git, offline. The branch ``mlops-scaffold/template``
holds the pristine output of the template as it was last merged (``new``
and ``adopt`` create it): that is the base. ``update`` renders the installed
template with the recorded answers (plus any ``--data``) into a staging
folder, commits that tree on top of the base without touching the working
tree or any branch, and merges that commit into the current branch:

- a user's edit survives, a template change arrives, a new template file
  arrives (ordinary merging);
- a file the user deleted stays deleted, and a file the template dropped is
  kept when the user changed it (the two modify/delete cases, resolved);
- overlapping edits are ordinary git conflicts, listed, with exit code 1.

State changes in the order that survives failure. The template branch moves
only once the merge is committed; until then a failure, a Ctrl-C or a
``git merge --abort`` leaves it where it was, so the next ``update`` brings
the change again. A merge the user finished by hand (conflicts resolved, a
``--branch`` pull request merged) is found in the history on the next run
(the template commit is one of its parents) and recorded then. Anything that
fails before the merge is committed puts the branch and working tree back.

``--pretend`` computes the same merge with ``git merge-tree`` and writes
nothing. A project made by plain ``copier copy`` (no template branch yet)
gets its base from what Copier recorded: the recorded answers rendered at
the recorded template version when that template is available locally, else
the installed template (with a note); see ``copier_base``. Either way the
base is rendered from the recorded answers only, so an answer changed by
this update (``--ci both``) is a change from the base, and lands.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__, gitutil
from .answers import (
    bound_yaml_answers,
    check_known,
    check_template_source,
    load_answers_yaml,
)
from .errors import (
    InvalidAnswerError,
    LocalFilesInTheWayError,
    MalformedFileError,
    ScaffoldError,
    UpdateConflictError,
    UsageError,
)
from .render import own_git_environment, render, staging_folder
from .template import ANSWERS_FILE
from .template_branch import (
    TEMPLATE_BRANCH,
    commit_tree,
    template_commits,
)
from .template_branch import message as _message
from .yamlio import read_bounded

#: An answers file is a few dozen lines; anything much larger is not one.
MAX_ANSWERS_BYTES = 256 * 1024


@dataclass
class UpdateResult:
    changed: list[str] = field(default_factory=list)
    kept_deleted: list[str] = field(default_factory=list)
    kept_modified: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    up_to_date: bool = False
    branch: str | None = None
    #: What the run did besides merging, for the user to read.
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------ answers file
def read_answers_file(root: Path) -> dict[str, Any]:
    """``.copier-answers.yml`` as a mapping (the ``_`` keys included), or a
    clear error that names it."""
    path = root / ANSWERS_FILE
    if not os.path.lexists(path):
        raise UsageError(
            f"{root} has no {ANSWERS_FILE}: it was not made by mlops-scaffold.",
            hint="run `mlops-scaffold adopt` to add the pipelines to it",
        )
    fix = (
        "restore it from git (`git log -p -- .copier-answers.yml` shows its "
        "history) or fix it by hand, then update again; nothing was changed"
    )
    if path.is_symlink():
        raise MalformedFileError(path, "is not a regular file", hint=fix)
    loaded = load_answers_yaml(
        read_bounded(path, MAX_ANSWERS_BYTES, hint=fix), path, hint=fix
    )
    if not isinstance(loaded, dict) or not all(
        isinstance(key, str) for key in loaded
    ):
        raise MalformedFileError(
            path,
            "must be a YAML mapping of answer names to values",
            hint=fix,
        )
    bound_yaml_answers(loaded, path)
    return loaded


def recorded_source(root: Path) -> str | None:
    """The template source the project recorded (``_src_path``), when it
    is one line of text; None (the default source) otherwise."""
    source = read_answers_file(root).get("_src_path")
    if not isinstance(source, str):
        return None
    try:
        check_template_source(source)
    except InvalidAnswerError:
        return None
    return source


def recorded_answers(root: Path) -> dict[str, Any]:
    return {
        key: value
        for key, value in read_answers_file(root).items()
        if not key.startswith("_")
    }


# -------------------------------------------------------------- git pieces
def _tree(root: Path, commit: str) -> str:
    return gitutil.output("rev-parse", f"{commit}^{{tree}}", cwd=root)


def _unmerged(root: Path) -> dict[str, set[str]]:
    """Conflicted paths and which sides have them (stages 1 base, 2 ours,
    3 theirs)."""
    listing = gitutil.git("ls-files", "--unmerged", "-z", cwd=root).stdout
    stages: dict[str, set[str]] = {}
    for entry in listing.split("\0"):
        if entry:
            meta, path = entry.split("\t", 1)
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


# -------------------------------------------------------- before anything
def _check_state(root: Path, branch: str | None) -> None:
    """Refuse the states an update cannot work from, before any change."""
    if gitutil.head(root) is None:
        raise UsageError(
            f"{root} has no commit yet.",
            hint="commit the project first (`git add --all && git commit`)",
        )
    unfinished = gitutil.operation_in_progress(root)
    if unfinished:
        raise UsageError(
            f"A {unfinished} is in progress in {root}.",
            hint=f"finish it (resolve, `git add`, `git commit`) or undo it "
            f"(`git {unfinished} --abort`), then run `mlops-scaffold update` "
            "again",
        )
    current = gitutil.current_branch(root)
    if current == TEMPLATE_BRANCH:
        raise UsageError(
            f"{TEMPLATE_BRANCH} is checked out: it holds the template's "
            "pristine output, not your project.",
            hint="switch to your project's branch (`git switch main`), then "
            "update",
        )
    if current is None and not branch:
        raise UsageError(
            "HEAD is detached: the update's merge commit would be on no "
            "branch.",
            hint="switch to a branch (`git switch main`), or pass --branch "
            "NAME to commit the update on a new branch",
        )
    if branch is not None:
        gitutil.require_new_branch(root, branch, reserved=TEMPLATE_BRANCH)


def _check_no_lock(root: Path) -> None:
    """git's index lock: another git is running (an editor's, a hook's) or
    one crashed. The merge would fail half-way with "stash failed"."""
    lock = Path(
        gitutil.output("rev-parse", "--git-path", "index.lock", cwd=root)
    )
    lock = lock if lock.is_absolute() else root / lock
    if os.path.lexists(lock):
        raise ScaffoldError(
            f"{lock} exists: another git process seems to be running.",
            hint=f"if not, remove {lock}, then run `mlops-scaffold update` "
            "again; nothing was changed",
        )


# ---------------------------------------------------------- finding a base
@dataclass
class _Base:
    commit: str
    #: False when the base is not in HEAD's history yet (a project made by
    #: plain ``copier copy``): the merge then records it first.
    connected: bool = True


def _find_base(root: Path, result: UpdateResult) -> _Base | None:
    """The pristine output this branch last merged, or None."""
    tip = None
    for ref in (f"refs/heads/{TEMPLATE_BRANCH}",
                f"refs/remotes/origin/{TEMPLATE_BRANCH}"):  # fmt: skip
        if gitutil.branch_exists(root, ref):
            tip = gitutil.output("rev-parse", ref, cwd=root)
            if "origin" in ref:
                result.notes.append(
                    f"using origin/{TEMPLATE_BRANCH} (no local branch yet)"
                )
            break
    if tip is None:
        found = template_commits(root, "HEAD")
        if found:
            result.notes.append(
                f"no {TEMPLATE_BRANCH} branch: using the template output "
                "found in this branch's history"
            )
        return _Base(found[0]) if found else None
    if not gitutil.is_ancestor(root, tip, "HEAD"):
        # The branch is ahead of HEAD: an update merged elsewhere (a pull
        # request not merged here, or an older version of this tool that
        # moved the branch before merging). Start from what HEAD has.
        common = gitutil.git("merge-base", tip, "HEAD", cwd=root, check=False)
        if common.returncode != 0 and gitutil.is_shallow(root):
            raise UsageError(
                f"{root} is a shallow clone: the history that joins "
                f"{TEMPLATE_BRANCH} and the current branch was not fetched.",
                hint="fetch the whole history (`git fetch --unshallow`) and "
                "update again; keep the template branch",
            )
        if common.returncode != 0:
            raise UsageError(
                f"{TEMPLATE_BRANCH} shares no history with the current branch.",
                hint="switch to the project's branch, or delete the template "
                f"branch (`git branch -D {TEMPLATE_BRANCH}`) to rebuild it",
            )
        tip = common.stdout.strip()
        result.notes.append(
            f"{TEMPLATE_BRANCH} holds template output this branch has not "
            "merged: updating from the last one it has"
        )
    # A merge finished by hand (resolved conflicts, a merged pull request)
    # has a newer template commit among its parents: record it.
    merged = template_commits(root, "--ancestry-path", f"{tip}..HEAD")
    if merged:
        result.notes.append(
            f"recorded the template update already merged here "
            f"({merged[0][:12]})"
        )
        return _Base(merged[0])
    return _Base(tip)


def copier_base(
    root: Path, answers: Mapping[str, Any], meta: Mapping[str, Any],
    staging: Path, result: UpdateResult,
) -> _Base:  # fmt: skip
    """The base of a project made by plain ``copier copy``: the recorded
    answers rendered at the recorded template version (``_src_path`` at
    ``_commit``) when that template is available locally, else the
    installed template, whose output then stands for what was copied."""
    source, commit = meta.get("_src_path"), meta.get("_commit")
    rendered = staging / "base" / root.name
    rendered.parent.mkdir()
    if (
        isinstance(source, str)
        and isinstance(commit, str)
        and Path(source).expanduser().is_dir()
    ):
        try:
            _copy_recorded(Path(source).expanduser(), commit, rendered, answers)
        except Exception as error:  # noqa: BLE001 - any failure: fall back
            result.notes.append(
                f"could not render {source} at {commit} ({error}); "
                "the installed template is the base"
            )
        else:
            result.notes.append(
                f"no {TEMPLATE_BRANCH} branch; base: what Copier recorded "
                f"({source} at {commit})"
            )
            return _Base(
                commit_tree(root, rendered, None, _message(commit)), False
            )
    else:
        result.notes.append(
            f"the template Copier recorded ({source!s} at {commit!s}) is "
            "not available here: the installed template is the base, so "
            "this update brings your answer changes but no template change; "
            "later ones will"
        )
    import shutil

    shutil.rmtree(rendered, ignore_errors=True)
    render_recorded(root, rendered, answers, {})
    return _Base(commit_tree(root, rendered, None, _message()), False)


def _copy_recorded(
    source: Path, commit: str, destination: Path, answers: Mapping[str, Any]
) -> None:
    import copier

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(source),
            destination,
            data=dict(answers),
            vcs_ref=commit,
            defaults=True,
            quiet=True,
            unsafe=False,
            overwrite=True,
        )


def render_recorded(
    root: Path,
    destination: Path,
    answers: Mapping[str, Any],
    overrides: Mapping[str, Any],
) -> None:
    """Render the installed template with the project's answers; a bad
    answer is reported with the file it was recorded in."""
    try:
        # Keep the project's recorded template source (`new
        # --template-source`), so that plain `copier update` still works.
        render(
            destination,
            data=answers,
            defaults=True,
            recorded_source=recorded_source(root),
        )
    except InvalidAnswerError as error:
        where = root / ANSWERS_FILE
        source = f"{where} (or --data)" if overrides else f"{where}"
        raise InvalidAnswerError(
            f"{source}: {error.message}",
            hint="correct the answer in that file (and commit it), or set "
            "it with --data KEY=VALUE",
        ) from error


# ------------------------------------------------------------------ update
def update_project(
    path: Path | str = ".",
    *,
    data: Mapping[str, Any] | None = None,
    pretend: bool = False,
    branch: str | None = None,
) -> UpdateResult:
    with own_git_environment():
        return _update_project(path, data=data, pretend=pretend, branch=branch)


def _update_project(
    path: Path | str,
    *,
    data: Mapping[str, Any] | None,
    pretend: bool,
    branch: str | None,
) -> UpdateResult:
    root = gitutil.repository_root(Path(path).absolute())
    _check_state(root, branch)
    if not pretend:
        _check_no_lock(root)
    meta = read_answers_file(root)
    gitutil.require_clean(
        root,
        why="; an update would mix them with the template's",
        hint="commit or stash them first (`git stash`), then update",
    )
    overrides = dict(data or {})
    check_known(overrides)
    recorded = {k: v for k, v in meta.items() if not k.startswith("_")}
    answers = {**recorded, **overrides}
    result = UpdateResult(branch=branch)

    with staging_folder(Path(tempfile.gettempdir())) as staging:
        base = _find_base(root, result)
        if base is None:
            # The base is what the project was made from: the RECORDED
            # answers only. With the overrides in it too, an answer change
            # would be in the base already and never reach the project.
            base = copier_base(root, recorded, meta, staging, result)
        rendered = staging / "new" / root.name
        rendered.parent.mkdir()
        render_recorded(root, rendered, answers, overrides)
        _drop_blocked(root, rendered, result)
        new = commit_tree(root, rendered, base.commit, _message())

    if pretend:
        if _tree(root, new) != _tree(root, base.commit):
            _pretend(root, base, new, result)
        else:
            result.up_to_date = True
        return result
    if _tree(root, new) == _tree(root, base.commit):
        result.up_to_date = True
        _record(root, base, branch, result)
        return result
    _refuse_untracked(root, base.commit, new)
    _merge(root, base, new, branch, result)
    return result


def _drop_blocked(root: Path, rendered: Path, result: UpdateResult) -> None:
    """Leave out the template's files under a folder that the project
    tracks as a file or a link: the user replaced it, so it stays theirs
    (as a deleted file does) instead of becoming a file/folder conflict."""
    tracked = gitutil.tree_files(root, "HEAD")
    dropped: set[str] = set()
    for path in sorted(rendered.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        parts = path.relative_to(rendered).parts
        for depth in range(1, len(parts)):
            prefix = "/".join(parts[:depth])
            if prefix in tracked:
                path.unlink()
                dropped.add(prefix)
                break
    for prefix in sorted(dropped):
        result.notes.append(
            f"{prefix} is a file or link in the project where the template "
            "has a folder: kept as yours, the template's files there left out"
        )


def _record(
    root: Path, base: _Base, branch: str | None, result: UpdateResult
) -> None:
    """Point the template branch at a base this branch has merged (nothing
    else to do), connecting a Copier-recorded base first."""
    if branch:
        return
    if not base.connected:
        _connect(root, base.commit)
    current = gitutil.head(root)
    if current and gitutil.is_ancestor(root, base.commit, current):
        gitutil.git("update-ref", f"refs/heads/{TEMPLATE_BRANCH}",
                    base.commit, cwd=root)  # fmt: skip


def _connect(root: Path, base: str) -> None:
    """Record in HEAD's history that the project holds ``base`` (a merge
    that keeps HEAD's tree): a project made by plain ``copier copy``."""
    identity = gitutil.identity_env(root, *gitutil.FALLBACK_IDENTITY)
    head = gitutil.output("rev-parse", "HEAD", cwd=root)
    joined = gitutil.output(
        "commit-tree", f"{head}^{{tree}}", "-p", head, "-p", base,
        "-m", "Record the template output Copier made this project from",
        cwd=root, env=identity,
    )  # fmt: skip
    gitutil.git("update-ref", "HEAD", joined, head, cwd=root)


def _refuse_untracked(root: Path, base: str, new: str) -> None:
    """Files git does not track, where the merge would write a template
    file: git itself would overwrite an ignored one without a word."""
    ours = gitutil.tree_files(root, "HEAD")
    before = gitutil.tree_files(root, base)
    in_the_way = []
    for path, blob in gitutil.tree_files(root, new).items():
        if path in ours or before.get(path) == blob:
            continue
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            here = root.joinpath(*parts[:depth])
            last = depth == len(parts)
            if "/".join(parts[:depth]) in ours:
                break  # tracked: git's merge reports a file/folder conflict
            if os.path.lexists(here) and (
                last or here.is_symlink() or not here.is_dir()
            ):
                in_the_way.append("/".join(parts[:depth]))
                break
    if in_the_way:
        raise LocalFilesInTheWayError(
            root, sorted(set(in_the_way)), what="The update"
        )


def _merge(
    root: Path, base: _Base, new: str, branch: str | None,
    result: UpdateResult,
) -> None:  # fmt: skip
    """Merge ``new`` into the current branch (or a new ``branch``); move
    the template branch only once the merge is committed. Anything that
    fails on the way puts HEAD, the branch and the working tree back."""
    start = gitutil.output("rev-parse", "HEAD", cwd=root)
    original = gitutil.current_branch(root)
    template = gitutil.git("rev-parse", "--verify", "--quiet",
                           f"refs/heads/{TEMPLATE_BRANCH}", cwd=root,
                           check=False).stdout.strip()  # fmt: skip
    identity = gitutil.identity_env(root, *gitutil.FALLBACK_IDENTITY)
    try:
        if branch:  # checked absent before: a branch of that name is ours
            gitutil.git("switch", "--quiet", "--create", branch, cwd=root)
        if not base.connected:
            _connect(root, base.commit)
        merge = gitutil.git(
            "merge", "--no-ff", "--no-edit", "-m",
            f"Update from mlops-scaffold {__version__}", new,
            cwd=root, env=identity, check=False,
        )  # fmt: skip
        if merge.returncode != 0:
            if not _unmerged(root):
                raise ScaffoldError(
                    f"git merge failed in {root}: "
                    f"{merge.stderr.strip() or merge.stdout.strip()}",
                    hint="nothing was changed; fix what git reports, then "
                    "update again",
                )
            _resolve_deletions(root, result)
            remaining = sorted(_unmerged(root))
            if remaining:
                result.conflicts = remaining
                raise UpdateConflictError(remaining)
            gitutil.git("commit", "--no-edit", "--quiet", "--no-verify",
                        cwd=root, env=identity)  # fmt: skip
        result.changed = gitutil.output(
            "diff", "--name-only", start, "HEAD", cwd=root
        ).splitlines()
        if not branch:
            gitutil.git("update-ref", f"refs/heads/{TEMPLATE_BRANCH}", new,
                        cwd=root)  # fmt: skip
    except UpdateConflictError:
        raise  # the merge is the user's to finish
    except BaseException:
        _roll_back(root, start, original, branch, template)
        raise


def _roll_back(
    root: Path,
    start: str,
    original: str | None,
    created: str | None,
    template: str,
) -> None:
    """Back to the state before the update (it started clean)."""
    ref = f"refs/heads/{TEMPLATE_BRANCH}"
    if template:
        gitutil.git("update-ref", ref, template, cwd=root, check=False)
    else:
        gitutil.git("update-ref", "-d", ref, cwd=root, check=False)
    if gitutil.operation_in_progress(root) == "merge":
        gitutil.git("merge", "--abort", cwd=root, check=False)
    gitutil.git("reset", "--quiet", "--hard", start, cwd=root, check=False)
    if created and gitutil.branch_exists(root, f"refs/heads/{created}"):
        args = [original] if original else ["--detach", start]
        gitutil.git("switch", "--quiet", *args, cwd=root, check=False)
        gitutil.git("branch", "-D", created, cwd=root, check=False)


def _pretend(
    root: Path, base: _Base, new: str, result: UpdateResult
) -> UpdateResult:
    ours = "HEAD"
    if not base.connected:
        identity = gitutil.identity_env(root, *gitutil.FALLBACK_IDENTITY)
        ours = gitutil.output(
            "commit-tree", "HEAD^{tree}", "-p", "HEAD", "-p", base.commit,
            "-m", "pretend", cwd=root, env=identity,
        )  # fmt: skip
    merged = gitutil.git(
        "merge-tree", "--write-tree", "--name-only", ours, new,
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
