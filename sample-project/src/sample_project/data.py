"""Loading data: a bundled sample, a local file, or an Azure ML datastore.

``source`` is one of:

- ``sklearn:breast_cancer``: the sample data set that scikit-learn ships,
  so that everything runs offline;
- a local path to a ``.csv`` or ``.parquet`` file;
- a datastore URI (``azureml://...``, ``abfss://...``, ``https://...``),
  read through fsspec; install ``azureml-fsspec`` for ``azureml://``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

SAMPLE_SOURCE = "sklearn:breast_cancer"
TARGET = "target"


class DataError(ValueError):
    """The data cannot be loaded or does not have the expected shape."""


def load_dataset(source: str) -> pd.DataFrame:
    """Read the data set named by ``source`` into a frame."""
    if source == SAMPLE_SOURCE:
        from sklearn.datasets import load_breast_cancer

        return load_breast_cancer(as_frame=True).frame
    if "://" in source:
        return _read_uri(source)
    path = Path(source)
    if not path.is_file():
        raise DataError(
            f"no data file at {path}; set data.source in config/model.yml"
        )
    return read_table(path)


def read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise DataError(f"cannot read {path}: {error}") from error
    if frame.empty:
        raise DataError(f"{path} has no rows")
    return frame


def _read_uri(uri: str) -> pd.DataFrame:
    try:
        if uri.endswith(".parquet"):
            return pd.read_parquet(uri)
        return pd.read_csv(uri)
    except ImportError as error:
        raise DataError(
            f"reading {uri} needs an fsspec driver ({error}); for Azure ML "
            "datastores `pip install azureml-fsspec`"
        ) from error


def require_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataError(f"{what} is missing columns: {', '.join(missing)}")


def split(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified, seeded train/test split: the same rows every time."""
    require_columns(frame, [target], "the data set")
    train, test = train_test_split(
        frame,
        test_size=test_size,
        random_state=seed,
        stratify=frame[target],
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)
