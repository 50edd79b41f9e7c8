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
    """An update left merge conflicts for the user to resolve."""

    def __init__(self, files: list[str]) -> None:
        listing = "\n".join(f"  - {name}" for name in files)
        super().__init__(
            "The update merged, but these files have conflicts:\n" + listing,
            hint="resolve the conflict markers, `git add` the files and "
            "`git commit`, or undo everything with `git merge --abort`",
        )
        self.files = files


class FindingsError(ScaffoldError):
    """`check` or `notebook convert --check` found problems. Exit code 1."""
