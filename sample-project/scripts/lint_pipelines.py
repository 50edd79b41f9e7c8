"""Validate the repository's own workflows, pipelines and YAML.

    make install && python scripts/lint_pipelines.py

Runs the same independent validators that the template's own tests run, so
a later hand edit is checked as strictly as the generated files were:
yamllint, check-jsonschema (GitHub workflows, issue forms, dependabot and
Azure Pipelines schemas), actionlint (with shellcheck and pyflakes) and
zizmor. Exits 1 when any of them reports a finding.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tool(name: str) -> str:
    """The tool installed beside this interpreter (.venv/bin, which is not
    on PATH unless activated), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else name


def files(pattern: str) -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))


def checks() -> list[tuple[str, list[str]]]:
    workflows = files(".github/workflows/*.yml")
    issue_forms = [
        f
        for f in files(".github/ISSUE_TEMPLATE/*.yml")
        if not f.endswith("config.yml")
    ]
    issue_config = files(".github/ISSUE_TEMPLATE/config.yml")
    dependabot = files(".github/dependabot.yml")
    azure = files("azure-pipelines/**/*.yml")
    schema = [sys.executable, "-m", "check_jsonschema"]
    planned = [
        ("yamllint", [sys.executable, "-m", "yamllint", "--strict", "."])
    ]
    if workflows:
        planned += [
            (
                "workflow schema",
                [
                    *schema,
                    "--builtin-schema",
                    "vendor.github-workflows",
                    *workflows,
                ],
            ),
            ("actionlint", [tool("actionlint"), *workflows]),
            (
                "zizmor",
                [
                    tool("zizmor"),
                    "--offline",
                    "--min-severity",
                    "low",
                    ".github/workflows",
                ],
            ),
        ]
    if issue_forms:
        planned.append(
            (
                "issue forms",
                [
                    *schema,
                    "--builtin-schema",
                    "vendor.github-issue-forms",
                    *issue_forms,
                ],
            )
        )
    if issue_config:
        planned.append(
            (
                "issue config",
                [
                    *schema,
                    "--builtin-schema",
                    "vendor.github-issue-config",
                    *issue_config,
                ],
            )
        )
    if dependabot:
        planned.append(
            (
                "dependabot",
                [*schema, "--builtin-schema", "vendor.dependabot", *dependabot],
            )
        )
    if azure:
        planned.append(
            (
                "azure pipelines schema",
                [
                    *schema,
                    "--builtin-schema",
                    "vendor.azure-pipelines",
                    "--regex-variant",
                    "nonunicode",
                    "--data-transform",
                    "azure-pipelines",
                    *azure,
                ],
            )
        )
    return planned


def main() -> int:
    failed = []
    for name, command in checks():
        if command[0] != sys.executable and shutil.which(command[0]) is None:
            print(
                f"{name}: `{command[0]}` is not installed; run `make install`",
                file=sys.stderr,
            )
            failed.append(name)
            continue
        print(f"--- {name}", flush=True)
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            failed.append(name)
    if failed:
        print(f"pipeline lint failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("pipeline lint: all validators passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
