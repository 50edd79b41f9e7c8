"""The formats: `check` findings as text (people), JSON (scripts), GitHub
workflow commands (annotations) and SARIF 2.1.0 (code scanning, editors);
a `review` as a pull-request comment (markdown with Mermaid charts) or
JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .. import __version__
from .findings import (
    Finding,
    Result,
    bounded,
    no_workflow_commands,
    printable,
    shown_path,
)
from .model import PRODUCTION, PipelineFile, tier_of
from .rules import all_rules

if TYPE_CHECKING:
    from .review.changes import Review

FORMATS = ("text", "json", "github", "sarif")
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "note": "notice"}


def render(result: Result, style: str) -> str:
    return {
        "text": _text,
        "json": _json,
        "github": _github,
        "sarif": _sarif,
    }[style](result)


def _text(result: Result) -> str:
    lines = [
        f"{_path(f.file)}:{f.line}: {f.severity} {f.rule} {f.title}: "
        f"{printable(f.message)}\n"
        f"    why: {printable(f.why)}\n    fix: {printable(f.hint)}"
        for f in result.findings
    ]
    lines += [f"note: {printable(note)}" for note in result.notes]
    checked = len(result.checked)
    suppressed = (
        f" ({result.suppressed} suppressed)" if result.suppressed else ""
    )
    lines.append(
        f"{len(result.findings)} finding(s) in {checked} pipeline file(s)"
        f"{suppressed}"
        if result.findings
        else f"{checked} pipeline file(s) checked: no findings{suppressed}"
    )
    return no_workflow_commands("\n".join(lines))


def _path(relative: str) -> str:
    return shown_path(relative)


def _json(result: Result) -> str:
    return json.dumps([f.as_dict() for f in result.findings], indent=2)


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def _github(result: Result) -> str:
    return "\n".join(
        f"::{_GITHUB_LEVEL[f.severity]} "
        f"file={_escape_property(printable(f.file))},"
        f"line={f.line},title={_escape_property(f'{f.rule} {f.title}')}"
        f"::{_escape(printable(f.message))}. Fix: {_escape(f.hint)}"
        for f in result.findings
    )


def _sarif_rule(rule_id: str, findings: list[Finding]) -> dict[Any, Any]:
    rule = all_rules().get(rule_id)
    if rule is None:  # a zizmor audit we have no id for
        sample = findings[0]
        audit = rule_id.partition("/")[2]
        return {
            "id": rule_id,
            "name": audit,
            "shortDescription": {"text": audit},
            "fullDescription": {"text": sample.message},
            "help": {"text": "See the zizmor documentation."},
            "helpUri": f"https://docs.zizmor.sh/audits/#{audit}",
            "defaultConfiguration": {"level": sample.severity},
        }
    entry = {
        "id": rule.id,
        "name": rule.title,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"Why: {rule.why}."},
        "help": {
            "text": f"Why: {rule.why}. Fix: {rule.fix}.",
            "markdown": f"**Why**: {rule.why}.\n\n**Fix**: {rule.fix}.",
        },
        "defaultConfiguration": {"level": rule.severity},
        "properties": {"source": rule.source},
    }
    if rule.help_uri:
        entry["helpUri"] = rule.help_uri
    return entry


def _sarif(result: Result) -> str:
    rule_ids = sorted({f.rule for f in result.findings})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    rules = [
        _sarif_rule(r, [f for f in result.findings if f.rule == r])
        for r in rule_ids
    ]
    results = [
        {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": f.severity,
            "message": {"text": f"{f.message}. Fix: {f.hint}."},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": quote(
                                f.file.encode("utf-8", "surrogateescape")
                            )
                        },
                        "region": {"startLine": max(f.line, 1)},
                    }
                }
            ],
        }
        for f in result.findings
    ]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlops-scaffold",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2)


# ------------------------------------------------------------- review
# The markdown becomes a pull-request comment: every value from the
# pull request's files is escaped for where it goes (code span, text,
# Mermaid label), so it cannot close a fence, start a heading or a list,
# or add a link, an image or HTML.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>~|!#&])")
_AUTOLINK = re.compile(r"(?i)(https?|ftp|www|mailto)([:.])")
_LABEL = {"#": "#35;", '"': "#quot;", "`": "#96;", "<": "#lt;", ">": "#gt;",
          "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;", "|": "#124;",
          "&": "#38;", "(": "#40;", ")": "#41;"}  # fmt: skip


def one_line(value: Any, limit: int = 200) -> str:
    return bounded(printable(str(value)), limit)


def md_code(value: Any) -> str:
    """An inline code span that nothing in ``value`` can close: one line,
    fenced by more backticks than its longest run."""
    text = one_line(value)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    if not text.strip() or text.startswith("`") or text.endswith("`"):
        text = f" {text} "
    return f"{fence}{text}{fence}"


def md_plain(value: Any, limit: int = 500) -> str:
    """Plain markdown text: one line, specials backslash-escaped, no
    autolink."""
    text = _MARKDOWN.sub(r"\\\1", one_line(value, limit))
    return _AUTOLINK.sub(r"\1\\\2", text)


def mermaid_label(value: Any) -> str:
    """A Mermaid label's text: one line, quotes, backticks, brackets and
    angle brackets as Mermaid entities."""
    return "".join(_LABEL.get(c, c) for c in one_line(value, 100))


def md_names(values: Iterable[object]) -> str:
    """Names for people: `a`, `b` (never a Python list)."""
    names = sorted(str(v) for v in values)
    shown = ", ".join(md_code(v) for v in names[:20]) or "nothing"
    return shown + (f" and {len(names) - 20} more" if len(names) > 20 else "")


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
            lines.append(f'  subgraph s{number}["{mermaid_label(stage)}"]')
            indent = "    "
        for job in members:
            text = mermaid_label(job.name)
            if job.environment:
                text += f"<br/>env: {mermaid_label(job.environment)}"
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


MARKER = "<!-- mlops-scaffold:pipeline-review -->"


def _where(finding: dict[str, Any]) -> str:
    return f"{finding['file']}:{finding['line']}"


def review_markdown(review: Review) -> str:
    from .review.changes import SEVERITY_ORDER

    counts = review.counts()
    lines = [MARKER, "## Pipeline review", ""]
    lines.append(
        f"{md_code(review.base)} → {md_code(review.head)}: "
        f"{len(review.files)} pipeline "
        f"file(s) changed; risk: **{counts['high']} high**, "
        f"{counts['medium']} medium, {counts['low']} low."
    )
    if not review.files:
        lines += ["", "No workflow or pipeline changes."]
    for file in review.files:
        lines += [
            "",
            f"### {md_code(file.file)} ({md_plain(file.status)})",
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
            f"- {md_code(_where(f))} **{f['severity']}** "
            f"{md_plain(f['rule'])} {md_plain(f['title'])}: "
            f"{md_plain(f['message'])}"
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


def review_json(review: Review) -> str:
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
