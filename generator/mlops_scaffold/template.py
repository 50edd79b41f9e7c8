"""Where the Copier template lives and what it asks.

The same template serves three ways: from the installed wheel (packaged as
``mlops_scaffold/_template``), from a source checkout (``templates/``), and
for people who run plain ``copier copy`` on this repository, whose root
``copier.yml`` includes ``templates/copier.yml``.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from .errors import GenerationError

ANSWERS_FILE = ".copier-answers.yml"


def template_root() -> Path:
    """The folder that holds ``copier.yml``: ``MLOPS_SCAFFOLD_TEMPLATE``,
    else the packaged template, else the source checkout's."""
    override = os.environ.get("MLOPS_SCAFFOLD_TEMPLATE")
    if override:
        # A template folder under development (holds copier.yml).
        if not (Path(override) / "copier.yml").is_file():
            raise GenerationError(
                f"MLOPS_SCAFFOLD_TEMPLATE={override} has no copier.yml.",
                hint="point it at a template folder, or unset it",
            )
        return Path(override).resolve()
    return _installed_template_root()


@functools.cache
def _installed_template_root() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "_template", here.parents[1] / "templates"):
        if (candidate / "copier.yml").is_file():
            return candidate
    raise GenerationError(
        "The packaged template is missing from this installation.",
        hint="reinstall mlops-scaffold (`pip install --force-reinstall "
        "mlops-scaffold`)",
    )


def copier_config() -> dict[str, Any]:
    """``copier.yml`` as data (settings and questions)."""
    path = template_root() / "copier.yml"
    return _load_config(path, path.stat().st_mtime_ns)


@functools.cache
def _load_config(path: Path, modified: int) -> dict[str, Any]:
    from .yamlio import load_plain  # imports yaml: only when needed

    with path.open(encoding="utf-8") as handle:
        return load_plain(handle)


def questions() -> dict[str, dict[str, Any]]:
    """Every question, in order, keyed by its answer name."""
    return {
        name: spec
        for name, spec in copier_config().items()
        if not name.startswith("_")
    }


def asked_questions() -> dict[str, dict[str, Any]]:
    """The questions whose answers are recorded (``when: false`` ones are
    computed from the others and never saved)."""
    return {
        name: spec
        for name, spec in questions().items()
        if spec.get("when", True) is not False
    }
