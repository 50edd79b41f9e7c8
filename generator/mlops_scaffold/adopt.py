"""`adopt`: add the pipelines to a repository that mlops-scaffold did not make.

It infers what it can (package name, Python version, default branch, CI
provider) and lets the template compute the rest: the project's name and
slug come from Copier's own defaults, by rendering into a folder named after
the project. It renders the template with those answers and adds what is
missing. It never overwrites a file: a workflow or pipeline of the same name
gets the missing jobs merged in with ruamel.yaml round-trip editing (every
line the user wrote is kept verbatim, line endings and a BOM included, or
the file is left alone); any other existing file that differs is left alone
and the template's version is written alongside it (``NAME.mlops-scaffold``,
or a free variant of that name), and the command says so. It records the
answers and the template branch, so that ``update`` works afterwards.

All or nothing. Every file is read and every decision made before anything
is written (``_plan``). The writes are journaled in the git folder: a failure
or Ctrl-C puts every file back, and a run that was killed outright is rolled
back by the next one, which then does the whole job. The adoption is one
commit whose second parent is the template's pristine output; the template
branch is created last, and a rerun restores it from that commit if needed.
Nothing is written through a symbolic link, and nothing outside the
repository is touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import gitutil
from .answers import check_known
from .errors import (
    InvalidAnswerError,
    MalformedFileError,
    ScaffoldError,
    UsageError,
)
from .legacy_build import (
    SetupMetadata,
    builds_with_setup,
    read_setup,
    setuptools_pyproject,
)
from .pipelines import provider_of
from .render import render, staging_folder
from .template import ANSWERS_FILE, questions
from .template_branch import (
    TEMPLATE_BRANCH,
    commit_tree,
    template_commits,
)
from .template_branch import message as template_message
from .yamlio import malformed_yaml, read_bounded, round_trip

ALONGSIDE = ".mlops-scaffold"
ADOPT_MESSAGE = "Adopt the mlops-scaffold pipelines"
JOURNAL = "mlops-scaffold-adopt"
#: The largest file adopt writes (template files are a few kB) and reads back.
MAX_WRITTEN = 16 * 2**20
#: A distribution name that is also a safe folder name (PEP 508 names).
_DIST_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,99}$")
NOTHING_WRITTEN = "nothing was written"


@dataclass
class AdoptResult:
    answers: dict[str, Any] = field(default_factory=dict)
    added: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    #: (the existing file, where the template's version was written)
    alongside: list[tuple[str, str]] = field(default_factory=list)
    #: (template path, why it was not written)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    already_adopted: bool = False
    #: True: nothing was written (--pretend); the lists say what would be
    pretend: bool = False
    #: the branch the adoption was committed on (--branch), else None
    branch: str | None = None


# ----------------------------------------------------------------- inferring
def _text(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _python_version(spec: Any) -> str | None:
    choices = questions()["python_version"]["choices"]
    match = re.search(r"(\d+)\.(\d+)", spec if isinstance(spec, str) else "")
    if not match:
        return None
    wanted = (int(match[1]), int(match[2]))
    for choice in choices:
        major, minor = (int(p) for p in str(choice).split("."))
        if (major, minor) >= wanted:
            return str(choice)
    return None


def _project_table(root: Path) -> dict[str, Any]:
    """``[project]`` of pyproject.toml, {} when absent or not a table."""
    path = root / "pyproject.toml"
    if path.is_symlink() or not path.is_file():
        return {}
    hint = (
        "fix it (or pass the answers with --data), then adopt again; "
        + NOTHING_WRITTEN
    )
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise MalformedFileError(
            path, "is not UTF-8 text", hint=hint
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise MalformedFileError(
            path, f"is not valid TOML: {error}", hint=hint
        ) from error
    except OSError as error:
        raise MalformedFileError(
            path, f"cannot be read: {error.strerror}", hint=hint
        ) from error
    project = data.get("project")
    return project if isinstance(project, dict) else {}


def _setup_python(root: Path) -> dict[str, Any]:
    if not builds_with_setup(root):
        return {}
    return {"requires-python": read_setup(root).python_requires}


def _setup_as_project(meta: SetupMetadata) -> dict[str, Any]:
    """setup.py's metadata in the shape of a ``[project]`` table."""
    author = {"name": meta.author, "email": meta.author_email}
    return {
        "name": meta.name,
        "description": meta.description,
        "requires-python": meta.python_requires,
        "authors": [{k: v for k, v in author.items() if v}],
    }


def python_note(spec: Any, chosen: str | None) -> str | None:
    """Say so when the oldest Python the project asks for is not one the
    template offers (3.10 reached its end of life): never silently."""
    match = re.search(r"(\d+)\.(\d+)", spec if isinstance(spec, str) else "")
    if not match or chosen is None:
        return None
    wanted = f"{match[1]}.{match[2]}"
    if wanted == chosen:
        return None
    return (
        f"the project asks for Python {spec.strip()}; its pipelines and "
        f"requires-python use {chosen}, the oldest the template supports "
        "(set another with --data python_version=X.Y)"
    )


def infer_answers(root: Path) -> tuple[dict[str, Any], str]:
    """Answers read from the repository (what a user would otherwise type)
    and the folder name to render into, from which the template derives the
    project's name and slug."""
    inferred: dict[str, Any] = {}
    project = _project_table(root)
    if not project and builds_with_setup(root):
        project = _setup_as_project(read_setup(root))
    name = _text(project.get("name"))
    folder = name if name and _DIST_NAME.match(name) else root.name
    if _text(project.get("description")):
        inferred["description"] = _text(project["description"])
    authors = project.get("authors")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        for key, answer in (("name", "author_name"), ("email", "author_email")):
            if _text(authors[0].get(key)):
                inferred[answer] = _text(authors[0][key])
    version = _python_version(project.get("requires-python"))
    pinned = root / ".python-version"
    if version is None and pinned.is_file() and not pinned.is_symlink():
        version = _python_version(pinned.read_bytes()[:64].decode("latin-1"))
    if version:
        inferred["python_version"] = version
    packages = sorted(
        p.parent.name
        for p in root.glob("src/*/__init__.py")
        if p.parent.name.isidentifier()
    )
    wanted = re.sub(r"[-.]+", "_", folder.lower())
    if packages:
        inferred["package_name"] = wanted if wanted in packages else packages[0]
    github = any((root / ".github" / "workflows").glob("*.y*ml"))
    azure = (root / "azure-pipelines").is_dir() or any(
        root.glob("azure-pipelines.y*ml")
    )
    if github or azure:
        inferred["ci_provider"] = (
            "both" if github and azure else "github" if github else "azure"
        )
    inferred["default_branch"] = _default_branch(root)
    return inferred, folder


def _default_branch(root: Path) -> str:
    return (
        gitutil.remote_default_branch(root)
        or gitutil.current_branch(root)
        or "main"
    )


# ------------------------------------------------------------------ merging
def _load(text: str, path: Path):
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return round_trip().load(text)
    except MarkedYAMLError as error:
        raise malformed_yaml(
            path,
            error,
            hint="fix the file (or move it away), then adopt again; "
            f"{NOTHING_WRITTEN}",
        ) from error
    except (YAMLError, RecursionError) as error:
        raise MalformedFileError(
            path,
            f"is not valid YAML: {error}",
            hint=f"fix the file (or move it away), then adopt again; "
            f"{NOTHING_WRITTEN}",
        ) from error


def _names(items, *keys: str) -> set[str]:
    return {
        str(item.get(key))
        for item in items or []
        if isinstance(item, dict)
        for key in keys
        if key in item
    }


def _add_missing(ours: Any, theirs: Any, provider: str | None) -> bool:
    """Add the template's missing jobs (or stages) to ``ours`` in place;
    False when the shapes do not allow it."""
    if not isinstance(ours, dict) or not isinstance(theirs, dict):
        return False
    if provider == "github":
        if not isinstance(ours.get("jobs"), dict):
            return False
        for name, job in (theirs.get("jobs") or {}).items():
            if name not in ours["jobs"]:
                ours["jobs"][name] = job
        return True
    # The template's jobs read its pipeline variables: add the missing.
    variables = theirs.get("variables")
    if isinstance(variables, dict):
        if "variables" not in ours:
            # ``ours`` is ruamel's round-trip mapping (keeps key order).
            insert = getattr(ours, "insert")  # noqa: B009 - not on dict
            insert(max(len(ours) - 1, 0), "variables", variables)
        elif isinstance(ours["variables"], dict):
            for name, value in variables.items():
                ours["variables"].setdefault(name, value)
        else:
            return False
    for key, ids in (("stages", ("stage",)), ("jobs", ("job", "deployment"))):
        if key in theirs:
            if not isinstance(ours.get(key), list):
                return False
            present = _names(ours[key], *ids)
            for item in theirs[key]:
                if not _names([item], *ids) & present:
                    ours[key].append(item)
            return True
    return False


def _keeps_every_line(original: str, merged: str) -> bool:
    """Every line of ``original`` is in ``merged``, verbatim and in order."""
    remaining = iter(merged.split("\n"))
    return all(
        any(line == candidate for candidate in remaining)
        for line in original.split("\n")
    )


def _mapping_indent(text: str) -> int:
    """The indentation of the first nested mapping key (2 when none)."""
    lines = [
        line
        for line in text.split("\n")
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    ]
    for line in lines:
        width = len(line) - len(line.lstrip(" "))
        if width:
            return width if width in range(1, 9) else 2
    return 2


def merge_pipeline(
    existing: bytes, rendered: bytes, path: Path
) -> bytes | None:
    """The user's pipeline with the template's missing jobs (or stages)
    added, every line of theirs kept verbatim (line endings and a BOM
    too); None when that cannot be done (different shapes, an encoding or
    layout that a round trip would change)."""
    from ruamel.yaml.util import load_yaml_guess_indent

    bom = b"\xef\xbb\xbf"
    has_bom = existing.startswith(bom)
    try:
        text = existing[len(bom) if has_bom else 0 :].decode("utf-8")
    except UnicodeDecodeError:
        return None
    newline = "\r\n" if "\r\n" in text else "\n"
    text = text.replace("\r\n", "\n")
    if "\r" in text or "\t" in text:
        return None
    ours = _load(text, path)
    theirs = _load(rendered.decode("utf-8"), path)
    if not _add_missing(ours, theirs, provider_of_path(path)):
        return None
    yaml = round_trip()
    mapping = _mapping_indent(text)
    try:
        _, sequence, offset = load_yaml_guess_indent(text)
    except Exception:  # noqa: BLE001 - already parsed above; a guess only
        sequence, offset = None, None
    if sequence and offset is not None and sequence > offset:
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    else:
        yaml.indent(mapping=mapping, sequence=mapping + 2, offset=mapping)
    stream = io.StringIO()
    yaml.dump(ours, stream)
    merged = stream.getvalue()
    if not _keeps_every_line(text, merged):
        return None
    data = merged.replace("\n", newline).encode("utf-8")
    return bom + data if has_bom else data


def provider_of_path(path: Path) -> str | None:
    parts = path.as_posix().split("/")
    for index in range(len(parts)):
        provider = provider_of("/".join(parts[index:]))
        if provider:
            return provider
    return None


# ----------------------------------------------------------------- planning
@dataclass
class _Write:
    kind: str  # "add", "merge" or "alongside"
    relative: str  # the template's path
    target: str  # where it is written (relative to the repository)
    content: bytes
    mode: int = 0o644


def _blocked_by(root: Path, parts: list[str]) -> str | None:
    """The first parent folder of a path that is not a real folder (a file,
    or a symbolic link that could lead out of the repository)."""
    for depth in range(1, len(parts)):
        here = root.joinpath(*parts[:depth])
        if here.is_symlink():
            return f"{'/'.join(parts[:depth])} is a symbolic link"
        if os.path.lexists(here) and not here.is_dir():
            return f"{'/'.join(parts[:depth])} is a file, not a folder"
    return None


def _free_name(root: Path, relative: str, taken: set[str]) -> str:
    """``NAME.mlops-scaffold``, or the first free ``NAME.mlops-scaffold-N``:
    never a file that exists."""
    candidate, number = relative + ALONGSIDE, 1
    while candidate in taken or os.path.lexists(root / candidate):
        number += 1
        candidate = f"{relative}{ALONGSIDE}-{number}"
    taken.add(candidate)
    return candidate


LEGACY_LIST = ".pipeline-lint-legacy"


def _legacy_list(root: Path, result: AdoptResult) -> list[_Write]:
    """The workflows and pipelines the project had before: the generated
    pipeline lint reports their findings as warnings (a team's existing
    jobs do not block every commit from the first one)."""
    from .pipelines.discovery import discover

    if os.path.lexists(root / LEGACY_LIST):
        return []
    found = sorted(source.relative for source in discover(root).sources)
    if not found:
        return []
    text = (
        "# Workflows and pipelines this project had before `mlops-scaffold\n"
        "# adopt`: `make pipeline-lint` (and its pre-commit hook) reports\n"
        "# their findings as warnings. Remove a line once its file is clean.\n"
        + "".join(f"{name}\n" for name in found)
    )
    result.notes.append(
        f"{LEGACY_LIST} lists the {len(found)} workflow/pipeline file(s) the "
        "project had: their findings are warnings until you fix them"
    )
    return [_Write("add", LEGACY_LIST, LEGACY_LIST, text.encode("utf-8"))]


def _merged_ignore(ours: bytes, template: bytes) -> bytes:
    """The project's .gitignore with the template's patterns it lacks
    appended (reports, models, the MLflow store, coverage files)."""
    have = {
        line.strip() for line in ours.decode("utf-8", "replace").splitlines()
    }
    missing = [
        line
        for line in template.decode("utf-8").splitlines()
        if line.strip()
        and not line.startswith("#")
        and line.strip() not in have
    ]
    if not missing:
        return ours
    head = ours if ours.endswith(b"\n") or not ours else ours + b"\n"
    added = "\n# Added by mlops-scaffold adopt (the template's patterns).\n"
    return head + (added + "\n".join(missing) + "\n").encode("utf-8")


def _plan(root: Path, rendered: Path, result: AdoptResult) -> list[_Write]:
    """Every write, decided before any is made: reads and checks each
    existing file the template touches."""
    plan: list[_Write] = []
    taken: set[str] = set()
    setup = read_setup(root) if builds_with_setup(root) else None
    for source in sorted(rendered.rglob("*")):
        relative = source.relative_to(rendered).as_posix()
        if source.is_dir() or ".git" in relative.split("/"):
            continue
        content, mode = source.read_bytes(), source.stat().st_mode & 0o777
        parts = relative.split("/")
        blocked = _blocked_by(root, parts)
        if blocked:
            result.skipped.append((relative, blocked))
            continue
        target = root / relative
        if relative == "pyproject.toml" and setup is not None:
            made = setuptools_pyproject(content.decode("utf-8"), setup)
            plan.append(_Write("add", relative, relative, made.encode(), mode))
            result.notes.append(
                f"pyproject.toml made from {setup.source}'s metadata (name, "
                "version, dependencies) with the template's tasks; setuptools "
                "still builds the project"
            )
            continue
        if not os.path.lexists(target):
            plan.append(_Write("add", relative, relative, content, mode))
            continue
        if target.is_symlink():
            why = "is a symbolic link: left alone"
        elif not target.is_file():
            result.skipped.append((relative, f"{relative} is not a file"))
            continue
        else:
            why = ""
            ours = target.read_bytes()
            if ours == content:
                continue
            if relative == ".gitignore":
                merged_ignore = _merged_ignore(ours, content)
                if merged_ignore != ours:
                    plan.append(
                        _Write("merge", relative, relative, merged_ignore)
                    )
                continue
            if provider_of_path(Path(relative)) and relative.endswith(
                (".yml", ".yaml")
            ):
                merged = merge_pipeline(ours, content, target)
                if merged is not None:
                    if merged != ours:
                        plan.append(_Write("merge", relative, relative, merged))
                    continue
        beside = _free_name(root, relative, taken)
        plan.append(_Write("alongside", relative, beside, content, mode))
        if why:
            result.notes.append(f"{relative} {why}")
    return plan


# ---------------------------------------------------------------- journaling
class _Journal:
    """What a run wrote, kept in the git folder until the adoption is
    committed, so that a failure (or the next run, after a kill) can put
    every file back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = gitutil.git_path(root, JOURNAL)
        self.file = self.folder / "journal.json"

    def exists(self) -> bool:
        return self.file.is_file()

    def start(self, head: str, plan: list[_Write]) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        (self.folder / "backup").mkdir(parents=True)
        created_dirs = []
        for write in plan:
            parent = Path(write.target).parent
            while parent != Path(".") and not os.path.lexists(
                self.root / parent
            ):
                created_dirs.append(parent.as_posix())
                parent = parent.parent
        modified = [w.target for w in plan if w.kind == "merge"]
        for index, relative in enumerate(modified):
            shutil.copy2(
                self.root / relative, self.folder / "backup" / str(index)
            )
        record = {
            "head": head,
            "created": [w.target for w in plan if w.kind != "merge"],
            "created_dirs": sorted(set(created_dirs), key=len, reverse=True),
            "modified": modified,
            # what this run writes: a file holding anything else was edited
            # since (by the user, after a kill) and is kept as it is
            "written": {
                w.target: hashlib.sha256(w.content).hexdigest() for w in plan
            },
        }
        temporary = self.folder / "journal.json.tmp"
        temporary.write_text(json.dumps(record), encoding="utf-8")
        os.replace(temporary, self.file)

    def roll_back(self) -> list[str]:
        """Put back every file the journaled run wrote (index included),
        except one that holds something else than the run wrote (edited
        since): that one is kept, and named in the list returned."""
        record = json.loads(self.file.read_text(encoding="utf-8"))
        written = record.get("written", {})
        kept = []
        gitutil.git("read-tree", "HEAD", cwd=self.root, check=False)
        for relative in record["created"]:
            path = self.root / relative
            if path.is_file() and not path.is_symlink():
                if self._as_written(path, written.get(relative)):
                    path.unlink()
                else:
                    kept.append(relative)
        for index, relative in enumerate(record["modified"]):
            backup = self.folder / "backup" / str(index)
            path = self.root / relative
            if not backup.is_file():
                continue
            if os.path.lexists(path) and not self._as_written(
                path, written.get(relative)
            ):
                if path.read_bytes() != backup.read_bytes():
                    kept.append(relative)
                continue
            os.replace(backup, path)
        for relative in record["created_dirs"]:
            with contextlib.suppress(OSError):
                (self.root / relative).rmdir()
        self.finish()
        return kept

    @staticmethod
    def _as_written(path: Path, digest: str | None) -> bool:
        """Whether ``path`` holds what the run wrote (True for journals
        of earlier versions, which recorded no hash)."""
        if digest is None:
            return True
        try:
            content = read_bounded(path, MAX_WRITTEN)
        except (OSError, ScaffoldError):
            return False
        return hashlib.sha256(content).hexdigest() == digest

    def head(self) -> str:
        return json.loads(self.file.read_text(encoding="utf-8"))["head"]

    def finish(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _write(root: Path, write: _Write) -> None:
    target = root / write.target
    target.parent.mkdir(parents=True, exist_ok=True)
    if write.kind == "merge":
        # A fresh name, created exclusively (never through a link a
        # repository may hold at a guessable name), then one rename.
        descriptor, name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".mlops-scaffold-tmp",
            dir=target.parent,
        )  # fmt: skip
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(write.content)
            shutil.copymode(target, temporary)
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        return
    # "x": never overwrite, even a file that appeared since the plan
    with open(target, "xb") as handle:
        handle.write(write.content)
    os.chmod(target, write.mode)


# ----------------------------------------------------------------- adopting
def _recover(root: Path, result: AdoptResult) -> None:
    """Finish what a killed run left: roll its files back, or (if it got
    as far as its commit) just drop the journal."""
    journal = _Journal(root)
    if not journal.exists():
        return
    try:
        head = journal.head()
    except (OSError, ValueError, KeyError):
        journal.finish()
        return
    if gitutil.head(root) == head:
        kept = journal.roll_back()
        if kept:
            raise UsageError(
                "An interrupted adopt was put back, but you changed "
                f"{', '.join(kept)} after it wrote them: kept as they are.",
                hint="commit, move or delete those files, then adopt again",
            )
        result.notes.append(
            "put back the files of an interrupted adopt; adopting again"
        )
    else:
        journal.finish()


def _already_adopted(root: Path, result: AdoptResult) -> bool:
    """Adopted before (here, or in the clone this one came from): make sure
    the local template branch exists, and say so."""
    local = f"refs/heads/{TEMPLATE_BRANCH}"
    if gitutil.branch_exists(root, local):
        return True
    remote = f"refs/remotes/origin/{TEMPLATE_BRANCH}"
    if gitutil.branch_exists(root, remote):
        gitutil.git("branch", "--quiet", "--no-track", TEMPLATE_BRANCH, remote,
                    cwd=root)  # fmt: skip
        result.notes.append(
            f"restored the local {TEMPLATE_BRANCH} branch from origin"
        )
        return True
    if os.path.lexists(root / ANSWERS_FILE):
        found = template_commits(root, "HEAD")
        if found:
            gitutil.git("branch", "--quiet", TEMPLATE_BRANCH, found[0],
                        cwd=root)  # fmt: skip
            result.notes.append(
                f"restored the {TEMPLATE_BRANCH} branch from the history"
            )
            return True
        if _made_by_copier(root):
            result.notes.append(
                f"{ANSWERS_FILE} says Copier made this project: "
                "`mlops-scaffold update` builds the template branch from "
                "what Copier recorded and updates it"
            )
            return True
    return False


def _made_by_copier(root: Path) -> bool:
    """An answers file of this template that records a Copier source
    (another template's file, or a broken one, is not ours: adopt goes
    on)."""
    from .update import read_answers_file

    try:
        recorded = read_answers_file(root)
    except MalformedFileError:
        return False
    return isinstance(recorded.get("_src_path"), str) and (
        "project_slug" in recorded and "package_name" in recorded
    )


def _refuse_other_templates(root: Path) -> None:
    """Another Copier template's answers file: adopting would write ours
    over theirs (and a later update would rewrite their ``_src_path``)."""
    from .update import read_answers_file

    if not os.path.lexists(root / ANSWERS_FILE):
        return
    try:
        source = read_answers_file(root).get("_src_path")
    except MalformedFileError:
        source = None
    made_by = f" ({source})" if isinstance(source, str) else ""
    raise UsageError(
        f"{ANSWERS_FILE} in {root} holds the answers of another Copier "
        f"template{made_by}; adopting would record mlops-scaffold's answers "
        "over them.",
        hint=f"rename that file (for example `git mv {ANSWERS_FILE} "
        ".copier-answers.theirs.yml`, then `copier update --answers-file "
        ".copier-answers.theirs.yml` for their template) and adopt again",
    )


def _check_state(root: Path) -> None:
    if gitutil.head(root) is None:
        raise UsageError(
            f"{root} has no commit yet.",
            hint="commit what is there first (`git add --all && git commit`), "
            "then adopt",
        )
    unfinished = gitutil.operation_in_progress(root)
    if unfinished:
        raise UsageError(
            f"A {unfinished} is in progress in {root}.",
            hint=f"finish it or undo it (`git {unfinished} --abort`), then "
            "adopt",
        )
    if gitutil.current_branch(root) is None:
        raise UsageError(
            "HEAD is detached: the adoption commit would be on no branch.",
            hint="switch to a branch (`git switch main`), then adopt",
        )


def adopt_project(
    path: Path | str = ".",
    *,
    data: Mapping[str, Any] | None = None,
    pretend: bool = False,
    branch: str | None = None,
) -> AdoptResult:
    """Add the template's pipelines to the repository at ``path`` in one
    commit (on a new ``branch`` when given); ``pretend`` says what would be
    written and writes nothing."""
    root = gitutil.repository_root(Path(path).absolute())
    result = AdoptResult(pretend=pretend, branch=branch)
    _check_state(root)
    _recover(root, result)
    if _already_adopted(root, result):
        result.already_adopted = True
        return result
    if branch is not None:
        gitutil.require_new_branch(root, branch, reserved=TEMPLATE_BRANCH)
    _refuse_other_templates(root)
    gitutil.require_clean(
        root,
        why="",
        hint="commit or stash them first, so that the adoption is one "
        "reviewable commit",
    )
    overrides = dict(data or {})
    check_known(overrides)
    inferred, folder = infer_answers(root)
    answers = {**inferred, **overrides}
    note = python_note(
        (_project_table(root) or _setup_python(root)).get("requires-python"),
        str(answers.get("python_version") or "") or None,
    )
    if note and "python_version" not in overrides:
        result.notes.append(note)

    with staging_folder(Path(tempfile.gettempdir())) as staging:
        rendered = staging / "template" / folder
        rendered.parent.mkdir()
        try:
            result.answers = render(rendered, data=answers, defaults=True)
        except InvalidAnswerError as error:
            raise InvalidAnswerError(
                f"{error.message} (answers inferred from {root}: "
                f"{', '.join(sorted(inferred)) or 'none'})",
                hint="set the right value with --data KEY=VALUE; "
                f"{NOTHING_WRITTEN}",
            ) from error
        plan = _plan(root, rendered, result)
        plan += _legacy_list(root, result)
        if pretend:
            _report(plan, result)
            return result
        pristine = commit_tree(root, rendered, None, template_message())
    _apply(root, plan, pristine, result, branch)
    return result


def _apply(
    root: Path,
    plan: list[_Write],
    pristine: str,
    result: AdoptResult,
    branch: str | None = None,
) -> None:
    """Write the plan and commit it with the pristine output as second
    parent (on a new ``branch`` when given); on any failure before the
    commit, put every file back (and the branch)."""
    start = gitutil.output("rev-parse", "HEAD", cwd=root)
    original = gitutil.current_branch(root)
    journal = _Journal(root)
    journal.start(start, plan)
    try:
        if branch:  # checked absent before: a branch of that name is ours
            gitutil.git("switch", "--quiet", "--create", branch, cwd=root)
        for write in plan:
            _write(root, write)
        if plan:
            gitutil.git(
                "add", "--force", "--pathspec-from-file=-",
                "--pathspec-file-nul", cwd=root,
                env={"GIT_LITERAL_PATHSPECS": "1"},
                input_text="\0".join(w.target for w in plan),
            )  # fmt: skip
        tree = gitutil.output("write-tree", cwd=root)
        identity = gitutil.identity_env(root, *gitutil.FALLBACK_IDENTITY)
        commit = gitutil.output(
            "commit-tree", tree, "-p", start, "-p", pristine,
            "-m", ADOPT_MESSAGE, cwd=root, env=identity,
        )  # fmt: skip
        gitutil.git("update-ref", "-m", "mlops-scaffold adopt", "HEAD",
                    commit, start, cwd=root)  # fmt: skip
    except BaseException:
        if gitutil.head(root) == start:
            journal.roll_back()
            if branch and original and gitutil.current_branch(root) == branch:
                gitutil.git("switch", "--quiet", original, cwd=root)
                gitutil.git("branch", "--quiet", "-D", branch, cwd=root,
                            check=False)  # fmt: skip
        else:
            journal.finish()
        raise
    journal.finish()
    gitutil.git("branch", "--quiet", TEMPLATE_BRANCH, pristine, cwd=root)
    _report(plan, result)


def _report(plan: list[_Write], result: AdoptResult) -> None:
    """What the plan writes, in the result's lists."""
    for write in plan:
        if write.kind == "add":
            result.added.append(write.relative)
        elif write.kind == "merge":
            result.merged.append(write.relative)
        else:
            result.alongside.append((write.relative, write.target))
