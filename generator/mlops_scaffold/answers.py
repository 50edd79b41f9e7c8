"""Answers: parsing ``--data`` / ``--data-file`` and validating the result.

Validation rules live once, as Jinja validators in ``copier.yml``, and
Copier applies them (``render`` hands it every final answer as data, so
that defaults are validated too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import InvalidAnswerError, MalformedFileError, UnknownAnswerError
from .template import asked_questions, questions
from .yamlio import load_untrusted, read_bounded

#: An answers file is a few hundred bytes; anything this large is a mistake.
MAX_DATA_FILE_BYTES = 1_000_000

#: CLI shortcuts that set an answer.
SHORTCUT_OPTIONS = {"ci": "ci_provider", "iac": "iac"}


def parse_data_options(items: Iterable[str]) -> dict[str, str]:
    """Turn repeated ``KEY=VALUE`` options into a dict."""
    data: dict[str, str] = {}
    for item in list(items):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidAnswerError(
                f"--data {item!r} is not of the form KEY=VALUE.",
                hint='for example --data description="Card fraud scoring"',
            )
        data[key] = value
    bound_yaml_answers(data, "--data")
    return data


def load_data_file(path: Path) -> dict[str, Any]:
    """Read answers from a YAML file (a Copier answers file works too):
    bounded in size, nesting and alias expansion, like every file a user
    hands the tool."""
    hint = (
        "pass a YAML file of answers such as "
        "`description: Card fraud scoring`, saved as UTF-8"
    )
    loaded = load_answers_yaml(
        read_bounded(path, MAX_DATA_FILE_BYTES, hint=hint), path, hint=hint
    )
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise MalformedFileError(
            path,
            "must be a YAML mapping of answer names to values",
            hint="write one answer a line, such as "
            "`description: Card fraud scoring`",
        )
    answers = {
        str(key): value
        for key, value in loaded.items()
        if not str(key).startswith("_")
    }
    bound_yaml_answers(answers, path)
    return answers


def load_answers_yaml(raw: bytes, path: Path, *, hint: str) -> Any:
    """An answers file's bytes as data, read the way Copier reads it (YAML
    1.1) but bounded: aliases, nesting and size, so that an alias bomb or
    100,000 nested brackets are a MalformedFileError naming ``path``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedFileError(
            path,
            f"is not UTF-8 text (byte {error.start} is {raw[error.start]:#x})",
            hint=hint,
        ) from error
    try:
        return load_untrusted(text, path, yaml11=True)[0]
    except MalformedFileError as error:
        error.hint = error.hint or hint
        raise
    except (RecursionError, MemoryError) as error:
        raise MalformedFileError(
            path, "is nested too deeply", hint=hint
        ) from error


def bound_yaml_answers(data: Mapping[str, Any], source: Path | str) -> None:
    """Copier parses the text answer of a ``type: yaml`` question itself,
    unbounded: parse each one here first, with the bounded loader, so an
    alias bomb in it is refused (naming ``source``) before Copier sees it.
    """
    specs = questions()
    for key, value in data.items():
        if isinstance(value, str) and specs.get(key, {}).get("type") == "yaml":
            try:
                load_untrusted(value, f"{source}, answer {key}", yaml11=True)
            except MalformedFileError as error:
                raise InvalidAnswerError(
                    error.message,
                    hint=f"give {key} a plain value, such as "
                    f"{_example(specs[key])}",
                ) from error
            except (RecursionError, MemoryError) as error:
                raise InvalidAnswerError(
                    f"{source}: the answer {key!r} is nested too deeply",
                    hint=f"give {key} a plain value",
                ) from error


def _example(spec: Mapping[str, Any]) -> str:
    default = spec.get("default")
    return repr(default) if isinstance(default, (bool, int)) else "2"


#: What no path or URL holds, and what would break the answers file's line.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def check_template_source(source: str) -> None:
    """``--template-source`` is recorded in ``.copier-answers.yml``: one
    line, no control character, not empty."""
    if not source.strip() or _CONTROL.search(source):
        raise InvalidAnswerError(
            f"--template-source {source!r} is not a path or URL: it is "
            "empty or holds a line break or control character.",
            hint="pass a folder or a git URL on one line, or leave the "
            "option out",
        )


def check_known(data: Mapping[str, Any]) -> None:
    """Refuse answers for questions the template does not ask."""
    known = asked_questions()
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise UnknownAnswerError(
            f"Unknown answer {', '.join(repr(k) for k in unknown)}.",
            hint="known answers are: " + ", ".join(known),
        )
