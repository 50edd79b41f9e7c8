"""Running an Azure Pipelines file on this machine, as the agent does.

The planner's compiler expands templates, parameters and ``${{ }}`` (with
``each`` and if/elseif/else); this module then follows the agent
("Define variables", "Expressions", "Logging commands", "Deployment
jobs"): variables at pipeline, stage and job level (and variable
templates), ``$(macro)`` substitution, every non-secret variable exported
as an environment variable (upper case, ``.`` and space as ``_``),
``$[ ]`` runtime expressions with ``dependencies`` and
``stageDependencies`` outputs, step ``condition``, ``continueOnError``
(SucceededWithIssues), ``enabled``, ``workingDirectory``, ``env``,
``timeoutInMinutes``, ``##vso[task.setvariable]`` (isOutput, isSecret),
``task.prependpath``, ``task.complete``, ``task.setsecret``, and the
lifecycle hooks of ``runOnce`` deployment jobs. ``script:`` runs as
CmdLineV2 does and ``bash:`` as BashV3 does (shell.AZURE_SHELLS)."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import UnsupportedPipelineError
from .. import semantics as P
from .actions import SkipJob
from .azure_steps import AzureSteps, Variables, _Job, scalar
from .base import (
    Session,
    ancestors,
    minutes,
    order,
    selected,
    skipped_job,
)
from .report import FAILURE, SKIPPED, SUCCESS, JobResult

_RUNTIME = re.compile(r"^\s*\$\[(.*)\]\s*$", re.DOTALL)
_AZ_RESULT = {SUCCESS: "Succeeded", FAILURE: "Failed", SKIPPED: "Skipped"}
_HOOKS = ("preDeploy", "deploy", "routeTraffic", "postRouteTraffic")


class AzureRun(AzureSteps):
    """One pipeline file."""

    def __init__(
        self, session: Session, path: Path, data: Mapping[str, Any]
    ) -> None:
        self.session = session
        self.path = path
        self.data = data
        self.options = session.options
        self.results: list[JobResult] = []
        # stage -> job -> {"result": Azure result, "outputs": {...}}
        self.state: dict[str, dict[str, dict[str, Any]]] = {}
        self.stage_results: dict[str, str] = {}

    # set up -----------------------------------------------------------
    def _predefined(self, compiled: P.CompiledAzure) -> Variables:
        session = self.session
        root = str(session.root)
        workspace = session.pipeline_workspace
        values = {
            **{k: str(v) for k, v in compiled.predefined.items()},
            "Build.SourcesDirectory": root,
            "Build.Repository.LocalPath": root,
            "System.DefaultWorkingDirectory": root,
            "Pipeline.Workspace": str(workspace),
            "Agent.BuildDirectory": str(workspace),
            "Build.ArtifactStagingDirectory": str(workspace / "a"),
            "Build.StagingDirectory": str(workspace / "a"),
            "Build.BinariesDirectory": str(workspace / "b"),
            "Agent.TempDirectory": str(session.temp),
            "Agent.ToolsDirectory": str(session.tools),
            "Agent.OS": "Linux",
            "Agent.OSArchitecture": "X64",
            "Agent.Name": "local",
            "Build.BuildId": "1",
            "Build.BuildNumber": "1",
            "System.JobAttempt": "1",
            "System.StageAttempt": "1",
            "Build.SourceVersion": session.git("rev-parse", "HEAD") or "0" * 40,
            "Build.Repository.Name": session.root.name,
            "System.TeamProject": "local",
            "TF_BUILD": "True",
        }
        variables = Variables()
        for name, value in values.items():
            variables.set(name, value)
        for name, value in self.options.variables.items():
            variables.set(name, value)
        for name, value in self.options.secrets.items():
            variables.set(name, value, secret=True)
        return variables

    def run(self) -> list[JobResult]:
        event = self.options.event
        root = self.session.root
        plan = P.plan(
            self.data,
            "azure",
            event,
            dict(self.options.variables),
            root=root,
            source=self.path,
        )
        compiled = P.compile_azure(self.data, event, root, self.path.parent)
        self.session.pipeline_workspace.mkdir(parents=True, exist_ok=True)
        variables = self._predefined(compiled)
        root_vars = compiled.expanded.get("variables")
        if isinstance(root_vars, list):
            ctx = compiled.compiler.context(
                compiled.parameters, compiled.root_vars
            )
            root_vars = compiled.compiler.flatten(root_vars, ctx, "variable")
        self._missing(variables.update(root_vars))
        structure = compiled.structure
        for _, jobs in structure:
            for job in jobs:
                if P.MAYBE in job.raw:
                    raise UnsupportedPipelineError(
                        f"job {job.id}: {job.raw[P.MAYBE]}"
                    )
        stage_graph = {s.id: list(s.depends) for s, _ in structure}
        by_id = {s.id: (s, jobs) for s, jobs in structure}
        wanted_stages, wanted_jobs = self._selection(structure, stage_graph)
        for stage_id in order(stage_graph):
            if stage_id not in wanted_stages:
                continue
            stage, jobs = by_id[stage_id]
            label = None if stage_id == "__default" else stage_id
            if plan.triggered is P.Verdict.SKIP:
                for job in jobs:
                    self._skip(
                        job, label, f"not triggered: {plan.trigger_reason}"
                    )
                self.stage_results[stage_id] = SKIPPED
                continue
            self._stage(stage, jobs, label, stage_graph, variables, wanted_jobs)
        return self.results

    def _missing(self, missing: list[str]) -> None:
        for what in missing:
            if self.options.strict:
                raise UnsupportedPipelineError(
                    f"{what} is not available locally (--strict)"
                )
            self.session.log.echo(f"note: {what} is not available locally")

    def _selection(
        self, structure: list[Any], stage_graph: Mapping[str, list[str]]
    ) -> tuple[set[str], dict[str, set[str] | None]]:
        """Stages to run, and per stage the jobs (None: all)."""
        wanted = list(self.options.jobs)
        if not wanted:
            return set(stage_graph), {}
        jobs_of: dict[str, set[str] | None] = {}
        stages: list[str] = []
        for name in wanted:
            stage_name, _, job_name = name.rpartition(".")
            found = False
            for stage, jobs in structure:
                if name == stage.id:
                    stages.append(stage.id)
                    jobs_of[stage.id] = None
                    found = True
                    continue
                for job in jobs:
                    if job.id == (job_name or name) and stage_name in (
                        "",
                        stage.id,
                    ):
                        graph = {j.id: j.depends for j in jobs}
                        picked = jobs_of.setdefault(stage.id, set())
                        if picked is not None:
                            picked.update({job.id, *ancestors(graph, job.id)})
                        stages.append(stage.id)
                        found = True
            if not found:
                names = [
                    j.id if s.id == "__default" else f"{s.id}.{j.id}"
                    for s, jobs in structure
                    for j in jobs
                ]
                raise UnsupportedPipelineError(
                    f"no stage or job named {name!r} in this file",
                    hint="jobs: " + ", ".join(names),
                )
        run_stages = selected(stage_graph, stages, "stage")
        return run_stages, jobs_of

    def _skip(self, job: Any, stage: str | None, reason: str) -> None:
        result = skipped_job(job.id, _title(job), reason, stage)
        self.results.append(result)
        self.state.setdefault(job.stage or "", {})[job.id] = {
            "result": "Skipped",
            "outputs": {},
        }

    # conditions -------------------------------------------------------
    def _dependencies(self, names: list[str], stage_level: bool) -> Any:
        if stage_level:
            return P.context(
                {
                    s: P.context(
                        {
                            "result": _AZ_RESULT.get(
                                self.stage_results.get(s, SKIPPED), "Skipped"
                            ),
                            "outputs": P.context(
                                {
                                    f"{job}.{key}": value
                                    for job, info in self.state.get(
                                        s, {}
                                    ).items()
                                    for key, value in info["outputs"].items()
                                },
                                None,
                            ),
                        }
                    )
                    for s in names
                }
            )
        return P.context({})

    def _job_dependencies(self, stage_id: str, names: list[str]) -> Any:
        jobs = self.state.get(stage_id, {})
        return P.context(
            {
                n: P.context(
                    {
                        "result": jobs[n]["result"],
                        "outputs": P.context(jobs[n]["outputs"], None),
                    }
                )
                for n in names
                if n in jobs
            }
        )

    def _stage_dependencies(self, stage: Any) -> Any:
        return P.context(
            {
                s: P.context(
                    {
                        job: P.context(
                            {
                                "result": info["result"],
                                "outputs": P.context(info["outputs"], None),
                            }
                        )
                        for job, info in self.state.get(s, {}).items()
                    }
                )
                for s in stage.depends
            }
        )

    def _runtime(
        self, variables: Variables, contexts: Mapping[str, Any]
    ) -> None:
        """Evaluate ``$[ ]`` values (at the start of a stage or job)."""
        for key, (name, value, secret) in list(variables.values.items()):
            if isinstance(value, str):
                match = _RUNTIME.match(value)
                if match:
                    ctx = {**contexts, "variables": variables.context()}
                    try:
                        result = P.evaluate(match.group(1), ctx, github=False)
                    except P.ExpressionError as error:
                        raise UnsupportedPipelineError(
                            f"variable {name}: {error}"
                        ) from error
                    variables.values[key] = (
                        name,
                        P.to_text(result, github=False),
                        secret,
                    )

    # stages and jobs -------------------------------------------------
    def _stage(
        self,
        stage: Any,
        jobs: list[Any],
        label: str | None,
        stage_graph: Mapping[str, list[str]],
        root_vars: Variables,
        wanted_jobs: Mapping[str, set[str] | None],
    ) -> None:
        variables = Variables(root_vars)
        self._missing(variables.update(stage.raw.get("variables")))
        if label:
            variables.set("System.StageName", label)
        contexts = {
            "dependencies": self._dependencies(stage.depends, True),
            "stagedependencies": self._stage_dependencies(stage),
        }
        self._runtime(variables, contexts)
        results = {
            a: self.stage_results.get(a, SKIPPED)
            for a in ancestors(stage_graph, stage.id)
        }
        ctx = {**contexts, "variables": variables.context()}
        self.state.setdefault(stage.id, {})
        if label and not self._condition(
            stage.raw.get("condition"), ctx, results, f"stage {stage.id}"
        ):
            for job in jobs:
                self._skip(
                    job,
                    label,
                    f"stage {stage.id} is skipped"
                    + (
                        f" (`condition: {stage.raw.get('condition')}` is false)"
                        if stage.raw.get("condition") is not None
                        else " (a stage it depends on did not succeed)"
                    ),
                )
            self.stage_results[stage.id] = SKIPPED
            return
        graph = {j.id: list(j.depends) for j in jobs}
        picked = wanted_jobs.get(stage.id)
        by_id = {j.id: j for j in jobs}
        for job_id in order(graph):
            if picked is not None and job_id not in picked:
                continue
            self._job(by_id[job_id], label, graph, variables, stage)
        infos = self.state.get(stage.id, {}).values()
        failed = any(i["result"] == "Failed" for i in infos)
        ran = any(
            i["result"] in ("Succeeded", "SucceededWithIssues") for i in infos
        )
        self.stage_results[stage.id] = (
            FAILURE if failed else SUCCESS if ran else SKIPPED
        )

    def _job(
        self,
        job: Any,
        label: str | None,
        graph: Mapping[str, list[str]],
        stage_vars: Variables,
        stage: Any,
    ) -> None:
        raw = job.raw
        variables = Variables(stage_vars)
        self._missing(variables.update(raw.get("variables")))
        contexts = {
            "dependencies": self._job_dependencies(stage.id, list(job.depends)),
            "stagedependencies": self._stage_dependencies(stage),
        }
        results = {}
        for a in ancestors(graph, job.id):
            info = self.state.get(stage.id, {}).get(a)
            result = info["result"] if info else "Skipped"
            results[a] = (
                SUCCESS
                if result in ("Succeeded", "SucceededWithIssues")
                else FAILURE
                if result == "Failed"
                else SKIPPED
            )
        self._runtime(variables, contexts)
        ctx = {**contexts, "variables": variables.context()}
        where = f"job {job.id}"
        if not self._condition(raw.get("condition"), ctx, results, where):
            condition = raw.get("condition")
            self._skip(
                job,
                label,
                f"`condition: {condition}` is false"
                if condition is not None
                else "a job it depends on did not succeed",
            )
            return
        if job.kind == "deployment" and not self.options.include_deployments:
            environment = raw.get("environment")
            if isinstance(environment, Mapping):
                environment = environment.get("name")
            self._skip(
                job,
                label,
                f"deployment job (environment {environment!r});"
                " --include-deployments runs it",
            )
            return
        if raw.get("container") or raw.get("services"):
            self._unsupported_job(
                job, label, "container jobs and service containers are not run"
            )
            return
        image = (
            str((raw.get("pool") or {}).get("vmImage", "")).lower()
            if (isinstance(raw.get("pool"), Mapping))
            else ""
        )
        for system in ("windows", "macos"):
            if system in image:
                self._unsupported_job(
                    job,
                    label,
                    f"runs on {system} (vmImage {image}); this is Linux",
                )
                return
        matrix = (
            raw.get("strategy", {}).get("matrix")
            if isinstance(raw.get("strategy"), Mapping)
            else None
        )
        legs = (
            [(str(k), v) for k, v in matrix.items()]
            if isinstance(matrix, Mapping)
            else [("", {})]
        )
        wanted = self.options.matrix
        for leg, leg_vars in legs:
            leg_vars = leg_vars if isinstance(leg_vars, Mapping) else {}
            if (
                wanted
                and leg
                and not all(
                    (k == "leg" and v == leg) or str(leg_vars.get(k)) == v
                    for k, v in wanted.items()
                    if k == "leg" or k in leg_vars
                )
            ):
                continue
            self._leg(job, label, variables, leg, leg_vars, stage)

    def _unsupported_job(self, job: Any, label: str | None, why: str) -> None:
        if self.options.strict:
            raise UnsupportedPipelineError(f"job {job.id}: {why} (--strict)")
        self._skip(job, label, why)

    def _leg(
        self,
        job: Any,
        label: str | None,
        job_vars: Variables,
        leg: str,
        leg_vars: Mapping[str, Any],
        stage: Any,
    ) -> None:
        raw = job.raw
        variables = Variables(job_vars)
        for k, v in leg_vars.items():
            variables.set(str(k), scalar(v))
        variables.set("System.JobName", job.id)
        variables.set("Agent.JobName", job.id + (f" {leg}" if leg else ""))
        name = job.id + (f" ({leg})" if leg else "")
        result = JobResult(name, _title(job, variables), SUCCESS, stage=label)
        self.session.log.job_started(result)
        for secret in variables.secrets():
            self.session.masker.add(secret)
        state = _Job(variables, minutes(raw.get("timeoutInMinutes"), 60))
        start = time.monotonic()
        deployment = job.kind == "deployment"
        try:
            overall = SUCCESS
            for hook, steps in _job_steps(raw):
                if hook == "on.success" and overall != SUCCESS:
                    continue
                if hook == "on.failure" and overall != FAILURE:
                    continue
                if deployment:
                    # each lifecycle hook runs as a job of its own: a fresh
                    # status and variables, the same deadline and outputs
                    state.status = SUCCESS
                    state.variables = Variables(variables)
                elif overall == FAILURE:
                    state.status = FAILURE
                for index, step in enumerate(steps):
                    step_result = self._step(step, index, state)
                    result.steps.append(step_result)
                    self.session.log.step(step_result)
                if state.status == FAILURE:
                    overall = FAILURE
            result.status = overall
        except SkipJob as skip:
            result.status = SKIPPED
            result.reason = str(skip)
        if result.status == FAILURE and (
            str(raw.get("continueOnError", False)).lower() == "true"
        ):
            result.status = SUCCESS
            result.reason = "failed; continueOnError (SucceededWithIssues)"
            state.issues = True
        result.seconds = time.monotonic() - start
        self.session.log.job_done(result)
        self.results.append(result)
        outputs = {}
        for key, value in state.outputs.items():
            outputs[key] = value
            outputs[f"{job.id}.{key}"] = value
            if leg:
                outputs[f"{leg}.{key}"] = value
            if job.kind == "deployment":
                for hook in _HOOKS:
                    outputs[f"{hook}_{job.id}.{key}"] = value
        azure_result = (
            "Skipped"
            if result.status == SKIPPED
            else "Failed"
            if result.status == FAILURE
            else "SucceededWithIssues"
            if state.issues
            else "Succeeded"
        )
        jobs = self.state.setdefault(stage.id, {})
        previous = jobs.get(job.id)
        if previous and previous["result"] == "Failed":
            azure_result = "Failed"
        elif previous and azure_result == "Skipped":
            azure_result = previous["result"]
        jobs[job.id] = {
            "result": azure_result,
            "outputs": {**(previous or {}).get("outputs", {}), **outputs},
        }

    # steps ------------------------------------------------------------


def _job_steps(raw: Mapping[str, Any]) -> list[tuple[str, list[Any]]]:
    """(hook, steps) in the order the agent runs them: a job's steps, or
    a runOnce deployment's lifecycle hooks then on.success/on.failure."""
    if "deployment" not in raw:
        return [("steps", list(raw.get("steps") or []))]
    strategy = raw.get("strategy") or {}
    run_once = (
        strategy.get("runOnce") if isinstance(strategy, Mapping) else None
    )
    if not isinstance(run_once, Mapping):
        if raw.get("steps"):
            return [("steps", list(raw["steps"]))]
        raise UnsupportedPipelineError(
            f"deployment {raw.get('deployment')}: only the runOnce strategy"
            " is run locally"
        )
    hooks = []
    for hook in _HOOKS:
        body = run_once.get(hook)
        if isinstance(body, Mapping):
            hooks.append((hook, list(body.get("steps") or [])))
    found = run_once.get("on")
    on: Mapping[Any, Any] = found if isinstance(found, Mapping) else {}
    for outcome in ("failure", "success"):
        body = on.get(outcome)
        if isinstance(body, Mapping):
            hooks.append((f"on.{outcome}", list(body.get("steps") or [])))
    return hooks


def _title(job: Any, variables: Variables | None = None) -> str:
    title = str(job.raw.get("displayName") or job.id)
    return variables.macro(title) if variables else title
