"""mlops-scaffold: ML repositories that ship models the DevOps way.

The public surface is a handful of keyword-only functions; the CLI in
``mlops_scaffold.cli`` is a thin shell over them. Heavy libraries (copier,
nbformat, IPython, check-jsonschema) are imported inside the functions that
need them so that ``mlops-scaffold --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what a user's type checker sees; imported lazily below
    from .adopt import adopt_project
    from .create import new_project
    from .notebook import convert_notebooks
    from .pipelines.check import check_repository
    from .pipelines.review import review_change
    from .update import update_project

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "adopt_project",
    "check_repository",
    "convert_notebooks",
    "new_project",
    "review_change",
    "update_project",
]

_LAZY = {
    "new_project": "mlops_scaffold.create",
    "update_project": "mlops_scaffold.update",
    "adopt_project": "mlops_scaffold.adopt",
    "check_repository": "mlops_scaffold.pipelines.check",
    "review_change": "mlops_scaffold.pipelines.review",
    "convert_notebooks": "mlops_scaffold.notebook",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module_name), name)
