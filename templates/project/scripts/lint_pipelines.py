"""Validate the repository's own workflows, pipelines and YAML.

    make install && python scripts/lint_pipelines.py

Runs the same independent validators that the template's own tests run, so
a later hand edit is checked as strictly as the generated files were:
yamllint, check-jsonschema (GitHub workflows, issue forms, dependabot and
Azure Pipelines schemas), actionlint (with shellcheck and pyflakes) and
zizmor. Exits 1 when any of them reports a finding.

Files listed in .pipeline-lint-legacy (one path a line; `mlops-scaffold
adopt` writes it for the workflows and pipelines a project had before) are
checked by the same validators, but their findings are warnings: a team's
existing jobs do not block every commit until someone fixes them. Delete a
line once its file is clean.

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


LEGACY = ROOT / ".pipeline-lint-legacy"


def legacy() -> set[str]:
    """The files whose findings are warnings (see the module docstring)."""
    if not LEGACY.is_file():
        return set()
    lines = LEGACY.read_text(encoding="utf-8").splitlines()
    return {
        line.strip()
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    }


def files(pattern: str, only: set[str] | None = None) -> list[str]:
    """Files matching ``pattern``: the legacy ones when ``only`` is given,
    else every one that is not legacy."""
    skip = legacy()
    found = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(pattern))
    if only is not None:
        return [f for f in found if f in only]
    return [f for f in found if f not in skip]


def yaml_files(only: set[str] | None = None) -> list[str]:
    """The YAML files yamllint reads: "." (its own ignore list) when no file
    is legacy, else git's list of the repository's files."""
    skip = legacy()
    if not skip and only is None:
        return ["."]
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others",
         "--exclude-standard", "--", "*.yml", "*.yaml"],
        cwd=ROOT, capture_output=True, check=False,
    )  # fmt: skip
    names = [n for n in listed.stdout.decode().split("\0") if n]
    if only is not None:
        return [n for n in names if n in only]
    return [n for n in names if n not in skip] or ["."]


def checks(only: set[str] | None = None) -> list[tuple[str, list[str]]]:
    """The validators to run: on every file but the legacy ones, or on
    ``only`` those."""
    workflows = files(".github/workflows/*.y*ml", only)
    issue_forms = [
        f
        for f in files(".github/ISSUE_TEMPLATE/*.yml", only)
        if not f.endswith("config.yml")
    ]
    issue_config = files(".github/ISSUE_TEMPLATE/config.yml", only)
    dependabot = files(".github/dependabot.yml", only)
    azure = (
        sorted(
            {*files("azure-pipelines/**/*.yml", only), *(only or ())}
            - {*workflows, *issue_forms, *issue_config, *dependabot}
        )
        if only is not None
        else files("azure-pipelines/**/*.yml")
    )
    schema = [sys.executable, "-m", "check_jsonschema"]
    yaml = yaml_files(only)
    planned = (
        [("yamllint", [sys.executable, "-m", "yamllint", "--strict", *yaml])]
        if yaml
        else []
    )
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
                    *workflows,
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


def run(planned: list[tuple[str, list[str]]], env: dict) -> list[str]:
    """Run each validator; the names of those that failed."""
    failed = []
    for name, command in planned:
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
    return failed


def main() -> int:
    env = {**os.environ, "PATH": tool_path()}
    failed = run(checks(), env)
    old = legacy()
    if old:
        print(f"--- legacy files (warnings only): {', '.join(sorted(old))}")
        warned = run(checks(only=old), env)
        if warned:
            print(
                "warning: the legacy files have findings ("
                + ", ".join(warned)
                + "); they do not fail this task: fix them and remove their "
                "lines from .pipeline-lint-legacy",
                file=sys.stderr,
            )
    if failed:
        print(f"pipeline lint failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("pipeline lint: all validators passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
