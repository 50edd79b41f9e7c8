"""What makes a pipeline change risky: the triggers an outsider can cause,
write permissions, production, the comments and settings that silence
findings, and the `check` findings the change adds."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from ..model import PRODUCTION, tier_of
from ..settings import IGNORE_COMMENT, SETTINGS_FILES, settings_from
from .changes import FileReview

SHA = re.compile(r"^[0-9a-f]{40}$")
#: Triggers that run with secrets and a write token on an outsider's event.
DANGEROUS_TRIGGERS = {"pull_request_target", "workflow_run"}
WRITE_LEVELS = {"none": 0, "read": 1, "write": 2}
SECRET_REF = re.compile(r"\$\{\{\s*(secrets|vars)\.([A-Za-z0-9_]+)\s*\}\}")
AZURE_VAR_REF = re.compile(r"\$\(([A-Za-z0-9_.]+)\)")


def production(name: str | None) -> bool:
    return tier_of(name) == PRODUCTION


#: Every comment that silences a finding: ours and zizmor's (whose audits
#: `check` reports). A pull request adding one is a high-risk item.
_SILENCERS = {
    "mlops-scaffold": IGNORE_COMMENT,
    "zizmor": re.compile(r"#\s*zizmor:\s*ignore\[([^\]]*)\]"),
}
#: zizmor's configuration files: they can disable audits for a repository.
ZIZMOR_CONFIGS = ("zizmor.yml", "zizmor.yaml", ".github/zizmor.yml",
                  ".github/zizmor.yaml")  # fmt: skip


def suppressions(text: str) -> Counter[str]:
    """What a file silences: "tool: id" for each suppression comment,
    counted (a second comment for the same id is a new one)."""
    found: Counter[str] = Counter()
    for tool, pattern in _SILENCERS.items():
        for match in pattern.finditer(text or ""):
            for part in match[1].split(","):
                if part.strip():
                    found[f"{tool}: {part.strip()}"] += 1
    return found


def settings_change(
    base: dict[str, bytes], head: dict[str, bytes]
) -> FileReview | None:
    """A risk item when the change alters what `check` reports (ignore,
    exclude, per-file-ignores, severity): a pull request must not hide its
    own findings, so new findings use the base's settings."""
    before, after = settings_from(base), settings_from(head)
    if before == after:
        return None
    name = next(
        (n for n in SETTINGS_FILES if base.get(n) != head.get(n)),
        SETTINGS_FILES[0],
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


def _identity(finding: Any, lines: list[str]) -> tuple[str, str, str, str]:
    """What a finding is, whatever lines an edit above it shifts: rule,
    file, the job it belongs to (its key's text) and the message."""
    job = ""
    if finding.job_line and 0 < finding.job_line <= len(lines):
        job = lines[finding.job_line - 1].strip()
    return (finding.rule, finding.file, job, finding.message)


def new_findings(
    base_tree: Path,
    head_tree: Path,
    renames: dict[str, str],
    settings: dict[str, bytes],
) -> list[dict[str, Any]]:
    """`check` findings of the head tree that the base tree does not have,
    compared by identity (rule, file, job, message) and counted: a second
    injection in a file that already held one is new. Both trees are
    checked whole, with the base revision's settings, which the change
    cannot alter."""
    from ..check import check

    base_settings = settings_from(settings)

    def lines_of(tree: Path, name: str) -> list[str]:
        try:
            return (tree / name).read_text("utf-8", "replace").splitlines()
        except OSError:
            return []

    old = check(base_tree, settings=base_settings).findings
    new = check(head_tree, settings=base_settings).findings
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
