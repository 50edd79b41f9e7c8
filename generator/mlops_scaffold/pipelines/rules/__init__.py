"""The rule catalogue: typed rules in an explicit list.

As in zizmor's audit registry and actionlint's rule list, a rule is a
class: its metadata declared once (``meta``), constructed once per run with
the ``Context`` the engine computed (repository, every parsed file, the
default branch), and hooks the engine calls for the files of the rule's
providers: ``file``, then ``job`` for every job, then ``step`` for every
step. A rule that cannot run raises ``RuleSkipped`` from its constructor:
the run reports a note, never a finding.

A new rule is one module here and one line in ``registry.RULES``. Findings
of an external auditor (zizmor) and of the engine itself (MS001, MS100,
MS101) have metadata only, so that every id has one description, severity
and fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..model import AZURE, GITHUB

if TYPE_CHECKING:
    from ..model import Job, PipelineFile, Step

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Hit:
    """Where a rule found its defect: a path in the document (or a line),
    the message, and the job it belongs to (for job-level suppressions)."""

    where: tuple[object, ...] | int
    message: str
    job: tuple[object, ...] | None = None


@dataclass(frozen=True)
class RuleMeta:
    """What a rule is, once: id, title, severity, why, fix, providers."""

    id: str
    title: str
    severity: str
    why: str
    fix: str
    providers: tuple[str, ...] = (GITHUB, AZURE)
    source: str = "mlops-scaffold"
    help_uri: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.id}: unknown severity")


@dataclass(frozen=True)
class Context:
    """What every rule may look at beyond its file, computed once by the
    engine: the root, every pipeline file parsed in this run (by path) and
    the branch a push releases from."""

    root: Path
    pipelines: Mapping[str, PipelineFile] = field(default_factory=dict)
    default_branch: str = "main"


class RuleSkipped(Exception):
    """Raised by a rule's constructor when it cannot run here; the message
    says why (reported as a note)."""


class Rule:
    """A rule: override ``meta`` and the hooks it needs. ``runs_on`` is
    where our code runs when an auditor covers the id on the other provider
    (MS203 and MS209: zizmor on GitHub, this rule on Azure)."""

    meta: ClassVar[RuleMeta]
    runs_on: ClassVar[tuple[str, ...] | None] = None

    @classmethod
    def providers(cls) -> tuple[str, ...]:
        return cls.runs_on or cls.meta.providers

    def __init__(self, context: Context) -> None:
        self.context = context

    def file(self, pipeline: PipelineFile) -> Iterable[Hit]:
        return ()

    def job(self, pipeline: PipelineFile, job: Job) -> Iterable[Hit]:
        return ()

    def step(
        self, pipeline: PipelineFile, job: Job, step: Step
    ) -> Iterable[Hit]:
        return ()


def all_rules() -> dict[str, RuleMeta]:
    """The metadata of every id (our rules, the engine's, zizmor's)."""
    from .registry import catalogue

    return catalogue()
