"""The monitoring tasks that the scheduled pipelines run.

    python scripts/monitoring.py run [--reference FILE] [--current FILE_OR_URI]
    python scripts/monitoring.py report --provider github|azure-boards
    python scripts/monitoring.py retrain --provider github|azure-pipelines

`run` compares the current batch ($MONITOR_CURRENT_URI unless given) with the
production model's reference sample and tells the pipeline whether there was
a breach (a step output on GitHub, an output variable on Azure Pipelines);
drift is a finding, not a failure, so it exits 0 either way. `report` opens
ONE issue or work item for breaches, or comments on the open one, so that a
daily schedule does not bury the team in duplicates. `retrain` starts the CD
pipeline, which retrains, gates and releases.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "reports" / "monitoring"
LABEL = "model-monitoring"
# As in .github/labels.yml (a test keeps them equal).
LABEL_COLOR = "b60205"
LABEL_DESCRIPTION = "Opened by the monitoring workflow on drift or degradation"
TITLE = "Model monitoring: drift or degradation found"


def set_output(name: str, value: str) -> None:
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"{name}={value}\n")
    if os.environ.get("TF_BUILD"):
        print(f"##vso[task.setvariable variable={name};isOutput=true]{value}")


def publish(markdown: Path) -> None:
    if os.environ.get("GITHUB_STEP_SUMMARY"):
        with open(
            os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8"
        ) as out:
            out.write(markdown.read_text(encoding="utf-8"))
    if os.environ.get("TF_BUILD"):
        print(f"##vso[task.uploadsummary]{markdown.resolve()}")


def run(reference: Path, current: str | None) -> int:
    if current and current.startswith("$("):
        current = None  # an Azure Pipelines macro for an undefined variable
    if not current:
        print("monitoring: no current batch (set MONITOR_CURRENT_URI); skipped")
        set_output("breach", "false")
        return 0
    if not reference.is_file():
        print(f"monitoring: no reference at {reference}; run `make baseline`")
        set_output("breach", "false")
        return 0
    package = next(ROOT.glob("src/*/monitor.py")).parent.name
    command = [sys.executable, "-m", f"{package}.monitor",
               "--reference", str(reference), "--current", current,
               "--out", str(REPORT)]  # fmt: skip
    code = subprocess.run(command, cwd=ROOT).returncode
    if code not in (0, 3):
        return code
    set_output("breach", "true" if code == 3 else "false")
    publish(REPORT / "report.md")
    return 0


def tool(*args: str) -> str:
    result = subprocess.run(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])}: {result.stderr.strip()}")
    return result.stdout


def report_github(body: Path) -> str:
    listed = tool("gh", "issue", "list", "--state", "open", "--label", LABEL,
                  "--json", "number,title", "--limit", "50")  # fmt: skip
    open_issues = json.loads(listed or "[]")
    if open_issues:
        number = str(min(issue["number"] for issue in open_issues))
        tool("gh", "issue", "comment", number, "--body-file", str(body))
        return f"commented on issue #{number}"
    # `gh issue create --label` fails when the label does not exist, and
    # nothing guarantees scripts/setup_github_planning.py has run; --force
    # makes this a no-op (an update) when the label is there.
    tool("gh", "label", "create", LABEL, "--force", "--color", LABEL_COLOR,
         "--description", LABEL_DESCRIPTION)  # fmt: skip
    tool("gh", "issue", "create", "--title", TITLE, "--label", LABEL,
         "--body-file", str(body))  # fmt: skip
    return "opened an issue"


def report_azure_boards(body: Path) -> str:
    query = (
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = "
        f"@project AND [System.Tags] CONTAINS '{LABEL}' AND "
        "[System.State] NOT IN ('Closed', 'Done', 'Removed')"
    )
    found = json.loads(tool("az", "boards", "query", "--wiql", query,
                            "--output", "json") or "[]")  # fmt: skip
    text = body.read_text(encoding="utf-8")
    if found:
        item = str(min(int(row["id"]) for row in found))
        tool("az", "boards", "work-item", "update", "--id", item,
             "--discussion", text)  # fmt: skip
        return f"commented on work item {item}"
    tool("az", "boards", "work-item", "create", "--type", "Issue",
         "--title", TITLE, "--description", text,
         "--fields", f"System.Tags={LABEL}")  # fmt: skip
    return "opened a work item"


def retrain(provider: str) -> str:
    if provider == "github":
        branch = os.environ.get("DEFAULT_BRANCH", "main")
        tool("gh", "workflow", "run", "cd.yml", "--ref", branch)
        return "started the CD workflow"
    pipeline = os.environ.get("CD_PIPELINE_NAME", "")
    tool("az", "pipelines", "run", "--name", pipeline)
    return f"started the {pipeline} pipeline"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("run")
    check.add_argument(
        "--reference",
        type=Path,
        default=ROOT / "models" / "production" / "reference.csv",
    )
    check.add_argument(
        "--current", default=os.environ.get("MONITOR_CURRENT_URI")
    )
    report = commands.add_parser("report")
    report.add_argument("--provider", choices=["github", "azure-boards"])
    report.add_argument("--body", type=Path, default=REPORT / "report.md")
    again = commands.add_parser("retrain")
    again.add_argument("--provider", choices=["github", "azure-pipelines"])
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run(args.reference, args.current)
        if args.command == "report":
            handler = {
                "github": report_github,
                "azure-boards": report_azure_boards,
            }
            print(handler[args.provider](args.body))
        else:
            print(retrain(args.provider))
    except (RuntimeError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
