"""The one error hierarchy of mlops-scaffold.

Every failure a user can cause is a ``ScaffoldError`` with a message that
says what is wrong and how to fix it. The CLI turns these into exit codes in
one place (``cli.main``); nothing else prints tracebacks or calls ``exit``.
"""

from __future__ import annotations


class ScaffoldError(Exception):
    """Base class: a problem the user can fix. Exit code 1."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return (
            f"{self.message}\n  hint: {self.hint}"
            if self.hint
            else self.message
        )


class UsageError(ScaffoldError):
    """The command line or an answer is wrong. Exit code 2."""

    exit_code = 2


class InvalidAnswerError(UsageError):
    """An answer (from --data, --data-file or a prompt) failed validation."""


class UnknownAnswerError(UsageError):
    """An answer names a question the template does not have."""


class DestinationError(UsageError):
    """The destination cannot be written without losing a user's files."""


class NotAGitRepositoryError(UsageError):
    """A command that needs git history was run outside a repository."""


class DirtyRepositoryError(ScaffoldError):
    """The working tree has uncommitted changes that an update could mix."""


class MalformedFileError(ScaffoldError):
    """A file the command must read is not valid (YAML, JSON, notebook).
    Exit code 2: bad input."""

    exit_code = 2

    def __init__(
        self,
        path: object,
        detail: str,
        *,
        line: int | None = None,
        hint: str = "",
    ) -> None:
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {detail}", hint=hint)
        self.path = path
        self.line = line


class GitError(ScaffoldError):
    """A git command failed."""


class GenerationError(ScaffoldError):
    """Rendering the template failed; nothing was written."""


class UpdateConflictError(ScaffoldError):
    """An update left merge conflicts for the user to resolve (or, with
    ``pretend``, would leave them)."""

    def __init__(self, files: list[str], *, pretend: bool = False) -> None:
        listing = "\n".join(f"  - {name}" for name in files)
        if pretend:
            super().__init__(
                "The update would leave conflicts in these files:\n" + listing,
                hint="run `mlops-scaffold update` to merge and resolve them, "
                "or edit the files first so that they agree",
            )
        else:
            super().__init__(
                "The update merged, but these files have conflicts:\n"
                + listing,
                hint="resolve the conflict markers, `git add` the files and "
                "`git commit`; the next `mlops-scaffold update` records "
                "the template version you merged. Or undo everything with "
                "`git merge --abort`: a later update brings the change "
                "again",
            )
        self.files = files


class LocalFilesInTheWayError(ScaffoldError):
    """Files git does not track (ignored or untracked) sit where the
    template would write. Exit code 1: nothing was changed."""

    def __init__(self, root: object, files: list[str], *, what: str) -> None:
        listing = "\n".join(f"  - {name}" for name in files[:20])
        more = f"\n  ... and {len(files) - 20} more" if len(files) > 20 else ""
        super().__init__(
            f"{what} would write over files in {root} that git does not "
            f"track (untracked or ignored):\n{listing}{more}",
            hint="move or rename them (they are yours; nothing was changed), "
            "then run the command again",
        )
        self.files = files


class FindingsError(ScaffoldError):
    """`check` or `notebook convert --check` found problems. Exit code 1."""


class UnsupportedPipelineError(UsageError):
    """`run` met a construct it does not emulate (named precisely), or a
    file, job or option that does not exist. Exit code 2."""


class RunInterruptedError(ScaffoldError):
    """Ctrl-C stopped `run`: the running step was stopped and the jobs so
    far were reported. Exit code 130."""

    exit_code = 130
