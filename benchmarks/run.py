"""Speed and memory of mlops-scaffold, as ratios against baselines measured
side by side in the same run (absolute times on shared machines are noise).

    python benchmarks/run.py [--quick] [--only new|loop] [--install]

Prints a table and rewrites the results section of benchmarks/README.md.
Each timing is the median of several runs of the real command-line tool in a
subprocess; peak memory is the child's maximum resident set (wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
TOOL = [str(BIN / "mlops-scaffold")]
COPIER = [str(BIN / "copier")]
PYTHON = [sys.executable]


def measure(
    command: list[str], cwd: Path | None = None, env=None
) -> tuple[float, int]:
    """Seconds and peak resident memory (KiB) of one run."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    code = process.returncode
    if code not in (0, 1):
        raise RuntimeError(
            f"{' '.join(command)} exited {code}: {process.stderr.read()}"
        )
    process.stderr.close()
    return elapsed, usage.ru_maxrss


def median(command, repeat, setup=None, **kwargs) -> tuple[float, int]:
    times, peak = [], 0
    for _ in range(repeat):
        if setup:
            setup()
        seconds, memory = measure(command, **kwargs)
        times.append(seconds)
        peak = max(peak, memory)
    return statistics.median(times), peak


def interleaved(runs: dict, repeat: int) -> dict:
    """Median seconds and peak memory of each named (command, setup), run in
    turn rather than one after the other, so that a load change on a shared
    machine slows baseline and measurement alike."""
    times = {name: [] for name in runs}
    peaks = dict.fromkeys(runs, 0)
    for _ in range(repeat):
        for name, (command, setup) in runs.items():
            setup()
            seconds, memory = measure(command)
            times[name].append(seconds)
            peaks[name] = max(peaks[name], memory)
    return {
        name: (statistics.median(times[name]), peaks[name]) for name in runs
    }


def fresh(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def workflow_repo(root: Path, count: int, sample: Path) -> Path:
    """A repository with ``count`` workflow files (copies of the sample's
    CI and CD workflows), committed, then each edited once (for review)."""
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    sources = sorted((sample / ".github" / "workflows").glob("*.yml"))
    for index in range(count):
        source = sources[index % len(sources)]
        (workflows / f"w{index:04d}.yml").write_text(source.read_text())
    shutil.copytree(
        sample / ".github" / "actions", root / ".github" / "actions"
    )
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=root, check=True)
    for path in workflows.glob("*.yml"):
        path.write_text(
            path.read_text().replace(
                "timeout-minutes: 10", "timeout-minutes: 12"
            )
        )
    return root


CHECK_BUDGET_MS = 10.0  # check: milliseconds per file at 1,000 files


def azure_repo(root: Path, count: int, project: Path) -> Path:
    """``count`` Azure Pipelines files (copies of a generated project's),
    with the step template they include, in a git repository."""
    folder = root / "azure-pipelines"
    shutil.copytree(
        project / "azure-pipelines" / "templates", folder / "templates"
    )
    sources = sorted((project / "azure-pipelines").glob("*.yml"))
    for index in range(count):
        source = sources[index % len(sources)]
        (folder / f"p{index:04d}.yml").write_text(source.read_text())
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@example.com"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=root, check=True)
    return root


def cpu_seconds(command: list[str]) -> float:
    """User + system CPU seconds of one run, its children (zizmor)
    included: on a shared machine wall time also counts other people's
    work."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime


def check_row(name, measured, cpu, count, budget=None):
    wall_ms, cpu_ms = 1000 * measured[0] / count, 1000 * cpu / count
    note = f"{wall_ms:.1f} ms/file wall, {cpu_ms:.1f} ms/file CPU"
    entry = row(name, measured, None, None, None, note=note)
    if budget is not None:
        entry["within_budget"] = wall_ms <= budget
        entry["note"] += f" (budget {budget:g} ms/file wall: " + (
            "ok)" if entry["within_budget"] else "OVER)"
        )
    return entry


def notebook(path: Path, cells: int) -> Path:
    """A notebook of ``cells`` cells as people write them: markdown, imports,
    IPython magics and shell escapes, functions, top-level code."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    items = []
    for index in range(cells):
        if index % 5 == 0:
            items.append(
                new_markdown_cell(f"## Step {index}\n\nWhat this does.")
            )
        elif index % 5 == 1:
            items.append(
                new_code_cell(
                    f"%matplotlib inline\n!echo step {index}\nimport math as m{index}"
                )
            )
        elif index % 5 == 2:
            items.append(
                new_code_cell(
                    f"def f_{index}(x, scale={index}):\n    return x * scale\n"
                )
            )
        else:
            items.append(
                new_code_cell(
                    f"value_{index} = {index} * 2\nprint(value_{index})\nvalue_{index}"
                )
            )
    nb = new_notebook(cells=items)
    for index, cell in enumerate(nb.cells):
        cell["id"] = f"c{index}"
    nbformat.write(nb, path)
    return path


def copier_profile(work: Path) -> list[dict]:
    """Where a raw Copier copy of our template spends its time (cProfile,
    in-process, one warm run): the numbers behind the upstream notes in
    README.md."""
    import cProfile
    import pstats

    import copier

    def copy(dest: Path) -> None:
        copier.run_copy(str(REPO / "templates"), dest, defaults=True,
                        quiet=True, unsafe=False)  # fmt: skip

    copy(work / "warm")
    profiler = cProfile.Profile()
    profiler.enable()
    copy(work / "profiled")
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = max(entry[3] for entry in stats.values())

    def cumulative(function: str) -> tuple[float, int]:
        found = [
            (e[3], e[1])
            for (_, _, name), e in stats.items()
            if name == function
        ]
        return (sum(t for t, _ in found), sum(n for _, n in found))

    rows = []
    for function, what in (
        (
            "_sync_git_index_executable_bit",
            "one `git config` subprocess per rendered file",
        ),
        ("_render_path", "path segments compiled afresh, per path"),
        ("_ask", "the questionnaire"),
        ("from_string", "Jinja compiles (all)"),
    ):
        seconds, calls = cumulative(function)
        rows.append(
            {
                "name": f"copier copy profile: {function}",
                "seconds": round(seconds, 3),
                "note": f"{100 * seconds / total:.0f}% of {total:.2f} s, {calls} calls: {what}",
            }
        )
    return rows


def corpus_per_notebook() -> dict[str, float]:
    """Seconds to convert each corpus notebook, in-process (start-up and
    imports excluded: a warm-up conversion runs first)."""
    sys.path.insert(0, str(REPO / "generator"))
    from mlops_scaffold.notebook import converter

    nb = converter()
    notebooks = sorted(
        (REPO / "tests" / "corpus" / "notebooks").glob("*.ipynb")
    )
    times = {}
    with tempfile.TemporaryDirectory() as folder:
        nb.convert(notebooks[0], Path(folder) / "warm.py")
        for path in notebooks:
            start = time.perf_counter()
            nb.convert(path, Path(folder) / "out.py")
            times[path.name] = round(time.perf_counter() - start, 3)
    return times


def run(quick: bool, only: str = "all") -> list[dict]:
    repeat = 3 if quick else 7
    rows: list[dict] = []
    work = Path(tempfile.mkdtemp(prefix="mlops-scaffold-bench-"))
    try:
        click_base = median([*PYTHON, "-c", "import click"], repeat * 3)
        helped = median([*TOOL, "--help"], repeat * 3)
        rows.append(
            row("--help", helped, "python -c 'import click'", click_base, 1.5)
        )

        dest = work / "p"
        clean = lambda: fresh(dest)  # noqa: E731
        timed = interleaved(
            {
                "copier": (
                    [
                        *COPIER,
                        "copy",
                        "--defaults",
                        "--quiet",
                        str(REPO / "templates"),
                        str(dest),
                    ],
                    clean,
                ),
                "new_nogit": (
                    [*TOOL, "new", str(dest), "--defaults", "--no-git"],
                    clean,
                ),
                "new": ([*TOOL, "new", str(dest), "--defaults"], clean),
            },
            repeat,
        )
        copier, new_nogit, new = (
            timed["copier"],
            timed["new_nogit"],
            timed["new"],
        )
        rows.append(
            row(
                "new --defaults --no-git",
                new_nogit,
                "copier copy --defaults",
                copier,
                1.2,
            )
        )
        rows.append(
            row(
                "new --defaults (with git commit)",
                new,
                "copier copy --defaults",
                copier,
                1.2,
            )
        )

        v2 = work / "template-v2"
        shutil.copytree(REPO / "templates", v2)
        makefile = v2 / "project" / "Makefile.jinja"
        makefile.write_text(
            makefile.read_text().replace(
                "# The task runner.", "# The task runner (v2)."
            )
        )

        def project_v1():
            fresh(dest)
            subprocess.run(
                [*TOOL, "new", str(dest), "--defaults"],
                check=True,
                stdout=subprocess.DEVNULL,
            )

        updated = median(
            [*TOOL, "update", str(dest)],
            repeat,
            setup=project_v1,
            env={"MLOPS_SCAFFOLD_TEMPLATE": str(v2)},
        )
        rows.append(
            row("update (v1 -> v2)", updated, "new --defaults", new, 2.0)
        )
        rows.extend(copier_profile(work))
        if only == "new":
            return rows

        sample = REPO / "sample-project"
        azure_project = work / "azure-project"
        subprocess.run(
            [
                *TOOL,
                "new",
                str(azure_project),
                "--defaults",
                "--ci",
                "azure",
                "--no-git",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        per_file, totals = {}, {}
        for count in (10, 100, 1000):
            repo = workflow_repo(work / f"repo{count}", count, sample)
            checked = median([*TOOL, "check", str(repo)], max(repeat // 2, 2))
            cpu = cpu_seconds([*TOOL, "check", str(repo)])
            reviewed = median(
                [*TOOL, "review", str(repo), "--base", "main"],
                max(repeat // 2, 2),
            )
            per_file[count] = (checked[0] / count, reviewed[0] / count)
            totals[count] = (checked[0], reviewed[0])
            rows.append(
                check_row(
                    f"check, {count} workflows (zizmor included)",
                    checked,
                    cpu,
                    count,
                    budget=CHECK_BUDGET_MS if count == 1000 else None,
                )
            )
            rows.append(
                row(
                    f"review, {count} workflows",
                    reviewed,
                    None,
                    None,
                    None,
                    note=f"{1000 * reviewed[0] / count:.1f} ms/file",
                )
            )
        azure = azure_repo(work / "azure1000", 1000, azure_project)
        checked = median([*TOOL, "check", str(azure)], max(repeat // 2, 2))
        rows.append(
            check_row(
                "check, 1000 Azure pipelines (+ template)",
                checked,
                cpu_seconds([*TOOL, "check", str(azure)]),
                1000,
                budget=CHECK_BUDGET_MS,
            )
        )
        nb = notebook(work / "fifty.ipynb", 50)
        converted = median(
            [
                *TOOL,
                "notebook",
                "convert",
                str(nb),
                "-o",
                str(work / "fifty.py"),
            ],
            repeat,
            setup=lambda: fresh(work / "fifty.py"),
        )
        beyond = converted[0] - helped[0]
        rows.append(
            row(
                "notebook convert (50 cells)",
                converted,
                "--help",
                helped,
                None,
                note=f"{beyond:.2f} s beyond start-up",
            )
        )
        rows.append(
            {
                "name": "notebook convert (50 cells): tool time beyond --help",
                "note": f"{beyond:.2f} s (budget 1 s: {'ok' if beyond < 1 else 'OVER'})",
                "within_budget": beyond < 1,
            }
        )
        corpus = sorted(
            (REPO / "tests" / "corpus" / "notebooks").glob("*.ipynb")
        )
        whole = median(
            [
                *TOOL,
                "notebook",
                "convert",
                *map(str, corpus),
                "-o",
                str(work / "corpus"),
            ],
            max(repeat // 2, 2),
            setup=lambda: fresh(work / "corpus"),
        )
        each = corpus_per_notebook()
        slowest = max(each, key=each.get)
        rows.append(
            row(
                f"notebook convert, corpus of {len(corpus)}",
                whole,
                None,
                None,
                None,
                note=f"{1000 * (whole[0] - helped[0]) / len(corpus):.0f} ms/notebook",
            )
        )
        rows.append(
            {
                "name": "corpus, in-process per notebook: median / max",
                "note": f"{1000 * statistics.median(each.values()):.0f} / "
                f"{1000 * each[slowest]:.0f} ms ({slowest})",
                "per_notebook": each,
            }
        )
        # Linear: the marginal cost of a file (start-up excluded) is the
        # same from 10 to 100 files as from 100 to 1000.
        for index, tool in enumerate(("check", "review")):
            low = (totals[100][index] - totals[10][index]) / 90
            high = (totals[1000][index] - totals[100][index]) / 900
            rows.append(
                {
                    "name": f"{tool}: marginal ms per file, 10-100 / 100-1000",
                    "note": f"{1000 * low:.2f} / {1000 * high:.2f} "
                    f"(ratio {high / low:.2f})",
                }
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def install_rows() -> list[dict]:
    """A generated project's cold `make install` (uv, empty uv cache, lock
    made on the way) against a cold `pip install -e . --group dev --group
    pipeline-lint` of the same project (empty pip cache), side by side. Both
    download from the package index; run with --install."""
    rows = []
    work = Path(tempfile.mkdtemp(prefix="mlops-scaffold-install-"))
    try:
        project = work / "p"
        subprocess.run(
            [*TOOL, "new", str(project), "--defaults"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        venv = work / "pip-venv"
        subprocess.run([*PYTHON, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "pip>=25.1",
            ],
            check=True,
        )
        pip = measure(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "-e",
                ".",
                "--group",
                "dev",
                "--group",
                "pipeline-lint",
            ],
            cwd=project,
            env={"PIP_NO_CACHE_DIR": "1"},
        )
        uv = measure(
            ["make", "install"],
            cwd=project,
            env={"UV_CACHE_DIR": str(work / "uv-cache")},
        )
        rows.append(
            row(
                "make install, cold (uv, empty cache)",
                uv,
                "pip install -e . --group dev, cold",
                pip,
                0.35,
            )
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def loop_rows(quick: bool) -> list[dict]:
    """A generated project's daily loop against its floor, side by side:
    `make quality` right after `make train` (the gate evaluates the trained
    model: no retraining, no MLflow) and `make test`, each against
    `python -c "import sklearn, pandas"` in the project's venv, the least
    that anything loading the model and the data costs. Every command runs
    as a fresh shell would (`env -i` with PATH and HOME, no activated venv).
    `make install` uses uv's cache, so only a cold cache downloads."""
    repeat = 3 if quick else 7
    work = Path(tempfile.mkdtemp(prefix="mlops-scaffold-loop-"))
    try:
        project = work / "fraud-model"
        subprocess.run(
            [*TOOL, "new", str(project), "--defaults"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tools = work / "bin"
        tools.mkdir()
        (tools / "uv").symlink_to(shutil.which("uv") or BIN / "uv")
        shell = [
            "env",
            "-i",
            f"PATH={tools}:/usr/bin:/bin",
            f"HOME={os.environ['HOME']}",
        ]
        network = [
            f"{key}={os.environ[key]}"
            for key in ("SSL_CERT_FILE", "UV_INDEX_URL", "UV_DEFAULT_INDEX")
            if key in os.environ
        ]
        for task in (["make", "install"], ["make", "train"]):
            subprocess.run(
                [*shell, *network, *task] if task[1] == "install" else
                [*shell, *task],
                cwd=project,
                check=True,
                stdout=subprocess.DEVNULL,
            )  # fmt: skip
        runs = {
            "floor": [
                *shell,
                ".venv/bin/python",
                "-c",
                "import sklearn, pandas",
            ],
            "quality": [*shell, "make", "quality"],
            "test": [*shell, "make", "test"],
        }
        times = {name: [] for name in runs}
        peaks = dict.fromkeys(runs, 0)
        for _ in range(repeat):
            for name, command in runs.items():
                seconds, memory = measure(command, cwd=project)
                times[name].append(seconds)
                peaks[name] = max(peaks[name], memory)
        timed = {n: (statistics.median(times[n]), peaks[n]) for n in runs}
        floor = 'python -c "import sklearn, pandas" (project venv)'
        return [
            row(floor, timed["floor"], None, None, None),
            row(
                "make quality after make train",
                timed["quality"],
                floor,
                timed["floor"],
                2.0,
            ),
            row("make test", timed["test"], floor, timed["floor"], 3.0),
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


RUN_JOBS = (  # the CI jobs of ci.yml, as make calls (one install each)
    ("lint", "dev", "lint"),
    ("test", "dev", "test"),
    ("quality", "dev", "quality"),
    ("pipeline-lint", "dev pipeline-lint", "pipeline-lint"),
)


def run_rows() -> list[dict]:
    """Time-to-green of the generated CI (lint + test + quality +
    pipeline-lint) run by `mlops-scaffold run`, against the same commands
    run by hand (`make install LOCKED=1 GROUPS=...` then the job's target,
    per job), side by side: cold (no .venv, empty uv cache) and warm. The
    runner's own overhead budget is 1.1x. Run with --run (downloads)."""
    rows = []
    work = Path(tempfile.mkdtemp(prefix="mlops-scaffold-run-"))
    try:
        project = work / "p"
        shims = work / "shims"
        shims.mkdir()
        uv = shutil.which("uv") or str(BIN / "uv")
        (shims / "uv").symlink_to(uv)
        env = {
            "PATH": f"{shims}{os.pathsep}{os.environ['PATH']}",
            "MLOPS_SCAFFOLD_TOOL_CACHE": str(work / "tools"),
        }
        generator = str(REPO / "generator")
        subprocess.run(
            [*PYTHON, "-c", _cli("new", str(project), "--defaults", generator)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            ["make", "install"],
            cwd=project,
            env={**os.environ, **env},
            check=True,
            capture_output=True,
        )
        subprocess.run(["git", "add", "-A"], cwd=project, check=True)
        subprocess.run(
            ["git", "commit", "-qm", "Lock", "--no-verify"],
            cwd=project,
            check=True,
        )
        by_hand = work / "by-hand.sh"
        by_hand.write_text(
            "set -e\n"
            + "".join(
                f"make install LOCKED=1 GROUPS='{groups}'\nmake {target}\n"
                for _, groups, target in RUN_JOBS
            )
        )
        runner = [
            *PYTHON,
            "-c",
            _cli(
                "run",
                ".github/workflows/ci.yml",
                "--matrix",
                "python-version=3.11",
                generator,
            ),
        ]
        # cold once each (downloads); warm three times each, in turn, so
        # that load from others on a shared machine slows both alike
        for temperature, repeat in (("cold", 1), ("warm", 3)):
            times: dict[str, list[float]] = {}
            peaks: dict[str, int] = {}
            for _ in range(repeat):
                for name, command, extra in (
                    # CI=true as on the runner (a CI job logs no MLflow run)
                    ("by hand", ["bash", str(by_hand)], {"CI": "true"}),
                    ("mlops-scaffold run", runner, {}),
                ):
                    cache = work / f"uv-cache-{name.replace(' ', '-')}"
                    if temperature == "cold":
                        shutil.rmtree(project / ".venv", ignore_errors=True)
                        shutil.rmtree(cache, ignore_errors=True)
                    seconds, peak = measure(
                        command,
                        cwd=project,
                        env={**env, **extra, "UV_CACHE_DIR": str(cache)},
                    )
                    times.setdefault(name, []).append(seconds)
                    peaks[name] = max(peaks.get(name, 0), peak)
            results = {
                name: (statistics.median(values), peaks[name])
                for name, values in times.items()
            }
            rows.append(
                row(
                    f"run ci.yml, {temperature} (lint+test+quality+"
                    "pipeline-lint)",
                    results["mlops-scaffold run"],
                    "the same make commands by hand",
                    results["by hand"],
                    1.1,
                )
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def _cli(*args: str) -> str:
    """Python code running the CLI of this checkout (the last argument is
    its generator folder), so the jobs do not inherit a PYTHONPATH."""
    *argv, generator = args
    return (
        f"import sys; sys.path.insert(0, {generator!r}); "
        "from mlops_scaffold.cli import run; "
        f"sys.argv = ['mlops-scaffold', *{argv!r}]; run()"
    )


def row(name, measured, base_name, base, budget, note=""):
    seconds, memory = measured
    entry = {
        "name": name,
        "seconds": round(seconds, 3),
        "peak_mib": round(memory / 1024, 1),
        "note": note,
    }
    if base is not None:
        ratio = seconds / base[0]
        entry.update(
            baseline=base_name,
            baseline_seconds=round(base[0], 3),
            ratio=round(ratio, 2),
        )
        if budget is not None:
            entry["budget"] = budget
            entry["within_budget"] = ratio <= budget
    return entry


def table(rows: list[dict]) -> str:
    lines = [
        "| measurement | median s | peak MiB | baseline | baseline s | ratio | budget |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        budget = ""
        if "budget" in r:
            budget = (
                f"≤ {r['budget']}x {'ok' if r['within_budget'] else 'OVER'}"
            )
        ratio = f"{r['ratio']}x" if "ratio" in r else r.get("note", "")
        lines.append(
            f"| {r['name']} | {r.get('seconds', '')} | {r.get('peak_mib', '')} | "
            f"{r.get('baseline') or ''} | {r.get('baseline_seconds', '')} | {ratio} | {budget} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions"
    )
    parser.add_argument(
        "--only",
        choices=("all", "new", "loop"),
        default="all",
        help="new: --help, new, update and the Copier profile; loop: a "
        "generated project's make quality and make test against their "
        "floor (installs it; uv's cache makes that quick); other rows are "
        "kept from results.json",
    )
    parser.add_argument(
        "--install",
        action="store_true",
        help="also time a generated project's cold install",
    )
    parser.add_argument(
        "--run",
        action="store_true",
        help="also time the generated CI run locally (mlops-scaffold run)",
    )
    parser.add_argument(
        "--run-only",
        action="store_true",
        help="only the --run rows; other rows are kept from results.json",
    )
    args = parser.parse_args()
    if args.run_only:
        rows = run_rows()
        args.only = "run"
    elif args.only == "loop":
        rows = loop_rows(args.quick)
    else:
        rows = run(args.quick, args.only)
    if args.install:
        rows += install_rows()
    if args.run and not args.run_only:
        rows += run_rows()
    results = HERE / "results.json"
    if args.only != "all" and results.exists():
        fresh_rows = {r["name"]: r for r in rows}
        kept = json.loads(results.read_text())
        merged = [fresh_rows.pop(r["name"], r) for r in kept]
        # New rows go after the last row of the part that was rerun.
        last = max(
            (i for i, r in enumerate(merged) if r["name"].startswith("update")),
            default=len(merged) - 1,
        )
        if args.only == "loop":
            last = len(merged) - 1
        rows = (
            merged[: last + 1] + list(fresh_rows.values()) + merged[last + 1 :]
        )
    text = table(rows)
    print(text)
    readme = HERE / "README.md"
    marker = "<!-- results -->"
    head = readme.read_text().split(marker)[0] if readme.exists() else ""
    stamp = time.strftime("%Y-%m-%d")
    machine = f"{os.cpu_count()} cores, Python {sys.version.split()[0]}"
    readme.write_text(
        f"{head}{marker}\nLatest run: {stamp}, {machine}.\n\n{text}\n"
    )
    (HERE / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    over = [r["name"] for r in rows if r.get("within_budget") is False]
    if over:
        print("over budget: " + ", ".join(over), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
