"""Notebook hygiene: notebooks are committed without outputs.

    python scripts/check_notebooks.py [--fix] [PATH ...]

Exits 1 and lists the notebooks that still carry outputs or execution
counts; with --fix it strips them instead. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def notebooks(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*.ipynb"))
                if ".ipynb_checkpoints" not in p.parts
            )
        elif path.suffix == ".ipynb":
            found.append(path)
    return found


def strip(notebook: dict) -> bool:
    """Remove outputs and execution counts; return whether any were there."""
    changed = False
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            cell["outputs"] = []
            changed = True
        if cell.get("execution_count") is not None:
            cell["execution_count"] = None
            changed = True
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true")
    parser.add_argument("paths", nargs="*", type=Path, default=[Path(".")])
    args = parser.parse_args(argv)
    dirty = []
    for path in notebooks(args.paths):
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            print(f"{path}: not a valid notebook: {error}", file=sys.stderr)
            return 2
        if strip(notebook):
            if args.fix:
                text = json.dumps(notebook, indent=1, ensure_ascii=False)
                path.write_text(text + "\n", encoding="utf-8")
                print(f"stripped {path}")
            else:
                dirty.append(path)
    for path in dirty:
        print(f"{path}: has outputs; run `make notebooks` and commit")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
