"""One-time set-up, safe to re-run: labels, the first sprint's milestone and
its backlog issues on GitHub.

    python scripts/setup_github_planning.py OWNER/REPO

Reads .github/labels.yml and planning/backlog.yml, and creates only what is
missing (labels are updated in place). Needs `gh` logged in with write access
to issues, and PyYAML (a dependency of this project).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def gh(*args: str) -> str:
    result = subprocess.run(["gh", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"gh {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def ensure_labels(repo: str, labels: list[dict]) -> None:
    for label in labels:
        gh("label", "create", label["name"], "--repo", repo, "--force",
           "--color", str(label["color"]),
           "--description", label.get("description", ""))  # fmt: skip
        print(f"label {label['name']}")


def ensure_milestone(repo: str, name: str, weeks: int, today: dt.date) -> str:
    milestones = json.loads(
        gh("api", f"repos/{repo}/milestones?state=all&per_page=100") or "[]"
    )
    if any(m["title"] == name for m in milestones):
        print(f"milestone {name} exists")
        return name
    due = today + dt.timedelta(weeks=weeks)
    gh("api", "--method", "POST", f"repos/{repo}/milestones",
       "-f", f"title={name}", "-f", f"due_on={due.isoformat()}T23:59:59Z",
       "-f", f"description=Sprint of {weeks} weeks from {today}")  # fmt: skip
    print(f"milestone {name} created, due {due}")
    return name


def ensure_issues(repo: str, items: list[dict], milestone: str) -> int:
    listed = gh("issue", "list", "--repo", repo, "--state", "all",
                "--limit", "1000", "--json", "title")  # fmt: skip
    existing = {issue["title"] for issue in json.loads(listed or "[]")}
    created = 0
    for item in items:
        if item["title"] in existing:
            print(f"issue exists: {item['title']}")
            continue
        args = ["issue", "create", "--repo", repo, "--title", item["title"],
                "--body", item["description"],
                "--milestone", milestone]  # fmt: skip
        for label in item.get("labels", []):
            args += ["--label", label]
        gh(*args)
        created += 1
        print(f"issue created: {item['title']}")
    return created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", help="OWNER/REPO")
    args = parser.parse_args(argv)
    labels = yaml.safe_load((ROOT / ".github/labels.yml").read_text("utf-8"))
    backlog = yaml.safe_load((ROOT / "planning/backlog.yml").read_text("utf-8"))
    try:
        ensure_labels(args.repo, labels)
        sprint = backlog["sprint"]
        milestone = ensure_milestone(
            args.repo, sprint["name"], int(sprint["weeks"]), dt.date.today()
        )
        ensure_issues(args.repo, backlog["items"], milestone)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
