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
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import UnsupportedPipelineError
from .. import planner as P
from .actions import SkipJob, github_action
from .base import (
    Session,
    ancestors,
    minutes,
    order,
    parse_env_file,
    selected,
    skipped_job,
    with_path,
)
from .report import FAILURE, SKIPPED, SUCCESS, JobResult, StepResult
from .shell import GITHUB_SHELLS, command_line, write_script

_EVENTS = {"workflow_dispatch": "manual"}


def _text(value: Any) -> str:
    return P.to_text(value, github=True)


class _Job:
    """The state of one running job (or matrix leg)."""

    def __init__(self, env: dict[str, str], timeout: float) -> None:
        self.env = env  # workflow + job env, and GITHUB_ENV additions
        self.machine: dict[str, str] = {}  # the runner's own variables
        self.overlay: dict[str, str] = {}  # a composite's calling step env
        self.path: list[str] = []
        self.status = SUCCESS
        self.deadline = time.monotonic() + timeout


class GitHubRun:
    """One workflow file (or a reusable workflow a job calls)."""

    def __init__(
        self,
        session: Session,
        path: Path,
        data: Mapping,
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
        if self.inputs and event.kind != "workflow_call":
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

    def _eval(self, value: Any, contexts: Mapping[str, Any]) -> Any:
        if isinstance(value, str) and "${{" in value:
            return P.interpolate(
                value, contexts, github=True, functions=self.functions
            )
        return value

    def _strings(
        self, values: Any, contexts: Mapping[str, Any]
    ) -> dict[str, str]:
        if not isinstance(values, Mapping):
            return {}
        return {
            str(k): _text(self._eval(v, contexts)) for k, v in values.items()
        }

    # jobs -------------------------------------------------------------
    def run(self) -> list[JobResult]:
        jobs = self.data.get("jobs")
        if not isinstance(jobs, Mapping) or not jobs:
            raise UnsupportedPipelineError(f"{self.path} has no jobs")
        graph = {
            str(k): [str(n) for n in _as_list(_map(v).get("needs"))]
            for k, v in jobs.items()
        }
        ordered = order(graph)
        wanted = selected(
            graph, self.options.jobs if not self.prefix else (), "job"
        )
        plan = P.plan(
            self.data,
            "github",
            self._planned_event(),
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

    def _planned_event(self) -> P.Event:
        return self.options.event

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

    def _job(self, job_id: str, job: Mapping, graph: Mapping) -> None:
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
        self, job_id: str, job: Mapping, contexts: Mapping[str, Any]
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
        legs = (
            [
                dict(zip(axes, combo, strict=True))
                for combo in itertools.product(*axes.values())
            ]
            if axes
            else [{}]
        )
        for excluded in _as_list(matrix.get("exclude")):
            legs = [
                leg
                for leg in legs
                if not all(
                    str(leg.get(k)) == str(v) for k, v in _map(excluded).items()
                )
            ]
        for extra in _as_list(matrix.get("include")):
            extra = _map(extra)
            merged = False
            for leg in legs:
                if (
                    axes
                    and all(
                        str(leg.get(k)) == str(v)
                        for k, v in extra.items()
                        if k in axes
                    )
                    and any(k in axes for k in extra)
                ):
                    leg.update(extra)
                    merged = True
            if not merged:
                legs.append(dict(extra))
        wanted = self.options.matrix
        return [
            leg
            for leg in legs
            if all(str(leg.get(k)) == v for k, v in wanted.items() if k in leg)
        ]

    def _leg(
        self,
        job_id: str,
        job: Mapping,
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
        self.session.log.job_done(result)
        self._record(job_id, result, outputs)
        return failed

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

    # steps ------------------------------------------------------------
    def _step(
        self,
        step: Mapping,
        index: int,
        state: _Job,
        contexts: Mapping[str, Any],
        steps_ctx: dict[str, Any],
        defaults: Mapping[str, Any],
        action_dir: Path | None = None,
    ) -> StepResult:
        env_ctx = P.context(state.env, "")
        ctx = {
            **contexts,
            "steps": P.context(steps_ctx),
            "env": env_ctx,
            "job": P.context({"status": state.status}),
        }
        label = _step_name(step, index)
        try:
            label = self.session.masker(_text(self._eval(label, ctx)))
            runs = P.condition_holds(
                step.get("if"),
                ctx,
                github=True,
                results={"job": state.status},
                functions=self.functions,
            )
        except P.ExpressionError as error:
            return self._finish(
                step,
                StepResult(label, FAILURE, reason=str(error)),
                state,
                steps_ctx,
                {},
            )
        if not runs:
            result = StepResult(label, SKIPPED)
            if step.get("id"):
                steps_ctx[str(step["id"])] = P.context(
                    {
                        "outcome": SKIPPED,
                        "conclusion": SKIPPED,
                        "outputs": P.context({}, ""),
                    }
                )
            return result
        start = time.monotonic()
        try:
            step_env = {
                **state.env,
                **state.overlay,
                **self._strings(step.get("env"), ctx),
            }
            # a step's own env: is in its env context (run:, with:)
            ctx = {**ctx, "env": P.context(step_env, "")}
            if "run" in step:
                result, outputs = self._run_step(
                    step, label, state, ctx, step_env, defaults, action_dir
                )
            elif "uses" in step:
                result, outputs = self._uses_step(
                    step, label, state, ctx, step_env, action_dir
                )
            else:
                raise UnsupportedPipelineError(
                    f"step {label!r} has neither run: nor uses:"
                )
        except P.ExpressionError as error:
            result, outputs = StepResult(label, FAILURE, reason=str(error)), {}
        result.seconds = time.monotonic() - start
        return self._finish(step, result, state, steps_ctx, outputs, ctx)

    def _finish(
        self,
        step: Mapping,
        result: StepResult,
        state: _Job,
        steps_ctx: dict[str, Any],
        outputs: Mapping[str, str],
        ctx: Mapping[str, Any] | None = None,
    ) -> StepResult:
        if result.status == FAILURE:
            continue_on_error = step.get("continue-on-error", False)
            if ctx is not None:
                continue_on_error = self._eval(continue_on_error, ctx)
            if str(continue_on_error).lower() == "true":
                result.status = SUCCESS
            else:
                state.status = FAILURE
        if step.get("id"):
            steps_ctx[str(step["id"])] = P.context(
                {
                    "outcome": result.outcome,
                    "conclusion": result.status,
                    "outputs": P.context(dict(outputs), ""),
                }
            )
        return result

    def _files(self) -> dict[str, Path]:
        folder = self.session.temp / "files"
        folder.mkdir(exist_ok=True)
        files = {}
        for name in ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH"):
            path = folder / f"{name.lower()}_{time.monotonic_ns()}"
            path.write_text("", encoding="utf-8")
            files[name] = path
        files["GITHUB_STEP_SUMMARY"] = self.session.temp / "step_summary.md"
        return files

    def _run_step(
        self,
        step: Mapping,
        label: str,
        state: _Job,
        ctx: Mapping[str, Any],
        env: dict[str, str],
        defaults: Mapping[str, Any],
        action_dir: Path | None,
    ) -> tuple[StepResult, dict[str, str]]:
        script = _text(self._eval(str(step["run"]), ctx))
        shell = str(step.get("shell") or defaults.get("shell") or "")
        shell = _text(self._eval(shell, ctx))
        template = GITHUB_SHELLS.get(shell, shell)
        if not shell and not shutil.which("bash"):
            template = "sh -e {0}"
        folder = self.session.temp / "scripts"
        path = write_script(
            folder, script, ".py" if shell == "python" else ".sh"
        )
        directory = step.get("working-directory") or defaults.get(
            "working-directory"
        )
        cwd = self.session.working_directory(
            _text(self._eval(directory, ctx)) if directory else None
        )
        files = self._files()
        env = {
            **state.machine,
            **env,
            **{k: str(v) for k, v in files.items()},
        }
        if action_dir is not None:
            env["GITHUB_ACTION_PATH"] = str(action_dir)
        timeout = minutes(step.get("timeout-minutes"), 0)
        remaining = state.deadline - time.monotonic()
        done = self.session.execute(
            command_line(template, path),
            cwd,
            with_path(env, state.path),
            max(0.0, min(timeout, remaining)),
        )
        outputs = self._after(files, state, done.output)
        if done.timed_out:
            return StepResult(
                label, FAILURE, output=done.output, reason="timed out"
            ), outputs
        status = SUCCESS if done.exit_code == 0 else FAILURE
        reason = "" if status == SUCCESS else f"exit code {done.exit_code}"
        return StepResult(
            label, status, output=done.output, reason=reason
        ), outputs

    def _after(
        self, files: Mapping[str, Path], state: _Job, output: str
    ) -> dict[str, str]:
        """Apply what the step wrote to GITHUB_ENV/PATH and workflow
        commands (add-mask); return its GITHUB_OUTPUT."""
        legacy: dict[str, str] = {}
        for line in output.splitlines():
            if line.startswith("::add-mask::"):
                self.session.masker.add(line[len("::add-mask::") :])
            match = re.match(r"::set-output name=([^:]+)::(.*)$", line)
            if match:  # deprecated, still honoured by the runner
                legacy[match.group(1)] = match.group(2)
        state.env.update(
            parse_env_file(files["GITHUB_ENV"].read_text(encoding="utf-8"))
        )
        for line in reversed(
            files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines()
        ):
            if line.strip():
                state.path.insert(0, line.strip())
        return {
            **legacy,
            **parse_env_file(
                files["GITHUB_OUTPUT"].read_text(encoding="utf-8")
            ),
        }

    def _uses_step(
        self,
        step: Mapping,
        label: str,
        state: _Job,
        ctx: Mapping[str, Any],
        env: dict[str, str],
        action_dir: Path | None,
    ) -> tuple[StepResult, dict[str, str]]:
        uses = str(step["uses"]).strip()
        inputs = self._strings(step.get("with"), ctx)
        if uses.startswith(("./", "$/")):
            return self._composite(uses, label, state, ctx, inputs, env)
        if uses.startswith("docker://"):
            return self._unsupported(label, f"{uses}: containers are not run")
        action = github_action(uses)
        if action is None:
            return self._unsupported(label, f"{uses} is not emulated")
        given = {**state.machine, **env}
        action_env = dict(given)
        outcome = action(
            self.session.action_context(action_env, state.path), inputs
        )
        # what the action adds to the environment lasts for the job
        state.env.update(
            {k: v for k, v in action_env.items() if given.get(k) != v}
        )
        return (
            StepResult(
                label,
                outcome.status,
                output=self.session.masker(outcome.output),
                reason=outcome.reason,
            ),
            outcome.outputs,
        )

    def _unsupported(
        self, label: str, why: str
    ) -> tuple[StepResult, dict[str, str]]:
        if self.options.strict:
            raise UnsupportedPipelineError(f"step {label!r}: {why} (--strict)")
        return StepResult(label, SKIPPED, reason=why), {}

    def _composite(
        self,
        uses: str,
        label: str,
        state: _Job,
        ctx: Mapping[str, Any],
        inputs: Mapping[str, str],
        env: dict[str, str],
    ) -> tuple[StepResult, dict[str, str]]:
        folder = self.session.root / uses[2:]
        action_file = next(
            (
                folder / name
                for name in ("action.yml", "action.yaml")
                if (folder / name).is_file()
            ),
            None,
        )
        if action_file is None:
            raise UnsupportedPipelineError(
                f"step {label!r}: {uses} has no action.yml"
            )
        action = _map(self.session.load(action_file))
        runs = _map(action.get("runs"))
        if runs.get("using") != "composite":
            return self._unsupported(
                label, f"{uses} runs with {runs.get('using')!r}, not composite"
            )
        values = {
            str(k): _text(_map(spec).get("default", ""))
            for k, spec in _map(action.get("inputs")).items()
        }
        declared = set(values)
        defaults_ctx = {**ctx, "inputs": P.context({}, "")}
        values = {
            k: _text(self._eval(v, defaults_ctx)) for k, v in values.items()
        }
        values.update({k: v for k, v in inputs.items() if k in declared})
        inner_ctx = {
            **self.contexts_base,
            "github": ctx["github"],
            "matrix": ctx.get("matrix", P.context({})),
            "inputs": P.context(values, ""),
        }
        steps_ctx: dict[str, Any] = {}
        failed: StepResult | None = None
        inner_state = _Job(state.env, 0)
        inner_state.machine = state.machine
        inner_state.overlay = {
            k: v for k, v in env.items() if state.env.get(k) != v
        }
        inner_state.path = state.path
        inner_state.deadline = state.deadline
        inner_state.status = state.status
        names: list[str] = []
        for index, inner in enumerate(_as_list(runs.get("steps"))):
            inner = _map(inner)
            if "run" in inner and not inner.get("shell"):
                raise UnsupportedPipelineError(
                    f"{action_file.relative_to(self.session.root)}: step"
                    f" {index + 1} needs `shell:` (required in composite"
                    " actions)"
                )
            result = self._step(
                inner, index, inner_state, inner_ctx, steps_ctx, {}, folder
            )
            names.append(f"{result.status}: {result.name}")
            if result.outcome == FAILURE and failed is None:
                failed = result
        outputs_ctx = {**inner_ctx, "steps": P.context(steps_ctx)}
        outputs = {
            str(k): _text(self._eval(_map(v).get("value", ""), outputs_ctx))
            for k, v in _map(action.get("outputs")).items()
        }
        if inner_state.status == FAILURE and failed is not None:
            return StepResult(
                label,
                FAILURE,
                output=failed.output,
                reason=f"its step {failed.name!r}: {failed.reason}".rstrip(
                    ": "
                ),
            ), outputs
        return StepResult(label, SUCCESS), outputs

    # reusable workflows ----------------------------------------------
    def _reusable(
        self, job_id: str, job: Mapping, contexts: Mapping[str, Any]
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


def _step_name(step: Mapping, index: int) -> str:
    if step.get("name"):
        return str(step["name"])
    if "run" in step:
        first = str(step["run"]).strip().splitlines()
        return f"Run {first[0] if first else ''}".strip()
    if "uses" in step:
        return f"Run {step['uses']}"
    return f"step {index + 1}"


def _value(value: Any) -> Any:
    """A YAML scalar as an expression value (numbers are floats)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def _map(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def run_workflow(session: Session, path: Path) -> list[JobResult]:
    """Run the jobs of the workflow at ``path`` that the event starts."""
    data = session.load(path)
    if not isinstance(data, Mapping) or "jobs" not in data:
        raise UnsupportedPipelineError(f"{path} is not a GitHub workflow")
    return GitHubRun(session, path, data).run()
