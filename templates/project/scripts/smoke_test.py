"""Smoke test: send deploy/sample-request.json to an online endpoint (or one
deployment behind it) and check that the answer is a prediction per record.

    python scripts/smoke_test.py --environment NAME [--deployment NAME]
    python scripts/smoke_test.py --endpoint NAME [--deployment NAME]

Uses `az ml online-endpoint invoke`, so it runs wherever the release scripts
run, with the same login. Exit code 0 when the answer is sound, 1 when not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

REQUEST = Path("deploy/sample-request.json")


def endpoint_of(environment: str) -> str:
    """The endpoint name in deploy/environments/<environment>.env."""
    settings = Path("deploy/environments") / f"{environment}.env"
    for line in settings.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "ENDPOINT":
            return value.strip()
    raise ValueError(f"{settings} names no ENDPOINT")


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


def invoke(endpoint: str, deployment: str | None, request: Path) -> str:
    command = [
        "az", "ml", "online-endpoint", "invoke",
        "--name", endpoint,
        "--request-file", str(request),
    ]  # fmt: skip
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
    parser.add_argument("--deployment")
    parser.add_argument("--request", type=Path, default=REQUEST)
    args = parser.parse_args(argv)
    if args.environment:
        args.endpoint = endpoint_of(args.environment)
    records = len(json.loads(args.request.read_text("utf-8"))["data"])
    target = args.endpoint + (f"/{args.deployment}" if args.deployment else "")
    try:
        problems = check(
            json.loads(invoke(args.endpoint, args.deployment, args.request)),
            records,
        )
    except (RuntimeError, ValueError) as error:
        problems = [str(error)]
    if problems:
        for problem in problems:
            print(f"smoke test of {target} failed: {problem}", file=sys.stderr)
        return 1
    print(f"smoke test of {target} passed ({records} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
