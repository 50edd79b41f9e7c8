"""Helpers for the tests: generating projects, running the CLI, reading YAML."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mlops_scaffold.cli import main
from mlops_scaffold.create import new_project


def generate(destination: Path, *, git: bool = True, **answers: Any) -> Path:
    """Generate a project with --defaults and the given answers."""
    return new_project(destination, data=answers, defaults=True, git=git).path


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def invoke(*args: str) -> CliResult:
    """Run the CLI in-process, through the same `main` the console script
    uses, capturing its output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in args])
    return CliResult(code, out.getvalue(), err.getvalue())


def load_yaml(path: Path) -> Any:
    """YAML 1.1 loading as GitHub does it would turn `on` into True; these
    tests read workflows with the key kept as the string 'on'."""
    text = path.read_text(encoding="utf-8")
    return yaml.load(text, Loader=_StringOnLoader)


class _StringOnLoader(yaml.SafeLoader):
    pass


_StringOnLoader.yaml_implicit_resolvers = {
    key: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:bool"
    ]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _StringOnLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        __import__("re").compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list(_first),
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (outside .git) with its content."""
    if not folder.exists():
        return {}
    if folder.is_file():
        return {".": folder.read_bytes()}
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def template_repository(
    root: Path, tag: str, edit: Callable[[Path], None] | None = None
) -> Path:
    """This repository's template (root copier.yml + templates/) as a git
    repository of its own, tagged ``tag``: what a clone of the published
    repository holds. ``edit`` changes the copy before the commit."""
    repo = Path(__file__).resolve().parents[1]
    source = root / "mlops-scaffold"
    source.mkdir(parents=True)
    shutil.copy(repo / "copier.yml", source / "copier.yml")
    shutil.copytree(
        repo / "templates",
        source / "templates",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    if edit is not None:
        edit(source)
    git(source, "init", "--quiet", "--initial-branch=main")
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "-m", tag)
    git(source, "tag", tag)
    return source


def install_fake(bin_dir: Path, name: str, source: Path) -> Path:
    """``bin_dir/name``: a command that runs the stand-in ``source`` (a
    tests/fake_*.py module with ``main(args) -> int``), imported so that
    Python keeps its bytecode (a release calls `az` a hundred times)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    command = bin_dir / name
    command.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.path.insert(0, {str(source.parent)!r})\n"
        f"from {source.stem} import main\n"
        "sys.exit(main(sys.argv[1:]))\n",
        encoding="utf-8",
    )
    command.chmod(0o755)
    return command
