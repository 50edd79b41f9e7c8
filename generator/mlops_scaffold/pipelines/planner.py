"""The run planner, as it was imported before the ``semantics`` package:
a facade kept for code outside this package that still imports
``pipelines.planner``. New code imports ``pipelines.semantics``."""

from __future__ import annotations

from .semantics import (
    CompiledAzure,
    Event,
    ExpressionError,
    Plan,
    Unit,
    Unreachable,
    Verdict,
    compile_azure,
    condition_holds,
    context,
    evaluate,
    github_context,
    interpolate,
    load,
    plan,
    to_text,
    unreachable_deployments,
    workflow_inputs,
)

__all__ = [
    "Event",
    "Verdict",
    "Unit",
    "Plan",
    "Unreachable",
    "plan",
    "unreachable_deployments",
    "load",
    "ExpressionError",
    "CompiledAzure",
    "compile_azure",
    "context",
    "evaluate",
    "interpolate",
    "condition_holds",
    "github_context",
    "workflow_inputs",
    "to_text",
]
