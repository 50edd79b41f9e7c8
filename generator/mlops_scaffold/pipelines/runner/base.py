"""What both runners share: the options of a run, its folders (workspace,
temp, artifacts, tool cache), the base environment, secret masking and the
process call with its timeout."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import yamlio
from ...errors import UnsupportedPipelineError
from ..semantics import Event
from .actions import ActionContext
from .report import SKIPPED, JobResult, TextLog
from .shell import Completed, Masker, command_line, execute, write_script


def default_tool_cache() -> Path:
    """Where emulated setup actions keep Pythons and shims between runs
    (the hosted runners' tool cache)."""
    configured = os.environ.get("MLOPS_SCAFFOLD_TOOL_CACHE")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlops-scaffold" / "tools"


@dataclass
class Options:
    """A run's switches (see ``mlops-scaffold run --help``)."""

    event: Event
    jobs: Sequence[str] = ()
    variables: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    include_deployments: bool = False
    strict: bool = False
    matrix: Mapping[str, str] = field(default_factory=dict)
    tool_cache: Path | None = None


class Session:
    """One run of one file: its folders, masker and log."""

    def __init__(self, root: Path, options: Options, log: TextLog) -> None:
        self.root = root.resolve()
        self.options = options
        self.log = log
        self.masker = Masker()
        for value in options.secrets.values():
            self.masker.add(value)
        self._temp = tempfile.TemporaryDirectory(prefix="mlops-run-")
        self.temp = Path(self._temp.name)
        self.artifacts = self.temp / "artifacts"
        self.artifacts.mkdir()
        # made by the first action that needs it, never for bad input
        self.tools = options.tool_cache or default_tool_cache()
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        # Kept per repository, so that what a job caches under the
        # workspace (UV_CACHE_DIR on Azure) survives runs like a cache hit.
        self.pipeline_workspace = self.tools / "workspaces" / digest

    def close(self) -> None:
        self._temp.cleanup()

    # environment ------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        """The machine's environment, as a self-hosted agent has it, plus
        CI=true (both services set it)."""
        env = dict(os.environ)
        env["CI"] = "true"
        return env

    def action_context(
        self, env: dict[str, str], path: list[str]
    ) -> ActionContext:
        def run(script: str, extra: Mapping[str, str]) -> tuple[int, str]:
            argv = command_line(
                "bash --noprofile --norc -e {0}",
                write_script(self.temp / "scripts", script),
            )
            done = self.execute(
                argv, self.root, with_path({**env, **extra}, path), None
            )
            return done.exit_code, done.output

        return ActionContext(
            workspace=self.root,
            temp=self.temp,
            tools=self.tools,
            artifacts=self.artifacts,
            env=env,
            path=path,
            run=run,
        )

    def execute(
        self,
        argv: list[str],
        cwd: Path,
        env: Mapping[str, str],
        timeout: float | None,
        split_stderr: bool = False,
    ) -> Completed:
        if not cwd.is_dir():
            return Completed(
                1, f"the working directory {cwd} does not exist\n", 0.0
            )
        done = execute(
            argv, cwd=cwd, env=env, timeout=timeout, split_stderr=split_stderr
        )
        done.output = self.masker(done.output)
        done.stderr = self.masker(done.stderr)
        return done

    def working_directory(self, value: str | None) -> Path:
        if not value:
            return self.root
        path = Path(value)
        return path if path.is_absolute() else self.root / path

    def load(self, path: Path) -> Any:
        """A YAML file of this repository, read with the bounded loader;
        nothing outside the repository is read."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root):
            raise UnsupportedPipelineError(
                f"{path} is outside the repository {self.root}; `run` runs"
                " only the repository's own files"
            )
        data, _ = yamlio.load_untrusted(yamlio.read_bounded(resolved), path)
        return data

    def hash_files(self, *patterns: Any) -> str:
        """GitHub's hashFiles(): SHA-256 over the matching files' hashes."""
        import glob

        total = hashlib.sha256()
        found = False
        for pattern in patterns:
            for match in sorted(
                glob.glob(str(self.root / str(pattern)), recursive=True)
            ):
                if Path(match).is_file():
                    found = True
                    total.update(
                        hashlib.sha256(Path(match).read_bytes()).digest()
                    )
        return total.hexdigest() if found else ""

    def git(self, *args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.root,
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""


def with_path(env: Mapping[str, str], path: Sequence[str]) -> dict[str, str]:
    """``env`` with ``path`` folders prepended to PATH."""
    out = dict(env)
    if path:
        out["PATH"] = os.pathsep.join([*path, out.get("PATH", "")])
    return out


def order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """Dependency order (a cycle or an unknown name is bad input)."""
    done: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, trail: tuple[str, ...]) -> None:
        if state.get(node) == 2:
            return
        if state.get(node) == 1:
            raise UnsupportedPipelineError(
                f"dependency cycle: {' -> '.join((*trail, node))}"
            )
        state[node] = 1
        for need in graph.get(node, ()):
            if need not in graph:
                raise UnsupportedPipelineError(
                    f"{node} depends on {need!r}, which does not exist"
                )
            visit(need, (*trail, node))
        state[node] = 2
        done.append(node)

    for node in graph:
        visit(node, ())
    return done


def ancestors(graph: Mapping[str, Sequence[str]], start: str) -> list[str]:
    seen: list[str] = []
    stack = list(graph.get(start, ()))
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.append(node)
            stack.extend(graph.get(node, ()))
    return seen


def selected(
    graph: Mapping[str, Sequence[str]], wanted: Sequence[str], what: str
) -> set[str]:
    """The jobs to run: ``wanted`` and everything they need (all when
    none is named)."""
    if not wanted:
        return set(graph)
    unknown = [w for w in wanted if w not in graph]
    if unknown:
        raise UnsupportedPipelineError(
            f"no {what} named {', '.join(map(repr, unknown))} in this file",
            hint=f"{what}s: {', '.join(graph)}",
        )
    out = set(wanted)
    for name in wanted:
        out.update(ancestors(graph, name))
    return out


_ENV_LINE = re.compile(r"^([^=<\s]+)(?:=(.*)|<<(.+))$")


def parse_env_file(text: str) -> dict[str, str]:
    """GITHUB_ENV / GITHUB_OUTPUT: ``NAME=value`` lines and
    ``NAME<<DELIMITER`` blocks."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        match = _ENV_LINE.match(line)
        if not line.strip() or not match:
            continue
        name, value, delimiter = match.groups()
        if delimiter is None:
            values[name] = value
            continue
        block: list[str] = []
        while index < len(lines) and lines[index] != delimiter:
            block.append(lines[index])
            index += 1
        index += 1
        values[name] = "\n".join(block)
    return values


def skipped_job(
    job_id: str, name: str, reason: str, stage: str | None = None
) -> JobResult:
    return JobResult(job_id, name, SKIPPED, reason=reason, stage=stage)


def minutes(value: Any, default: float) -> float:
    """timeout-minutes / timeoutInMinutes in seconds (0: no limit)."""
    try:
        number = float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        number = default
    return number * 60 if number > 0 else float("inf")
