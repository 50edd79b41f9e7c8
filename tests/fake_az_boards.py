"""A strict stand-in for `az boards` / `az pipelines run` with the calls
scripts/setup_azure_boards.py and scripts/monitoring.py make, keeping the
service's state in $FAKE_AZ_STATE (JSON). The options each command accepts
and requires are the azure-devops extension's (tests/cli_rules.py); like
the real one it needs an organisation, from --org or from
`az devops configure --defaults` run in THIS job (~/.azure)."""

from __future__ import annotations

import configparser
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.environ.get("FAKE_RULES", str(Path(__file__).parent)))
from cli_rules import (  # noqa: E402
    AZ_DEVOPS,
    AZ_GLOBAL,
    DEVOPS_COMMON,
    DEVOPS_FLAGS,
    DEVOPS_MULTI,
)  # fmt: skip

STATE = Path(os.environ["FAKE_AZ_STATE"])
CONFIG = (
    Path(os.environ.get("AZURE_CONFIG_DIR") or Path.home() / ".azure")
    / "azuredevops"
    / "config"
)


def refuse(message: str) -> int:
    print(f"ERROR: {message}", file=sys.stderr)
    return 2


def configure(args: list[str]) -> int:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    if not parser.has_section("defaults"):
        parser.add_section("defaults")
    for item in args[args.index("--defaults") + 1 :]:
        key, _, value = item.partition("=")
        parser["defaults"][key] = value
    CONFIG.parent.mkdir(parents=True, exist_ok=True)
    with open(CONFIG, "w") as out:
        parser.write(out)
    return 0


def strict(args: list[str]) -> str | None:
    """Why the real CLI would refuse these arguments (None: it accepts)."""
    command = next((c for c in AZ_DEVOPS if tuple(args[: len(c)]) == c), None)
    if command is None:
        return f"'{' '.join(args[:3])}' is not in the azure-devops extension"
    accepted, required = AZ_DEVOPS[command]
    seen = set()
    rest = args[len(command) :]
    i = 0
    while i < len(rest):
        token = rest[i]
        if token not in accepted | DEVOPS_COMMON | AZ_GLOBAL:
            return f"unrecognized arguments: {token}"
        seen.add(token)
        if token in DEVOPS_FLAGS:
            i += 1
        elif token in DEVOPS_MULTI:
            i += 1
            while i < len(rest) and not rest[i].startswith("--"):
                i += 1
        else:
            i += 2
    missing = sorted(required - seen)
    if missing:
        return "the following arguments are required: " + ", ".join(missing)
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    if not ({"--org", "--organization"} & seen) and not parser.has_option(
        "defaults", "organization"
    ):
        return (
            "--organization must be specified. The value can be set "
            "with az devops configure --defaults organization=ORG_URL"
        )
    return None


def option(args: list[str], name: str):
    return args[args.index(name) + 1] if name in args else None


def main(args: list[str]) -> int:
    state = (
        json.loads(STATE.read_text())
        if STATE.exists()
        else {"iterations": [], "work_items": []}
    )
    out = ""
    if args[:2] == ["devops", "configure"]:
        return configure(args)
    problem = strict(args)
    if problem:
        return refuse(problem)
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
    elif args[:2] == ["pipelines", "run"]:
        state.setdefault("runs", []).append(option(args, "--name"))
    else:
        print(f"fake az: unsupported: {args}", file=sys.stderr)
        return 2
    STATE.write_text(json.dumps(state, indent=1))
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
