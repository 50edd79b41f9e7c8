"""Rendering the template into a staging folder, in-process.

A run that asks nothing is rendered here: the questionnaire answers
``copier.yml`` and one walk of the template renders each templated path
segment and ``.jinja`` file with templates compiled once. A run that asks
goes through Copier, its prompts and its renderer. The tests hold both to
byte-identical projects, and plain ``copier copy`` gives the same too.

Nothing is ever rendered into the user's destination directly: callers get a
fresh folder next to it and move it into place only when everything worked,
so a failure or Ctrl-C leaves the destination as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .answers import validate
from .errors import GenerationError, InvalidAnswerError
from .questionnaire import answer, environment, render_text
from .template import ANSWERS_FILE, copier_config, template_root

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
    answers (computed ones included).

    A run that asks nothing (``defaults``) is rendered here with Jinja;
    one that asks goes through Copier's prompts and its renderer. The tests
    hold both to byte-identical output."""
    if defaults:
        return render_directly(
            destination, data=data, user_defaults=user_defaults
        )
    return render_with_copier(
        destination, data=data, defaults=False, user_defaults=user_defaults
    )


def render_directly(
    destination: Path,
    *,
    data: Mapping[str, Any],
    user_defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Copier's copy of the template, without Copier: answer the questions
    (``questionnaire``), then walk the template once, rendering each path
    segment and ``.jinja`` file with templates compiled once."""
    from jinja2 import TemplateError

    config = copier_config()
    root = template_root()
    answers = answer(data, destination=destination, user_defaults=user_defaults)
    context = {
        **answers.values,
        **answers.special,
        "_copier_answers": {
            "_commit": f"v{__version__}",
            "_src_path": SOURCE_MARKER,
            **answers.recorded,
        },
    }
    tree = _TemplateTree(root, config, context)
    try:
        tree.render_into(destination)
    except TemplateError as error:
        raise GenerationError(
            f"Rendering the template failed: {error}",
            hint="this is a bug in the template; please report it",
        ) from error
    return dict(answers.values)


class _TemplateTree:
    """The template's folder as Copier reads it: ``_subdirectory``,
    ``_templates_suffix``, ``_exclude`` and templated path segments."""

    def __init__(
        self, root: Path, config: Mapping[str, Any], context: dict
    ) -> None:
        self.root = root
        self.config = config
        self.context = context
        self.suffix = config.get("_templates_suffix", ".jinja")
        self.source = root / config.get("_subdirectory", "")
        envops = config.get("_envops", {})
        self.delimiters = (
            envops.get("variable_start_string", "{{"),
            envops.get("block_start_string", "{%"),
            envops.get("comment_start_string", "{#"),
        )

    def render_into(self, destination: Path) -> None:
        excluded = _path_matcher(
            line
            for pattern in self.config.get("_exclude", ())
            for line in render_text(pattern, self.context).splitlines()
        )
        destination.mkdir(parents=True, exist_ok=True)
        for source, relative, is_template in self._walk(self.source, ()):
            if excluded(relative):
                continue
            where = os.path.normpath(os.path.join(*relative))
            if os.path.isabs(where) or where.split(os.sep)[0] == "..":
                raise GenerationError(
                    f"The template path {source} renders to {where}, "
                    "outside the project.",
                    hint="change the answer that names it",
                )
            target = destination / where
            if source.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if is_template:
                name = source.relative_to(self.root).as_posix()
                rendered = environment().get_template(name).render(self.context)
                content = rendered.encode()
            else:
                content = source.read_bytes()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            os.chmod(target, stat.S_IMODE(source.stat().st_mode))

    def _walk(self, folder: Path, parts: tuple[str, ...]):
        """(source, rendered relative parts, is a template) for every
        path Copier would render, parents before children."""
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            name = entry.name
            is_template = bool(self.suffix) and name.endswith(self.suffix)
            if self.suffix and os.path.exists(entry.path + self.suffix):
                continue  # the templated sibling wins
            if is_template:
                name = name[: -len(self.suffix)]
            part = self._render_segment(name)
            if not part:
                continue  # an empty segment drops the path
            source = Path(entry.path)
            yield source, (*parts, part), is_template
            if entry.is_dir():
                yield from self._walk(source, (*parts, part))

    def _render_segment(self, name: str) -> str:
        if not any(start in name for start in self.delimiters):
            return name  # what Jinja would render it to, without compiling
        return render_text(name, self.context)


def _path_matcher(patterns: Iterable[str]):
    """Copier's exclusion test: gitignore patterns over the rendered path."""
    import pathspec

    normalized = [unicodedata.normalize("NFD", p) for p in patterns]
    try:
        spec = pathspec.PathSpec.from_lines("gitignore", normalized)
    except LookupError:  # pathspec < 1.0
        spec = pathspec.PathSpec.from_lines("gitwildmatch", normalized)
    return lambda parts: spec.match_file("/".join(parts))


def render_with_copier(
    destination: Path,
    *,
    data: Mapping[str, Any],
    defaults: bool,
    user_defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Render through Copier (its prompts, then its renderer)."""
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
    path = destination / copier_config().get("_answers_file", ANSWERS_FILE)
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
