"""zizmor, the GitHub Actions security auditor, run once per repository.

zizmor has the GitHub security rules (permissions, pinning, persisted
credentials, dangerous triggers, template injection, and more) with far
better data-flow than a hand-written copy, so ``check`` runs it (offline:
no network, no token) on the GitHub files it discovered and merges its
findings: mapped to our ids where we have one (rules/zizmor_audits.py),
with their lines and jobs, then suppressed like ours.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .rules.zizmor_audits import MAPPED

_SEVERITY = {
    "High": "error",
    "Medium": "warning",
    "Low": "note",
    "Informational": "note",
    "Unknown": "note",
}
_CHUNK = 1000


@dataclass(frozen=True)
class AuditorFinding:
    rule: str
    file: str
    line: int
    message: str
    severity: str  # zizmor's, in our words
    job: tuple[Any, ...] | None


class AuditorUnavailable(Exception):
    """zizmor is not installed or failed; the message says which."""


def executable() -> str | None:
    """zizmor beside this Python (a venv that was not activated) or on
    PATH; ``MLOPS_SCAFFOLD_ZIZMOR`` overrides (an empty value: none)."""
    override = os.environ.get("MLOPS_SCAFFOLD_ZIZMOR")
    if override is not None:
        return override or None
    beside = Path(sys.executable).parent / "zizmor"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("zizmor")


def audit(root: Path, files: list[str]) -> list[AuditorFinding]:
    """zizmor's findings for ``files`` (paths relative to ``root``)."""
    if not files:
        return []
    program = executable()
    if program is None:
        raise AuditorUnavailable("zizmor is not installed")
    found: list[AuditorFinding] = []
    for start in range(0, len(files), _CHUNK):
        chunk = files[start : start + _CHUNK]
        try:
            found += _run(program, root, chunk)
        except AuditorUnavailable as error:
            if len(chunk) == 1 or "could not run" in str(error):
                raise
            # One file zizmor cannot read must not hide the others.
            for name in chunk:
                try:
                    found += _run(program, root, [name])
                except AuditorUnavailable as single:
                    found.append(
                        AuditorFinding(
                            "MS001", name, 1, str(single), "error", None
                        )
                    )
    return found


def _run(program: str, root: Path, files: list[str]) -> list[AuditorFinding]:
    try:
        result = subprocess.run(
            [
                program, "--offline", "--no-exit-codes", "--no-progress",
                "--format", "json", "--quiet", "--", *files,
            ],
            cwd=root, capture_output=True, timeout=300, check=False,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as error:
        raise AuditorUnavailable(f"zizmor could not run: {error}") from None
    try:
        report = json.loads(result.stdout or b"[]")
    except ValueError:
        report = None
    detail = result.stderr.decode("utf-8", "replace").strip()
    if result.returncode != 0 and "no inputs collected" in detail:
        return []  # zizmor found none of the files auditable: nothing to say
    if result.returncode != 0 or not isinstance(report, list):
        first = next(
            (line for line in detail.splitlines() if "error" in line.lower()),
            detail.splitlines()[0] if detail else "no output",
        )
        raise AuditorUnavailable(
            f"zizmor failed (exit {result.returncode}): {first.strip()[:200]}"
        )
    return [f for item in report if (f := _finding(item, root))]


def _finding(item: dict[Any, Any], root: Path) -> AuditorFinding | None:
    try:
        ident = item["ident"]
        location = next(
            (
                loc
                for loc in item["locations"]
                if loc["symbolic"].get("kind") == "Primary"
            ),
            item["locations"][0],
        )
        key = location["symbolic"]["key"]["Local"]["verbatim_path"]
        line = location["concrete"]["location"]["start_point"]["row"] + 1
    except (KeyError, IndexError, TypeError):
        return None
    relative = Path(key)
    if relative.is_absolute():
        try:
            relative = relative.relative_to(root)
        except ValueError:
            return None
    route = [
        step.get("Key", step.get("Index"))
        for step in location["symbolic"].get("route", {}).get("route", [])
        if isinstance(step, dict)
    ]
    job = tuple(route[:2]) if route[:1] == ["jobs"] and len(route) > 1 else None
    annotation = location["symbolic"].get("annotation") or ""
    message = item.get("desc", ident)
    if annotation:
        message += f": {annotation}"
    severity = _SEVERITY.get(
        item.get("determinations", {}).get("severity"), "note"
    )
    return AuditorFinding(
        rule=MAPPED.get(ident, f"zizmor/{ident}"),
        file=relative.as_posix(),
        line=line,
        message=message,
        severity=severity,
        job=job,
    )
