"""What `check` reports: a finding, the result of a run, and how untrusted
text is bounded and made printable before anyone sees it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .rules import SEVERITIES, RuleMeta, all_rules
from .settings import Settings


@dataclass(frozen=True)
class Finding:
    rule: str
    file: str
    line: int
    message: str
    severity: str = "error"
    job_line: int | None = None

    def __post_init__(self) -> None:
        # A message quotes the file (keys, names); a file of 100,000 keys
        # must not make a megabyte line.
        object.__setattr__(self, "message", bounded(self.message))

    @property
    def _rule(self) -> RuleMeta | None:
        return all_rules().get(self.rule)

    @property
    def title(self) -> str:
        rule = self._rule
        return rule.title if rule else self.rule.partition("/")[2]

    @property
    def hint(self) -> str:
        rule = self._rule
        return rule.fix if rule else "see the zizmor documentation"

    @property
    def why(self) -> str:
        rule = self._rule
        return rule.why if rule else self.message

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("job_line")
        return {**data, "title": self.title, "hint": self.hint}


MAX_MESSAGE = 500


def bounded(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def printable(text: str) -> str:
    """``text`` with every non-printable character written as Python
    writes it in a string (``\\n``, ``\\x1b``, ``\\u2028``): one line, no
    terminal escape sequence."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def no_workflow_commands(text: str) -> str:
    """``text`` with no line a CI runner reads as a command: a line that
    starts with ``::`` once the runner trims its white space (GitHub), and
    ``##vso[`` or ``##[`` anywhere (Azure Pipelines), get a backslash."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith("::"):
            cut = len(line) - len(stripped)
            line = line[:cut] + "\\" + stripped
        lines[index] = line.replace("##vso[", "##vso\\[").replace(
            "##[", "##\\["
        )
    return "\n".join(lines)


def shown_path(relative: str) -> str:
    """A path on one line that starts like a path: printable, and ``./``
    before one that starts with white space or ``:``."""
    text = printable(relative)
    return f"./{text}" if text[:1] in (":", "") or text[:1].isspace() else text


@dataclass
class Result:
    findings: list[Finding]
    checked: list[str]
    suppressed: int = 0
    settings: Settings = field(default_factory=Settings)
    notes: list[str] = field(default_factory=list)  # rules that could not run

    def failing(self, threshold: str) -> list[Finding]:
        """Findings at or above ``threshold`` (error > warning > note)."""
        limit = SEVERITIES.index(threshold)
        return [
            f for f in self.findings if SEVERITIES.index(f.severity) <= limit
        ]
