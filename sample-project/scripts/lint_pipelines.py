"""Validate the repository's own workflows, pipelines and YAML.

    make install && python scripts/lint_pipelines.py

Runs the same independent validators that the template's own tests run, so
a later hand edit is checked as strictly as the generated files were:
yamllint, check-jsonschema (GitHub workflows, issue forms, dependabot and
Azure Pipelines schemas), actionlint (with shellcheck and pyflakes) and
zizmor. Exits 1 when any of them reports a finding.

The tools come from the environment this interpreter runs in (.venv/bin,
where `make install` puts them) before PATH, so the task works from a shell
that has not activated the venv; actionlint finds shellcheck there too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tool_path() -> str:
    """PATH with this interpreter's scripts folder (the venv's bin) first."""
    scripts = str(Path(sys.executable).parent)
    return os.pathsep.join([scripts, os.environ.get("PATH", os.defpath)])


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
            ("actionlint", ["actionlint", *workflows]),
            (
                "zizmor",
                [
                    "zizmor",
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
    env = {**os.environ, "PATH": tool_path()}
    for name, command in checks():
        found = shutil.which(command[0], path=env["PATH"])
        if command[0] != sys.executable and found is None:
            print(
                f"{name}: `{command[0]}` is not installed; run `make install`",
                file=sys.stderr,
            )
            failed.append(name)
            continue
        print(f"--- {name}", flush=True)
        if subprocess.run(command, cwd=ROOT, env=env).returncode != 0:
            failed.append(name)
    if failed:
        print(f"pipeline lint failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("pipeline lint: all validators passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
