"""Notebooks to production scripts: the converter generated projects ship.

The converter has one source, the template's
``project/scripts/notebook_to_script.py`` (see
docs/decisions/ for why): projects made by mlops-scaffold carry it, and this
module loads that same file from the installed template, so the tool and
every project convert notebooks alike.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from .errors import GenerationError

CONVERTER = Path("project", "scripts", "notebook_to_script.py")
MODULE_NAME = "mlops_scaffold._notebook_to_script"


def converter_path() -> Path:
    """The converter inside the packaged (or source-checkout) template."""
    from .template import _installed_template_root

    return _installed_template_root() / CONVERTER


@functools.cache
def converter() -> ModuleType:
    """The template's converter, imported as a module."""
    path = converter_path()
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise GenerationError(
            f"The notebook converter is missing from this installation "
            f"({path}).",
            hint="reinstall mlops-scaffold",
        )
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def __getattr__(name: str):
    """``notebook.convert_notebooks`` and friends, from the converter."""
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(converter(), name)
    except AttributeError:
        raise AttributeError(
            f"module {__name__!r} has no attribute {name!r}"
        ) from None
