"""A stand-in for the `gh` CLI with the calls the generated scripts make,
keeping its state in $FAKE_GH_STATE (JSON)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_GH_STATE"])


def option(args: list[str], name: str, default=None):
    return args[args.index(name) + 1] if name in args else default


def options(args: list[str], name: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a == name]


def main(args: list[str]) -> int:
    state = (
        json.loads(STATE.read_text())
        if STATE.exists()
        else {"labels": {}, "milestones": [], "issues": [], "calls": []}
    )
    state["calls"].append(args)
    out = ""
    if args[:2] == ["label", "create"]:
        state["labels"][args[2]] = option(args, "--color")
    elif args[0] == "api" and "milestones" in args[-1] and "POST" not in args:
        out = json.dumps(state["milestones"])
    elif args[0] == "api" and "POST" in args:
        fields = dict(f.split("=", 1) for f in options(args, "-f"))
        state["milestones"].append(fields)
    elif args[:2] == ["issue", "list"]:
        issues = state["issues"]
        if option(args, "--state", "open") == "open":
            issues = [i for i in issues if i["state"] == "open"]
        for label in options(args, "--label"):
            issues = [i for i in issues if label in i["labels"]]
        out = json.dumps(
            [{"number": i["number"], "title": i["title"]} for i in issues]
        )
    elif args[:2] == ["issue", "create"]:
        body = option(args, "--body")
        if body is None and "--body-file" in args:
            body = Path(option(args, "--body-file")).read_text()
        number = len(state["issues"]) + 1
        state["issues"].append(
            {
                "number": number,
                "title": option(args, "--title"),
                "body": body,
                "labels": options(args, "--label"),
                "milestone": option(args, "--milestone"),
                "state": "open",
                "comments": [],
            }
        )
        out = f"https://github.com/o/r/issues/{number}"
    elif args[:2] == ["issue", "comment"]:
        issue = state["issues"][int(args[2]) - 1]
        body = option(args, "--body")
        if body is None and "--body-file" in args:
            body = Path(option(args, "--body-file")).read_text()
        issue["comments"].append(body)
    elif args[:2] == ["workflow", "run"]:
        state.setdefault("dispatched", []).append(args[2])
    else:
        print(f"fake gh: unsupported: {args}", file=sys.stderr)
        return 2
    STATE.write_text(json.dumps(state, indent=1))
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
