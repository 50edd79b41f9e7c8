"""The release artefact: the model files plus a model card, in one folder.

    python -m <package>.card [--model-dir models] [--reports reports]
        [--out dist/model]

The card states what reviewers of a release need: the metrics against the
thresholds and the production model, the data version and the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .train import INFO_FILE, MODEL_FILE, REFERENCE_FILE


def commit_sha() -> str:
    """The commit being built: from CI's variables, else from git."""
    for variable in ("GITHUB_SHA", "BUILD_SOURCEVERSION"):
        if os.environ.get(variable):
            return os.environ[variable]
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return result.stdout.strip()


def model_card(info: dict, report: dict, sha: str) -> str:
    lines = [
        f"# Model card: {info['name']}",
        "",
        f"- Commit: `{sha}`",
        f"- Data source: `{info['data_source']}`",
        f"- Data version (fingerprint): `{info['data_version']}`",
        f"- Training rows: {info['training_rows']}",
        f"- Quality gate: {'passed' if report['passed'] else 'FAILED'}",
        "",
        "| metric | value | threshold | production | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for check in report["checks"]:
        shown = {k: "n/a" if v is None else v for k, v in check.items()}
        result = "pass" if check["passed"] else check["reason"]
        lines.append(
            f"| {shown['metric']} | {shown['value']} | {shown['threshold']} "
            f"| {shown['baseline']} | {result} |"
        )
    return "\n".join(lines) + "\n"


def package(model_dir: Path, reports: Path, out: Path) -> Path:
    missing = [
        str(path)
        for path in (model_dir / MODEL_FILE, reports / "metrics.json")
        if not path.is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"missing {', '.join(missing)}; run `make quality` first"
        )
    out.mkdir(parents=True, exist_ok=True)
    for name in (MODEL_FILE, INFO_FILE, REFERENCE_FILE):
        shutil.copy2(model_dir / name, out / name)
    shutil.copy2(reports / "metrics.json", out / "metrics.json")
    info = json.loads((model_dir / INFO_FILE).read_text(encoding="utf-8"))
    report = json.loads((reports / "metrics.json").read_text("utf-8"))
    card = model_card(info, report, commit_sha())
    (out / "model-card.md").write_text(card, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Package the model.")
    parser.add_argument("--model-dir", default="models", type=Path)
    parser.add_argument("--reports", default="reports", type=Path)
    parser.add_argument("--out", default="dist/model", type=Path)
    args = parser.parse_args(argv)
    try:
        out = package(args.model_dir, args.reports, args.out)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"model artefact -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
