"""Smoke test: send deploy/sample-request.json to an online endpoint (or one
deployment behind it) and check that the answer is a prediction per record.

    python scripts/smoke_test.py --environment NAME [--deployment NAME]
    python scripts/smoke_test.py --resource-group RG --workspace-name WS \
        --endpoint NAME [--deployment NAME]

Uses `az ml online-endpoint invoke`, so it runs wherever the release scripts
run, with the same login. It always names the workspace: defaults set with
`az configure` in another job or task do not carry over. Exit code 0 when
the answer is sound, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REQUEST = Path("deploy/sample-request.json")


def settings_of(environment: str) -> dict[str, str]:
    """The endpoint and workspace in deploy/environments/<environment>.env."""
    settings = Path("deploy/environments") / f"{environment}.env"
    found = {}
    for line in settings.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        found[key.strip()] = value.strip()
    for key in ("ENDPOINT", "RESOURCE_GROUP", "WORKSPACE"):
        if not found.get(key):
            raise ValueError(f"{settings} names no {key}")
    return found


def check(answer: object, records: int) -> list[str]:
    """What is wrong with an endpoint's answer (nothing when it is sound)."""
    while isinstance(answer, str):  # az returns the body as a JSON string
        answer = json.loads(answer)
    if not isinstance(answer, dict):
        return [f"expected a JSON object, got {type(answer).__name__}"]
    if "error" in answer:
        return [f"the endpoint answered with an error: {answer['error']}"]
    problems = []
    predictions = answer.get("predictions")
    probabilities = answer.get("probabilities")
    if not isinstance(predictions, list) or len(predictions) != records:
        problems.append(f"expected {records} predictions, got {predictions!r}")
    elif not set(predictions) <= {0, 1}:
        problems.append(f"predictions must be 0 or 1: {predictions!r}")
    if not isinstance(probabilities, list) or not all(
        isinstance(p, (int, float)) and 0 <= p <= 1 for p in probabilities
    ):
        problems.append(f"probabilities must be in [0, 1]: {probabilities!r}")
    return problems


def ensure_ml_extension() -> None:
    """`az ml` comes from the CLI's ml extension, absent on a fresh agent."""
    shown = subprocess.run(
        ["az", "extension", "show", "--name", "ml"], capture_output=True
    )
    if shown.returncode != 0:
        subprocess.run(
            ["az", "extension", "add", "--name", "ml", "--yes"], check=True
        )


def workspace_exists(resource_group: str, workspace: str) -> bool:
    """False, with a notice, when the workspace is not there yet (the first
    push runs CD before the infrastructure pipeline has created it)."""
    result = subprocess.run(
        ["az", "ml", "workspace", "show", "--resource-group", resource_group,
         "--name", workspace, "--query", "name", "--output", "tsv"],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode == 0:
        return True
    if "ResourceNotFound" not in result.stderr and (
        "ResourceGroupNotFound" not in result.stderr
    ):
        raise RuntimeError(
            result.stderr.strip() or "az ml workspace show failed"
        )
    text = (
        f"{workspace} does not exist yet: the smoke test is skipped; run "
        "the infrastructure pipeline first (docs/deployment.md)"
    )
    if os.environ.get("GITHUB_ACTIONS"):
        print(f"::notice::{text}")
    elif os.environ.get("TF_BUILD"):
        print(f"##vso[task.logissue type=warning]{text}")
    else:
        print(f"notice: {text}")
    return False


def tagged_endpoint(resource_group: str, workspace: str) -> str:
    """The endpoint's name as infra/ published it (the workspace tag
    online-endpoint; the name ends in a suffix unique to the resource group),
    as scripts/release_lib.sh's resolve_endpoint reads it."""
    result = subprocess.run(
        ["az", "ml", "workspace", "show", "--resource-group", resource_group,
         "--name", workspace, "--query", 'tags."online-endpoint"',
         "--output", "tsv"],
        capture_output=True, text=True,
    )  # fmt: skip
    name = result.stdout.strip()
    if result.returncode != 0 or name in ("", "None"):
        raise RuntimeError(
            f"workspace {workspace} has no online-endpoint tag: run the "
            "infrastructure pipeline for this environment first"
        )
    return name


def invoke(args: argparse.Namespace) -> str:
    command = [
        "az", "ml", "online-endpoint", "invoke",
        "--resource-group", args.resource_group,
        "--workspace-name", args.workspace_name,
        "--name", args.endpoint,
        "--request-file", str(args.request),
    ]  # fmt: skip
    deployment = args.deployment
    if deployment:
        command += ["--deployment-name", deployment]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or "az ml invoke failed")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--endpoint")
    target.add_argument("--environment")
    parser.add_argument("--resource-group")
    parser.add_argument("--workspace-name")
    parser.add_argument("--deployment")
    parser.add_argument("--request", type=Path, default=REQUEST)
    args = parser.parse_args(argv)
    if args.environment:
        try:
            settings = settings_of(args.environment)
        except (OSError, ValueError) as error:
            print(f"smoke test: {error}", file=sys.stderr)
            return 2
        args.endpoint = settings["ENDPOINT"]
        args.resource_group = settings["RESOURCE_GROUP"]
        args.workspace_name = settings["WORKSPACE"]
    elif not (args.resource_group and args.workspace_name):
        parser.error("--endpoint needs --resource-group and --workspace-name")
    records = len(json.loads(args.request.read_text("utf-8"))["data"])
    target = args.endpoint + (f"/{args.deployment}" if args.deployment else "")
    try:
        ensure_ml_extension()
        infra = Path("infra")
        if args.environment and not workspace_exists(
            args.resource_group, args.workspace_name
        ):
            return 0
        if args.environment and any(
            (infra / tool).is_dir() for tool in ("bicep", "terraform")
        ):
            args.endpoint = tagged_endpoint(
                args.resource_group, args.workspace_name
            )
            target = args.endpoint
        problems = check(json.loads(invoke(args)), records)
    except (RuntimeError, ValueError, subprocess.CalledProcessError) as error:
        problems = [str(error)]
    if problems:
        for problem in problems:
            print(f"smoke test of {target} failed: {problem}", file=sys.stderr)
        return 1
    print(f"smoke test of {target} passed ({records} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
