"""The explicit list of rules, the catalogue of every id, and the context
the engine hands every rule."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from ... import gitutil
from ...errors import GitError, MalformedFileError
from ...yamlio import load_untrusted, read_bounded
from ..model import PipelineFile
from . import Context, Rule, RuleMeta
from .core import ENGINE
from .ms102_template_reference import TemplateReference
from .ms203_persisted_credentials import PersistedCredentials
from .ms204_job_timeout import JobTimeout
from .ms205_production_gate import ProductionGate
from .ms206_production_after_staging import ProductionAfterStaging
from .ms207_stored_secrets import StoredSecrets
from .ms209_untrusted_input import UntrustedInput
from .ms210_deploys_on_push import DeploysOnPush
from .ms211_production_after_failure import ProductionAfterFailure
from .ms212_expressions import Expressions
from .ms213_queue_time import QueueTime
from .zizmor_audits import AUDITED

#: Every rule of ours, in the order findings are made.
RULES: tuple[type[Rule], ...] = (
    TemplateReference,
    PersistedCredentials,
    JobTimeout,
    ProductionGate,
    ProductionAfterStaging,
    StoredSecrets,
    UntrustedInput,
    DeploysOnPush,
    ProductionAfterFailure,
    Expressions,
    QueueTime,
)


@functools.cache
def catalogue() -> dict[str, RuleMeta]:
    """Every id with its metadata: the engine's, ours and zizmor's."""
    found: dict[str, RuleMeta] = {}
    for meta in (*ENGINE, *(rule.meta for rule in RULES), *AUDITED):
        if meta.id in found:
            raise ValueError(f"rule {meta.id} is declared twice")
        found[meta.id] = meta
    return found


def context(root: Path, pipelines: Mapping[str, PipelineFile]) -> Context:
    """The facts rules share, computed once per run."""
    return Context(root, pipelines, default_branch(root))


def default_branch(root: Path) -> str:
    """The branch a push releases from: the project's answers, else the
    remote's HEAD, else ``main``."""
    answers = root / ".copier-answers.yml"
    if answers.is_file():
        try:  # a pull request may change it: read it bounded
            data, _ = load_untrusted(read_bounded(answers), answers)
        except MalformedFileError:  # broken: fall back
            data = None
        if isinstance(data, dict) and isinstance(
            data.get("default_branch"), str
        ):
            return str(data["default_branch"])
    try:
        return gitutil.remote_default_branch(root) or "main"
    except (GitError, OSError):  # no git here, or not a repository
        return "main"
