"""Write deploy/conda.yml, the Azure ML environment of training jobs and
endpoints, from uv.lock: the same scikit-learn, numpy and pandas that
trained the model serve it.

    python scripts/serving_env.py [--check]

Exports the locked runtime (the project's dependencies, the `azure` extra
and the `serving` group; no development tools) with `uv export --frozen`,
and bumps `version` in deploy/environment.yml when the packages change, so
that Azure ML builds a new image. --check exits 1 when deploy/conda.yml is
not the export of uv.lock (run `make serving-env` and commit the result).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA = ROOT / "deploy" / "conda.yml"
ENVIRONMENT = ROOT / "deploy" / "environment.yml"
HEADER = """\
# Generated from uv.lock by `make serving-env`; do not edit by hand (change
# pyproject.toml, run `make install` and `make serving-env`, commit all).
"""


def locked_requirements() -> list[str]:
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("error: uv is not installed; see `make install`")
    result = subprocess.run(
        [
            uv,
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--no-annotate",
            "--extra",
            "azure",
            "--group",
            "serving",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise SystemExit(f"error: uv export failed: {result.stderr.strip()}")
    return [
        line.strip()
        for line in result.stdout.splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "-"))
    ]


def conda_yaml(requirements: list[str]) -> str:
    python = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    name = re.search(r"^name: *(\S+)", CONDA.read_text(encoding="utf-8"), re.M)
    lines = [
        HEADER.rstrip("\n"),
        f"name: {name[1] if name else ROOT.name}",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={python}",
        "  - pip",
        "  - pip:",
        # Quoted: a requirement with a marker holds ": " and quotes.
        *(f"      - {quote(req)}" for req in requirements),
    ]
    return "\n".join(lines) + "\n"


def quote(requirement: str) -> str:
    plain = r"[A-Za-z0-9._-]+(\[[A-Za-z0-9,._-]+\])?==[\w.+!-]+"
    if re.fullmatch(plain, requirement):
        return requirement
    return '"' + requirement.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bump_environment_version() -> str:
    text = ENVIRONMENT.read_text(encoding="utf-8")
    match = re.search(r'^version: *"?(\d+)"?$', text, re.M)
    version = str(int(match[1]) + 1) if match else "1"
    text = re.sub(
        r"^version:.*$", f'version: "{version}"', text, count=1, flags=re.M
    )
    ENVIRONMENT.write_text(text, encoding="utf-8")
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if not (ROOT / "uv.lock").is_file():
        print("serving-env: no uv.lock yet; run `make install` first")
        return 1 if not args.check else 0
    wanted = conda_yaml(locked_requirements())
    current = CONDA.read_text(encoding="utf-8")
    if current == wanted:
        print("serving-env: deploy/conda.yml matches uv.lock")
        return 0
    if args.check:
        print(
            "serving-env: deploy/conda.yml is not the export of uv.lock; "
            "run `make serving-env` and commit deploy/",
            file=sys.stderr,
        )
        return 1
    CONDA.write_text(wanted, encoding="utf-8")
    version = bump_environment_version()
    print(f"serving-env: wrote deploy/conda.yml (environment {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
