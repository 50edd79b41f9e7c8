"""The steps of a GitHub Actions job: ``run:`` steps with the documented
shells, emulated and local composite actions, GITHUB_ENV / GITHUB_OUTPUT /
GITHUB_PATH / GITHUB_STEP_SUMMARY, workflow commands, status functions and
``continue-on-error`` ("Workflow syntax", "Workflow commands", "Metadata
syntax"). ``github.GitHubRun`` runs the jobs."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...errors import UnsupportedPipelineError
from .. import semantics as P
from .actions import github_action
from .base import Session, minutes, parse_env_file, with_path
from .report import FAILURE, SKIPPED, SUCCESS, StepResult
from .shell import GITHUB_SHELLS, command_line, write_script


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


class GitHubSteps:
    """Step execution, shared by a workflow's jobs and composite actions
    (``GitHubRun`` provides the session, options and contexts)."""

    session: Session
    options: Any
    contexts_base: dict[str, Any]
    functions: dict[str, Any]

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

    # steps ------------------------------------------------------------
    def _step(
        self,
        step: Mapping[str, Any],
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
        step: Mapping[str, Any],
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
        step: Mapping[str, Any],
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
        step: Mapping[str, Any],
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
            "github": P.context(
                {**ctx["github"].values, "action_path": str(folder)}
            ),
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


def _step_name(step: Mapping[str, Any], index: int) -> str:
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


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]
