"""Rendering the template with Copier, in-process, into a staging folder.

Nothing is ever rendered into the user's destination directly: callers get a
fresh folder next to it and move it into place only when everything worked,
so a failure or Ctrl-C leaves the destination as it was.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .answers import validate
from .errors import GenerationError, InvalidAnswerError
from .template import ANSWERS_FILE, template_root

#: What the answers file records as the template's source and version. The
#: installed wheel is not a git checkout, so these stand in for Copier's
#: ``_src_path`` / ``_commit`` and keep generated output byte-for-byte stable.
SOURCE_MARKER = "mlops-scaffold"


@contextlib.contextmanager
def staging_folder(near: Path) -> Iterator[Path]:
    """A temporary folder on the same filesystem as ``near``, removed on
    exit whatever happens."""
    near.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".mlops-scaffold-", dir=near))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def render(
    destination: Path,
    *,
    data: Mapping[str, Any],
    defaults: bool,
    user_defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Render the template into the empty folder ``destination``; return the
    recorded answers."""
    import copier
    from copier.errors import CopierAnswersInterrupt, CopierError
    from jinja2 import TemplateError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            worker = copier.run_copy(
                str(template_root()),
                destination,
                data=dict(data),
                defaults=defaults,
                user_defaults=dict(user_defaults or {}),
                quiet=True,
                unsafe=False,
                overwrite=True,
                cleanup_on_error=False,
            )
    except CopierAnswersInterrupt as error:
        raise KeyboardInterrupt from error
    except ValueError as error:
        # Copier reports a failed validator or a bad choice as ValueError.
        raise InvalidAnswerError(
            f"Invalid answer: {error}",
            hint="change it with --data KEY=VALUE",
        ) from error
    except (CopierError, TemplateError) as error:
        raise GenerationError(
            f"Rendering the template failed: {error}",
            hint="this is a bug in the template; please report it",
        ) from error
    answers = {
        key: value
        for key, value in worker.answers.combined.items()
        if not key.startswith("_")
    }
    validate(answers)
    _stamp_answers_file(destination)
    return answers


def _stamp_answers_file(destination: Path) -> None:
    """Record a stable source and this tool's version in the answers file."""
    path = destination / ANSWERS_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    stamped = []
    for line in lines:
        if line.startswith("_src_path:"):
            line = f"_src_path: {SOURCE_MARKER}"
        elif line.startswith("_commit:"):
            continue
        stamped.append(line)
    stamped.insert(
        next(
            i for i, line in enumerate(stamped) if line.startswith("_src_path")
        ),
        f"_commit: v{__version__}",
    )
    path.write_text("\n".join(stamped) + "\n", encoding="utf-8")
