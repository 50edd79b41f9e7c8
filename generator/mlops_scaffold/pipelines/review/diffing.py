"""Comparing one pipeline file's two sides, item by item: triggers, jobs
and stages, dependencies, gates, permissions, timeouts, concurrency,
identities, actions, commands, secrets and suppressions. Each difference
is a change with the severity the risk rules give it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import semantic_diff
from ..model import PRODUCTION, Job, PipelineFile, Step, tier_of
from ..report import md_code, md_names, md_plain
from .changes import FileReview
from .reading import parse, read
from .risk import (
    AZURE_VAR_REF,
    DANGEROUS_TRIGGERS,
    SECRET_REF,
    SHA,
    WRITE_LEVELS,
    production,
    suppressions,
)


def _branches(value: Any) -> set[str]:
    if isinstance(value, dict):
        include = value.get("branches", value.get("include"))
        if isinstance(include, dict):
            include = include.get("include")
        return set(include or []) if isinstance(include, list) else {"*"}
    if isinstance(value, list):
        return {str(v) for v in value}
    return {"*"} if value not in (None, "none") else set()


def _triggers(review: FileReview, old: PipelineFile, new: PipelineFile) -> None:
    before, after = old.triggers(), new.triggers()
    for name in sorted(set(after) - set(before)):
        severity = "high" if name in DANGEROUS_TRIGGERS else "medium"
        review.add(severity, "trigger", f"trigger added: {md_code(name)}")
    for name in sorted(set(before) - set(after)):
        review.add("low", "trigger", f"trigger removed: {md_code(name)}")
    for name in sorted(set(before) & set(after)):
        was, now = _branches(before[name]), _branches(after[name])
        if now - was and was != {"*"}:
            review.add(
                "medium",
                "trigger",
                f"trigger {md_code(name)} widened to {md_names(now - was)}",
            )


def _jobs(pipeline: PipelineFile | None) -> dict[str, Job]:
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
        f"{md_plain(scope)}: {'write' if level == 2 else 'read'}"
        for scope, level in after.items()
        if level > before.get(scope, before.get("*", 0))
    )


def _references(text: str) -> set[str]:
    found = {f"{kind}.{name}" for kind, name in SECRET_REF.findall(text)}
    found |= {f"$({name})" for name in AZURE_VAR_REF.findall(text)}
    return found


def _step_map(job: Job) -> dict[str, Step]:
    steps = {}
    for index, step in enumerate(job.steps):
        name = step.raw.get("name") or step.raw.get("displayName")
        steps[str(name or step.uses or f"step {index + 1}")] = step
    return steps


def _compare_stages(
    review: FileReview, old: PipelineFile, new: PipelineFile
) -> None:
    before, after = old.stages(), new.stages()
    for name in sorted(set(after) - set(before)):
        review.add("medium", "stage", f"stage added: {md_code(name)}")
    for name in sorted(set(before) - set(after)):
        severity = "high" if production(name) else "medium"
        review.add(severity, "stage", f"stage removed: {md_code(name)}")
    for name in sorted(set(before) & set(after)):
        if set(before[name]) != set(after[name]):
            review.add(
                "high" if production(name) else "medium",
                "needs",
                f"stage {md_code(name)} now depends on {md_names(after[name])} "
                f"(was {md_names(before[name])})",
            )


def _compare_jobs(
    review: FileReview, old: PipelineFile, new: PipelineFile
) -> None:
    before, after = _jobs(old), _jobs(new)
    for name in sorted(set(after) - set(before)):
        job = after[name]
        gate = (
            f" (environment {md_code(job.environment)})"
            if job.environment
            else ""
        )
        review.add("medium", "job", f"job added: {md_code(name)}{gate}")
    for name in sorted(set(before) - set(after)):
        job = before[name]
        severity = "high" if production(name) else "medium"
        review.add(severity, "job", f"job removed: {md_code(name)}")
    for name in sorted(set(before) & set(after)):
        was, now = before[name], after[name]
        if set(was.needs) != set(now.needs):
            review.add(
                "high" if production(name) else "medium",
                "needs",
                f"{md_code(name)} now depends on {md_names(now.needs)} "
                f"(was {md_names(was.needs)})",
            )
        if was.environment and not now.environment:
            severity = "high" if production(was.environment) else "medium"
            review.add(
                severity,
                "gate",
                f"environment gate {md_code(was.environment)} removed from "
                f"{md_code(name)}",
            )
        elif now.environment and not was.environment:
            review.add(
                "low",
                "gate",
                f"{md_code(name)} now runs in environment "
                f"{md_code(now.environment)}",
            )
        elif was.environment != now.environment:
            review.add(
                "medium",
                "gate",
                f"{md_code(name)} moved from environment "
                f"{md_code(was.environment)} to {md_code(now.environment)}",
            )
        _compare_settings(review, name, was, now)
        widened = _widened(
            was.raw.get("permissions"), now.raw.get("permissions")
        )
        if widened:
            review.add(
                "high",
                "permissions",
                f"{md_code(name)} permissions widened: {', '.join(widened)}",
            )
        _compare_steps(review, name, was, now)


_TIMEOUT_KEYS = ("timeout-minutes", "timeoutInMinutes")


def _identity_of(job: Any) -> set[str]:
    """Who the job logs in to the cloud as: azure/login's client-id (GitHub)
    or a task's service connection (Azure)."""
    found = set()
    for step in job.steps:
        inputs = {str(k).lower(): v for k, v in step.inputs.items()}
        if (step.uses or "").lower().startswith("azure/login"):
            found.add(f"azure/login client-id {inputs.get('client-id')}")
        for key in ("azuresubscription", "connectedservicenamearm",
                    "azureresourcemanagerconnection"):  # fmt: skip
            if key in inputs:
                found.add(f"service connection {inputs[key]}")
    return found


def _compare_settings(
    review: FileReview, name: str, was: Any, now: Any
) -> None:
    """Timeouts, concurrency and the identity a job logs in as."""
    old = next((was.raw.get(k) for k in _TIMEOUT_KEYS if k in was.raw), None)
    new = next((now.raw.get(k) for k in _TIMEOUT_KEYS if k in now.raw), None)
    if old != new:
        review.add(
            "medium" if new is None else "low",
            "timeout",
            f"{md_code(name)} timeout {md_code(old or 'none')} -> "
            f"{md_code(new or 'none (6 h on GitHub, 60 min on Azure)')}",
        )
    if was.raw.get("concurrency") != now.raw.get("concurrency"):
        review.add(
            "high" if production(now.environment) else "medium",
            "concurrency",
            f"{md_code(name)} concurrency changed: "
            f"{md_code(was.raw.get('concurrency') or 'none')} -> "
            f"{md_code(now.raw.get('concurrency') or 'none')}",
        )
    before, after = _identity_of(was), _identity_of(now)
    if before != after:
        review.add(
            "high",
            "identity",
            f"{md_code(name)} logs in as {md_names(sorted(after)) or 'nobody'} "
            f"(was {md_names(sorted(before)) or 'nobody'})",
        )


def _compare_steps(review: FileReview, name: str, was: Job, now: Job) -> None:
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
                f"{md_code(name)} uses a new action {md_code(step.uses)}",
            )
        elif previous != step.uses:
            pinned_before = SHA.match(previous.partition("@")[2])
            if pinned_before and not SHA.match(ref):
                review.add(
                    "high",
                    "action",
                    f"{md_code(name)}: {md_code(action)} unpinned "
                    f"({md_code(previous)} -> {md_code(step.uses)})",
                )
            else:
                review.add(
                    "low",
                    "action",
                    f"{md_code(name)}: {md_code(action)} changed "
                    f"{md_code(previous.partition('@')[2][:12])} -> "
                    f"{md_code(ref[:12])}",
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
                f"{md_code(name)} step {md_code(label)}: command {verb}: "
                f"{md_code(_short(new_cmd or old_cmd or ''))}",
            )


def _short(command: str) -> str:
    first = command.strip().splitlines()[0] if command.strip() else ""
    return first[:100] + (
        " ..." if len(command.strip().splitlines()) > 1 else ""
    )


def _top_permissions(
    review: FileReview, old: PipelineFile | None, new: PipelineFile | None
) -> None:
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


def compare_file(
    review: FileReview,
    old: PipelineFile | None,
    new: PipelineFile | None,
    old_text: str,
    new_text: str,
) -> None:
    added = sorted(suppressions(new_text) - suppressions(old_text))
    if added:
        review.add(
            "high",
            "suppression",
            f"silences {md_names(added)} with a new suppression comment "
            "(`# mlops-scaffold: ignore[...]` / `# zizmor: ignore[...]`)",
        )
    if old is None and new is not None:
        for name in sorted(set(new.triggers()) & DANGEROUS_TRIGGERS):
            review.add(
                "high",
                "trigger",
                f"runs on {md_code(name)}: with secrets and a write token, on "
                "events an outsider causes",
            )
    if old is None or new is None:
        pipeline = new or old
        verb = "added" if new else "removed"
        jobs = md_names(_jobs(pipeline)) if _jobs(pipeline) else "no jobs"
        severity = (
            "high"
            if old
            and any(tier_of(j.environment) == PRODUCTION for j in old.jobs())
            else "medium"
        )
        review.add(severity, "file", f"pipeline {verb} ({jobs})")
        _top_permissions(review, old, new)
        for ref in sorted(_references(new_text or "")):
            review.add("medium", "secret", f"references {ref}")
        return
    _triggers(review, old, new)
    _top_permissions(review, old, new)
    if old.mapping.get("concurrency") != new.mapping.get("concurrency"):
        review.add(
            "medium",
            "concurrency",
            f"workflow concurrency changed: "
            f"{md_code(old.mapping.get('concurrency') or 'none')} -> "
            f"{md_code(new.mapping.get('concurrency') or 'none')}",
        )
    if new.provider == "azure":
        _compare_stages(review, old, new)
    _compare_jobs(review, old, new)
    for ref in sorted(_references(new_text) - _references(old_text)):
        severity = "high" if ref.startswith("secrets.") else "medium"
        review.add(severity, "secret", f"newly references {ref}")


def through_templates(
    pairs: list[tuple[str | None, str | None]],
    reviewed: list[FileReview],
    branch: str,
    base_tree: Path,
    head_tree: Path,
) -> list[FileReview]:
    """A changed Azure template changes what every pipeline that includes
    it (directly or through other templates) runs: those pipelines are
    planned on both sides too, though their own text did not change."""
    from ..discovery import discover, resolve_template
    from ..rules.ms102_template_reference import references

    changed = {name for pair in pairs for name in pair if name}
    already = {review.file for review in reviewed}
    found = discover(head_tree)
    out = []
    for source in found.sources:
        pipeline = found.parsed.get(source.relative)
        if (
            pipeline is None
            or source.relative in already
            or pipeline.provider != "azure"
            or pipeline.kind != "pipeline"
        ):
            continue
        closure: set[str] = set()
        queue = [source.relative]
        while queue and len(closure) < 100:  # Azure's own limit on files
            current = queue.pop()
            included = found.parsed.get(current)
            if current in closure or included is None:
                continue
            closure.add(current)
            for _, reference in references(included.data):
                target = resolve_template(current, reference)
                if target:
                    queue.append(target)
        used = sorted((closure - {source.relative}) & changed)
        if not used:
            continue
        old = parse(read(base_tree, None, source.relative), source.relative)
        review = FileReview(
            source.relative, f"uses changed template(s) {md_names(used)}"
        )
        for difference in semantic_diff.compare(
            old, pipeline, branch=branch, old_root=base_tree,
            new_root=head_tree,
        ):  # fmt: skip
            review.add(difference.severity, difference.kind, difference.message)
        if review.changes:
            out.append(review)
    return out
