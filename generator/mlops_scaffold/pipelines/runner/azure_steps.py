"""The steps of an Azure Pipelines job, as the agent runs them: variables
(``$(macro)`` substitution, environment names, secrets), ``script:`` as
CmdLineV2 and ``bash:`` as BashV3 run them (shell.AZURE_SHELLS), the
emulated tasks, ``condition``, ``continueOnError``, ``enabled``,
``workingDirectory``, ``env``, ``timeoutInMinutes`` and the ``##vso``
logging commands. ``azure.AzureRun`` runs the stages and jobs."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from ...errors import UnsupportedPipelineError
from .. import semantics as P
from .actions import azure_task
from .base import Session, minutes, with_path
from .report import FAILURE, SKIPPED, SUCCESS, StepResult
from .shell import AZURE_SHELLS, command_line, write_script

_MACRO = re.compile(r"\$\(([A-Za-z0-9_.\- ]+)\)")
_VSO = re.compile(r"##vso\[([\w.]+)([^\]]*)\](.*)$")


def scalar(value: Any) -> str:
    """A YAML scalar as the text the service reads (it reads every
    scalar as a string: ``false``, not ``False``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return P.to_text(value, github=False)


def env_name(name: str) -> str:
    """The environment variable the agent exports a variable as."""
    return re.sub(r"[. ]", "_", name).upper()


class Variables:
    """Variables by case-insensitive name: value and whether secret."""

    def __init__(self, parent: Variables | None = None) -> None:
        self.values: dict[str, tuple[str, Any, bool]] = (
            dict(parent.values) if parent else {}
        )

    def set(self, name: str, value: Any, secret: bool = False) -> None:
        self.values[name.lower()] = (name, value, secret)

    def update(self, spec: Any) -> list[str]:
        """Add a ``variables:`` block; returns what could not be read
        (variable groups)."""
        missing = []
        items = (
            [{"name": k, "value": v} for k, v in spec.items()]
            if isinstance(spec, Mapping)
            else spec
            if isinstance(spec, list)
            else []
        )
        for item in items:
            if not isinstance(item, Mapping):
                continue
            if "group" in item:
                missing.append(f"variable group {item['group']}")
            elif P.MAYBE in item or "template" in item:
                missing.append(
                    str(item.get(P.MAYBE) or f"template {item['template']}")
                )
            elif "name" in item:
                value = item.get("value")
                if not isinstance(value, str):
                    value = scalar(value)
                self.set(str(item["name"]), "" if value is None else value)
        return missing

    def get(self, name: str) -> Any:
        entry = self.values.get(name.lower())
        return None if entry is None else entry[1]

    def macro(self, text: str, depth: int = 0) -> str:
        """``$(name)`` replaced by the variable's value; an unknown name
        stays as written (the agent leaves it)."""

        def replace(match: re.Match[str]) -> str:
            value = self.get(match.group(1).strip())
            if value is None or not isinstance(value, str):
                return str(match.group(0))
            return self.macro(value, depth + 1) if depth < 10 else value

        return _MACRO.sub(replace, text) if "$(" in text else text

    def context(self) -> Any:
        return P.context(
            {
                entry[0]: self.macro(entry[1])
                for entry in self.values.values()
                if isinstance(entry[1], str)
            },
            None,
        )

    def environment(self) -> dict[str, str]:
        return {
            env_name(name): self.macro(value)
            for name, value, secret in self.values.values()
            if not secret and isinstance(value, str)
        }

    def secrets(self) -> list[str]:
        return [self.macro(v) for _, v, s in self.values.values() if s and v]


class _Job:
    def __init__(self, variables: Variables, timeout: float) -> None:
        self.variables = variables
        self.path: list[str] = []
        self.status = SUCCESS
        self.issues = False
        self.outputs: dict[str, str] = {}
        self.deadline = time.monotonic() + timeout


class AzureSteps:
    """Step execution (``AzureRun`` provides the session and options)."""

    session: Session
    options: Any

    def _condition(
        self,
        raw: Any,
        contexts: Mapping[str, Any],
        results: Mapping[str, str],
        where: str,
    ) -> bool:
        try:
            return P.condition_holds(
                raw, contexts, github=False, results=results
            )
        except P.ExpressionError as error:
            raise UnsupportedPipelineError(f"{where}: {error}") from error

    def _step(self, step: Any, index: int, state: _Job) -> StepResult:
        if not isinstance(step, Mapping):
            raise UnsupportedPipelineError(f"step {index + 1} is not a mapping")
        if P.MAYBE in step:
            raise UnsupportedPipelineError(f"step {index + 1}: {step[P.MAYBE]}")
        variables = state.variables
        label = self.session.masker(
            variables.macro(str(step.get("displayName") or _default_name(step)))
        )
        if str(step.get("enabled", True)).lower() == "false":
            return StepResult(label, SKIPPED, reason="enabled: false")
        variables.set(
            "Agent.JobStatus",
            "Failed"
            if state.status == FAILURE
            else "SucceededWithIssues"
            if state.issues
            else "Succeeded",
        )
        ctx = {"variables": variables.context()}
        if not self._condition(
            step.get("condition"),
            ctx,
            {"job": state.status},
            f"step {label!r}",
        ):
            return StepResult(label, SKIPPED)
        start = time.monotonic()
        result = self._execute(step, label, state)
        result.seconds = time.monotonic() - start
        if result.status == FAILURE:
            if str(step.get("continueOnError", False)).lower() == "true":
                result.status = SUCCESS
                state.issues = True
            else:
                state.status = FAILURE
        return result

    def _execute(
        self, step: Mapping[str, Any], label: str, state: _Job
    ) -> StepResult:
        variables = state.variables
        if "checkout" in step:
            return StepResult(
                label, SUCCESS, reason="the working tree as it is"
            )
        task = str(step.get("task", "")).strip()
        inputs = {
            str(k): variables.macro(scalar(v))
            for k, v in (step.get("inputs") or {}).items()
        }
        if "script" in step or task.lower().startswith("cmdline@"):
            script = step.get("script", inputs.get("script", ""))
            return self._script(step, label, state, scalar(script), "script")
        if "bash" in step or task.lower().startswith("bash@"):
            script = step.get("bash")
            if script is None:
                if inputs.get("targetType", "filePath").lower() == "inline":
                    script = inputs.get("script", "")
                else:
                    script = (
                        f"exec bash '{inputs.get('filePath', '')}' "
                        f"{inputs.get('arguments', '')}"
                    )
            return self._script(step, label, state, scalar(script), "bash")
        if task.lower().startswith("pythonscript@"):
            if inputs.get("scriptSource", "filePath").lower() == "inline":
                code = inputs.get("script", "")
            else:
                code = (
                    "import runpy, sys; "
                    f"sys.argv = [{inputs.get('scriptPath', '')!r}]; "
                    f"runpy.run_path({inputs.get('scriptPath', '')!r}, "
                    "run_name='__main__')"
                )
            return self._script(step, label, state, code, "python")
        if "publish" in step:
            inputs = {
                "targetPath": variables.macro(str(step["publish"])),
                "artifact": variables.macro(str(step.get("artifact", "drop"))),
            }
            task = "PublishPipelineArtifact@1"
        if "download" in step:
            if str(step["download"]) in ("none",):
                return StepResult(label, SKIPPED)
            artifact = variables.macro(str(step.get("artifact", "")))
            # the shortcut downloads to $(Pipeline.Workspace)/<artifact>
            workspace = str(variables.get("Pipeline.Workspace"))
            inputs = {
                "artifact": artifact,
                "path": variables.macro(str(step.get("path", "")))
                or (f"{workspace}/{artifact}" if artifact else workspace),
            }
            task = "DownloadPipelineArtifact@2"
        if not task:
            kind = next(iter(step), "?")
            return self._unsupported(label, f"`{kind}:` steps are not run")
        if task.lower().startswith("downloadpipelineartifact@"):
            # the task's default targetPath is $(Pipeline.Workspace)
            inputs.setdefault(
                "path",
                inputs.get("targetPath")
                or str(variables.get("Pipeline.Workspace")),
            )
        action = azure_task(task)
        if action is None:
            return self._unsupported(label, f"task {task} is not emulated")
        env = with_path(self._env(step, state), state.path)
        context = self.session.action_context(env, state.path)
        outcome = action(context, inputs)
        self._logging_commands(outcome.output, state, step)
        return StepResult(
            label,
            outcome.status,
            output=self.session.masker(outcome.output),
            reason=outcome.reason,
        )

    def _unsupported(self, label: str, why: str) -> StepResult:
        if self.options.strict:
            raise UnsupportedPipelineError(f"step {label!r}: {why} (--strict)")
        return StepResult(label, SKIPPED, reason=why)

    def _env(self, step: Mapping[str, Any], state: _Job) -> dict[str, str]:
        variables = state.variables
        env = self.session.base_env()
        env.update(variables.environment())
        for key, value in (step.get("env") or {}).items():
            env[str(key)] = variables.macro(scalar(value))
        return env

    def _script(
        self,
        step: Mapping[str, Any],
        label: str,
        state: _Job,
        script: str,
        kind: str,
    ) -> StepResult:
        variables = state.variables
        text = variables.macro(script)
        suffix = ".py" if kind == "python" else ".sh"
        path = write_script(self.session.temp / "scripts", text, suffix)
        directory = step.get("workingDirectory")
        cwd = self.session.working_directory(
            variables.macro(str(directory)) if directory else None
        )
        timeout = minutes(step.get("timeoutInMinutes"), 0)
        remaining = state.deadline - time.monotonic()
        found = step.get("inputs")
        inputs: Mapping[Any, Any] = found if isinstance(found, Mapping) else {}
        fail_on_stderr = (
            scalar(
                step.get("failOnStderr", inputs.get("failOnStderr", False))
            ).lower()
            == "true"
        )
        done = self.session.execute(
            command_line(AZURE_SHELLS[kind], path),
            cwd,
            with_path(self._env(step, state), state.path),
            max(0.0, min(timeout, remaining)),
            split_stderr=fail_on_stderr,
        )
        forced = self._logging_commands(done.output, state, step)
        if done.timed_out:
            return StepResult(
                label, FAILURE, output=done.output, reason="timed out"
            )
        status = SUCCESS if done.exit_code == 0 else FAILURE
        reason = "" if status == SUCCESS else f"exit code {done.exit_code}"
        if fail_on_stderr and done.stderr.strip() and status == SUCCESS:
            status, reason = FAILURE, "wrote to stderr (failOnStderr)"
        if forced:
            status, reason = forced
        return StepResult(label, status, output=done.output, reason=reason)

    def _logging_commands(
        self, output: str, state: _Job, step: Mapping[str, Any]
    ) -> tuple[str, str] | None:
        """Apply ``##vso[...]`` commands; a task.complete result, if any."""
        forced = None
        step_name = str(step.get("name") or "")
        for line in output.splitlines():
            match = _VSO.search(line)
            if not match:
                continue
            command, raw_props, message = match.groups()
            props = {}
            for part in raw_props.strip().split(";"):
                key, _, value = part.partition("=")
                if key.strip():
                    props[key.strip().lower()] = value.strip()
            command = command.lower()
            if command == "task.setvariable":
                name = props.get("variable", "")
                secret = props.get("issecret", "").lower() == "true"
                if secret:
                    self.session.masker.add(message)
                if props.get("isoutput", "").lower() == "true":
                    if step_name:
                        state.outputs[f"{step_name}.{name}"] = message
                        state.variables.set(
                            f"{step_name}.{name}", message, secret
                        )
                else:
                    state.variables.set(name, message, secret)
            elif command == "task.setsecret":
                self.session.masker.add(message)
            elif command == "task.prependpath":
                state.path.insert(0, message.strip())
            elif command == "task.complete":
                result = props.get("result", "Succeeded").lower()
                if result == "failed":
                    forced = (FAILURE, "task.complete result=Failed")
                elif result == "succeededwithissues":
                    state.issues = True
                    forced = (SUCCESS, "SucceededWithIssues")
                else:
                    forced = (SUCCESS, "")
        return forced


def _default_name(step: Mapping[str, Any]) -> str:
    for key in ("script", "bash"):
        if key in step:
            first = scalar(step[key]).strip().splitlines()
            return f"{'CmdLine' if key == 'script' else 'Bash'}: " + (
                first[0] if first else ""
            )
    if "task" in step:
        return str(step["task"])
    return next(iter(step), "step")
