"""Pipeline files of both providers, read and seen the same way.

A ``PipelineFile`` is a GitHub workflow or composite action, or an Azure
Pipelines pipeline or template. A ``Job`` is a GitHub job, or an Azure job or
deployment job (with its stage), so that rules and the review read both
alike. Every accessor tolerates YAML of the wrong shape (a list where a
mapping belongs, a number for ``steps``): the schema reports those, the
model just sees nothing there.

What a job *is* comes from its structure: the environment it runs in, an
Azure ``deployment:`` job, and what its steps do (deploy commands and
tasks), never from a substring of its name. What a job *waits for* comes
from the one dependency graph, ``semantics.JobGraph`` (the planner's):
``PipelineFile.graph`` and the accessors derived from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..yamlio import Lines, decode_untrusted, load_untrusted
from .semantics import GraphJob, JobGraph, job_graph
from .semantics.graph import DEFAULT_STAGE

GITHUB = "github"
AZURE = "azure"

# Kinds of file.
WORKFLOW = "workflow"  # GitHub
ACTION = "action"  # GitHub composite (or other) action.yml
PIPELINE = "pipeline"  # Azure, with a trigger or pool: runs by itself
TEMPLATE = "template"  # Azure, included by others

PRODUCTION, STAGING = "production", "staging"
_PRODUCTION_WORDS = {"prod", "production", "prd", "live"}
_STAGING_WORDS = {
    "staging", "stage", "stg", "preprod", "preproduction", "uat", "qa",
}  # fmt: skip


def tier_of(name: str | None, title: bool = False) -> str | None:
    """production / staging for an environment (or target) name, by its
    words: ``prod-eu``, ``Production``, ``pre-prod``; not ``product``.
    In a ``title`` (a job or stage name) "stage" is Azure's word for a
    stage, not a tier."""
    if not name:
        return None
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(name))
    text = re.sub(r"pre[- ]prod", "preprod", text.lower())
    words = set(re.split(r"[^a-z0-9]+|(?<=[a-z])(?=[0-9])", text))
    if title:
        words.discard("stage")
    if words & _STAGING_WORDS:
        return STAGING
    if words & _PRODUCTION_WORDS:
        return PRODUCTION
    return None


# What a step does, read from the action/task it uses or its command.
_DEPLOY_USES = re.compile(
    r"^(azure/(webapps|functions|container-apps|aks-set-context|k8s|arm)-?"
    r"|azure/k8s-deploy|azure/arm-deploy|azure/cli|azure/powershell"
    r"|aws-actions/amazon-ecs-deploy|google-github-actions/deploy"
    r"|AzureWebApp|AzureFunctionApp|AzureRmWebAppDeployment"
    r"|AzureResourceManagerTemplateDeployment|KubernetesManifest|HelmDeploy"
    r"|AzureCLI|AzurePowerShell|TerraformTaskV|TerraformCLI)",
    re.IGNORECASE,
)
_DEPLOY_COMMAND = re.compile(
    r"\b(deploy|release|rollout|promote|publish)\b|terraform\s+apply"
    r"|kubectl\s+(apply|rollout|set\s+image)|helm\s+(upgrade|install)"
    r"|az\s+(deployment|ml\s+online-deployment|ml\s+online-endpoint"
    r"|webapp\s+deploy|containerapp\s+update|functionapp\s+deploy)",
    re.IGNORECASE,
)
# A job or stage whose name says it releases ("Deploy to production",
# `release-prod`, `PromoteProd`).
_DEPLOY_TITLE = re.compile(
    r"deploy|release|rollout|promot|publish|ship|go[- _]?live|swap",
    re.IGNORECASE,
)
_SMOKE = re.compile(
    r"smoke|health|verify|validate[- _]deploy|e2e|end-to-end|probe",
    re.IGNORECASE,
)
_INFRASTRUCTURE = re.compile(
    r"terraform|bicep|\binfra\b|infra-|az\s+deployment|pulumi|arm-deploy|"
    r"AzureResourceManagerTemplateDeployment|TerraformTask",
    re.IGNORECASE,
)
_TARGET = re.compile(
    r"(?:environment|env|stage|slot|target)\s*[=:]\s*[\"']?([\w.-]+)"
    r"|--(?:environment|env|slot)[ =][\"']?([\w.-]+)",
    re.IGNORECASE,
)


@dataclass
class Step:
    path: tuple[Any, ...]
    uses: str | None  # GitHub action or Azure task
    command: str | None  # run: / script: / bash: / inlineScript
    inputs: dict[str, Any]
    raw: dict[str, Any]

    @property
    def label(self) -> str:
        name = self.raw.get("name") or self.raw.get("displayName")
        return str(name or self.uses or self.command or "step")

    def text(self) -> str:
        """Everything the step says it does, for the structural rules."""
        values = [self.uses or "", self.command or ""]
        values += [str(v) for v in self.inputs.values()]
        return "\n".join(values)

    @property
    def deploys(self) -> bool:
        uses = (self.uses or "").split("@")[0]
        if uses and _DEPLOY_USES.match(uses):
            return True
        return bool(self.command and _DEPLOY_COMMAND.search(self.command))

    @property
    def smoke_tests(self) -> bool:
        return bool(_SMOKE.search(f"{self.label}\n{self.text()}"))

    def target_tier(self) -> str | None:
        """The tier a deploy step names (ENVIRONMENT=production, --slot
        staging), if any."""
        for match in _TARGET.finditer(self.text()):
            tier = tier_of(match.group(1) or match.group(2))
            if tier:
                return tier
        return None


@dataclass
class Job:
    name: str
    path: tuple[Any, ...]
    raw: dict[str, Any]
    environment: str | None
    needs: list[str]
    stage: str | None = None
    steps: list[Step] = field(default_factory=list)
    stage_title: str | None = None  # an Azure stage's displayName

    @property
    def label(self) -> str:
        return f"{self.stage}/{self.name}" if self.stage else self.name

    @property
    def is_deployment_job(self) -> bool:
        """An Azure ``deployment:`` job (approvals and checks apply)."""
        return "deployment" in self.raw

    @property
    def deploys(self) -> bool:
        """A deployment: an Azure deployment job, a job in an environment
        (GitHub records a deployment for each), a deploy step, or a call
        of a reusable workflow with a target environment."""
        return (
            self.is_deployment_job
            or self.environment is not None
            or any(s.deploys for s in self.steps)
            or self._called_target() is not None
            or (
                self.titled_tier() is not None
                and any(_DEPLOY_TITLE.search(t) for t in self.titles())
            )
        )

    def titles(self) -> list[str]:
        """What the job and its stage are called: ids and display names."""
        found = [self.name, self.raw.get("displayName"), self.raw.get("name")]
        found += [self.stage, self.stage_title]
        return [str(t) for t in found if isinstance(t, (str, int)) and t]

    def titled_tier(self) -> str | None:
        """The tier the job's or its stage's names say (`deploy-prod`,
        stage `Production`): the evidence left when the gate is gone."""
        for title in self.titles():
            if tier := tier_of(title, title=True):
                return tier
        return None

    def _called_target(self) -> str | None:
        """The tier a reusable-workflow call (``uses:`` + ``with:``) passes
        as its environment, if any."""
        if not isinstance(self.raw.get("uses"), str):
            return None
        for key, value in as_dict(self.raw.get("with")).items():
            if re.search(r"env|stage|target", str(key), re.IGNORECASE):
                if tier := tier_of(str(value)):
                    return tier
        return None

    @property
    def smoke_tests(self) -> bool:
        return any(s.smoke_tests for s in self.steps) or bool(
            _SMOKE.search(self.name)
        )

    @property
    def changes_infrastructure(self) -> bool:
        return any(_INFRASTRUCTURE.search(s.text()) for s in self.steps)

    def tier(self) -> str | None:
        """production / staging from the environment, else from what its
        deploy steps target; None for a job that deploys nowhere."""
        tier = tier_of(self.environment)
        if tier or self.environment:
            return tier
        if called := self._called_target():
            return called
        for step in self.steps:
            if step.deploys and (tier := step.target_tier()):
                return tier
        return self.titled_tier()


@dataclass
class PipelineFile:
    relative: str
    provider: str
    data: Any
    lines: Lines
    text: str = ""
    kind: str = ""
    #: ``graph``'s results: rules ask for the same graph (MS206, MS212).
    _graphs: dict[tuple[Any, ...], JobGraph] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def read(
        cls, root: Path, relative: str, provider: str, kind: str = ""
    ) -> PipelineFile:
        from ..yamlio import read_bounded

        return cls.parse(
            read_bounded(root / relative), relative, provider, kind
        )

    @classmethod
    def parse(
        cls, raw: bytes | str, relative: str, provider: str, kind: str = ""
    ) -> PipelineFile:
        """Bounded parse (see ``yamlio.load_untrusted``); raises
        MalformedFileError for bad YAML or a file over a bound."""
        text = (
            decode_untrusted(raw, relative) if isinstance(raw, bytes) else raw
        )
        data, lines = load_untrusted(text, relative)
        pipeline = cls(relative, provider, data, lines, text, kind)
        if not pipeline.kind:
            pipeline.kind = pipeline._guess_kind()
        return pipeline

    def _guess_kind(self) -> str:
        if self.provider == GITHUB:
            name = self.relative.rsplit("/", 1)[-1]
            return ACTION if name in ("action.yml", "action.yaml") else WORKFLOW
        data = self.mapping
        runs = any(
            key in data for key in ("trigger", "pr", "schedules", "pool")
        )
        return PIPELINE if runs else TEMPLATE

    @property
    def mapping(self) -> dict[Any, Any]:
        return self.data if isinstance(self.data, dict) else {}

    @property
    def is_template(self) -> bool:
        """An Azure template (steps/jobs/stages for others to include)."""
        return self.kind == TEMPLATE

    def jobs(self) -> list[Job]:
        if self.provider == GITHUB:
            if self.kind == ACTION:
                return list(_action_jobs(self.mapping))
            return list(_github_jobs(self.mapping))
        return list(_azure_jobs(self.mapping))

    def triggers(self) -> dict[str, Any]:
        data = self.mapping
        if self.provider == GITHUB:
            on = data.get("on", {})
            if isinstance(on, str):
                return {on: None}
            if isinstance(on, list):
                return dict.fromkeys(str(v) for v in on)
            return (
                {str(k): v for k, v in on.items()}
                if isinstance(on, dict)
                else {}
            )
        return {
            key: data[key]
            for key in ("trigger", "pr", "schedules", "resources")
            if key in data
        }

    def graph(self, root: Path | None = None, branch: str = "main") -> JobGraph:
        """The planner's graph of this file on a push to ``branch``: every
        job and what it waits for, Azure templates read from ``root`` (the
        repository; None: the file alone, templates unknown). Raises
        ExpressionError for a template expression that does not parse.
        Computed once per root and branch (and provider and kind, which
        discovery may set after reading)."""
        key = (root, branch, self.provider, self.kind)
        if key not in self._graphs:
            self._graphs[key] = job_graph(
                self.mapping,
                self.provider,
                branch=branch,
                root=root,
                source=None if root is None else root / self.relative,
                template=self.is_template,
            )
        return self._graphs[key]

    def _own_graph(self) -> JobGraph | None:
        """The file alone's graph; None when a template expression does not
        parse (MS212 reports it)."""
        try:
            return self.graph()
        except (ValueError, RecursionError):  # ExpressionError among them
            return None

    def job_graph(self) -> dict[str, list[str]]:
        """Each job's label and the labels it waits for directly, from the
        file alone's ``graph`` (empty when that cannot be built)."""
        graph = self._own_graph()
        if graph is None:
            return {}
        return {key: list(needs) for key, needs in graph.needs.items()}

    def stages(self) -> dict[str, list[str]]:
        """Azure stages and what each depends on, from the file alone's
        ``graph`` (a template not read is one stage, ``template:<path>``)."""
        graph = self._own_graph() if self.provider == AZURE else None
        if graph is None:
            return {}
        return {
            stage: list(depends)
            for stage, depends in graph.stages.items()
            if stage != DEFAULT_STAGE
        }

    def graph_jobs(self, graph: JobGraph) -> dict[str, Job]:
        """Every job of ``graph`` (this file's, templates read) as a
        ``Job``, by label: an Azure job as compiled (its step templates in
        its steps), placed where it is written in this file, or else at the
        stage or ``- template:`` entry that brings it in."""
        written = {job.label: job for job in self.jobs()}
        found: dict[str, Job] = {}
        for key, node in graph.jobs.items():
            if self.provider == GITHUB:
                if key in written:
                    found[key] = written[key]
                continue
            place = written[key].path if key in written else None
            job = _azure_job(
                dict(node.raw),
                place if place is not None else self._origin(node),
                node.stage,
            )
            job.name = node.id  # as the graph names it (`Job1` if unnamed)
            title = as_dict(graph.stage_data.get(node.stage or "")).get(
                "displayName"
            )
            job.stage_title = str(title) if title else None
            found[key] = job
        return found

    def _origin(self, node: GraphJob) -> tuple[Any, ...]:
        """Where a job this file does not write comes from: its stage's
        entry (and the ``- template:`` in its jobs), or the ``- template:``
        entry of ``stages``, ``jobs`` or ``extends``; () if none is found."""
        stages = _list(self.mapping.get("stages"))
        for index, stage in enumerate(stages):
            if isinstance(stage, dict) and str(stage.get("stage")) == (
                node.stage
            ):
                jobs = _list(stage.get("jobs"))
                at = _reference(jobs, node.origin)
                return ("stages", index, *(("jobs", at) if at >= 0 else ()))
        for key in ("stages", "jobs"):
            at = _reference(_list(self.mapping.get(key)), node.origin)
            if at >= 0:
                return (key, at)
        extends = as_dict(self.mapping.get("extends"))
        if node.origin and str(extends.get("template")) == node.origin:
            return ("extends",)
        return ()

    def production_jobs(self, graph: JobGraph | None = None) -> list[Job]:
        """The jobs that deploy to production, recognised by what they do
        and are called, not by their gate (which may be the very thing
        missing): the environment, the target their deploy steps name,
        the job's or stage's names, and the release path: a deploying job
        of no named tier that waits for a staging deployment releases
        what staging tried, to production. Among the jobs written in this
        file, or every job of ``graph`` (see ``graph_jobs``)."""
        if graph is None:
            jobs = self.jobs()
            graph = self._own_graph()
        else:
            jobs = list(self.graph_jobs(graph).values())
        by_label = {job.label: job for job in jobs}
        found = []
        for job in jobs:
            if not job.deploys:
                continue
            tier = job.tier()
            if tier is None and job.environment is None and graph:
                before = (
                    graph.ancestors(job.label)
                    if job.label in graph.jobs
                    else []
                )
                if any(
                    by_label[b].tier() == STAGING and by_label[b].deploys
                    for b in before
                    if b in by_label
                ):
                    tier = PRODUCTION
            if tier == PRODUCTION:
                found.append(job)
        return found


def _reference(items: list[Any], origin: str | None) -> int:
    """The index of the ``- template: origin`` entry in ``items``, or -1."""
    for index, item in enumerate(items):
        if (
            origin
            and isinstance(item, dict)
            and str(item.get("template")) == origin
        ):
            return index
    return -1


def as_dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def names(value: Any) -> list[str]:
    """A ``needs`` / ``dependsOn`` value as names: one, a list, or none."""
    if value is None or isinstance(value, (dict, bool)):
        return []
    if isinstance(value, (str, int, float)):
        return [str(value)]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int, float))]
    return []


def _environment_name(job: dict[Any, Any]) -> str | None:
    """A job's environment, written as a name or as ``{name: ...}``
    (Azure also allows ``name: env.resource``)."""
    environment = job.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    if isinstance(environment, (dict, list)) or environment in (None, ""):
        return None
    return str(environment)


def _github_steps(steps: Any, path: tuple[Any, ...]) -> Iterator[Step]:
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if isinstance(step, dict):
            uses, run = step.get("uses"), step.get("run")
            yield Step(
                path=(*path, "steps", index),
                uses=uses if isinstance(uses, str) else None,
                command=run if isinstance(run, str) else None,
                inputs=as_dict(step.get("with")),
                raw=step,
            )


def _github_jobs(data: dict[Any, Any]) -> Iterator[Job]:
    for name, job in as_dict(data.get("jobs")).items():
        if not isinstance(job, dict):
            continue
        path = ("jobs", name)
        yield Job(
            name=str(name),
            path=path,
            raw=job,
            environment=_environment_name(job),
            needs=names(job.get("needs")),
            steps=list(_github_steps(job.get("steps"), path)),
        )


def _action_jobs(data: dict[Any, Any]) -> Iterator[Job]:
    """A composite action's steps, seen as one job."""
    runs = as_dict(data.get("runs"))
    if runs.get("using") == "composite":
        yield Job(
            name="(action)",
            path=("runs",),
            raw=runs,
            environment=None,
            needs=[],
            steps=list(_github_steps(runs.get("steps"), ("runs",))),
        )


def _azure_steps(steps: Any, path: tuple[Any, ...]) -> Iterator[Step]:
    for index, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        inputs = as_dict(step.get("inputs"))
        command = None
        for key in ("script", "bash", "pwsh", "powershell"):
            if isinstance(step.get(key), str):
                command = step[key]
        # A task's inline script (Bash@3, PowerShell@2, CmdLine@2 `script`,
        # AzureCLI@2 `inlineScript`, AzurePowerShell@5 `Inline`); task input
        # names are case-insensitive.
        for key, value in inputs.items():
            if (
                isinstance(key, str)
                and isinstance(value, str)
                and (key.lower() in ("script", "inlinescript", "inline"))
            ):
                command = value
        task = step.get("task")
        uses = str(task) if isinstance(task, str) else None
        if uses is None and "checkout" in step:
            uses = f"checkout:{step['checkout']}"
        yield Step((*path, index), uses, command, inputs, step)


def _azure_job(
    job: dict[Any, Any], path: tuple[Any, ...], stage: str | None
) -> Job:
    name = job.get("job") or job.get("deployment") or job.get("template")
    steps_path, steps = (*path, "steps"), job.get("steps")
    found: list[Step] = list(_azure_steps(steps, steps_path))
    if "deployment" in job:
        for kind, hooks in as_dict(job.get("strategy")).items():
            for hook, body in as_dict(hooks).items():
                if isinstance(body, dict) and "steps" in body:
                    found += _azure_steps(
                        body["steps"],
                        (*path, "strategy", kind, hook, "steps"),
                    )
    return Job(
        name=str(name),
        path=path,
        raw=job,
        environment=_environment_name(job),
        needs=names(job.get("dependsOn")),
        stage=stage,
        steps=found,
    )


def _azure_jobs(data: dict[Any, Any]) -> Iterator[Job]:
    for s_index, stage in enumerate(_list(data.get("stages"))):
        if not isinstance(stage, dict) or "stage" not in stage:
            continue
        for j_index, job in enumerate(_list(stage.get("jobs"))):
            if isinstance(job, dict) and "template" not in job:
                found = _azure_job(
                    job,
                    ("stages", s_index, "jobs", j_index),
                    str(stage["stage"]),
                )
                title = stage.get("displayName")
                found.stage_title = str(title) if title else None
                yield found
    for j_index, job in enumerate(_list(data.get("jobs"))):
        if isinstance(job, dict) and "template" not in job:
            yield _azure_job(job, ("jobs", j_index), None)
    if "steps" in data and "jobs" not in data and "stages" not in data:
        yield Job(
            name="(steps)",
            path=(),
            raw=data,
            environment=None,
            needs=[],
            steps=list(_azure_steps(data["steps"], ("steps",))),
        )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
