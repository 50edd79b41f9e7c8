"""`check`: the engine. Discovery, then schema, then rules (ours and
zizmor's), then suppressions (``settings``), then the severity threshold for
the exit code. What it reports lives in ``findings``, how in ``report``.
"""

from __future__ import annotations

import fnmatch
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..yamlio import anchors_and_merge_keys, duplicate_key, line_of
from . import auditor, schema
from .discovery import Discovered, discover
from .findings import Finding, Result, printable
from .model import AZURE, GITHUB, PipelineFile
from .rules import (
    Context,
    Hit,
    Rule,
    RuleSkipped,
    all_rules,
    registry,
)
from .settings import Settings, load_settings, suppressed


# ---------------------------------------------------------------- engine
def _relative_files(root: Path, files: list[Path]) -> list[str]:
    names = []
    for file in files:
        path = file if file.is_absolute() else Path.cwd() / file
        try:
            mode = path.stat().st_mode
        except OSError:
            raise UsageError(
                f"{printable(str(file))} is not a folder or a file.",
                hint="pass files inside the repository being checked",
            ) from None
        if not stat.S_ISREG(mode):
            raise UsageError(
                f"{printable(str(file))} is not a regular file "
                "(a FIFO, device or socket).",
                hint="pass pipeline files (YAML) of the repository",
            )
        try:
            names.append(path.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            raise UsageError(
                f"{printable(str(file))} is outside the repository "
                f"'{printable(str(root))}'.",
                hint="pass files inside the repository being checked, or "
                "its folder with --root",
            ) from None
    return names


def repository_of(files: list[Path]) -> Path:
    """The repository that holds FILE arguments: git's top level of their
    folders (one for all), else the current folder outside git."""
    from .. import gitutil

    tops = set()
    for file in files:
        folder = (file if file.is_absolute() else Path.cwd() / file).parent
        top = gitutil.top_level(folder) if folder.is_dir() else None
        tops.add((top or Path.cwd()).resolve())
    if len(tops) > 1:
        names = ", ".join(f"'{top}'" for top in sorted(tops))
        raise UsageError(
            f"The files belong to different repositories ({names}).",
            hint="check the files of one repository at a time",
        )
    return tops.pop() if tops else Path.cwd()


def check(
    path: Path | str | None = ".",
    files: list[Path] | None = None,
    *,
    use_auditor: bool = True,
    settings: Settings | None = None,
) -> Result:
    """Check the repository at ``path`` (or only ``files`` in it), with
    the repository's settings unless ``settings`` are given (`review`
    checks both sides of a change with the base's)."""
    if path is None:
        path = repository_of(files or [])
    root = Path(path)
    if not root.is_dir():
        raise UsageError(
            f"{root} is not a folder.",
            hint="pass the repository's folder (default: the current one)",
        )
    if settings is None:
        settings = load_settings(root)
    chosen = _relative_files(root, files) if files is not None else None
    found = discover(root, chosen)
    sources = [
        s
        for s in found.sources
        if not any(fnmatch.fnmatch(s.relative, g) for g in settings.exclude)
    ]
    findings: list[Finding] = [
        Finding("MS100", name, 1, error.message.split(": ", 1)[-1], "note")
        for name, error in found.skipped.items()
        if not any(fnmatch.fnmatch(name, g) for g in settings.exclude)
    ]
    texts: dict[str, str] = {}
    rules, notes = _rules(registry.context(root, dict(found.parsed)))
    github = [
        s.relative
        for s in sources
        if s.relative in found.parsed and s.provider == GITHUB
    ]
    # zizmor runs once for the repository, beside our own checks.
    with ThreadPoolExecutor(max_workers=1) as pool:
        audit = (
            pool.submit(_audit, root, github, found.parsed)
            if use_auditor and github
            else None
        )
        invalid = set()
        for source in sources:
            mine = _check_one(source, found, rules, texts)
            findings += mine
            if any(f.rule == "MS100" and f.line > 0 for f in mine):
                invalid.add(source.relative)
        if audit is not None:
            # zizmor's findings stand beside a schema error (one error must
            # not hide the rest); only a file we could not read is left out.
            findings += [f for f in audit.result() if f.file not in invalid]
    kept = [
        f
        for f in set(findings)
        if not suppressed(f, settings, texts.get(f.file, ""))
    ]
    kept.sort(key=lambda f: (f.file, f.line, f.rule, f.message))
    return Result(
        kept,
        [s.relative for s in sources],
        len(set(findings)) - len(kept),
        settings,
        notes,
    )


def _unsupported_yaml(pipeline: PipelineFile) -> tuple[int, str] | None:
    """YAML the service refuses though PyYAML reads it: a key written twice
    in a mapping, anchors in Azure Pipelines, merge keys in GitHub
    Actions."""
    duplicate = duplicate_key(pipeline.text)
    if duplicate is not None:
        return duplicate[0], (
            f"`{printable(duplicate[1])[:80]}` is defined twice in one "
            'mapping: the service refuses the file ("is already '
            'defined"), where YAML readers keep the last value'
        )
    anchor, merge = anchors_and_merge_keys(pipeline.text)
    if pipeline.provider == AZURE and anchor is not None:
        return anchor, (
            'Azure Pipelines refuses YAML anchors and aliases ("Anchors '
            'are not currently supported"); repeat the value, or use a '
            "template or a variable"
        )
    if pipeline.provider == GITHUB and merge is not None:
        return merge, (
            "GitHub Actions takes anchors and aliases but not merge keys "
            "(`<<:`); write the keys out"
        )
    return None


def _rules(context: Context) -> tuple[list[Rule], list[str]]:
    """Every rule, constructed once with the run's context; a rule that
    cannot run here is a note."""
    rules, notes = [], []
    for kind in registry.RULES:
        try:
            rules.append(kind(context))
        except RuleSkipped as why:
            notes.append(f"{kind.meta.id} did not run: {why}")
    return rules, notes


def _hits(rule: Rule, pipeline: PipelineFile) -> list[Hit]:
    """What one rule finds in one file: its file hook, then its job hook
    for every job and its step hook for every step of that job."""
    hits = list(rule.file(pipeline))
    for job in pipeline.jobs():
        hits += rule.job(pipeline, job)
        for step in job.steps:
            hits += rule.step(pipeline, job, step)
    return hits


def _check_one(
    source: Any,
    found: Discovered,
    rules: list[Rule],
    texts: dict[str, str],
) -> list[Finding]:
    if source.relative in found.unreadable:
        error = found.unreadable[source.relative]
        detail = error.message.split(": ", 1)[-1]
        return [Finding("MS100", source.relative, error.line or 1, detail)]
    pipeline: PipelineFile = found.parsed[source.relative]
    texts[source.relative] = pipeline.text
    findings = []
    unsupported = _unsupported_yaml(pipeline)
    if unsupported is not None:
        return [Finding("MS100", source.relative, *unsupported)]
    failures: list[Finding] = []
    try:
        for line, message in schema.schema_errors(pipeline):
            findings.append(Finding("MS101", source.relative, line, message))
    except Exception as error:  # noqa: BLE001 - one file never aborts a run
        findings.append(_failure(source.relative, "the schema check", error))
    for rule in rules:
        if pipeline.provider not in rule.providers():
            continue
        meta = rule.meta
        try:
            hits = _hits(rule, pipeline)
        except Exception as error:  # noqa: BLE001 - isolation per file
            failures.append(_failure(source.relative, meta.id, error))
            continue
        for hit in hits:
            line = (
                hit.where
                if isinstance(hit.where, int)
                else line_of(pipeline.lines, hit.where)
            )
            job_line = line_of(pipeline.lines, hit.job) if hit.job else None
            findings.append(
                Finding(
                    meta.id,
                    source.relative,
                    line,
                    hit.message,
                    meta.severity,
                    job_line,
                )
            )
    if any(f.rule == "MS212" for f in findings):
        # MS212 has said what the planner tripped over.
        failures = [f for f in failures if f.rule != "MS212"]
    return findings + failures


def _failure(file: str, what: str, error: Exception) -> Finding:
    """A failure while analysing one file, as a finding on that file: an
    expression the service cannot parse is the file's fault (MS212, the
    service rejects it); anything else is ours, and still never costs the
    run the other files' findings (MS100, the file was not analysed)."""
    from .semantics import ExpressionError

    if isinstance(error, ExpressionError):
        return Finding(
            "MS212", file, 1, f"an expression does not parse: {error}"
        )
    detail = printable(str(error))[:200]
    return Finding(
        "MS100",
        file,
        1,
        f"{what} could not analyse the file ({type(error).__name__}: "
        f"{detail}); its other findings are reported",
    )


def _audit(
    root: Path, files: list[str], parsed: dict[str, PipelineFile]
) -> list[Finding]:
    try:
        results = auditor.audit(root, files)
    except auditor.AuditorUnavailable as error:
        return [  # one finding for the run, on the first file
            Finding(
                "MS001",
                files[0],
                1,
                f"{error}; the GitHub security audits did not run",
                "error",
            )
        ]
    rules = all_rules()
    findings = []
    for item in results:
        pipeline = parsed.get(item.file)
        job_line = (
            line_of(pipeline.lines, item.job) if pipeline and item.job else None
        )
        severity = (
            rules[item.rule].severity if item.rule in rules else item.severity
        )
        if item.rule == "MS209" and pipeline is not None:
            severity = _injection_severity(pipeline, item.line, severity)
        findings.append(
            Finding(
                item.rule,
                item.file,
                item.line,
                item.message,
                severity,
                job_line,
            )
        )
    return findings


# Contexts an outsider writes (actionlint's untrusted inputs,
# rule_expression.go / expr_insecure.go: titles, bodies, comments, commit
# messages and authors, branch names of a fork) ...
_OUTSIDER_VALUE = re.compile(
    r"github\.head_ref|github\.event\.(?!inputs\.)(?:[\w.*\[\]']*\.)?"
    r"(?:title|body|message|name|email|head_ref|ref|label|page_name"
    r"|default_branch|head_branch|login)\b",
    re.IGNORECASE,
)
# ... and the triggers that run a workflow on an outsider's event.
_OUTSIDER_TRIGGERS = {
    "pull_request", "pull_request_target", "issues", "issue_comment",
    "discussion", "discussion_comment", "pull_request_review",
    "pull_request_review_comment", "workflow_run", "fork", "watch",
    "gollum",
}  # fmt: skip
_EXPRESSION_TEXT = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def _injection_severity(pipeline: PipelineFile, line: int, default: str) -> str:
    """zizmor's template-injection, as severe as what it injects: an error
    when the value is an outsider's and a trigger hands it to them, else a
    warning (``github.workflow``, ``github.ref`` on a schedule or a manual
    run: no outsider chooses them, though the pattern stays fragile)."""
    data = pipeline.mapping
    on = data.get("on", data.get(True))
    events = (
        {on}
        if isinstance(on, str)
        else {str(e) for e in on}
        if isinstance(on, (list, dict))
        else set()
    )
    text = "\n".join(pipeline.text.splitlines()[max(0, line - 1) : line + 30])
    # zizmor points at the step (or the run line); read the expressions
    # from there to the next step.
    block = re.split(r"\n\s*- ", text, maxsplit=1)[0]
    values = [m.group(1) for m in _EXPRESSION_TEXT.finditer(block)]
    if not values:
        return default
    outsider = any(_OUTSIDER_VALUE.search(v) for v in values)
    return "error" if outsider and events & _OUTSIDER_TRIGGERS else "warning"


def check_repository(path: Path | str = ".") -> list[Finding]:
    """Every finding in every pipeline file below ``path``, sorted."""
    return check(path).findings
