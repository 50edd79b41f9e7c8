"""Analysing pipelines: the second half of mlops-scaffold.

- ``model``: pipeline files, jobs and steps (what each job waits for
  comes from ``semantics``);
- ``discovery``: which files are pipelines, by content;
- ``schema``: validation the way each service reads a file
  (``github_schema`` reads a workflow against GitHub's own definition,
  ``github_definitions``, vendored in ``data/``);
- ``rules``: the rule catalogue (one module per rule);
- ``auditor``: zizmor's GitHub security findings, merged;
- ``check``: the engine; ``report``: its output formats;
- ``review``: what a change does to the pipelines;
- ``semantics``: the one model of what runs: which jobs run for an event,
  the dependency graph the rules read, the one expression engine and Azure
  template compiler (``planner`` re-exports it for older imports);
  ``runner``: ``mlops-scaffold run``.
"""

from .discovery import discover, provider_of
from .model import AZURE, GITHUB, Job, PipelineFile, Step

__all__ = [
    "AZURE",
    "GITHUB",
    "Job",
    "PipelineFile",
    "Step",
    "discover",
    "provider_of",
]
