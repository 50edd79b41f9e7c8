"""`review`: what a change does to the pipelines, for a pull-request reviewer.

Per workflow / pipeline file: triggers added, removed or widened; jobs and
stages added or removed; needs / dependsOn changes; environment gates added
or removed; permissions widened; secrets and variables newly referenced;
actions added, changed or unpinned; commands changed. It draws the
deployment path before and after as Mermaid flowcharts and ends with a risk
summary. The markdown carries a marker so that a CI job can post it as one
pull-request comment and update it in place.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import gitutil
from .check import SHA
from .errors import MalformedFileError, UsageError
from .pipelines import PRODUCTION, PipelineFile, azure_stages, provider_of

MARKER = "<!-- mlops-scaffold:pipeline-review -->"
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
SECRET_REF = re.compile(r"\$\{\{\s*(secrets|vars)\.([A-Za-z0-9_]+)\s*\}\}")
AZURE_VAR_REF = re.compile(r"\$\(([A-Za-z0-9_.]+)\)")
WRITE_LEVELS = {"none": 0, "read": 1, "write": 2}


@dataclass
class Change:
    severity: str
    kind: str
    message: str


@dataclass
class FileReview:
    file: str
    status: str  # added, removed, modified
    changes: list[Change] = field(default_factory=list)
    before: str = ""  # mermaid
    after: str = ""

    def add(self, severity: str, kind: str, message: str) -> None:
        self.changes.append(Change(severity, kind, message))


@dataclass
class Review:
    base: str
    head: str
    files: list[FileReview]

    @property
    def changes(self) -> list[Change]:
        return [c for f in self.files for c in f.changes]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for change in self.changes:
            counts[change.severity] += 1
        return counts


# -------------------------------------------------------------- reading
def _read(root: Path, ref: str | None, relative: str) -> str | None:
    if ref is None:
        path = root / relative
        return path.read_text(encoding="utf-8") if path.is_file() else None
    result = gitutil.git("show", f"{ref}:{relative}", cwd=root, check=False)
    return result.stdout if result.returncode == 0 else None


def _changed_files(root: Path, base: str, head: str | None) -> list[str]:
    args = ["diff", "--name-only", base]
    if head:
        args.append(head)
    names = gitutil.output(*args, "--", cwd=root).splitlines()
    if head is None:  # the working tree: untracked pipeline files count too
        names += gitutil.output(
            "ls-files", "--others", "--exclude-standard", cwd=root
        ).splitlines()
    return sorted(
        {n for n in names if n.endswith((".yml", ".yaml")) and provider_of(n)}
    )


def _parse(text: str | None, relative: str) -> PipelineFile | None:
    if text is None:
        return None
    return PipelineFile.parse(text, relative, provider_of(relative))


# ------------------------------------------------------------- comparing
def _branches(value: Any) -> set[str]:
    if isinstance(value, dict):
        include = value.get("branches", value.get("include"))
        if isinstance(include, dict):
            include = include.get("include")
        return set(include or []) if isinstance(include, list) else {"*"}
    if isinstance(value, list):
        return {str(v) for v in value}
    return {"*"} if value not in (None, "none") else set()


def _triggers(review: FileReview, old: PipelineFile, new: PipelineFile):
    before, after = old.triggers(), new.triggers()
    for name in sorted(set(after) - set(before)):
        severity = "high" if name == "pull_request_target" else "medium"
        review.add(severity, "trigger", f"trigger added: `{name}`")
    for name in sorted(set(before) - set(after)):
        review.add("low", "trigger", f"trigger removed: `{name}`")
    for name in sorted(set(before) & set(after)):
        was, now = _branches(before[name]), _branches(after[name])
        if now - was and was != {"*"}:
            review.add(
                "medium",
                "trigger",
                f"trigger `{name}` widened to {sorted(now - was)}",
            )


def _jobs(pipeline: PipelineFile | None) -> dict:
    return {job.label: job for job in pipeline.jobs()} if pipeline else {}


def _permissions(raw: Any) -> dict[str, int]:
    if raw in (None, "missing"):
        return {}
    if raw == "write-all":
        return {"*": 2}
    if raw == "read-all":
        return {"*": 1}
    if isinstance(raw, dict):
        return {str(k): WRITE_LEVELS.get(str(v), 0) for k, v in raw.items()}
    return {}


def _widened(old: Any, new: Any) -> list[str]:
    before, after = _permissions(old), _permissions(new)
    return sorted(
        f"{scope}: {'write' if level == 2 else 'read'}"
        for scope, level in after.items()
        if level > before.get(scope, before.get("*", 0))
    )


def _references(text: str) -> set[str]:
    found = {f"{kind}.{name}" for kind, name in SECRET_REF.findall(text)}
    found |= {f"$({name})" for name in AZURE_VAR_REF.findall(text)}
    return found


def _step_map(job) -> dict[str, Any]:
    steps = {}
    for index, step in enumerate(job.steps):
        name = step.raw.get("name") or step.raw.get("displayName")
        steps[str(name or step.uses or f"step {index + 1}")] = step
    return steps


def _stage_depends(pipeline: PipelineFile) -> dict[str, list[str]]:
    """Each Azure stage's dependencies (by default, the stage before)."""
    depends, previous = {}, None
    for stage in azure_stages(pipeline.data):
        name = str(stage.get("stage"))
        value = stage.get("dependsOn", [previous] if previous else [])
        depends[name] = [value] if isinstance(value, str) else list(value)
        previous = name
    return depends


def _compare_stages(review: FileReview, old, new) -> None:
    before, after = _stage_depends(old), _stage_depends(new)
    for name in sorted(set(after) - set(before)):
        review.add("medium", "stage", f"stage added: `{name}`")
    for name in sorted(set(before) - set(after)):
        severity = "high" if PRODUCTION.search(name) else "medium"
        review.add(severity, "stage", f"stage removed: `{name}`")
    for name in sorted(set(before) & set(after)):
        if set(before[name]) != set(after[name]):
            review.add(
                "high" if PRODUCTION.search(name) else "medium",
                "needs",
                f"stage `{name}` now depends on {sorted(after[name])} "
                f"(was {sorted(before[name])})",
            )


def _compare_jobs(review: FileReview, old, new) -> None:
    before, after = _jobs(old), _jobs(new)
    for name in sorted(set(after) - set(before)):
        job = after[name]
        gate = f" (environment `{job.environment}`)" if job.environment else ""
        review.add("medium", "job", f"job added: `{name}`{gate}")
    for name in sorted(set(before) - set(after)):
        job = before[name]
        severity = "high" if PRODUCTION.search(name) else "medium"
        review.add(severity, "job", f"job removed: `{name}`")
    for name in sorted(set(before) & set(after)):
        was, now = before[name], after[name]
        if set(was.needs) != set(now.needs):
            review.add(
                "high" if PRODUCTION.search(name) else "medium",
                "needs",
                f"`{name}` now depends on {sorted(now.needs) or 'nothing'} "
                f"(was {sorted(was.needs) or 'nothing'})",
            )
        if was.environment and not now.environment:
            severity = (
                "high" if PRODUCTION.search(was.environment) else "medium"
            )
            review.add(
                severity,
                "gate",
                f"environment gate `{was.environment}` removed from `{name}`",
            )
        elif now.environment and not was.environment:
            review.add(
                "low",
                "gate",
                f"`{name}` now runs in environment `{now.environment}`",
            )
        elif was.environment != now.environment:
            review.add(
                "medium",
                "gate",
                f"`{name}` moved from environment "
                f"`{was.environment}` to `{now.environment}`",
            )
        widened = _widened(
            was.raw.get("permissions"), now.raw.get("permissions")
        )
        if widened:
            review.add(
                "high",
                "permissions",
                f"`{name}` permissions widened: {', '.join(widened)}",
            )
        _compare_steps(review, name, was, now)


def _compare_steps(review: FileReview, name: str, was, now) -> None:
    old_steps, new_steps = _step_map(was), _step_map(now)
    old_uses = {s.uses.split("@")[0]: s.uses for s in was.steps if s.uses}
    for step in now.steps:
        if not step.uses or "@" not in step.uses:
            continue
        action, _, ref = step.uses.partition("@")
        previous = old_uses.get(action)
        if previous is None:
            review.add(
                "medium" if SHA.match(ref) else "high",
                "action",
                f"`{name}` uses a new action `{step.uses}`",
            )
        elif previous != step.uses:
            pinned_before = SHA.match(previous.partition("@")[2])
            if pinned_before and not SHA.match(ref):
                review.add(
                    "high",
                    "action",
                    f"`{name}`: `{action}` unpinned ({previous} -> "
                    f"{step.uses})",
                )
            else:
                review.add(
                    "low",
                    "action",
                    f"`{name}`: `{action}` changed "
                    f"{previous.partition('@')[2][:12]} -> {ref[:12]}",
                )
    for label in sorted(set(old_steps) | set(new_steps)):
        a, b = old_steps.get(label), new_steps.get(label)
        old_cmd = a.command if a else None
        new_cmd = b.command if b else None
        if old_cmd != new_cmd and (old_cmd or new_cmd):
            if old_cmd and new_cmd:
                verb = "changed"
            else:
                verb = "added" if new_cmd else "removed"
            review.add(
                "medium",
                "command",
                f'`{name}` step "{label}": command {verb}: '
                f"`{_short(new_cmd or old_cmd)}`",
            )


def _short(command: str) -> str:
    first = command.strip().splitlines()[0] if command.strip() else ""
    return first[:100] + (
        " ..." if len(command.strip().splitlines()) > 1 else ""
    )


def _top_permissions(review: FileReview, old, new) -> None:
    """A GitHub workflow's top-level permissions, against what they were
    (nothing, for a new workflow)."""
    if new is None or new.provider != "github":
        return
    before = old.data.get("permissions") if old else None
    widened = _widened(before, new.data.get("permissions"))
    if widened:
        review.add(
            "high",
            "permissions",
            f"top-level permissions widened: {', '.join(widened)}",
        )


def _compare_file(review: FileReview, old, new, old_text, new_text) -> None:
    if old is None or new is None:
        pipeline = new or old
        verb = "added" if new else "removed"
        jobs = ", ".join(f"`{j}`" for j in _jobs(pipeline)) or "no jobs"
        severity = (
            "high"
            if old
            and any(
                PRODUCTION.search(j.environment or j.label) for j in old.jobs()
            )
            else "medium"
        )
        review.add(severity, "file", f"pipeline {verb} ({jobs})")
        _top_permissions(review, old, new)
        for ref in sorted(_references(new_text or "")):
            review.add("medium", "secret", f"references {ref}")
        return
    _triggers(review, old, new)
    _top_permissions(review, old, new)
    if new.provider == "azure":
        _compare_stages(review, old, new)
    _compare_jobs(review, old, new)
    for ref in sorted(_references(new_text) - _references(old_text)):
        severity = "high" if ref.startswith("secrets.") else "medium"
        review.add(severity, "secret", f"newly references {ref}")


# ------------------------------------------------------------- drawing
def _node(label: str) -> str:
    return re.sub(r"\W", "_", label)


def mermaid(pipeline: PipelineFile | None) -> str:
    """The jobs as a flowchart: environments marked, approvals shown for
    production."""
    if pipeline is None:
        return "flowchart LR\n  none[no pipeline]"
    jobs = pipeline.jobs()
    lines = ["flowchart LR"]
    stage_order = [j.stage for j in jobs]
    for job in jobs:
        text = job.label
        if job.environment:
            text += f"<br/>env: {job.environment}"
        node = _node(job.label)
        if job.environment and PRODUCTION.search(job.environment):
            lines.append(f'  {node}_approval{{{{"approval"}}}}')
            lines.append(f'  {node}_approval --> {node}["{text}"]')
        else:
            lines.append(f'  {node}["{text}"]')
        targets = job.needs
        if pipeline.provider == "azure" and not targets and job.stage:
            earlier = [j for j in jobs if j.stage != job.stage]
            index = stage_order.index(job.stage)
            targets = [
                j.label
                for j in earlier
                if stage_order.index(j.stage) == index - 1
            ]  # an Azure stage waits for the previous one by default
        for need in targets:
            match = next((j for j in jobs if need in (j.name, j.label)), None)
            if match is None:
                continue
            entry = (
                f"{node}_approval"
                if job.environment and PRODUCTION.search(job.environment)
                else node
            )
            lines.append(f"  {_node(match.label)} --> {entry}")
    return "\n".join(lines)


# ------------------------------------------------------------- the API
def review_change(
    path: Path | str = ".", *, base: str, head: str | None = None
) -> Review:
    """Review what ``base..head`` (head: the working tree when None) does
    to the pipelines of the repository at ``path``."""
    root = gitutil.repository_root(Path(path))
    for ref in (base, head):
        if ref is not None and not gitutil.branch_exists(root, ref):
            raise UsageError(
                f"Unknown git reference {ref!r}.",
                hint="pass a branch, tag or commit, e.g. --base origin/main",
            )
    reviews = []
    for relative in _changed_files(root, base, head):
        old_text, new_text = (
            _read(root, base, relative),
            _read(root, head, relative),
        )
        try:
            old, new = _parse(old_text, relative), _parse(new_text, relative)
        except MalformedFileError as error:
            review = FileReview(relative, "unreadable")
            review.add("high", "syntax", error.message)
            reviews.append(review)
            continue
        status = (
            "added" if old is None else "removed" if new is None else "modified"
        )
        review = FileReview(relative, status)
        _compare_file(review, old, new, old_text or "", new_text or "")
        if review.changes or status != "modified":
            review.before, review.after = mermaid(old), mermaid(new)
            reviews.append(review)
    return Review(base, head or "working tree", reviews)


def to_markdown(review: Review) -> str:
    counts = review.counts()
    lines = [MARKER, "## Pipeline review", ""]
    lines.append(
        f"`{review.base}` → `{review.head}`: {len(review.files)} pipeline "
        f"file(s) changed; risk: **{counts['high']} high**, "
        f"{counts['medium']} medium, {counts['low']} low."
    )
    if not review.files:
        lines += ["", "No workflow or pipeline changes."]
    for file in review.files:
        lines += ["", f"### `{file.file}` ({file.status})", ""]
        ordered = sorted(file.changes, key=lambda c: SEVERITY_ORDER[c.severity])
        for change in ordered:
            mark = {"high": "🔴", "medium": "🟠", "low": "🟢"}[change.severity]
            lines.append(
                f"- {mark} **{change.severity}** ({change.kind}): "
                f"{change.message}"
            )
        if file.before or file.after:
            lines += [
                "",
                "<details><summary>Deployment path before and after</summary>",
                "",
                "Before:",
                "",
                "```mermaid",
                file.before,
                "```",
                "",
                "After:",
                "",
                "```mermaid",
                file.after,
                "```",
                "",
                "</details>",
            ]
    lines += ["", "### Risk summary", ""]
    high = [c for c in review.changes if c.severity == "high"]
    if high:
        lines += [f"- {c.message}" for c in high]
        lines.append("")
        lines.append("Review the high-risk changes with the pipeline owners.")
    else:
        lines.append("No high-risk change.")
    return "\n".join(lines) + "\n"


def to_json(review: Review) -> str:
    return json.dumps(
        {
            "base": review.base,
            "head": review.head,
            "risk": review.counts(),
            "files": [asdict(f) for f in review.files],
        },
        indent=2,
    )
