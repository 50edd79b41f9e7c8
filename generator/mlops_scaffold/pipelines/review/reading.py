"""Reading both sides of a change from git: which files changed, their
bytes at a revision (or in the working tree), and each revision's pipeline
and settings files exported whole, so `check` and the planner see every
template either side uses."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from ... import gitutil
from ...errors import MalformedFileError, UsageError
from ...yamlio import read_bounded
from ..discovery import classify
from ..model import PipelineFile
from ..settings import SETTINGS_FILES


def read(root: Path, ref: str | None, relative: str | None) -> bytes | None:
    """The file's bytes at ``ref`` (None: the working tree); bytes, as a
    pull request may hold any."""
    if relative is None:
        return None
    if ref is None:
        path = root / relative
        if not path.resolve().is_relative_to(root.resolve()):
            return None  # a link out of the repository is never read
        if not os.path.lexists(path):
            return None
        return read_bounded(path)  # over the bound or not regular: unreadable
    return gitutil.show(root, ref, relative)


def changed_files(
    root: Path, base: str, head: str | None
) -> list[tuple[str | None, str | None]]:
    """(path at base, path at head) of each changed YAML file; a rename
    (git -M) is one pair, an added file has no base path."""
    args = ["diff", "--name-status", "-M", "-z", base]
    if head:
        args.append(head)
    fields = (
        gitutil.run(*args, "--", cwd=root)
        .stdout.decode("utf-8", "surrogateescape")
        .split("\0")
    )
    pairs: list[tuple[str | None, str | None]] = []
    index = 0
    while index < len(fields) - 1:
        status = fields[index]
        if not status:
            index += 1
            continue
        if status[0] in "RC":
            old, new = fields[index + 1], fields[index + 2]
            pairs.append((old if status[0] == "R" else None, new))
            index += 3
            continue
        name = fields[index + 1]
        pairs.append(
            (
                None if status[0] == "A" else name,
                None if status[0] == "D" else name,
            )
        )
        index += 2
    if head is None:  # the working tree: untracked pipeline files count too
        untracked = gitutil.run(
            "ls-files", "-z", "--others", "--exclude-standard", cwd=root
        ).stdout.decode("utf-8", "surrogateescape")
        pairs += [(None, name) for name in untracked.split("\0") if name]
    return sorted(
        (
            pair
            for pair in pairs
            if any(n and n.endswith((".yml", ".yaml")) for n in pair)
        ),
        key=lambda pair: pair[1] or pair[0] or "",
    )


def parse(text: bytes | None, relative: str | None) -> PipelineFile | None:
    """A pipeline file, or None when there is no text or it is not one."""
    if text is None or relative is None:
        return None
    pipeline = PipelineFile.parse(text, relative, "github")
    found = classify(relative, pipeline.data)
    if found is None:
        return None
    pipeline.provider, pipeline.kind = found
    return pipeline


def text_of(pipeline: PipelineFile | None) -> str:
    return pipeline.text if pipeline is not None else ""


def verify_commit(root: Path, ref: str) -> None:
    """A ref that names a commit, else bad input: an option-like ref is
    never passed to git; a blob or tree (``HEAD:README.md``) is not a
    commit."""
    hint = "pass a branch, tag or commit"
    if ref.startswith("-") or not gitutil.branch_exists(root, ref):
        raise UsageError(
            f"Unknown git reference {ref!r}.", hint=_ref_hint(root, ref)
        )
    found = gitutil.git(
        "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
        cwd=root, check=False,
    )  # fmt: skip
    if found.returncode != 0:
        raise UsageError(f"{ref!r} is not a commit.", hint=hint)


def _ref_hint(root: Path, ref: str) -> str:
    """What to pass instead of a ref git does not know: fetch a remote
    branch that is not here yet, or one of the branches that are."""
    remotes = gitutil.output("remote", cwd=root).split()
    remote, _, branch = ref.partition("/")
    if remote in remotes and branch:
        return (
            f"fetch it first (`git fetch {remote} {branch}`; a shallow CI "
            "checkout needs fetch-depth: 0), or pass a branch, tag or commit "
            "that is here"
        )
    known = gitutil.output(
        "for-each-ref", "--format=%(refname:short)", "--count=5",
        "refs/heads", "refs/remotes", cwd=root,
    ).split()  # fmt: skip
    known = [name for name in known if name != ref and "HEAD" not in name]
    if known:
        return "pass a branch, tag or commit: here, e.g. " + ", ".join(
            f"--base {name}" for name in known[:3]
        )
    return "pass a branch, tag or commit of this repository"


#: The files a review exports from each revision: pipelines, templates and
#: the answers the default branch comes from. Settings are not: they are
#: read from the base revision (``settings_files``) and handed to `check`.
_EXPORTED = ("*.yml", "*.yaml")
_MAX_EXPORTED = 20_000  # files; a repository with more is reviewed partly


def export(root: Path, ref: str | None, dest: Path) -> Path:
    """The revision's pipeline and settings files (the working tree's when
    ``ref`` is None) in a scratch folder, so that `check` and the planner
    see the whole tree of each side: templates a change starts to use are
    found. Bytes only; links and unreadable files are left out."""
    dest.mkdir(parents=True)
    if ref is None:
        names = gitutil.list_files(root, *_EXPORTED) or []
    else:
        listed = gitutil.run(
            "ls-tree", "-r", "-z", "--name-only", ref, cwd=root
        ).stdout.decode("utf-8", "surrogateescape")
        names = [
            n
            for n in listed.split("\0")
            if n
            and any(
                fnmatch.fnmatch(n.rpartition("/")[2], p) for p in _EXPORTED
            )  # fmt: skip
        ]
    for name in names[:_MAX_EXPORTED]:
        try:
            data = read(root, ref, name)
        except MalformedFileError:
            data = None  # over the bound: check names it on its side
        if data is None:
            continue
        target = dest / name
        if not target.resolve().is_relative_to(dest.resolve()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


def settings_files(root: Path, ref: str | None) -> dict[str, bytes]:
    """The files `check` takes its settings from, at ``ref``."""
    found = {}
    for name in SETTINGS_FILES:
        data = read(root, ref, name)
        if data is not None:
            found[name] = data
    return found
