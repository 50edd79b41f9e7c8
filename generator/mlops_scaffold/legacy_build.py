"""Projects that build with setup.py / setup.cfg (no pyproject.toml): their
metadata, read without running any of their code, and the template's
pyproject.toml turned into one that keeps setuptools as the build.

uv (``make install``) needs a ``[project]`` table, so ``adopt`` writes a
pyproject.toml made from what setup.py or setup.cfg declare: name, version,
description, author, Python and dependencies, and setuptools' package
discovery (``src/`` layout or the packages listed). setup.py stays: with a
``[project]`` table setuptools takes the metadata from pyproject.toml.
A setup.py that computes its metadata cannot be read without running it:
then adopt refuses and says what to write.
"""

from __future__ import annotations

import ast
import configparser
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import MalformedFileError
from .yamlio import read_bounded

MAX_SETUP_BYTES = 1024 * 1024
_FIELDS = (
    "name", "version", "description", "author", "author_email",
    "python_requires", "install_requires", "packages", "package_dir",
)  # fmt: skip


@dataclass
class SetupMetadata:
    """What setup.py / setup.cfg declare (None: not declared)."""

    source: str
    name: str | None = None
    version: str | None = None
    description: str | None = None
    author: str | None = None
    author_email: str | None = None
    python_requires: str | None = None
    install_requires: list[str] = field(default_factory=list)
    src_layout: bool = False
    packages: list[str] = field(default_factory=list)


def builds_with_setup(root: Path) -> bool:
    return not (root / "pyproject.toml").exists() and any(
        (root / name).is_file() and not (root / name).is_symlink()
        for name in ("setup.py", "setup.cfg")
    )


def read_setup(root: Path) -> SetupMetadata:
    """setup.cfg's ``[metadata]``/``[options]``, then setup.py's literal
    ``setup(...)`` keywords (setup.py wins where both say)."""
    values: dict[str, Any] = {}
    source = []
    cfg = root / "setup.cfg"
    if cfg.is_file() and not cfg.is_symlink():
        values.update(_from_cfg(cfg))
        source.append("setup.cfg")
    py = root / "setup.py"
    if py.is_file() and not py.is_symlink():
        values.update({k: v for k, v in _from_py(py).items() if v})
        source.append("setup.py")
    meta = SetupMetadata(" and ".join(source) or "setup.py")
    for key in ("name", "version", "description", "author", "author_email",
                "python_requires"):  # fmt: skip
        value = values.get(key)
        if isinstance(value, str) and value.strip():
            setattr(meta, key, " ".join(value.split()))
    requires = values.get("install_requires") or []
    if isinstance(requires, str):
        requires = [r for r in requires.splitlines() if r.strip()]
    meta.install_requires = [str(r).strip() for r in requires if str(r).strip()]
    package_dir = values.get("package_dir") or {}
    meta.src_layout = (
        isinstance(package_dir, dict) and package_dir.get("") == "src"
    ) or (root / "src").is_dir()
    packages = values.get("packages")
    if isinstance(packages, list):
        meta.packages = [str(p) for p in packages]
    if not meta.name:
        raise MalformedFileError(
            root / (source[-1] if source else "setup.py"),
            "does not declare the project's name as plain text (it is "
            "computed, or missing), so it cannot be read without running it",
            hint="write a pyproject.toml with a [project] table (name, "
            "version, dependencies) and adopt again",
        )
    return meta


def _from_cfg(path: Path) -> dict[str, Any]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(read_bounded(path, MAX_SETUP_BYTES).decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError) as error:
        raise MalformedFileError(path, f"cannot be read: {error}") from None
    found: dict[str, Any] = {}
    if parser.has_section("metadata"):
        for key in ("name", "version", "description", "author",
                    "author_email"):  # fmt: skip
            if parser.has_option("metadata", key):
                found[key] = parser.get("metadata", key)
    if parser.has_section("options"):
        for key in ("python_requires", "install_requires"):
            if parser.has_option("options", key):
                found[key] = parser.get("options", key)
        if parser.has_option("options", "package_dir"):
            text = parser.get("options", "package_dir")
            found["package_dir"] = {
                k.strip(): v.strip()
                for k, _, v in (
                    line.partition("=") for line in text.splitlines()
                )
                if v.strip()
            }
    return found


def _from_py(path: Path) -> dict[str, Any]:
    """The literal keyword arguments of the ``setup(...)`` call."""
    try:
        text = read_bounded(path, MAX_SETUP_BYTES).decode("utf-8")
        tree = ast.parse(text, str(path))
    except (SyntaxError, UnicodeDecodeError, ValueError) as error:
        raise MalformedFileError(
            path, f"is not valid Python: {error}"
        ) from None
    found: dict[str, Any] = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            == "setup"
        ):
            continue
        for keyword in node.keywords:
            if keyword.arg in _FIELDS:
                try:
                    found[keyword.arg] = ast.literal_eval(keyword.value)
                except (ValueError, TypeError, SyntaxError, RecursionError):
                    found[keyword.arg] = None  # computed: not known
    return found


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string


def setuptools_pyproject(template: str, meta: SetupMetadata) -> str:
    """The template's pyproject.toml with setuptools as the build, the
    project's version and its dependencies (beside the template's), and
    setuptools' package discovery instead of hatch's."""
    text = re.sub(
        r"(?ms)^\[build-system\]\n.*?(?=^\[)",
        "[build-system]\n"
        "# setuptools, as before adopt (setup.py stays; the metadata is\n"
        "# read from here).\n"
        'requires = ["setuptools>=64"]\n'
        'build-backend = "setuptools.build_meta"\n\n',
        template,
        count=1,
    )
    if meta.version:
        text = re.sub(
            r'(?m)^version = ".*"$',
            f"version = {_toml_string(meta.version)}",
            text,
            count=1,
        )
    if meta.install_requires:
        theirs = "".join(
            f"    {_toml_string(r)},\n" for r in meta.install_requires
        )
        text = re.sub(
            r"(?m)^dependencies = \[\n",
            lambda m: m.group(0) + f"    # from {meta.source}\n" + theirs,
            text,
            count=1,
        )
    if meta.src_layout:
        discovery = '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    elif meta.packages:
        listed = ", ".join(_toml_string(p) for p in meta.packages)
        discovery = f"[tool.setuptools]\npackages = [{listed}]\n"
    else:
        discovery = "[tool.setuptools.packages.find]\n"
    return re.sub(
        r"(?ms)^\[tool\.hatch\.build\.targets\.wheel\]\n.*?(?=^\[|\Z)",
        discovery + "\n",
        text,
        count=1,
    )
