"""`check` findings as text (people), JSON (scripts), GitHub workflow
commands (annotations) and SARIF 2.1.0 (code scanning, editors)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from .. import __version__
from .findings import (
    Finding,
    Result,
    no_workflow_commands,
    printable,
    shown_path,
)
from .rules import all_rules

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
