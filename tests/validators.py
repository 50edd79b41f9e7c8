"""The independent validators, run on a generated project.

Each function returns a list of findings (empty means clean). They call the
validators' own command-line tools, as a user would, and parse their
machine-readable output where the exit code alone is not trustworthy
(checkov exits 0 on files it could not parse; zizmor skips files that fail
its own schema check, so the schema check runs first).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"the validator `{name}` is not installed")
    return found


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, env=env, timeout=600
    )


def files(project: Path, *patterns: str, under: str = "") -> list[str]:
    """``project``'s files matching the patterns; ``under``: a prefix for
    each pattern (``*/`` for a folder of projects)."""
    found: set[str] = set()
    for pattern in (under + p for p in patterns):
        found.update(
            str(p.relative_to(project))
            for p in project.glob(pattern)
            if p.is_file()
        )
    return sorted(found)


def github_workflows(project: Path) -> list[str]:
    return files(project, ".github/workflows/*.yml")


def azure_pipelines(project: Path) -> list[str]:
    return files(project, "azure-pipelines/**/*.yml")


def _failure(name: str, result: subprocess.CompletedProcess[str]) -> list[str]:
    if result.returncode == 0:
        return []
    return [f"{name}: {result.stdout.strip()} {result.stderr.strip()}".strip()]


def yamllint(project: Path) -> list[str]:
    result = run(
        [tool("yamllint"), "--strict", "--format", "parsable", "."], project
    )
    return _failure("yamllint", result)


SCHEMAS = {
    "vendor.github-workflows": (".github/workflows/*.yml",),
    "vendor.github-actions": (".github/actions/*/action.yml",),
    "vendor.github-issue-forms": (".github/ISSUE_TEMPLATE/[!c]*.yml",),
    "vendor.github-issue-config": (".github/ISSUE_TEMPLATE/config.yml",),
    "vendor.dependabot": (".github/dependabot.yml",),
}


def schemas(project: Path, *, under: str = "") -> list[str]:
    """check-jsonschema, one run per schema (``under="*/"``: over a folder
    of projects at once)."""
    findings: list[str] = []
    for schema, patterns in SCHEMAS.items():
        targets = files(project, *patterns, under=under)
        if targets:
            result = run(
                [
                    tool("check-jsonschema"),
                    "--builtin-schema",
                    schema,
                    *targets,
                ],
                project,
            )
            findings += _failure(schema, result)
    targets = files(project, "azure-pipelines/**/*.yml", under=under)
    if targets:
        result = run(
            [
                tool("check-jsonschema"),
                "--builtin-schema",
                "vendor.azure-pipelines",
                "--regex-variant",
                "nonunicode",
                "--data-transform",
                "azure-pipelines",
                *targets,
            ],
            project,
        )
        findings += _failure("vendor.azure-pipelines", result)
    return findings


def actionlint(project: Path) -> list[str]:
    targets = github_workflows(project)
    if not targets:
        return []
    env_path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    result = subprocess.run(
        [tool("actionlint"), "-no-color", *targets],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": env_path},
    )
    return _failure("actionlint", result)


def _zizmor_where(finding: dict) -> str:
    location = finding["locations"][0]
    path = location["symbolic"]["key"]["Local"]["verbatim_path"]
    row = location["concrete"]["location"]["start_point"]["row"] + 1
    return f"{path}:{row}"


def zizmor(project: Path) -> list[str]:
    if not (project / ".github").is_dir():
        return []
    result = run(
        [
            tool("zizmor"),
            "--offline",
            "--format",
            "json",
            "--persona",
            "pedantic",
            ".github",
        ],
        project,
    )
    try:
        findings = json.loads(result.stdout or "[]")
    except ValueError:
        return [f"zizmor: unreadable output {result.stdout} {result.stderr}"]
    listed = [
        f"zizmor {f['ident']}: {f['desc']} ({_zizmor_where(f)})"
        for f in findings
    ]
    if result.returncode not in (0, 10, 11, 12, 13, 14) and not listed:
        listed.append(f"zizmor failed: {result.stderr}")
    return listed


def checkov(project: Path, frameworks: list[str]) -> list[str]:
    result = run(
        [
            tool("checkov"),
            "--directory",
            ".",
            "--framework",
            *frameworks,
            "--skip-download",
            "--output",
            "json",
            "--quiet",
            "--compact",
        ],
        project,
    )
    try:
        reports = json.loads(result.stdout or "[]")
    except ValueError:
        return [f"checkov: unreadable output {result.stdout[-2000:]}"]
    if isinstance(reports, dict):
        reports = [reports]
    findings: list[str] = []
    for report in reports:
        summary = report.get("summary", {})
        for failed in report.get("results", {}).get("failed_checks", []):
            findings.append(
                f"checkov {failed['check_id']} {failed['check_name']} "
                f"({failed['file_path']}:{failed['file_line_range']})"
            )
        if summary.get("parsing_errors"):
            findings.append(
                f"checkov parse errors in {report.get('check_type')}: "
                f"{summary['parsing_errors']}"
            )
    return findings


def shellcheck(project: Path) -> list[str]:
    targets = files(project, "**/*.sh") + files(project, "*/**/*.sh")
    targets = sorted(set(targets))
    if not targets:
        return []
    return _failure("shellcheck", run([tool("shellcheck"), *targets], project))


def distinct(root: Path, target: Path) -> Path:
    """The projects under ``root`` copied to ``target`` without repeats: a
    folder (its own files, names and bytes) already copied from another
    project is left out. Identical input gives a validator identical
    findings, so each is validated once; a folder is kept whole, since
    Terraform and Bicep read a module folder together."""
    seen: set[str] = set()
    for folder in sorted(p for p in root.rglob("*") if p.is_dir()):
        own = sorted(p for p in folder.iterdir() if p.is_file())
        if not own:
            continue
        digest = hashlib.sha256()
        for path in own:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        if digest.hexdigest() in seen:
            continue
        seen.add(digest.hexdigest())
        copy = target / folder.relative_to(root)
        copy.mkdir(parents=True, exist_ok=True)
        for path in own:
            shutil.copy2(path, copy / path.name)
    return target


def all_findings(project: Path) -> list[str]:
    frameworks = ["github_actions", "azure_pipelines", "terraform", "bicep"]
    return (
        yamllint(project)
        + schemas(project)
        + actionlint(project)
        + zizmor(project)
        + checkov(project, frameworks)
        + shellcheck(project)
    )
