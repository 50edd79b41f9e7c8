"""The rule catalogue: one registry, one small module per rule.

A rule is a function decorated with ``@rule(...)`` (id, title, severity,
why, fix) that takes a ``PipelineFile`` and the ``Repository`` and yields
``Hit``s. Every module in this folder is imported by ``all_rules()``, so a
new rule is one new file here, e.g. ``ms210_deploys_on_push.py``::

    from ..model import GITHUB, AZURE
    from . import Hit, rule

    @rule("MS210", "deploys-on-default-branch-push", severity="error",
          why="...", fix="...", providers=(GITHUB, AZURE))
    def deploys_on_push(pipeline, repository):
        ...
        yield Hit(job.path, "message", job=job.path)

Findings of an external auditor (zizmor) are registered here too, with
``check=None``, so that every id has one description, severity and fix.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import AZURE, GITHUB

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Hit:
    """Where a rule found its defect: a path in the document (or a line),
    the message, and the job it belongs to (for job-level suppressions)."""

    where: tuple | int
    message: str
    job: tuple | None = None


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    why: str
    fix: str
    providers: tuple[str, ...] = (GITHUB, AZURE)
    check: Callable[[Any, Any], Iterable[Hit]] | None = None
    source: str = "mlops-scaffold"
    help_uri: str = ""


@dataclass
class Repository:
    """What a rule may look at beyond its file: the root and every
    pipeline file checked in this run (by path)."""

    root: Path
    pipelines: dict[str, Any] = field(default_factory=dict)


RULES: dict[str, Rule] = {}


def register(entry: Rule) -> Rule:
    if entry.id in RULES:
        raise ValueError(f"rule {entry.id} is registered twice")
    if entry.severity not in SEVERITIES:
        raise ValueError(f"rule {entry.id}: unknown severity")
    RULES[entry.id] = entry
    return entry


def rule(
    id: str,
    title: str,
    *,
    severity: str,
    why: str,
    fix: str,
    providers: tuple[str, ...] = (GITHUB, AZURE),
):
    """Register the decorated function as rule ``id``."""

    def decorate(function):
        register(Rule(id, title, severity, why, fix, providers, check=function))
        return function

    return decorate


_loaded = False


def all_rules() -> dict[str, Rule]:
    """Every rule, after importing every module of this package once."""
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return RULES
