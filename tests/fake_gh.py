"""A strict stand-in for the `gh` CLI with the calls the generated scripts
make, keeping its state (the repository on GitHub) in $FAKE_GH_STATE. Its
flags per command come from cli/cli's command definitions (tests/
cli_rules.py). Like the real one it refuses an unknown flag (cobra:
"unknown flag"), `issue create` without a title, a variable for an
environment that does not exist, a deployment-branch policy on an
environment that does not use custom policies, and repository
administration by a token without admin rights ($FAKE_GH_PERMISSION,
"admin" unless a test says otherwise)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, os.environ.get("FAKE_RULES", str(Path(__file__).parent)))
from cli_rules import GH, GH_FLAGS  # noqa: E402

STATE = Path(os.environ["FAKE_GH_STATE"])
ALIASES = {"-X": "--method", "-f": "--raw-field", "-F": "--field",
           "-q": "--jq", "-b": "--body", "-t": "--title", "-l": "--label",
           "-L": "--limit", "-s": "--state", "-m": "--milestone",
           "-e": "--env", "-R": "--repo", "-r": "--ref"}  # fmt: skip
ENVIRONMENT_KEYS = {"wait_timer", "prevent_self_review", "reviewers",
                    "deployment_branch_policy"}  # fmt: skip


class Refused(Exception):
    pass


def parse(args: list[str], accepted: set[str]):
    """Positional arguments and {flag: [values]}, as cobra/pflag parse."""
    positional, flags = [], {}
    i = 0
    while i < len(args):
        token = args[i]
        if token.startswith("-") and token != "-":
            name, _, inline = token.partition("=")
            if name not in accepted:
                raise Refused(f"unknown flag: {name}")
            key = ALIASES.get(name, name)
            if name in GH_FLAGS:
                flags.setdefault(key, []).append("true")
                i += 1
                continue
            if inline:
                value, i = inline, i + 1
            elif i + 1 < len(args):
                value, i = args[i + 1], i + 2
            else:
                raise Refused(f"flag needs an argument: {name}")
            flags.setdefault(key, []).append(value)
        else:
            positional.append(token)
            i += 1
    return positional, flags


def jq(value, expression: str) -> str:
    """The jq paths the scripts use: .a.b and .a[].b; string interpolation
    ("\\(.a)") through the real jq, as gh's embedded gojq does it."""
    if "\\(" in expression:
        import subprocess

        return subprocess.run(
            ["jq", "-r", expression], input=json.dumps(value),
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    results = [value]
    for part in re.findall(r"\.([A-Za-z_]+)(\[\])?", expression):
        name, each = part
        results = [r[name] for r in results]
        if each:
            results = [item for r in results for item in r]
    return "\n".join(str(r) for r in results)


def admin() -> None:
    if os.environ.get("FAKE_GH_PERMISSION", "admin") != "admin":
        raise Refused("HTTP 403: Must have admin rights to Repository.")


def api(state: dict, positional: list[str], flags: dict, stdin: str):
    path = positional[0].lstrip("/")
    method = flags.get(
        "--method",
        [
            "GET"
            if not (flags.get("--raw-field") or flags.get("--field"))
            else "POST"
        ],
    )[0]
    fields = dict(
        f.split("=", 1)
        for f in flags.get("--raw-field", []) + flags.get("--field", [])
    )
    body = json.loads(stdin) if flags.get("--input") == ["-"] else fields
    environments = state.setdefault("environments", {})
    match = re.fullmatch(r"repos/[^/]+/[^/]+/environments/([^/]+)(/.*)?", path)
    repository = re.fullmatch(r"repos/([^/]+)/([^/]+)", path)
    if repository and method == "GET":
        # The IDs that immutable OIDC subject claims carry.
        return {"name": repository[2], "id": 22,
                "owner": {"login": repository[1], "id": 11}}  # fmt: skip
    if path.startswith("users/"):
        return {"id": 1000 + len(path)}
    if path.startswith("orgs/"):
        return {"id": 2000 + len(path)}
    if match and match[2] is None:
        admin()
        if method != "PUT":
            raise Refused(f"HTTP 404: {method} {path}")
        unknown = set(body) - ENVIRONMENT_KEYS
        if unknown:
            raise Refused(f"HTTP 422: unknown keys {sorted(unknown)}")
        policy = body.get("deployment_branch_policy")
        if policy is not None and (
            policy.get("protected_branches")
            == policy.get("custom_branch_policies")
        ):
            raise Refused("HTTP 422: exactly one of protected_branches and "
                          "custom_branch_policies must be true")  # fmt: skip
        old = environments.get(match[1], {})
        environments[match[1]] = {**body, "branches": old.get("branches", [])}
        return environments[match[1]]
    if match and match[2] == "/deployment-branch-policies":
        environment = environments.get(match[1])
        if environment is None:
            raise Refused(f"HTTP 404: environment {match[1]} not found")
        if method == "GET":
            return {"branch_policies": [
                {"name": n} for n in environment["branches"]]}  # fmt: skip
        admin()
        policy = environment.get("deployment_branch_policy") or {}
        if not policy.get("custom_branch_policies"):
            raise Refused("HTTP 404: the environment uses no custom "
                          "deployment branch policies")  # fmt: skip
        environment["branches"].append(body["name"])
        return {"name": body["name"]}
    if "milestones" in path:
        if method == "POST":
            state["milestones"].append(fields)
            return fields
        return state["milestones"]
    if re.search(r"issues/\d+/comments", path) or "issues/comments/" in path:
        comments = state.setdefault("pr_comments", [])
        if method == "GET":
            return comments
        if method == "POST":
            comments.append({"id": len(comments) + 1, **body})
        else:
            comments[int(path.rsplit("/", 1)[1]) - 1].update(body)
        return {}
    raise Refused(f"HTTP 404: Not Found ({method} {path})")


def main(args: list[str]) -> int:
    state = (
        json.loads(STATE.read_text())
        if STATE.exists()
        else {"labels": {}, "milestones": [], "issues": [], "calls": []}
    )
    state["calls"].append(args)
    out = ""
    try:
        command = ("api",) if args[:1] == ["api"] else tuple(args[:2])
        if command not in GH:
            raise Refused(f"unknown command {' '.join(command)!r} for gh")
        accepted, _ = GH[command]
        positional, flags = parse(args[len(command) :], accepted)

        def body() -> str | None:
            if "--body" in flags:
                return flags["--body"][0]
            if "--body-file" in flags:
                return Path(flags["--body-file"][0]).read_text()
            return None

        if command == ("label", "create"):
            # cli/cli pkg/cmd/label/create.go: an existing name is an error
            # unless --force (which then updates colour and description).
            if positional[0] in state["labels"] and "--force" not in flags:
                raise Refused(f"label with name \"{positional[0]}\" already "
                              "exists; use `--force` to update its color "
                              "and description")  # fmt: skip
            state["labels"][positional[0]] = flags.get("--color", [""])[0]
        elif command == ("api",):
            stdin = sys.stdin.read() if flags.get("--input") == ["-"] else ""
            result = api(state, positional, flags, stdin)
            out = (jq(result, flags["--jq"][0]) if "--jq" in flags
                   else json.dumps(result))  # fmt: skip
        elif command == ("variable", "set"):
            if not positional:
                raise Refused("accepts 1 arg(s), received 0")
            if body() is None:
                raise Refused("value required on stdin or --body")
            scope = state.setdefault("variables", {})
            if "--env" in flags:
                environment = flags["--env"][0]
                if environment not in state.get("environments", {}):
                    raise Refused(f"HTTP 404: environment {environment} "
                                  "not found")  # fmt: skip
                scope = scope.setdefault(f"env:{environment}", {})
            scope[positional[0]] = body()
        elif command == ("issue", "list"):
            issues = state["issues"]
            wanted = flags.get("--state", ["open"])[0]
            if wanted != "all":
                issues = [i for i in issues if i["state"] == wanted]
            for label in flags.get("--label", []):
                issues = [i for i in issues if label in i["labels"]]
            out = json.dumps(
                [{"number": i["number"], "title": i["title"]} for i in issues]
            )
        elif command == ("issue", "create"):
            if "--title" not in flags or body() is None:
                raise Refused("must provide `--title` and `--body` (or "
                              "`--body-file`) when not running "
                              "interactively")  # fmt: skip
            # The whole call fails when any label is not in the repository.
            for label in flags.get("--label", []):
                for name in label.split(","):
                    if name not in state["labels"]:
                        raise Refused(f"could not add label: '{name}' not "
                                      "found")  # fmt: skip
            number = len(state["issues"]) + 1
            state["issues"].append({
                "number": number, "title": flags["--title"][0],
                "body": body(), "labels": flags.get("--label", []),
                "milestone": flags.get("--milestone", [None])[0],
                "state": "open", "comments": [],
            })  # fmt: skip
            out = f"https://github.com/o/r/issues/{number}"
        elif command == ("issue", "comment"):
            if body() is None:
                raise Refused("--body or --body-file required")
            state["issues"][int(positional[0]) - 1]["comments"].append(body())
        elif command == ("workflow", "run"):
            if not positional:
                raise Refused("workflow ID, name, or filename required")
            state.setdefault("dispatched", []).append(positional[0])
    except Refused as refusal:
        state.setdefault("refused", []).append(str(refusal))
        STATE.write_text(json.dumps(state, indent=1))
        print(f"gh: {refusal}", file=sys.stderr)
        return 1
    STATE.write_text(json.dumps(state, indent=1))
    if out:
        print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
