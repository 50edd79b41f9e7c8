"""What a review finds: a change per item, grouped by file."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


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
    new_findings: list[dict[str, object]] = field(default_factory=list)

    @property
    def changes(self) -> list[Change]:
        return [c for f in self.files for c in f.changes]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITY_ORDER, 0)
        for change in self.changes:
            counts[change.severity] += 1
        return counts
