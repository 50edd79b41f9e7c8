"""Rendering the template into a staging folder, through Copier.

Copier is the only engine: every render (``new`` with or without prompts,
``update``, ``adopt``) is one ``copier.run_copy`` into a folder named after
the destination, so ``_copier_conf.dst_path``, the defaults derived from the
folder name and the user's Copier settings (``defaults:``) are Copier's own.
See docs/decisions/0001-copier-is-the-only-engine.md.

Nothing is ever rendered into the user's destination directly: callers get a
fresh folder next to it and move it into place only when everything worked,
so a failure, Ctrl-C or SIGTERM leaves the destination as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import types
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .errors import DestinationError, GenerationError, InvalidAnswerError
from .template import ANSWERS_FILE, copier_config, template_root

#: Prefix of every staging folder (interrupt tests look for leftovers).
STAGING_PREFIX = ".mlops-scaffold-"


@contextlib.contextmanager
def staging_folder(near: Path) -> Iterator[Path]:
    """A temporary folder on the same filesystem as ``near``, removed on
    exit whatever happens. SIGTERM becomes KeyboardInterrupt meanwhile, and
    Ctrl-C and SIGTERM are held while the folder is made and removed, so
    that no signal can leave it behind."""
    with terminate_as_interrupt():
        with signals_held():
            try:
                near.mkdir(parents=True, exist_ok=True)
                folder = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=near))
            except OSError as error:
                raise cannot_write(near, error) from error
        try:
            yield folder
        finally:
            # Whatever happened is final by now: a signal during the
            # clean-up is dropped rather than reported as a failure.
            with signals_held(committing=True):
                shutil.rmtree(folder, ignore_errors=True)


#: The variables that point git at a repository other than the one in the
#: current folder (``git rev-parse --local-env-vars``, less the ones that
#: only carry ``git -c`` settings).
GIT_LOCATION_VARIABLES = (
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_COMMON_DIR", "GIT_DIR",
    "GIT_GRAFT_FILE", "GIT_IMPLICIT_WORK_TREE", "GIT_INDEX_FILE",
    "GIT_INTERNAL_SUPER_PREFIX", "GIT_NO_REPLACE_OBJECTS",
    "GIT_OBJECT_DIRECTORY", "GIT_PREFIX", "GIT_REPLACE_REF_BASE",
    "GIT_SHALLOW_FILE", "GIT_WORK_TREE",
)  # fmt: skip


@contextlib.contextmanager
def own_git_environment() -> Iterator[None]:
    """Run the block with git's repository-locating variables removed
    from ``os.environ``, then put them back. Inside a git hook (or after
    ``export GIT_DIR=...``) git sets GIT_DIR, GIT_INDEX_FILE and friends,
    and every git that Copier and we start obeys them: it would read or
    write that other repository instead of the one being made or updated.
    Copier runs git itself, so the variables must be gone from the
    process environment, not only from our own calls."""
    saved = {
        name: os.environ.pop(name)
        for name in GIT_LOCATION_VARIABLES
        if name in os.environ
    }
    try:
        yield
    finally:
        os.environ.update(saved)


def cannot_write(folder: Path, error: OSError) -> DestinationError:
    """An OS refusal to create something in ``folder`` (a read-only or
    virtual file system such as /proc, no permission, no space), as the
    usage error it is."""
    return DestinationError(
        f"Cannot create files in {folder}: "
        f"{error.strerror or error.__class__.__name__}.",
        hint="choose a destination in a folder you can write in",
    )


_HELD = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def signals_held(*, committing: bool = False) -> Iterator[None]:
    """Delay Ctrl-C and SIGTERM until the block is done. A block that
    ``commits`` the job (the final move) and succeeds drops a signal that
    came meanwhile: the job is done, and an interrupt now would only report
    a failure that did not happen."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: nothing to hold
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
        if committing:
            while signal.sigtimedwait(_HELD & signal.sigpending(), 0):
                pass
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _interrupt(signum: int, frame: types.FrameType | None) -> None:
    """Ctrl-C and SIGTERM as KeyboardInterrupt, raised where it can reach
    the command's cleanup. A signal that lands inside the import system's
    weakref callback (a lazy import part-way) would have its exception
    printed with a traceback and dropped ("Exception ignored in"): it is
    delivered again, at the next instruction outside."""
    if frame is not None and frame.f_code.co_filename.startswith(
        "<frozen importlib"
    ):
        signal.raise_signal(signum)
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C (cleanup, then exit 130), in the main
    thread, and deliver both where they can be handled (``_interrupt``);
    elsewhere signals cannot be handled and nothing changes."""
    try:
        previous = {
            number: signal.signal(number, _interrupt) for number in _HELD
        }
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def render(
    destination: Path,
    *,
    data: Mapping[str, Any],
    defaults: bool,
    template_source: str | None = None,
    recorded_source: str | None = None,
) -> dict[str, Any]:
    """Render the template with Copier into ``destination`` (missing or
    empty, and named like the project's final folder); return every answer,
    computed ones included.

    Two Copier runs: the first answers the questions (``defaults`` or the
    prompts; it renders no file), the second renders with all those answers
    as data, which Copier validates one by one. Copier does not validate
    defaults (its documented rule), so without the second look a default
    derived from a folder named ``class`` would make a package nobody can
    import.

    ``template_source`` is what ``.copier-answers.yml`` records as
    ``_src_path`` (default: this package's repository URL), with
    ``_commit: v<version>``. When it is a local git repository holding that
    release tag, Copier renders from the tag itself, so plain
    ``copier update`` later compares against exactly this template.
    ``recorded_source`` (``update``: what the project recorded) renders the
    installed template and records that source unchanged.
    """
    release = f"v{__version__}"
    source = template_source or repository_url()
    git_source = _local_release(source, release)
    given = {
        key: value for key, value in data.items() if not key.startswith("_")
    }
    with _questions_only(destination, git_source) as questionnaire:
        asked = _run_copy(
            questionnaire,
            destination,
            data=given,
            defaults=defaults,
            vcs_ref=release if git_source else None,
            pretend=True,
        )
    recorded = {
        key: value
        for key, value in asked.answers.combined.items()
        if key in asked.template.questions_data
        and key not in asked.answers.hidden
    }
    rendered = _run_copy(
        git_source or str(template_root()),
        destination,
        data=recorded,
        defaults=True,
        vcs_ref=release if git_source else None,
        pretend=False,
    )
    if not git_source:
        _record_source(destination, recorded_source or source, release)
    return {
        key: value
        for key, value in rendered.answers.combined.items()
        if not key.startswith("_")
    }


@contextlib.contextmanager
def _questions_only(destination: Path, git_source: str | None):
    """The template's questionnaire without its files, for the run that
    only answers: ``copier.yml`` (linked) over an empty project folder, so
    Copier's walk of the template, which renders every path even when all
    are excluded, costs nothing. A git source is used as it is."""
    if git_source:
        yield git_source
        return
    root = template_root()
    subdirectory = copier_config().get("_subdirectory", "")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        view = Path(
            tempfile.mkdtemp(prefix=".questions-", dir=destination.parent)
        )
    except OSError as error:
        raise cannot_write(destination.parent, error) from error
    try:
        (view / "copier.yml").symlink_to(root / "copier.yml")
        (view / subdirectory).mkdir(parents=True, exist_ok=True)
        yield str(view)
    finally:
        shutil.rmtree(view, ignore_errors=True)


def _run_copy(
    source: str,
    destination: Path,
    *,
    data: dict[str, Any],
    defaults: bool,
    vcs_ref: str | None,
    pretend: bool,
):
    """One ``copier.run_copy``, its errors turned into ours. A ``pretend``
    run only answers the questions (and excludes every path)."""
    import copier
    from copier.errors import (
        CopierAnswersInterrupt,
        CopierError,
        InteractiveSessionError,
    )
    from jinja2 import TemplateError
    from plumbum import ProcessExecutionError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return copier.run_copy(
                source,
                destination,
                data=data,
                defaults=defaults,
                vcs_ref=vcs_ref,
                pretend=pretend,
                exclude=["*", ".*"] if pretend else [],
                quiet=True,
                unsafe=False,
                overwrite=True,
                cleanup_on_error=False,
            )
    except CopierAnswersInterrupt as error:
        raise KeyboardInterrupt from error
    except InteractiveSessionError as error:
        raise InvalidAnswerError(
            "No terminal to ask the questions on.",
            hint="pass --defaults (with --data KEY=VALUE for the answers "
            "you want to set)",
        ) from error
    except ValueError as error:
        # Copier's report of a failed validator, a bad choice or a value
        # that does not cast to the question's type.
        raise InvalidAnswerError(
            f"Invalid answer: {error}",
            hint=_hint_for(error, data),
        ) from error
    except (CopierError, TemplateError) as error:
        raise GenerationError(
            f"Rendering the template failed: {error}",
            hint="this is a bug in the template; please report it",
        ) from error
    except ProcessExecutionError as error:  # a git that Copier ran
        stderr = (error.stderr or "").strip().splitlines()
        raise GenerationError(
            f"Copier's `{' '.join(map(str, error.argv[:3]))}` failed "
            f"(exit {error.retcode}): {stderr[-1] if stderr else ''}",
            hint="check that the template source is a readable git "
            "repository or folder, then run the command again",
        ) from error


def _hint_for(error: ValueError, data: Mapping[str, Any]) -> str:
    import re

    named = re.search(r"question '(\w+)'|for '(\w+)'", str(error))
    name = next((n for n in named.groups() if n), "KEY") if named else "KEY"
    hint = f"change it with --data {name}=VALUE"
    if name == "python_version" and isinstance(data.get(name), float):
        return (
            "quote it in the YAML file (python_version: '3.10'): unquoted, "
            "YAML reads a version like 3.10 as the number 3.1; or " + hint
        )
    return hint


def repository_url() -> str:
    """The project's repository, from the package metadata
    (``[project.urls] Repository``), or from ``pyproject.toml`` when running
    from a source checkout that is not installed."""
    from importlib import metadata

    try:
        urls = metadata.metadata("mlops-scaffold").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        label, _, url = entry.partition(",")
        if label.strip().lower() == "repository":
            return url.strip()
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        with pyproject.open("rb") as handle:
            project = tomllib.load(handle).get("project", {})
        if "Repository" in project.get("urls", {}):
            return project["urls"]["Repository"]
    raise GenerationError(
        "The package metadata names no repository URL.",
        hint="pass --template-source, or reinstall mlops-scaffold",
    )


def _local_release(source: str, release: str) -> str | None:
    """``source`` as a path when it is a local git repository that holds
    the tag ``release``; None for anything else (a URL, a plain folder).
    A local repository without the tag is refused: recording a tag it does
    not have would break ``copier update`` later."""
    from . import gitutil

    path = Path(source).expanduser()
    if "://" in source or not path.is_dir():
        return None
    if gitutil.top_level(path) != path.resolve():
        return None
    if not gitutil.has_ref(path, f"refs/tags/{release}"):
        raise InvalidAnswerError(
            f"The template source {source} has no tag {release} (this "
            "release of mlops-scaffold).",
            hint=f"tag the release there (`git tag {release}`), or leave "
            "out --template-source",
        )
    return str(path.resolve())


def _record_source(destination: Path, source: str, release: str) -> None:
    """Record where the template comes from and which release rendered it,
    where Copier puts them when it renders from a git tag (first)."""
    import yaml

    name = copier_config().get("_answers_file", ANSWERS_FILE)
    path = destination / name
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.startswith(("_commit:", "_src_path:"))
    ]
    at = next((i for i, line in enumerate(kept) if not line.startswith("#")), 0)
    stamp = {"_commit": release, "_src_path": source}
    kept[at:at] = yaml.safe_dump(stamp, sort_keys=False).splitlines()
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
