"""What a local run did: results per job and step, and their text and JSON
forms. The runner fills these in; the CLI only prints them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

SUCCESS, FAILURE, SKIPPED = "success", "failure", "skipped"

#: How many lines of a failing step's output the text report shows.
TAIL_LINES = 60


@dataclass
class StepResult:
    """One step: ``status`` is its conclusion (a failing step with
    continue-on-error concludes success; ``outcome`` keeps the failure)."""

    name: str
    status: str
    seconds: float = 0.0
    outcome: str = ""
    output: str = ""
    reason: str = ""

    def __post_init__(self) -> None:
        self.outcome = self.outcome or self.status


@dataclass
class JobResult:
    """One job (a matrix leg or an Azure job is its own result)."""

    id: str
    name: str
    status: str
    steps: list[StepResult] = field(default_factory=list)
    seconds: float = 0.0
    reason: str = ""
    stage: str | None = None


@dataclass
class RunResult:
    """A run of one workflow or pipeline file."""

    provider: str
    file: str
    jobs: list[JobResult] = field(default_factory=list)
    interrupted: bool = False

    @property
    def failed(self) -> bool:
        return any(job.status == FAILURE for job in self.jobs)

    def to_json(self) -> str:
        return json.dumps(
            {
                "provider": self.provider,
                "file": self.file,
                "jobs": [
                    {
                        "id": job.id,
                        "name": job.name,
                        **({"stage": job.stage} if job.stage else {}),
                        "status": job.status,
                        "seconds": round(job.seconds, 2),
                        **({"reason": job.reason} if job.reason else {}),
                        "steps": [
                            {
                                "name": step.name,
                                "status": step.status,
                                "seconds": round(step.seconds, 2),
                                **(
                                    {"reason": step.reason}
                                    if step.reason
                                    else {}
                                ),
                            }
                            for step in job.steps
                        ],
                    }
                    for job in self.jobs
                ],
            },
            indent=2,
        )


_MARK = {SUCCESS: "ok", FAILURE: "FAILED", SKIPPED: "skipped"}


class TextLog:
    """Prints each job and step as it finishes (the text format)."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo

    def job_started(self, job: JobResult) -> None:
        where = f"{job.stage} / " if job.stage else ""
        self.echo(f"job {where}{job.id}: {job.name}")

    def step(self, step: StepResult) -> None:
        why = f" ({step.reason})" if step.reason else ""
        if step.outcome == FAILURE and step.status == SUCCESS:
            why = " (failed; continue-on-error)" + why
        self.echo(
            f"  {_MARK[step.status]:7} {step.name} [{step.seconds:.1f}s]{why}"
        )
        if step.outcome == FAILURE and step.output:
            lines = step.output.rstrip("\n").splitlines()
            if len(lines) > TAIL_LINES:
                self.echo(f"    ... {len(lines) - TAIL_LINES} lines before")
                lines = lines[-TAIL_LINES:]
            for line in lines:
                self.echo(f"    | {line}")

    def job_done(self, job: JobResult) -> None:
        where = f"{job.stage} / " if job.stage else ""
        why = f": {job.reason}" if job.reason else ""
        self.echo(
            f"  -> {where}{job.id} {_MARK[job.status]} "
            f"[{job.seconds:.1f}s]{why}"
        )


class QuietLog(TextLog):
    """No progress lines (the JSON format prints once, at the end)."""

    def __init__(self) -> None:
        super().__init__(lambda _: None)


def summary(result: RunResult) -> str:
    """One line per job, then the totals."""
    lines = ["", "summary:"]
    for job in result.jobs:
        where = f"{job.stage} / " if job.stage else ""
        why = f" ({job.reason})" if job.reason else ""
        lines.append(
            f"  {_MARK[job.status]:7} {where}{job.id} [{job.seconds:.1f}s]{why}"
        )
    counts = {
        status: sum(job.status == status for job in result.jobs)
        for status in (SUCCESS, FAILURE, SKIPPED)
    }
    lines.append(
        f"{counts[SUCCESS]} succeeded, {counts[FAILURE]} failed, "
        f"{counts[SKIPPED]} skipped"
        + ("; interrupted" if result.interrupted else "")
    )
    return "\n".join(lines)
