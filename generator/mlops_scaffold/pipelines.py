"""Pipeline files of both providers, found, read, and seen the same way.

GitHub workflows are ``.github/workflows/*.yml``; Azure Pipelines files are
any YAML under ``azure-pipelines/`` or ``.azure-pipelines/`` and a root
``azure-pipelines.yml`` (templates included). A ``Job`` is a GitHub job, or an
Azure job or deployment job (with its stage), so that rules and the review
read both alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .yamlio import Lines, load_with_lines

GITHUB = "github"
AZURE = "azure"

PRODUCTION = re.compile(r"prod", re.IGNORECASE)
STAGING = re.compile(r"stag|pre-?prod|uat|\bqa\b", re.IGNORECASE)


def provider_of(relative: str) -> str | None:
    parts = relative.split("/")
    if parts[:2] == [".github", "workflows"] and len(parts) == 3:
        return GITHUB
    if parts[0] in ("azure-pipelines", ".azure-pipelines"):
        return AZURE
    if relative in ("azure-pipelines.yml", "azure-pipelines.yaml"):
        return AZURE
    return None


def discover(root: Path) -> list[tuple[str, str]]:
    """(relative path, provider) of every pipeline file below ``root``."""
    found = []
    candidates = [
        *root.glob(".github/workflows/*"),
        *root.glob("azure-pipelines/**/*"),
        *root.glob(".azure-pipelines/**/*"),
        *root.glob("azure-pipelines.y*ml"),
    ]
    for path in sorted(set(candidates)):
        if path.is_file() and path.suffix in (".yml", ".yaml"):
            relative = path.relative_to(root).as_posix()
            provider = provider_of(relative)
            if provider:
                found.append((relative, provider))
    return found


@dataclass
class Step:
    path: tuple
    uses: str | None  # GitHub action or Azure task
    command: str | None  # run: / script: / bash: / inlineScript
    inputs: dict[str, Any]
    raw: dict[str, Any]


@dataclass
class Job:
    name: str
    path: tuple
    raw: dict[str, Any]
    environment: str | None
    needs: list[str]
    stage: str | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.stage}/{self.name}" if self.stage else self.name


@dataclass
class PipelineFile:
    relative: str
    provider: str
    data: Any
    lines: Lines

    @classmethod
    def read(cls, root: Path, relative: str, provider: str) -> PipelineFile:
        text = (root / relative).read_text(encoding="utf-8")
        return cls.parse(text, relative, provider)

    @classmethod
    def parse(cls, text: str, relative: str, provider: str) -> PipelineFile:
        data, lines = load_with_lines(text, relative)
        return cls(relative, provider, data, lines)

    @property
    def is_template(self) -> bool:
        """An Azure template (steps/jobs/stages for others to include)."""
        data = self.data if isinstance(self.data, dict) else {}
        return self.provider == AZURE and not any(
            key in data for key in ("trigger", "pr", "schedules", "pool")
        )

    def jobs(self) -> list[Job]:
        if not isinstance(self.data, dict):
            return []
        if self.provider == GITHUB:
            return list(_github_jobs(self.data))
        return list(_azure_jobs(self.data))

    def triggers(self) -> dict[str, Any]:
        if not isinstance(self.data, dict):
            return {}
        if self.provider == GITHUB:
            on = self.data.get("on", {})
            if isinstance(on, str):
                return {on: None}
            if isinstance(on, list):
                return dict.fromkeys(on)
            return dict(on or {})
        return {
            key: self.data[key]
            for key in ("trigger", "pr", "schedules", "resources")
            if key in self.data
        }


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    return [str(v) for v in value]


def _github_steps(job: dict, path: tuple) -> Iterator[Step]:
    for index, step in enumerate(job.get("steps") or []):
        if isinstance(step, dict):
            yield Step(
                path=(*path, "steps", index),
                uses=step.get("uses"),
                command=step.get("run"),
                inputs=dict(step.get("with") or {}),
                raw=step,
            )


def _github_jobs(data: dict) -> Iterator[Job]:
    for name, job in (data.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        path = ("jobs", name)
        yield Job(
            name=str(name),
            path=path,
            raw=job,
            environment=_environment_name(job),
            needs=_as_list(job.get("needs")),
            steps=list(_github_steps(job, path)),
        )


def _environment_name(job: dict) -> str | None:
    """A job's environment, written as a name or as ``{name: ...}``."""
    environment = job.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    return str(environment) if environment else None


def _azure_steps(steps: list, path: tuple) -> Iterator[Step]:
    for index, step in enumerate(steps or []):
        if not isinstance(step, dict):
            continue
        inputs = dict(step.get("inputs") or {})
        command = None
        for key in ("script", "bash", "pwsh", "powershell"):
            if key in step:
                command = step[key]
        if "inlineScript" in inputs:
            command = inputs["inlineScript"]
        uses = step.get("task") or (
            f"checkout:{step['checkout']}" if "checkout" in step else None
        )
        yield Step((*path, index), uses, command, inputs, step)


def _azure_job(job: dict, path: tuple, stage: str | None) -> Job:
    name = job.get("job") or job.get("deployment") or job.get("template")
    steps_path = (*path, "steps")
    steps = job.get("steps")
    if "deployment" in job:
        strategy = job.get("strategy") or {}
        for kind, hooks in strategy.items():
            for hook, body in (hooks or {}).items():
                if isinstance(body, dict) and "steps" in body:
                    steps = body["steps"]
                    steps_path = (*path, "strategy", kind, hook, "steps")
    return Job(
        name=str(name),
        path=path,
        raw=job,
        environment=_environment_name(job),
        needs=_as_list(job.get("dependsOn")),
        stage=stage,
        steps=list(_azure_steps(steps, steps_path)),
    )


def _azure_jobs(data: dict) -> Iterator[Job]:
    if "stages" in data:
        for s_index, stage in enumerate(data.get("stages") or []):
            if not isinstance(stage, dict) or "stage" not in stage:
                continue
            for j_index, job in enumerate(stage.get("jobs") or []):
                if isinstance(job, dict) and "template" not in job:
                    yield _azure_job(
                        job,
                        ("stages", s_index, "jobs", j_index),
                        stage["stage"],
                    )
    for j_index, job in enumerate(data.get("jobs") or []):
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


def azure_stages(data: dict) -> list[dict]:
    return [s for s in (data.get("stages") or []) if isinstance(s, dict)]
