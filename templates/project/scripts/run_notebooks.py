"""Run every notebook top to bottom and render it to HTML.

    python scripts/run_notebooks.py [--out reports/notebooks]
        [--timeout SECONDS] [PATH ...]

Each notebook runs in a fresh local kernel (nbconvert's execute
preprocessor, from the project's .venv) from its own folder, with a time
limit per cell and with the network off: a first, hidden cell refuses every
connection and name lookup that leaves this machine, so a notebook that
works only online fails here as it would on a colleague's laptop offline.
Every notebook is rendered to ``--out/<name>.html``, a failed one too (up to
the cell that raised, with its traceback). The committed notebooks stay as
they are (without outputs). Exit code 1 when any notebook fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Runs in the kernel before the notebook's own cells, and is removed before
# rendering. Loopback stays open: the kernel talks to nbconvert through it.
NETWORK_OFF = """\
import socket as _socket

_LOCAL = {"localhost", "127.0.0.1", "::1", "", None}


def _refuse(host):
    if host not in _LOCAL and not str(host).startswith("127."):
        raise OSError(
            f"network access to {host!r} is off while notebooks run "
            "(scripts/run_notebooks.py): read local or sample data"
        )


def _getaddrinfo(host, *args, _real=_socket.getaddrinfo, **kwargs):
    _refuse(host)
    return _real(host, *args, **kwargs)


def _connect(self, address, _real=_socket.socket.connect):
    if self.family in (_socket.AF_INET, _socket.AF_INET6):
        _refuse(address[0])
    return _real(self, address)


_socket.getaddrinfo = _getaddrinfo
_socket.socket.connect = _connect
del _getaddrinfo, _connect
"""


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


def run(path: Path, out: Path, timeout: int) -> str | None:
    """Execute ``path`` and write its HTML to ``out``; the error, or None."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import CellExecutionError, ExecutePreprocessor

    notebook = nbformat.read(path, as_version=4)
    guard = nbformat.v4.new_code_cell(NETWORK_OFF)
    notebook.cells.insert(0, guard)
    executor = ExecutePreprocessor(timeout=timeout, kernel_name="python3")
    error = None
    try:
        executor.preprocess(
            notebook, {"metadata": {"path": str(path.parent.resolve())}}
        )
    except CellExecutionError as failure:
        print(failure, file=sys.stderr)  # the cell and its traceback
        error = f"{failure.ename}: {failure.evalue}"
    except Exception as failure:  # a timeout, a kernel that died
        error = f"{type(failure).__name__}: {failure}"
    finally:
        notebook.cells.remove(guard)
        html, _ = HTMLExporter().from_notebook_node(notebook)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    return error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="reports/notebooks", type=Path)
    parser.add_argument(
        "--timeout", default=600, type=int, help="seconds per cell"
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, default=[Path("notebooks")]
    )
    args = parser.parse_args(argv)
    failed = []
    for path in notebooks(args.paths):
        html = args.out / f"{path.stem}.html"
        print(f"--- {path}", flush=True)
        error = run(path, html, args.timeout)
        if error is None:
            print(f"ran {path} -> {html}")
        else:
            print(f"{path}: {error}", file=sys.stderr)
            print(f"FAILED {path} (rendered up to the error: {html})")
            failed.append(path)
    if failed:
        names = ", ".join(str(p) for p in failed)
        print(f"notebooks that do not run: {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
