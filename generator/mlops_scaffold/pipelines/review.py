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

import fnmatch
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import gitutil
from ..errors import MalformedFileError, UsageError
from ..yamlio import read_bounded
from . import semantic_diff
from .discovery import classify
from .findings import bounded, printable
from .model import PRODUCTION, PipelineFile, tier_of
from .settings import CONFIG_FILE, IGNORE_COMMENT

SHA = re.compile(r"^[0-9a-f]{40}$")
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
    new_findings: list[dict] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return [c for f in self.files for c in f.changes]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for change in self.changes:
            counts[change.severity] += 1
        return counts


# -------------------------------------------------------------- reading
def _read(root: Path, ref: str | None, relative: str | None) -> bytes | None:
    """The file's bytes at ``ref`` (None: the working tree); bytes, as a
    pull request may hold any."""
    if relative is None:
        return None
    if ref is None:
        path = root / relative
        if not path.resolve().is_relative_to(root.resolve()):
            return None  # a link out of the repository is never read
        if not os.path.lexists(path):
            return None
        return read_bounded(path)  # over the bound or not regular: unreadable
    return gitutil.show(root, ref, relative)


def _changed_files(
    root: Path, base: str, head: str | None
) -> list[tuple[str | None, str | None]]:
    """(path at base, path at head) of each changed YAML file; a rename
    (git -M) is one pair, an added file has no base path."""
    args = ["diff", "--name-status", "-M", "-z", base]
    if head:
        args.append(head)
    fields = (
        gitutil.run(*args, "--", cwd=root)
        .stdout.decode("utf-8", "surrogateescape")
        .split("\0")
    )
    pairs: list[tuple[str | None, str | None]] = []
    index = 0
    while index < len(fields) - 1:
        status = fields[index]
        if not status:
            index += 1
            continue
        if status[0] in "RC":
            old, new = fields[index + 1], fields[index + 2]
            pairs.append((old if status[0] == "R" else None, new))
            index += 3
            continue
        name = fields[index + 1]
        pairs.append(
            (
                None if status[0] == "A" else name,
                None if status[0] == "D" else name,
            )
        )
        index += 2
    if head is None:  # the working tree: untracked pipeline files count too
        untracked = gitutil.run(
            "ls-files", "-z", "--others", "--exclude-standard", cwd=root
        ).stdout.decode("utf-8", "surrogateescape")
        pairs += [(None, name) for name in untracked.split("\0") if name]
    return sorted(
        (
            pair
            for pair in pairs
            if any(n and n.endswith((".yml", ".yaml")) for n in pair)
        ),
        key=lambda pair: pair[1] or pair[0] or "",
    )


def _parse(text: bytes | None, relative: str | None) -> PipelineFile | None:
    """A pipeline file, or None when there is no text or it is not one."""
    if text is None or relative is None:
        return None
    pipeline = PipelineFile.parse(text, relative, "github")
    found = classify(relative, pipeline.data)
    if found is None:
        return None
    pipeline.provider, pipeline.kind = found
    return pipeline


def _text(pipeline: PipelineFile | None) -> str:
    return pipeline.text if pipeline is not None else ""


def _production(name: str | None) -> bool:
    return tier_of(name) == PRODUCTION


# The markdown becomes a pull-request comment: every value from the
# pull request's files is escaped for where it goes (code span, text,
# Mermaid label), so it cannot close a fence, start a heading or a list,
# or add a link, an image or HTML.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>~|!#&])")
_AUTOLINK = re.compile(r"(?i)(https?|ftp|www|mailto)([:.])")
_LABEL = {"#": "#35;", '"': "#quot;", "`": "#96;", "<": "#lt;", ">": "#gt;",
          "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;", "|": "#124;",
          "&": "#38;", "(": "#40;", ")": "#41;"}  # fmt: skip


def _one_line(value: Any, limit: int = 200) -> str:
    return bounded(printable(str(value)), limit)


def _code(value: Any) -> str:
    """An inline code span that nothing in ``value`` can close: one line,
    fenced by more backticks than its longest run."""
    text = _one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if not text.strip() or text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def _plain(value: Any, limit: int = 500) -> str:
    """Plain markdown text: one line, specials backslash-escaped, no
    autolink."""
    text = _MARKDOWN.sub(r"\\\1", _one_line(value, limit))
    return _AUTOLINK.sub(r"\1\\\2", text)


def _label(value: Any) -> str:
    """A Mermaid label's text: one line, quotes, backticks, brackets and
    angle brackets as Mermaid entities."""
    return "".join(_LABEL.get(c, c) for c in _one_line(value, 100))


def _names(values) -> str:
    """Names for people: `a`, `b` (never a Python list)."""
    names = sorted(str(v) for v in values)
    shown = ", ".join(_code(v) for v in names[:20]) or "nothing"
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "")


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


DANGEROUS_TRIGGERS = {"pull_request_target", "workflow_run"}


def _triggers(review: FileReview, old: PipelineFile, new: PipelineFile):
    before, after = old.triggers(), new.triggers()
    for name in sorted(set(after) - set(before)):
        severity = "high" if name in DANGEROUS_TRIGGERS else "medium"
        review.add(severity, "trigger", f"trigger added: {_code(name)}")
    for name in sorted(set(before) - set(after)):
        review.add("low", "trigger", f"trigger removed: {_code(name)}")
    for name in sorted(set(before) & set(after)):
        was, now = _branches(before[name]), _branches(after[name])
        if now - was and was != {"*"}:
            review.add(
                "medium",
                "trigger",
                f"trigger {_code(name)} widened to {_names(now - was)}",
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
        f"{_plain(scope)}: {'write' if level == 2 else 'read'}"
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


def _compare_stages(review: FileReview, old, new) -> None:
    before, after = old.stages(), new.stages()
    for name in sorted(set(after) - set(before)):
        review.add("medium", "stage", f"stage added: {_code(name)}")
    for name in sorted(set(before) - set(after)):
        severity = "high" if _production(name) else "medium"
        review.add(severity, "stage", f"stage removed: {_code(name)}")
    for name in sorted(set(before) & set(after)):
        if set(before[name]) != set(after[name]):
            review.add(
                "high" if _production(name) else "medium",
                "needs",
                f"stage {_code(name)} now depends on {_names(after[name])} "
                f"(was {_names(before[name])})",
            )


def _compare_jobs(review: FileReview, old, new) -> None:
    before, after = _jobs(old), _jobs(new)
    for name in sorted(set(after) - set(before)):
        job = after[name]
        gate = (
            f" (environment {_code(job.environment)})"
            if job.environment
            else ""
        )
        review.add("medium", "job", f"job added: {_code(name)}{gate}")
    for name in sorted(set(before) - set(after)):
        job = before[name]
        severity = "high" if _production(name) else "medium"
        review.add(severity, "job", f"job removed: {_code(name)}")
    for name in sorted(set(before) & set(after)):
        was, now = before[name], after[name]
        if set(was.needs) != set(now.needs):
            review.add(
                "high" if _production(name) else "medium",
                "needs",
                f"{_code(name)} now depends on {_names(now.needs)} "
                f"(was {_names(was.needs)})",
            )
        if was.environment and not now.environment:
            severity = "high" if _production(was.environment) else "medium"
            review.add(
                severity,
                "gate",
                f"environment gate {_code(was.environment)} removed from "
                f"{_code(name)}",
            )
        elif now.environment and not was.environment:
            review.add(
                "low",
                "gate",
                f"{_code(name)} now runs in environment "
                f"{_code(now.environment)}",
            )
        elif was.environment != now.environment:
            review.add(
                "medium",
                "gate",
                f"{_code(name)} moved from environment "
                f"{_code(was.environment)} to {_code(now.environment)}",
            )
        _compare_settings(review, name, was, now)
        widened = _widened(
            was.raw.get("permissions"), now.raw.get("permissions")
        )
        if widened:
            review.add(
                "high",
                "permissions",
                f"{_code(name)} permissions widened: {', '.join(widened)}",
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
            f"{_code(name)} timeout {_code(old or 'none')} -> "
            f"{_code(new or 'none (6 h on GitHub, 60 min on Azure)')}",
        )
    if was.raw.get("concurrency") != now.raw.get("concurrency"):
        review.add(
            "high" if _production(now.environment) else "medium",
            "concurrency",
            f"{_code(name)} concurrency changed: "
            f"{_code(was.raw.get('concurrency') or 'none')} -> "
            f"{_code(now.raw.get('concurrency') or 'none')}",
        )
    before, after = _identity_of(was), _identity_of(now)
    if before != after:
        review.add(
            "high",
            "identity",
            f"{_code(name)} logs in as {_names(sorted(after)) or 'nobody'} "
            f"(was {_names(sorted(before)) or 'nobody'})",
        )


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
                f"{_code(name)} uses a new action {_code(step.uses)}",
            )
        elif previous != step.uses:
            pinned_before = SHA.match(previous.partition("@")[2])
            if pinned_before and not SHA.match(ref):
                review.add(
                    "high",
                    "action",
                    f"{_code(name)}: {_code(action)} unpinned "
                    f"({_code(previous)} -> {_code(step.uses)})",
                )
            else:
                review.add(
                    "low",
                    "action",
                    f"{_code(name)}: {_code(action)} changed "
                    f"{_code(previous.partition('@')[2][:12])} -> "
                    f"{_code(ref[:12])}",
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
                f"{_code(name)} step {_code(label)}: command {verb}: "
                f"{_code(_short(new_cmd or old_cmd or ''))}",
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


#: Every comment that silences a finding: ours and zizmor's (whose audits
#: `check` reports). A pull request adding one is a high-risk item.
_SILENCERS = {
    "mlops-scaffold": IGNORE_COMMENT,
    "zizmor": re.compile(r"#\s*zizmor:\s*ignore\[([^\]]*)\]"),
}
#: zizmor's configuration files: they can disable audits for a repository.
ZIZMOR_CONFIGS = ("zizmor.yml", "zizmor.yaml", ".github/zizmor.yml",
                  ".github/zizmor.yaml")  # fmt: skip


def _suppressions(text: str) -> Counter[str]:
    """What a file silences: "tool: id" for each suppression comment,
    counted (a second comment for the same id is a new one)."""
    found: Counter[str] = Counter()
    for tool, pattern in _SILENCERS.items():
        for match in pattern.finditer(text or ""):
            for part in match[1].split(","):
                if part.strip():
                    found[f"{tool}: {part.strip()}"] += 1
    return found


def _compare_file(review: FileReview, old, new, old_text, new_text) -> None:
    added = sorted(_suppressions(new_text) - _suppressions(old_text))
    if added:
        review.add(
            "high",
            "suppression",
            f"silences {_names(added)} with a new suppression comment "
            "(`# mlops-scaffold: ignore[...]` / `# zizmor: ignore[...]`)",
        )
    if old is None and new is not None:
        for name in sorted(set(new.triggers()) & DANGEROUS_TRIGGERS):
            review.add(
                "high",
                "trigger",
                f"runs on {_code(name)}: with secrets and a write token, on "
                "events an outsider causes",
            )
    if old is None or new is None:
        pipeline = new or old
        verb = "added" if new else "removed"
        jobs = _names(_jobs(pipeline)) if _jobs(pipeline) else "no jobs"
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
            f"{_code(old.mapping.get('concurrency') or 'none')} -> "
            f"{_code(new.mapping.get('concurrency') or 'none')}",
        )
    if new.provider == "azure":
        _compare_stages(review, old, new)
    _compare_jobs(review, old, new)
    for ref in sorted(_references(new_text) - _references(old_text)):
        severity = "high" if ref.startswith("secrets.") else "medium"
        review.add(severity, "secret", f"newly references {ref}")


# ------------------------------------------------------------- drawing
def mermaid(pipeline: PipelineFile | None) -> str:
    """The jobs as a flowchart (Azure: inside their stages), with the
    dependencies the service follows (``job_graph``), environments, and an
    approval before every production deployment. Node ids come from each
    job's position (``j0``, ``j1``; stages ``s0``), so two names that
    differ only in punctuation (``deploy-prod``, ``deploy_prod``) are two
    nodes; labels are escaped. Empty when the file has no jobs."""
    if pipeline is None:
        return ""
    jobs = pipeline.jobs()
    if not jobs:
        return ""
    graph = pipeline.job_graph()
    ids = {job.label: f"j{index}" for index, job in enumerate(jobs)}
    lines = ["flowchart LR"]
    stages: dict[str | None, list[Any]] = {}
    for job in jobs:
        stages.setdefault(job.stage, []).append(job)
    for number, (stage, members) in enumerate(stages.items()):
        indent = "  "
        if stage is not None:
            lines.append(f'  subgraph s{number}["{_label(stage)}"]')
            indent = "    "
        for job in members:
            text = _label(job.name)
            if job.environment:
                text += f"<br/>env: {_label(job.environment)}"
            lines.append(f'{indent}{ids[job.label]}["{text}"]')
        if stage is not None:
            lines.append("  end")
    for job in jobs:
        node = ids[job.label]
        entry = node
        if tier_of(job.environment) == PRODUCTION:
            entry = f"{node}a"
            lines.append(f'  {entry}{{{{"approval"}}}} --> {node}')
        # Draw only the nearest edges: jobs of the stage before, or needs.
        for need in graph.get(job.label, []):
            if need in ids:
                lines.append(f"  {ids[need]} --> {entry}")
    return "\n".join(lines)


# ------------------------------------------------------------- the API
def review_change(
    path: Path | str = ".", *, base: str, head: str | None = None
) -> Review:
    """Review what ``base..head`` (head: the working tree when None) does
    to the pipelines of the repository at ``path``."""
    root = gitutil.repository_root(Path(path))
    for ref in (base, head):
        if ref is not None:
            _verify_commit(root, ref)
    pairs = _changed_files(root, base, head)
    with tempfile.TemporaryDirectory(prefix="mlops-scaffold-review-") as tmp:
        base_tree = _export(root, base, Path(tmp) / "base")
        head_tree = _export(root, head, Path(tmp) / "head")
        return _review(root, base, head, pairs, base_tree, head_tree)


def _review(
    root: Path,
    base: str,
    head: str | None,
    pairs: list[tuple[str | None, str | None]],
    base_tree: Path,
    head_tree: Path,
) -> Review:
    from .rules.registry import default_branch

    branch = default_branch(base_tree)
    reviews = []
    for old_name, new_name in pairs:
        if CONFIG_FILE in (old_name, new_name):
            continue  # settings, not a pipeline: compared below
        if {old_name, new_name} & set(ZIZMOR_CONFIGS):
            config = FileReview(new_name or old_name or "", "zizmor settings")
            config.add(
                "high",
                "suppression",
                "the change edits zizmor's configuration, which can disable "
                "its audits (permissions, pinning, injection) for the "
                "repository",
            )
            reviews.append(config)
            continue
        shown = new_name or old_name or ""
        try:
            old_text = _read(root, base, old_name)
            new_text = _read(root, head, new_name)
            old = _parse(old_text, old_name)
            new = _parse(new_text, new_name)
        except MalformedFileError as error:
            review = FileReview(shown, "unreadable")
            review.add("high", "syntax", _plain(error.message))
            reviews.append(review)
            continue
        if old is None and new is None:
            continue  # not a pipeline file
        if old is None:
            status = "added"
        elif new is None:
            status = "removed"
        elif old_name != new_name:
            status = f"renamed from {old_name}"
        else:
            status = "modified"
        review = FileReview(shown, status)
        if old is not None and new is not None and old.provider != new.provider:
            old = None  # a different kind of file now: compare as added
        _compare_file(review, old, new, _text(old), _text(new))
        for difference in semantic_diff.compare(
            old, new, branch=branch, old_root=base_tree, new_root=head_tree
        ):
            review.add(difference.severity, difference.kind, difference.message)
        if review.changes or status != "modified":
            review.before, review.after = mermaid(old), mermaid(new)
            reviews.append(review)
    reviews += _through_templates(pairs, reviews, branch, base_tree, head_tree)
    settings = _settings_files(root, base)
    changed = _settings_change(settings, _settings_files(root, head))
    if changed is not None:
        reviews.append(changed)
    result = Review(base, head or "working tree", reviews)
    renames = {old: new for old, new in pairs if old and new and old != new}
    result.new_findings = _new_findings(base_tree, head_tree, renames, settings)
    return result


def _settings_files(root: Path, ref: str | None) -> dict[str, bytes]:
    """The files `check` takes its settings from, at ``ref``."""
    found = {}
    for name in (CONFIG_FILE, "pyproject.toml"):
        data = _read(root, ref, name)
        if data is not None:
            found[name] = data
    return found


def _load_settings(files: dict[str, bytes]):
    import tempfile

    from .settings import load_settings

    with tempfile.TemporaryDirectory(prefix="mlops-scaffold-review-") as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        try:
            return load_settings(Path(tmp))
        except MalformedFileError as error:
            # Name the file as the repository knows it, not the scratch copy.
            where = f"{error.path}:{error.line}" if error.line else error.path
            raise MalformedFileError(
                Path(str(error.path)).name,
                error.message[len(f"{where}: ") :],
                line=error.line,
                hint=error.hint,
            ) from None


def _settings_change(
    base: dict[str, bytes], head: dict[str, bytes]
) -> FileReview | None:
    """A risk item when the change alters what `check` reports (ignore,
    exclude, per-file-ignores, severity): a pull request must not hide its
    own findings, so new findings use the base's settings."""
    before, after = _load_settings(base), _load_settings(head)
    if before == after:
        return None
    name = next(
        (
            n
            for n in (CONFIG_FILE, "pyproject.toml")
            if base.get(n) != head.get(n)
        ),
        CONFIG_FILE,
    )
    review = FileReview(name, "settings changed")
    review.add(
        "high",
        "settings",
        "the change alters what `mlops-scaffold check` ignores or excludes "
        "(ignore, exclude, per-file-ignores, severity); new findings below "
        "use the base's settings",
    )
    return review


def _verify_commit(root: Path, ref: str) -> None:
    """A ref that names a commit, else bad input: an option-like ref is
    never passed to git; a blob or tree (``HEAD:README.md``) is not a
    commit."""
    hint = "pass a branch, tag or commit"
    if ref.startswith("-") or not gitutil.branch_exists(root, ref):
        raise UsageError(
            f"Unknown git reference {ref!r}.", hint=_ref_hint(root, ref)
        )
    found = gitutil.git(
        "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
        cwd=root, check=False,
    )  # fmt: skip
    if found.returncode != 0:
        raise UsageError(f"{ref!r} is not a commit.", hint=hint)


def _ref_hint(root: Path, ref: str) -> str:
    """What to pass instead of a ref git does not know: fetch a remote
    branch that is not here yet, or one of the branches that are."""
    remotes = gitutil.output("remote", cwd=root).split()
    remote, _, branch = ref.partition("/")
    if remote in remotes and branch:
        return (
            f"fetch it first (`git fetch {remote} {branch}`; a shallow CI "
            "checkout needs fetch-depth: 0), or pass a branch, tag or commit "
            "that is here"
        )
    known = gitutil.output(
        "for-each-ref", "--format=%(refname:short)", "--count=5",
        "refs/heads", "refs/remotes", cwd=root,
    ).split()  # fmt: skip
    known = [name for name in known if name != ref and "HEAD" not in name]
    if known:
        return "pass a branch, tag or commit: here, e.g. " + ", ".join(
            f"--base {name}" for name in known[:3]
        )
    return "pass a branch, tag or commit of this repository"


def _through_templates(
    pairs: list[tuple[str | None, str | None]],
    reviewed: list[FileReview],
    branch: str,
    base_tree: Path,
    head_tree: Path,
) -> list[FileReview]:
    """A changed Azure template changes what every pipeline that includes
    it (directly or through other templates) runs: those pipelines are
    planned on both sides too, though their own text did not change."""
    from .discovery import discover, resolve_template
    from .rules.ms102_template_reference import references

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
        old = _parse(_read(base_tree, None, source.relative), source.relative)
        review = FileReview(
            source.relative, f"uses changed template(s) {_names(used)}"
        )
        for difference in semantic_diff.compare(
            old, pipeline, branch=branch, old_root=base_tree,
            new_root=head_tree,
        ):  # fmt: skip
            review.add(difference.severity, difference.kind, difference.message)
        if review.changes:
            out.append(review)
    return out


#: The files a review exports from each revision: pipelines and the files
#: `check` takes its settings and default branch from.
_EXPORTED = ("*.yml", "*.yaml", CONFIG_FILE, "pyproject.toml")
_MAX_EXPORTED = 20_000  # files; a repository with more is reviewed partly


def _export(root: Path, ref: str | None, dest: Path) -> Path:
    """The revision's pipeline and settings files (the working tree's when
    ``ref`` is None) in a scratch folder, so that `check` and the planner
    see the whole tree of each side: templates a change starts to use are
    found. Bytes only; links and unreadable files are left out."""
    dest.mkdir(parents=True)
    if ref is None:
        names = gitutil.list_files(root, *_EXPORTED) or []
    else:
        listed = gitutil.run(
            "ls-tree", "-r", "-z", "--name-only", ref, cwd=root
        ).stdout.decode("utf-8", "surrogateescape")
        names = [
            n
            for n in listed.split("\0")
            if n
            and any(
                fnmatch.fnmatch(n.rpartition("/")[2], p) for p in _EXPORTED
            )  # fmt: skip
        ]
    for name in names[:_MAX_EXPORTED]:
        try:
            data = _read(root, ref, name)
        except MalformedFileError:
            data = None  # over the bound: check names it on its side
        if data is None:
            continue
        target = dest / name
        if not target.resolve().is_relative_to(dest.resolve()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return dest


def _identity(finding: Any, lines: list[str]) -> tuple[str, str, str, str]:
    """What a finding is, whatever lines an edit above it shifts: rule,
    file, the job it belongs to (its key's text) and the message."""
    job = ""
    if finding.job_line and 0 < finding.job_line <= len(lines):
        job = lines[finding.job_line - 1].strip()
    return (finding.rule, finding.file, job, finding.message)


def _new_findings(
    base_tree: Path,
    head_tree: Path,
    renames: dict[str, str],
    settings: dict[str, bytes],
) -> list[dict]:
    """`check` findings of the head tree that the base tree does not have,
    compared by identity (rule, file, job, message) and counted: a second
    injection in a file that already held one is new. Both trees are
    checked whole, with the base revision's settings, which the change
    cannot alter."""
    from collections import Counter

    from .check import check

    def findings_of(tree: Path) -> list[Any]:
        for name in (CONFIG_FILE, "pyproject.toml"):
            (tree / name).unlink(missing_ok=True)
        for name, data in settings.items():  # the base's, on both sides
            (tree / name).write_bytes(data)
        return check(tree).findings

    def lines_of(tree: Path, name: str) -> list[str]:
        try:
            return (tree / name).read_text("utf-8", "replace").splitlines()
        except OSError:
            return []

    old = findings_of(base_tree)
    new = findings_of(head_tree)
    known: Counter[tuple[str, ...]] = Counter()
    for finding in old:
        identity = _identity(finding, lines_of(base_tree, finding.file))
        known[(*identity[:1], renames.get(identity[1], identity[1]),
               *identity[2:])] += 1  # fmt: skip
    fresh = []
    for finding in new:
        identity = _identity(finding, lines_of(head_tree, finding.file))
        if known[identity] > 0:
            known[identity] -= 1
        else:
            fresh.append(finding.as_dict())
    return fresh


def _where(finding: dict) -> str:
    return f"{finding['file']}:{finding['line']}"


def to_markdown(review: Review) -> str:
    counts = review.counts()
    lines = [MARKER, "## Pipeline review", ""]
    lines.append(
        f"{_code(review.base)} → {_code(review.head)}: "
        f"{len(review.files)} pipeline "
        f"file(s) changed; risk: **{counts['high']} high**, "
        f"{counts['medium']} medium, {counts['low']} low."
    )
    if not review.files:
        lines += ["", "No workflow or pipeline changes."]
    for file in review.files:
        lines += [
            "",
            f"### {_code(file.file)} ({_plain(file.status)})",
            "",
        ]
        ordered = sorted(file.changes, key=lambda c: SEVERITY_ORDER[c.severity])
        for change in ordered:
            mark = {"high": "🔴", "medium": "🟠", "low": "🟢"}[change.severity]
            lines.append(
                f"- {mark} **{change.severity}** ({change.kind}): "
                f"{change.message}"
            )
        blocks = [
            (title, chart)
            for title, chart in (("Before", file.before), ("After", file.after))
            if chart
        ]
        if blocks:
            lines += [
                "",
                "<details><summary>Deployment path before and after</summary>",
            ]
            for title, chart in blocks:
                lines += ["", f"{title}:", "", "```mermaid", chart, "```"]
            lines += ["", "</details>"]
    lines += ["", "### New findings", ""]
    if review.new_findings:
        lines += [
            f"- {_code(_where(f))} **{f['severity']}** "
            f"{_plain(f['rule'])} {_plain(f['title'])}: "
            f"{_plain(f['message'])}"
            for f in review.new_findings
        ]
    else:
        lines.append("`mlops-scaffold check` finds nothing new.")
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
            "new_findings": review.new_findings,
        },
        indent=2,
    )
