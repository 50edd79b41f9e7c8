"""Running one step's process: the shell command line each service uses,
timeouts, secret masking, and Ctrl-C.

A step runs in its own process group, so a timeout or Ctrl-C stops the
whole tree it started (make, uv, pytest), not just the shell."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# GitHub "Workflow syntax": jobs.<job_id>.steps[*].shell. {0} is the script
# file; python scripts get a .py name.
GITHUB_SHELLS = {
    "": "bash -e {0}",  # no shell given and bash is on PATH
    "bash": "bash --noprofile --norc -eo pipefail {0}",
    "sh": "sh -e {0}",
    "python": "python {0}",
    "pwsh": "pwsh -command \". '{0}'\"",
}

# Azure Pipelines tasks (microsoft/azure-pipelines-tasks): CmdLineV2
# (`script:`) runs `bash --noprofile --norc <file>`, BashV3 (`bash:`) runs
# `bash <file>`; neither adds -e, so only the last command's status counts.
AZURE_SHELLS = {
    "script": "bash --noprofile --norc {0}",
    "bash": "bash {0}",
    "python": "python {0}",  # PythonScript@0: the python on PATH
}


class StepInterrupted(Exception):
    """Ctrl-C arrived while a step ran; its process group was stopped."""


class Masker:
    """Replaces secret values with *** in everything shown, as both
    services do (values shorter than 2 characters are not masked: they
    would mask every occurrence of a letter)."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()

    def add(self, value: str) -> None:
        for line in str(value).splitlines() or [str(value)]:
            if len(line.strip()) >= 2:
                self.secrets.add(line.strip())

    def __call__(self, text: str) -> str:
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


@dataclass
class Completed:
    exit_code: int
    output: str
    seconds: float
    timed_out: bool = False
    stderr: str = ""  # only with split_stderr


def command_line(template: str, script: Path) -> list[str]:
    """The argv of a shell template such as ``bash -e {0}``: {0} is the
    script (appended when the template does not name it)."""
    parts = shlex.split(template)
    if not any("{0}" in part for part in parts):
        parts.append("{0}")
    return [part.replace("{0}", str(script)) for part in parts]


def write_script(folder: Path, text: str, suffix: str = ".sh") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{suffix}"
    path.write_text(text, encoding="utf-8")
    return path


def execute(
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None,
    split_stderr: bool = False,
) -> Completed:
    """Run ``argv``; stdout and stderr merged, as in the services' logs
    (``split_stderr``: apart, stderr after stdout, for failOnStderr).
    Raises StepInterrupted on Ctrl-C after stopping the process group."""
    start = time.monotonic()
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if split_stderr else subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as error:
        return Completed(
            127, f"cannot start {argv[0]}: {error.strerror}\n", 0.0
        )
    try:
        output, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        output, errors = process.communicate()
        return Completed(
            process.returncode if process.returncode is not None else -9,
            _text(output) + _text(errors),
            time.monotonic() - start,
            timed_out=True,
            stderr=_text(errors),
        )
    except KeyboardInterrupt:
        _stop(process)
        process.communicate()
        raise StepInterrupted from None
    return Completed(
        process.returncode,
        _text(output) + _text(errors),
        time.monotonic() - start,
        stderr=_text(errors),
    )


def _text(output: bytes | None) -> str:
    return (output or b"").decode("utf-8", errors="replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the step's process group, then SIGKILL after 5 s."""
    for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, None)):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        if grace is None:
            break
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:
            continue
