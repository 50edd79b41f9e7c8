"""The one model of what a pipeline does: which jobs and stages of a GitHub
Actions workflow or an Azure Pipelines pipeline run for one event, which are
skipped, and why; the graph they wait along; and the expression engine and
Azure template compiler behind both.

Validators check that a file is well formed; they cannot say that a release
never reaches production because a job three levels up the ``needs`` chain
was skipped. This package models each provider's documented rules (see
the ``github`` and ``azure`` modules for the rules and their sources).

A plan assumes the run is not cancelled and every job that runs succeeds
(unless named in ``failed``). Whatever cannot be known offline (secrets,
job outputs, variable groups, unresolved templates, the files a push
changed when none are given) gives the three-valued verdict UNKNOWN, never
a guess.

Not modelled: cancellation and concurrency groups; environment approvals
and checks (RUN means "runs once approved"); events other than push,
pull_request(_target), schedule, manual and workflow_call; ``${{ each }}``
over a collection not known at compile time (UNKNOWN); templates in other
repositories (UNKNOWN); Azure Repos branch policies that queue a pipeline
for a pull request whatever its ``pr:`` says (plan those with
``assume_triggered``); draft pull requests.

Modules, one concern each: ``types`` (plans and three-valued values),
``expressions`` (tokenizer and parser of both languages), ``evaluator``
(the one evaluator and the ``Provider`` it is given), ``github`` and
``azure`` (each provider's functions, default condition and triggers),
``graph`` (dependencies, ancestors, order; ``JobGraph``, as rules read it),
``compiler`` (Azure templates and ``${{ }}``), ``plan_github`` and
``plan_azure``, ``unreachable`` (MS210's diagnosis) and ``api``.
"""

from .api import (
    condition_holds,
    context,
    evaluate,
    github_context,
    interpolate,
    job_graph,
    plan,
    to_text,
    workflow_inputs,
)
from .compiler import CompiledAzure, compile_azure, load
from .expressions import calls, parse
from .graph import GraphJob, JobGraph
from .types import (
    MAYBE,
    Event,
    ExpressionError,
    Plan,
    Unit,
    Unknown,
    Unreachable,
    Verdict,
)
from .unreachable import unreachable_deployments

__all__ = [
    "MAYBE",
    "CompiledAzure",
    "Event",
    "ExpressionError",
    "GraphJob",
    "JobGraph",
    "Plan",
    "Unit",
    "Unknown",
    "Unreachable",
    "Verdict",
    "calls",
    "compile_azure",
    "condition_holds",
    "context",
    "evaluate",
    "github_context",
    "interpolate",
    "job_graph",
    "load",
    "parse",
    "plan",
    "to_text",
    "unreachable_deployments",
    "workflow_inputs",
]
