"""A stand-in for `az boards` with the calls scripts/setup_azure_boards.py
makes, keeping its state in $FAKE_AZ_STATE (JSON)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

STATE = Path(os.environ["FAKE_AZ_STATE"])


def option(args: list[str], name: str):
    return args[args.index(name) + 1] if name in args else None


def main(args: list[str]) -> int:
    state = (
        json.loads(STATE.read_text())
        if STATE.exists()
        else {"iterations": [], "work_items": []}
    )
    out = ""
    if args[:4] == ["boards", "iteration", "project", "list"]:
        out = json.dumps(
            {"children": [{"name": n} for n in state["iterations"]]}
        )
    elif args[:4] == ["boards", "iteration", "project", "create"]:
        state["iterations"].append(option(args, "--name"))
    elif args[:2] == ["boards", "query"]:
        wiql = option(args, "--wiql")
        title = re.search(r"\[System\.Title\] = '((?:[^']|'')*)'", wiql)
        tag = re.search(r"\[System\.Tags\] CONTAINS '([^']*)'", wiql)
        items = list(enumerate(state["work_items"], start=1))
        if title:
            wanted = title[1].replace("''", "'")
            items = [(i, w) for i, w in items if w["title"] == wanted]
        if tag:
            items = [(i, w) for i, w in items if tag[1] in (w["fields"] or "")]
        out = json.dumps([{"id": i} for i, _ in items])
    elif args[:3] == ["boards", "work-item", "update"]:
        item = state["work_items"][int(option(args, "--id")) - 1]
        item.setdefault("discussion", []).append(option(args, "--discussion"))
    elif args[:3] == ["boards", "work-item", "create"]:
        state["work_items"].append(
            {
                "type": option(args, "--type"),
                "title": option(args, "--title"),
                "iteration": option(args, "--iteration"),
                "fields": option(args, "--fields"),
                "description": option(args, "--description"),
            }
        )
    else:
        print(f"fake az: unsupported: {args}", file=sys.stderr)
        return 2
    STATE.write_text(json.dumps(state, indent=1))
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
