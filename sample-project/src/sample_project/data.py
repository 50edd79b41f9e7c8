"""Loading data: a bundled sample, a local file, or an Azure ML datastore.

``source`` is one of:

- ``sklearn:breast_cancer``: the sample data set that scikit-learn ships,
  so that everything runs offline;
- a local path to a ``.csv`` or ``.parquet`` file;
- an Azure ML datastore URI in its full form, ``azureml://subscriptions/
  <id>/resourcegroups/<group>/workspaces/<workspace>/datastores/<name>/
  paths/<file>`` (Studio's "Copy URI"), read through fsspec with the
  ``azure-data`` dependency group (azureml-fsspec) and an ``az login``;
  CD logs in and installs it when data.source is one (``in_workspace``);
- another fsspec URI (``abfss://...``, ``https://...``).

    python -m <package>.data source        # data.source of the config
    python -m <package>.data in-workspace  # "true" for a datastore URI
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: `make data-in-workspace` reads
    import pandas as pd  # only the config, and pandas takes seconds

SAMPLE_SOURCE = "sklearn:breast_cancer"
TARGET = "target"
DATASTORE_SCHEME = "azureml://"
# azureml-fsspec reads only the full form (azureml-fsspec's README).
DATASTORE_URI = re.compile(
    r"azureml://subscriptions/[^/]+/resourcegroups/[^/]+/workspaces/[^/]+"
    r"/datastores/[^/]+/paths/.+",
    re.IGNORECASE,
)


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
    import pandas as pd

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


def in_workspace(source: str) -> bool:
    """Whether ``source`` lives in an Azure ML datastore: the jobs that read
    it need a login and the azure-data dependency group."""
    return source.startswith(DATASTORE_SCHEME)


def _read_uri(uri: str) -> pd.DataFrame:
    import pandas as pd

    if in_workspace(uri) and not DATASTORE_URI.fullmatch(uri):
        raise DataError(
            f"{uri} is not a full datastore URI: use azureml://subscriptions/"
            "<id>/resourcegroups/<group>/workspaces/<workspace>/datastores/"
            "<name>/paths/<file> (Azure ML studio, the file's Copy URI)"
        )
    try:
        if uri.endswith(".parquet"):
            return pd.read_parquet(uri)
        return pd.read_csv(uri)
    except ImportError as error:
        raise DataError(
            f"reading {uri} needs an fsspec driver ({error}); for Azure ML "
            'datastores: make install GROUPS="dev azure-data", and az login'
        ) from error


def require_columns(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise DataError(f"{what} is missing columns: {', '.join(missing)}")


def split(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified, seeded train/test split: the same rows every time."""
    from sklearn.model_selection import train_test_split

    require_columns(frame, [target], "the data set")
    train, test = train_test_split(
        frame,
        test_size=test_size,
        random_state=seed,
        stratify=frame[target],
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    """What the scripts and pipelines need to know about data.source."""
    from .config import ConfigError, load_config

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("question", choices=["source", "in-workspace"])
    parser.add_argument("--config", help="default: config/model.yml")
    args = parser.parse_args(argv)
    try:
        source = load_config(args.config).data_source
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.question == "source":
        print(source)
    else:
        print("true" if in_workspace(source) else "false")
    return 0


if __name__ == "__main__":
    sys.exit(main())
