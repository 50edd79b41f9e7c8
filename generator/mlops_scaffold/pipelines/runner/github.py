"""Running a GitHub Actions workflow on this machine, as the runner does.

GitHub "Workflow syntax", "Contexts", "Workflow commands" and "Metadata
syntax" (composite actions): env at workflow, job and step level (the
innermost wins); ``defaults.run``; the documented shells; ``${{ }}`` in
run, env, with, if and outputs, evaluated by the planner's engine; the
status functions (``success()`` at step level: no earlier step failed);
``continue-on-error`` (outcome failure, conclusion success);
GITHUB_ENV / GITHUB_OUTPUT / GITHUB_PATH / GITHUB_STEP_SUMMARY files;
local composite actions and reusable workflows; matrices."""

from __future__ import annotations

import itertools
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import UnsupportedPipelineError
from .. import semantics as P
from ..semantics.graph import github_needs
from .actions import SkipJob
from .base import (
    Session,
    ancestors,
    minutes,
    order,
    selected,
    skipped_job,
)
from .github_steps import (
    GitHubSteps,
    _as_list,
    _Job,
    _map,
    _text,
    _value,
)
from .report import FAILURE, SKIPPED, SUCCESS, JobResult


class GitHubRun(GitHubSteps):
    """One workflow file (or a reusable workflow a job calls)."""

    def __init__(
        self,
        session: Session,
        path: Path,
        data: Mapping[str, Any],
        *,
        inputs: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
        prefix: str = "",
    ) -> None:
        self.session = session
        self.path = path
        self.data = data
        self.options = session.options
        self.prefix = prefix
        self.secrets = dict(
            self.options.secrets if secrets is None else secrets
        )
        self.inputs = dict(inputs or {})
        if inputs is None and self.options.event.kind == "manual":
            self.inputs = P.workflow_inputs(data, self.options.event)
        self.results: list[JobResult] = []
        self.job_state: dict[str, dict[str, Any]] = {}
        workflow_env = P.context({}, "")
        self.contexts_base = {
            "github": self._github(),
            "vars": P.context(dict(self.options.variables), ""),
            "secrets": P.context(self.secrets, ""),
            "inputs": P.context(self.inputs, None),
            "runner": P.context(
                {
                    "os": "Linux",
                    "arch": "X64",
                    "name": "local",
                    "temp": str(session.temp),
                    "tool_cache": str(session.tools),
                    "debug": "",
                }
            ),
            "env": workflow_env,
        }
        self.functions = {"hashfiles": lambda ev, *a: session.hash_files(*a)}

    # contexts ---------------------------------------------------------
    def _github(self) -> Any:
        session = self.session
        remote = session.git("config", "--get", "remote.origin.url")
        match = re.search(r"[:/]([^/:]+/[^/]+?)(?:\.git)?$", remote)
        repository = match.group(1) if match else f"local/{session.root.name}"
        event = self.options.event
        if self.prefix:  # a reusable workflow: called by another
            event = P.Event(
                "workflow_call", event.branch, inputs=dict(self.inputs)
            )
        return P.github_context(
            self.data,
            event,
            {
                "sha": session.git("rev-parse", "HEAD") or "0" * 40,
                "repository": repository,
                "repository_owner": repository.split("/")[0],
                "workspace": str(session.root),
                "token": self.secrets.get("GITHUB_TOKEN", ""),
                "run_id": "1",
                "run_number": "1",
                "run_attempt": "1",
                "actor": "local",
                "server_url": "https://github.com",
                "api_url": "https://api.github.com",
                "action_path": "",
            },
        )

    # jobs -------------------------------------------------------------
    def run(self) -> list[JobResult]:
        jobs = self.data.get("jobs")
        if not isinstance(jobs, Mapping) or not jobs:
            raise UnsupportedPipelineError(f"{self.path} has no jobs")
        graph = github_needs(self.data)  # the planner's graph
        ordered = order(graph)
        wanted = selected(
            graph, self.options.jobs if not self.prefix else (), "job"
        )
        plan = P.plan(
            self.data,
            "github",
            self.options.event,
            dict(self.options.variables),
            assume_triggered=bool(self.prefix),
        )
        for job_id in ordered:
            if job_id not in wanted:
                continue
            job = _map(jobs[job_id])
            name = self.prefix + job_id
            title = _text(job.get("name") or job_id)
            if plan.triggered is P.Verdict.SKIP:
                result = skipped_job(
                    name, title, f"not triggered: {plan.trigger_reason}"
                )
                self._record(job_id, result, {})
                continue
            self._job(job_id, job, graph)
        return self.results

    def _record(
        self, job_id: str, result: JobResult, outputs: Mapping[str, str]
    ) -> None:
        previous = self.job_state.get(job_id)
        status = result.status
        if previous and previous["result"] != status:
            # a matrix: failure wins, then success
            status = (
                FAILURE
                if FAILURE in (status, previous["result"])
                else SUCCESS
                if SUCCESS in (status, previous["result"])
                else SKIPPED
            )
        self.job_state[job_id] = {
            "result": status,
            "outputs": {**(previous or {}).get("outputs", {}), **outputs},
        }
        if result not in self.results:
            self.results.append(result)

    def _needs_context(self, needs: list[str]) -> Any:
        return P.context(
            {
                n: P.context(
                    {
                        "result": self.job_state[n]["result"],
                        "outputs": P.context(self.job_state[n]["outputs"], ""),
                    }
                )
                for n in needs
                if n in self.job_state
            }
        )

    def _job(
        self, job_id: str, job: Mapping[str, Any], graph: Mapping[str, Any]
    ) -> None:
        name = self.prefix + job_id
        title = _text(job.get("name") or job_id)
        needs = graph[job_id]
        results = {
            a: self.job_state.get(a, {}).get("result", SKIPPED)
            for a in ancestors(graph, job_id)
        }
        contexts = {
            **self.contexts_base,
            "needs": self._needs_context(needs),
        }
        try:
            runs = P.condition_holds(
                job.get("if"),
                contexts,
                github=True,
                results=results,
                functions=self.functions,
            )
        except P.ExpressionError as error:
            raise UnsupportedPipelineError(
                f"jobs.{job_id}.if: {error}"
            ) from error
        if not runs:
            why = (
                "a job it needs did not succeed"
                if job.get("if") is None
                else f"`if: {job.get('if')}` is false"
            )
            self._record(job_id, skipped_job(name, title, why), {})
            return
        environment = job.get("environment")
        if environment and not self.options.include_deployments:
            env_name = _map(environment).get("name", environment)
            self._record(
                job_id,
                skipped_job(
                    name,
                    title,
                    f"deploys to environment {env_name!r};"
                    " --include-deployments runs it",
                ),
                {},
            )
            return
        if "uses" in job:
            self._reusable(job_id, job, contexts)
            return
        why = _not_here(job.get("runs-on"), job)
        if why:
            if self.options.strict:
                raise UnsupportedPipelineError(
                    f"job {job_id}: {why} (--strict)"
                )
            self._record(job_id, skipped_job(name, title, why), {})
            return
        strategy = _map(job.get("strategy"))
        fail_fast = str(
            self._eval(strategy.get("fail-fast", True), contexts)
        ).lower() not in ("false", "0")
        failed = False
        for leg in self._matrix(job_id, job, contexts):
            if failed and fail_fast:
                # strategy.fail-fast (default true) cancels the other legs
                self._record(
                    job_id,
                    skipped_job(
                        self.prefix + job_id + _leg_suffix(leg),
                        title,
                        "cancelled: another matrix leg failed (fail-fast)",
                    ),
                    {},
                )
                continue
            failed = self._leg(job_id, job, contexts, leg) or failed

    def _matrix(
        self, job_id: str, job: Mapping[str, Any], contexts: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        raw = _map(job.get("strategy")).get("matrix")
        if isinstance(raw, str):  # ${{ fromJSON(...) }}
            raw = _plain(self._eval(raw, contexts))
        matrix = {
            k: _plain(self._eval(v, contexts)) for k, v in _map(raw).items()
        }
        axes = {
            k: _as_list(v)
            for k, v in matrix.items()
            if k not in ("include", "exclude")
        }
        legs = [
            dict(zip(axes, combo, strict=True))
            for combo in itertools.product(*axes.values())
        ]
        for excluded in _as_list(matrix.get("exclude")):
            legs = [
                leg
                for leg in legs
                if not all(
                    str(leg.get(k)) == str(v) for k, v in _map(excluded).items()
                )
            ]
        # "include": added to every combination whose original values it
        # does not overwrite; a new combination when it fits none
        originals = len(legs)
        for extra in _as_list(matrix.get("include")):
            extra = _map(extra)
            merged = False
            for leg in legs[:originals]:
                if all(
                    str(leg.get(k)) == str(v)
                    for k, v in extra.items()
                    if k in axes
                ):
                    leg.update(extra)
                    merged = True
            if not merged:
                legs.append(dict(extra))
        legs = legs or [{}]
        wanted = self.options.matrix
        return [
            leg
            for leg in legs
            if all(str(leg.get(k)) == v for k, v in wanted.items() if k in leg)
        ]

    def _leg(
        self,
        job_id: str,
        job: Mapping[str, Any],
        contexts: Mapping[str, Any],
        leg: dict[str, Any],
    ) -> bool:
        """Run one job or matrix leg; True when it failed."""
        contexts = {
            **contexts,
            "matrix": P.context({k: _value(v) for k, v in leg.items()}),
            "strategy": P.context({"fail-fast": "false"}),
        }
        name = self.prefix + job_id + _leg_suffix(leg)
        title = _text(self._eval(str(job.get("name") or job_id), contexts))
        result = JobResult(name, title, SUCCESS)
        self.session.log.job_started(result)
        start = time.monotonic()
        env: dict[str, str] = {}  # the env context: declared values only
        env.update(self._strings(self.data.get("env"), contexts))
        env.update(
            self._strings(job.get("env"), {**contexts, "env": P.context(env)})
        )
        state = _Job(env, minutes(job.get("timeout-minutes"), 360))
        state.machine = self._machine_env(contexts, job_id)
        defaults = {
            **_map(_map(self.data.get("defaults")).get("run")),
            **_map(_map(job.get("defaults")).get("run")),
        }
        steps_ctx: dict[str, Any] = {}
        outputs: dict[str, str] = {}
        try:
            for index, step in enumerate(_as_list(job.get("steps"))):
                step_result = self._step(
                    _map(step), index, state, contexts, steps_ctx, defaults
                )
                result.steps.append(step_result)
                self.session.log.step(step_result)
            job_contexts = {
                **contexts,
                "steps": P.context(steps_ctx),
                "env": P.context(state.env, ""),
            }
            outputs = self._strings(job.get("outputs"), job_contexts)
            result.status = state.status
        except SkipJob as skip:
            result.status = SKIPPED
            result.reason = str(skip)
        failed = result.status == FAILURE
        if failed and _true(self._eval(job.get("continue-on-error"), contexts)):
            result.status = SUCCESS
            result.reason = "failed; continue-on-error"
        result.seconds = time.monotonic() - start
        self._show_summary()
        self.session.log.job_done(result)
        self._record(job_id, result, outputs)
        return failed

    def _show_summary(self) -> None:
        """What the job's steps wrote to GITHUB_STEP_SUMMARY (the run's
        page on the service), shown once after the job."""
        path = self.session.temp / "step_summary.md"
        if path.is_file():
            text = self.session.masker(path.read_text(encoding="utf-8"))
            path.unlink()
            lines = text.strip().splitlines()
            if lines:
                self.session.log.echo("  step summary:")
                for line in lines[:40]:
                    self.session.log.echo(f"    > {line}")
                if len(lines) > 40:
                    self.session.log.echo(f"    > ... {len(lines) - 40} more")

    def _machine_env(
        self, contexts: Mapping[str, Any], job_id: str
    ) -> dict[str, str]:
        """The machine's environment and the runner's default variables
        ("Variables": Default environment variables)."""
        github = contexts["github"]
        event = self.session.temp / "event.json"
        event.write_text(
            json.dumps(_plain(github.get("event")) or {}), encoding="utf-8"
        )
        values = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.session.root),
            "GITHUB_JOB": job_id,
            "GITHUB_EVENT_PATH": str(event),
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
            "RUNNER_NAME": "local",
            "RUNNER_TEMP": str(self.session.temp),
            "RUNNER_TOOL_CACHE": str(self.session.tools),
        }
        for name, key in (
            ("GITHUB_REF", "ref"),
            ("GITHUB_REF_NAME", "ref_name"),
            ("GITHUB_REF_TYPE", "ref_type"),
            ("GITHUB_HEAD_REF", "head_ref"),
            ("GITHUB_BASE_REF", "base_ref"),
            ("GITHUB_SHA", "sha"),
            ("GITHUB_REPOSITORY", "repository"),
            ("GITHUB_REPOSITORY_OWNER", "repository_owner"),
            ("GITHUB_EVENT_NAME", "event_name"),
            ("GITHUB_RUN_ID", "run_id"),
            ("GITHUB_RUN_NUMBER", "run_number"),
            ("GITHUB_RUN_ATTEMPT", "run_attempt"),
            ("GITHUB_ACTOR", "actor"),
            ("GITHUB_SERVER_URL", "server_url"),
            ("GITHUB_API_URL", "api_url"),
            ("GITHUB_WORKFLOW", "workflow"),
        ):
            values[name] = _text(github.get(key))
        return {**self.session.base_env(), **values}

    # reusable workflows ----------------------------------------------
    def _reusable(
        self, job_id: str, job: Mapping[str, Any], contexts: Mapping[str, Any]
    ) -> None:
        uses = str(job["uses"])
        title = _text(job.get("name") or job_id)
        if not uses.startswith("./"):
            if self.options.strict:
                raise UnsupportedPipelineError(
                    f"job {job_id}: {uses} is not a local workflow (--strict)"
                )
            self._record(
                job_id,
                skipped_job(
                    self.prefix + job_id, title, f"{uses}: not a local workflow"
                ),
                {},
            )
            return
        called_path = self.session.root / uses[2:].split("@")[0]
        called = _map(self.session.load(called_path))
        call = _map(_map(called.get("on")).get("workflow_call"))
        values: dict[str, Any] = {
            str(k): _value(_map(v).get("default"))
            for k, v in _map(call.get("inputs")).items()
        }
        for key, raw in _map(job.get("with")).items():
            values[str(key)] = _value(self._eval(raw, contexts))
        secrets = (
            dict(self.secrets)
            if job.get("secrets") == "inherit"
            else self._strings(job.get("secrets"), contexts)
        )
        nested = GitHubRun(
            self.session,
            called_path,
            called,
            inputs=values,
            secrets=secrets,
            prefix=f"{self.prefix}{job_id} / ",
        )
        results = nested.run()
        self.results.extend(results)
        jobs_ctx = P.context(
            {
                k: P.context(
                    {
                        "result": v["result"],
                        "outputs": P.context(v["outputs"], ""),
                    }
                )
                for k, v in nested.job_state.items()
            }
        )
        outputs = {
            str(k): _text(
                self._eval(
                    _map(v).get("value", ""), {**contexts, "jobs": jobs_ctx}
                )
            )
            for k, v in _map(call.get("outputs")).items()
        }
        statuses = {r.status for r in results}
        status = (
            FAILURE
            if FAILURE in statuses
            else SUCCESS
            if SUCCESS in statuses
            else SKIPPED
        )
        self.job_state[job_id] = {"result": status, "outputs": outputs}


def _not_here(runs_on: Any, job: Mapping[str, Any]) -> str:
    """Why a job cannot run on this Linux machine without containers."""
    if job.get("container") or job.get("services"):
        return "container jobs and service containers are not run"
    labels = " ".join(str(x) for x in _as_list(runs_on)).lower()
    for system in ("windows", "macos"):
        if system in labels:
            return f"runs on {system} (runs-on: {runs_on}); this is Linux"
    return ""


def _leg_suffix(leg: Mapping[str, Any]) -> str:
    if not leg:
        return ""
    return f" ({', '.join(_text(_value(v)) for v in leg.values())})"


def _true(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def _plain(value: Any) -> Any:
    """An expression value (context objects, floats) as YAML data."""
    if hasattr(value, "values") and hasattr(value, "missing"):
        return {k: _plain(v) for k, v in value.values.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def run_workflow(session: Session, path: Path) -> list[JobResult]:
    """Run the jobs of the workflow at ``path`` that the event starts."""
    data = session.load(path)
    if not isinstance(data, Mapping) or "jobs" not in data:
        raise UnsupportedPipelineError(f"{path} is not a GitHub workflow")
    return GitHubRun(session, path, data).run()
