"""`new`: write a complete ML repository into a new folder."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .answers import check_known, check_template_source
from .errors import DestinationError
from .lock import lock_project, lock_wanted
from .render import (
    cannot_write,
    own_git_environment,
    render,
    signals_held,
    staging_folder,
    terminate_as_interrupt,
)
from .template_branch import initial_commit


@dataclass(frozen=True)
class NewProject:
    path: Path
    answers: dict[str, Any]
    committed: bool
    #: Why uv.lock was not written (None: it was, or locking was skipped).
    unlocked: str | None = None

    def next_steps(self) -> list[str]:
        """What to do next, for `new` to print: the first tasks, and the
        answers that are still placeholders (a default owner nobody chose)."""
        steps = [
            "cd into it; `make install` creates the environment (.venv, "
            "from uv.lock); then `make lint test train quality` "
            "(no need to activate .venv)."
        ]
        if self.unlocked:
            steps.append(
                f"uv.lock is not written ({self.unlocked}): run `make "
                "install` and commit uv.lock and deploy/conda.yml before the "
                "first push, or CI fails."
            )
        placeholder = f"@{self.answers.get('project_slug')}-ml"
        unchosen = [
            key
            for key in ("code_owners", "platform_owners")
            if self.answers.get(key) == placeholder
        ]
        if unchosen and self.answers.get("ci_provider") in ("github", "both"):
            settings = " ".join(f"--data {key}=@ORG/TEAM" for key in unchosen)
            steps.append(
                f".github/CODEOWNERS names {placeholder}, a placeholder "
                f"owner ({' and '.join(unchosen)} took the default): set the "
                f"real owners with `mlops-scaffold update {settings}`."
            )
        return steps


def new_project(
    destination: Path | str,
    *,
    data: Mapping[str, Any] | None = None,
    defaults: bool = False,
    git: bool = True,
    template_source: str | None = None,
    lock: bool | None = None,
) -> NewProject:
    """Render the template into ``destination`` (missing or empty).

    With ``lock`` (default: unless MLOPS_SCAFFOLD_NO_LOCK=1), uv.lock and
    deploy/conda.yml are written before the initial commit, when uv and the
    package index are reachable; ``NewProject.unlocked`` says why not.

    The render happens in a staging folder beside the destination, which is
    moved into place only when rendering, validation and the initial commit
    have all worked: a failure or an interrupt leaves nothing behind.
    """
    if template_source is not None:
        check_template_source(template_source)
    with terminate_as_interrupt(), own_git_environment():
        return _new_project(
            Path(destination).expanduser().absolute(),
            answers_in=dict(data or {}),
            defaults=defaults,
            git=git,
            template_source=template_source,
            lock=lock_wanted() if lock is None else lock,
        )


def _new_project(
    destination: Path,
    *,
    answers_in: dict[str, Any],
    defaults: bool,
    git: bool,
    template_source: str | None,
    lock: bool,
) -> NewProject:
    unlocked = None
    try:
        _check_destination(destination)
    except OSError as error:  # an unreadable parent, a vanished folder
        raise cannot_write(destination.parent, error) from error
    check_known(answers_in)

    created_parents = _missing_parents(destination)
    moved = False
    try:
        with staging_folder(destination.parent) as staging:
            # Named like the destination: Copier derives the default
            # project name and `_copier_conf.dst_path` from it.
            rendered = staging / destination.name
            answers = render(
                rendered,
                data=answers_in,
                defaults=defaults,
                template_source=template_source,
            )
            if lock:
                # Before the commit: the first push installs from uv.lock.
                unlocked = lock_project(rendered)
            if git:
                initial_commit(rendered, answers)
            with signals_held(committing=True):  # all of it, or none
                _move_into_place(rendered, destination)
                moved = True
    except KeyboardInterrupt:
        if not moved:
            _remove_created(created_parents)
            raise
        # The project is complete and in place: an interrupt that lands
        # between the move and the return reports nothing that failed.
    except BaseException:
        _remove_created(created_parents)
        raise
    return NewProject(
        path=destination, answers=answers, committed=git, unlocked=unlocked
    )


def _remove_created(created_parents: list[Path]) -> None:
    for parent in created_parents:
        try:
            parent.rmdir()
        except OSError:
            break


def _check_destination(destination: Path) -> None:
    name_max = _name_max(destination)
    for part in (destination, *destination.parents):
        if len(os.fsencode(part.name)) > name_max:
            raise DestinationError(
                f"The folder name {part.name[:40]}... is "
                f"{len(os.fsencode(part.name))} bytes long; this file system "
                f"allows {name_max}.",
                hint="choose a shorter folder name",
            )
    if destination.is_symlink() and not destination.exists():
        raise DestinationError(
            f"{destination} is a symbolic link to "
            f"{os.readlink(destination)}, which does not exist.",
            hint="choose a new folder name, or remove the link first",
        )
    if destination.is_file() or (
        destination.exists() and not destination.is_dir()
    ):
        raise DestinationError(
            f"{destination} is a file, not a folder.",
            hint="choose a new folder name for the project",
        )
    if destination.is_dir() and any(destination.iterdir()):
        raise DestinationError(
            f"{destination} already exists and is not empty; mlops-scaffold "
            "never writes over existing files.",
            hint="choose a new folder, or use `mlops-scaffold adopt` to add "
            "the pipelines to an existing repository",
        )
    for parent in destination.parents:
        if parent.exists():
            if not parent.is_dir():
                raise DestinationError(
                    f"{parent} is a file, not a folder.",
                    hint="choose a destination whose parents are folders",
                )
            if not os.access(parent, os.W_OK):
                raise DestinationError(
                    f"Cannot write in {parent}: permission denied.",
                    hint="choose a folder you can write in",
                )
            break


def _name_max(path: Path) -> int:
    """The longest file name (bytes) that the deepest existing folder above
    ``path`` allows."""
    limit = 255
    for folder in reversed(path.parents):
        try:
            if not folder.is_dir():
                break
            limit = os.pathconf(folder, "PC_NAME_MAX")
        except (OSError, ValueError):
            break
    return limit


def _missing_parents(destination: Path) -> list[Path]:
    """Parents that do not exist yet, innermost first."""
    missing = []
    for parent in destination.parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def _move_into_place(rendered: Path, destination: Path) -> None:
    """Move the finished project to ``destination`` in one rename, so two
    runs into one folder cannot mix: the second rename fails on the first
    one's project. An empty folder the user made is removed only while it
    is still empty (rmdir is atomic) and comes back with its mode."""
    emptied = None
    try:
        if destination.is_dir():
            emptied = stat.S_IMODE(destination.stat().st_mode)
            destination.rmdir()  # fails unless still empty
        rendered.rename(destination)
        if emptied is not None:
            os.chmod(destination, emptied)
    except OSError as error:
        if emptied is not None and not destination.exists():
            with contextlib.suppress(OSError):
                destination.mkdir(mode=emptied)  # the user's folder back
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST):
            raise DestinationError(
                f"{destination} was filled by something else while the "
                "project was being made (another `new`?); nothing of this "
                "run was written there.",
                hint="choose another folder, or remove that one and run again",
            ) from error
        raise cannot_write(destination.parent, error) from error
