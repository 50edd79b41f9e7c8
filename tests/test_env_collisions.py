"""No environment variable that a generated workflow or pipeline sets can
change what a Makefile target does behind its back.

GNU make takes a variable assigned with ``?=`` from the environment
(make manual, "Variables from the Environment"; ``=``/``:=`` assignments
win over it). A step ``env: EXTRAS: dev`` therefore became
``uv sync --extra dev`` in ``make install`` and failed every CI job
(issue 24). Azure Pipelines also exports every non-secret variable as an
environment variable (name upper-cased, ``.`` and space turned into ``_``),
so pipeline ``variables:`` count too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import load_yaml

OVERRIDABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\?=", re.MULTILINE)


def environment_defaults(makefile: Path) -> set[str]:
    """Makefile variables that the environment overrides (``NAME ?=``)."""
    return set(OVERRIDABLE.findall(makefile.read_text(encoding="utf-8")))


def azure_env_name(name: str) -> str:
    return re.sub(r"[. ]", "_", name).upper()


def env_names(node: object, azure: bool) -> Iterator[str]:
    """Every name set in an ``env:`` mapping (and, on Azure, every
    variable), at any level of a workflow, action or pipeline."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, dict):
                yield from (str(name) for name in value)
            if azure and key == "variables":
                if isinstance(value, dict):
                    yield from (azure_env_name(str(n)) for n in value)
                elif isinstance(value, list):
                    yield from (
                        azure_env_name(str(item["name"]))
                        for item in value
                        if isinstance(item, dict) and "name" in item
                    )
            yield from env_names(value, azure)
    elif isinstance(node, list):
        for item in node:
            yield from env_names(item, azure)


def ci_files(project: Path) -> list[tuple[Path, bool]]:
    github = [
        *(project / ".github" / "workflows").glob("*.yml"),
        *(project / ".github" / "actions").glob("*/action.yml"),
    ]
    azure = list((project / "azure-pipelines").rglob("*.yml"))
    return [(p, False) for p in sorted(github)] + [
        (p, True) for p in sorted(azure)
    ]


def test_the_makefile_has_environment_defaults(both_project: Path):
    # The check below must be able to fail: these are the variables the
    # EXTRAS leak went through.
    assert {"EXTRAS", "GROUPS", "LOCKED"} <= environment_defaults(
        both_project / "Makefile"
    )


def test_no_ci_env_name_overrides_a_makefile_variable(both_project: Path):
    defaults = environment_defaults(both_project / "Makefile")
    files = ci_files(both_project)
    assert len(files) > 8
    collisions = sorted(
        (str(path.relative_to(both_project)), name)
        for path, azure in files
        for name in env_names(load_yaml(path), azure)
        if name in defaults
    )
    assert collisions == []


@pytest.mark.parametrize(
    ("document", "azure", "expected"),
    [
        ({"jobs": {"a": {"steps": [{"env": {"EXTRAS": "dev"}}]}}}, False, 1),
        ({"variables": {"my.var": "x", "Extras": "y"}}, True, 1),
        ({"variables": [{"name": "extras", "value": "dev"}]}, True, 1),
    ],
)
def test_the_collision_scan_finds_a_leak(document, azure, expected):
    names = [n for n in env_names(document, azure) if n == "EXTRAS"]
    assert len(names) == expected
