"""`check` in-process on the vendored real corpus (tests/corpus: 627 files
of 12 repositories, both providers): files per second and milliseconds per
file, our own checks only (zizmor, a separate process once per repository,
is measured by run.py). Budget: at most 10 ms per file.

    python benchmarks/corpus.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUDGET_MS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from mlops_scaffold.pipelines.check import check

    repositories = sorted(
        path
        for owner in (REPO / "tests" / "corpus").iterdir()
        if owner.is_dir()
        for path in owner.iterdir()
        if path.is_dir()
    )
    check(repositories[0], use_auditor=False)  # schemas compiled once
    runs, files = [], 0
    for _ in range(args.repeat):
        start, files = time.perf_counter(), 0
        for repository in repositories:
            files += len(check(repository, use_auditor=False).checked)
        runs.append(time.perf_counter() - start)
    seconds = statistics.median(runs)
    per_file = 1000 * seconds / files
    print(
        f"{files} files in {seconds:.2f} s: {files / seconds:.0f} files/s, "
        f"{per_file:.2f} ms per file (budget {BUDGET_MS:.0f} ms)"
    )
    return 0 if per_file <= BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
