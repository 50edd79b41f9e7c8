"""The settings of `check` (``[tool.mlops-scaffold]`` in pyproject.toml or
``.mlops-scaffold.yml``) and the suppressions they and inline comments make.

Suppressions: ``# mlops-scaffold: ignore[MS204]`` (several ids separated
by commas) on the finding's line or on its job's line; and in the settings::

    ignore = ["MS204"]                       # everywhere
    exclude = ["legacy/**"]                  # files not checked at all
    severity = "warning"                     # default --severity
    [tool.mlops-scaffold.per-file-ignores]
    ".github/workflows/release.yml" = ["MS206"]
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MalformedFileError
from ..yamlio import read_bounded
from .rules import SEVERITIES

if TYPE_CHECKING:
    from .findings import Finding

IGNORE_COMMENT = re.compile(r"#\s*mlops-scaffold:\s*ignore\[([^\]]*)\]")
CONFIG_FILE = ".mlops-scaffold.yml"


@dataclass
class Settings:
    ignore: set[str] = field(default_factory=set)
    per_file: dict[str, set[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    severity: str | None = None


#: The files settings come from, in the order they are looked for.
SETTINGS_FILES = (CONFIG_FILE, "pyproject.toml")


def load_settings(root: Path) -> Settings:
    """The ``[tool.mlops-scaffold]`` table or ``.mlops-scaffold.yml``; a
    malformed one is bad input (exit 2) naming the file."""
    for name in SETTINGS_FILES:
        source = root / name
        try:
            if source.is_file():
                return parse_settings(name, read_bounded(source), source)
        except OSError as error:
            raise MalformedFileError(
                source, f"cannot be read: {error.strerror}"
            ) from None
    return Settings()


def settings_from(files: Mapping[str, bytes]) -> Settings:
    """The settings the files (name -> bytes, as a revision holds them)
    make, read in memory: ``.mlops-scaffold.yml`` first."""
    for name in SETTINGS_FILES:
        if name in files:
            return parse_settings(name, files[name], Path(name))
    return Settings()


def parse_settings(name: str, data: bytes, source: Path) -> Settings:
    """Settings from one file's bytes; errors name ``source``."""
    import tomllib

    table: Any = None
    try:
        if name == CONFIG_FILE:
            from ..yamlio import load_untrusted

            table, _ = load_untrusted(data, source)
            table = table or {}
        else:
            text = data.decode("utf-8")
            table = tomllib.loads(text).get("tool", {}).get("mlops-scaffold")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MalformedFileError(
            source, f"is not valid TOML: {error}"
        ) from None
    except (RecursionError, MemoryError):
        raise MalformedFileError(
            source, "nests too deeply to read; flatten it"
        ) from None
    if table is None:
        return Settings()
    if not isinstance(table, dict):
        raise MalformedFileError(source, "settings must be a mapping")

    def ids(value: Any, key: str) -> set[str]:
        if not isinstance(value, list) or not all(
            isinstance(v, str) for v in value
        ):
            raise MalformedFileError(
                source, f'`{key}` must be a list of rule ids like "MS204"'
            )
        return set(value)

    settings = Settings()
    settings.ignore = ids(table.get("ignore", []), "ignore")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise MalformedFileError(source, "`per-file-ignores` must be a table")
    settings.per_file = {
        str(k): ids(v, f"per-file-ignores.{k}") for k, v in per_file.items()
    }
    exclude = table.get("exclude", [])
    if not isinstance(exclude, list) or not all(
        isinstance(v, str) for v in exclude
    ):
        raise MalformedFileError(
            source,
            '`exclude` must be a list of glob patterns like "legacy/**"',
        )
    settings.exclude = sorted(set(exclude))
    severity = table.get("severity")
    if severity is not None and severity not in SEVERITIES:
        raise MalformedFileError(
            source, f"`severity` must be one of {', '.join(SEVERITIES)}"
        )
    settings.severity = severity
    return settings


def suppressed(finding: Finding, settings: Settings, text: str) -> bool:
    if finding.rule in settings.ignore:
        return True
    for pattern, rules in settings.per_file.items():
        if finding.rule in rules and fnmatch.fnmatch(finding.file, pattern):
            return True
    lines = text.splitlines()
    for number in (finding.line, finding.job_line):
        if number and 0 < number <= len(lines):
            match = IGNORE_COMMENT.search(lines[number - 1])
            if match and finding.rule in {
                part.strip() for part in match[1].split(",")
            }:
                return True
    return False
