"""Answers: parsing ``--data`` / ``--data-file`` and validating the result.

Validation rules live once, as Jinja validators in ``copier.yml``, and
Copier applies them (``render`` hands it every final answer as data, so
that defaults are validated too).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import InvalidAnswerError, MalformedFileError, UnknownAnswerError
from .template import asked_questions
from .yamlio import malformed_yaml

#: An answers file is a few hundred bytes; anything this large is a mistake.
MAX_DATA_FILE_BYTES = 1_000_000

#: CLI shortcuts that set an answer.
SHORTCUT_OPTIONS = {"ci": "ci_provider", "iac": "iac"}


def parse_data_options(items: Iterable[str]) -> dict[str, str]:
    """Turn repeated ``KEY=VALUE`` options into a dict."""
    data: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InvalidAnswerError(
                f"--data {item!r} is not of the form KEY=VALUE.",
                hint='for example --data description="Card fraud scoring"',
            )
        data[key] = value
    return data


def load_data_file(path: Path) -> dict[str, Any]:
    """Read answers from a YAML file (a Copier answers file works too)."""
    import yaml

    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidAnswerError(
            f"Cannot read the answers file {path}: {error.strerror}.",
            hint="check the --data-file path",
        ) from error
    if len(raw) > MAX_DATA_FILE_BYTES:
        raise MalformedFileError(
            path,
            f"is {len(raw)} bytes; an answers file is at most "
            f"{MAX_DATA_FILE_BYTES}",
            hint="pass a YAML file of answers such as "
            "`description: Card fraud scoring`",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedFileError(
            path,
            f"is not UTF-8 text (byte {error.start} is {raw[error.start]:#x})",
            hint="pass a YAML file of answers such as "
            "`description: Card fraud scoring`, saved as UTF-8",
        ) from error
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise malformed_yaml(
            path,
            error,
            hint="an answers file is a YAML mapping such as "
            "`description: Card fraud scoring`",
        ) from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise MalformedFileError(
            path,
            "must be a YAML mapping of answer names to values",
            hint="write one answer a line, such as "
            "`description: Card fraud scoring`",
        )
    return {
        str(key): value
        for key, value in loaded.items()
        if not str(key).startswith("_")
    }


def check_known(data: Mapping[str, Any]) -> None:
    """Refuse answers for questions the template does not ask."""
    known = asked_questions()
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise UnknownAnswerError(
            f"Unknown answer {', '.join(repr(k) for k in unknown)}.",
            hint="known answers are: " + ", ".join(known),
        )
