"""Imported before coverage starts (`make test` runs pytest with
``-p tests.preload_dependencies``), so that coverage traces the package and
its tests, not the import of pandas, scikit-learn and scipy: that import
under the tracer was about a third of `make test`. The coverage figures do
not change. A module that is not installed is skipped."""

import importlib

DEPENDENCIES = (
    "pandas",
    "scipy.stats",
    "sklearn.compose",
    "sklearn.datasets",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "yaml",
    "joblib",
)

for name in DEPENDENCIES:
    try:
        importlib.import_module(name)
    except ImportError:
        pass
