"""Scoring: the Azure ML online-endpoint contract, and batch scoring.

Azure ML calls ``init()`` once when the deployment starts (the model folder
is in ``$AZUREML_MODEL_DIR``) and ``run(raw_data)`` for every request. The
request body is JSON, ``{"data": [{"feature": value, ...}, ...]}``; the
answer is ``{"predictions": [...], "probabilities": [...]}``.

Batch scoring of a CSV file:

    python -m <package>.score --input batch.csv --output scored.csv
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import metadata
from pathlib import Path

import joblib
import pandas as pd

if not __package__:
    # The Azure ML inference server loads this file by path, not as part of
    # the package: make the package importable from the code folder (src/).
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sample_project.data import (  # noqa: E402
    DataError,
    read_table,
    require_columns,
)
from sample_project.train import INFO_FILE, MODEL_FILE  # noqa: E402

_model = None
_features: list[str] = []


def model_dir() -> Path:
    """$AZUREML_MODEL_DIR (set by Azure ML), $MODEL_DIR, or ./models.

    A registered model folder may hold the files directly or one level
    down (``<model-dir>/models/``), depending on how it was registered.
    """
    base = Path(
        os.environ.get("AZUREML_MODEL_DIR")
        or os.environ.get("MODEL_DIR")
        or "models"
    )
    for candidate in (base, *sorted(base.glob("*/"))):
        if (candidate / MODEL_FILE).is_file():
            return candidate
    return base


def version_differences(trained: dict[str, str]) -> list[str]:
    """The packages whose installed version is not the one that trained the
    model (recorded in model-info.json), as "name: trained X, installed Y"."""
    differences = []
    for name, version in sorted(trained.items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "none"
        if installed != version:
            differences.append(
                f"{name}: trained {version}, installed {installed}"
            )
    return differences


def init() -> None:
    """Load the model once per process; a model that does not load names
    the packages whose versions differ from training."""
    global _model, _features
    folder = model_dir()
    if not (folder / MODEL_FILE).is_file():
        raise DataError(f"no model at {folder / MODEL_FILE}")
    info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
    differences = version_differences(info.get("packages", {}))
    if differences:
        print(
            "warning: this environment differs from training: "
            + "; ".join(differences)
            + " (deploy/conda.yml comes from uv.lock: `make serving-env`)",
            file=sys.stderr,
        )
    try:
        _model = joblib.load(folder / MODEL_FILE)
    except Exception as error:
        raise DataError(
            f"cannot load {folder / MODEL_FILE}: {error}; package versions "
            f"that differ from training: {'; '.join(differences) or 'none'}"
        ) from error
    _features = list(info["features"])


def predict(frame: pd.DataFrame) -> tuple[list[int], list[float]]:
    if _model is None:
        init()
    require_columns(frame, _features, "the request")
    features = frame[_features].astype(float)
    labels = _model.predict(features)
    scores = _model.predict_proba(features)[:, 1]
    return [int(x) for x in labels], [round(float(s), 6) for s in scores]


def run(raw_data: str) -> dict:
    """Answer one request; a bad request gets an error, not a crash."""
    try:
        payload = json.loads(raw_data)
        records = payload["data"] if isinstance(payload, dict) else payload
        if not isinstance(records, list) or not records:
            raise DataError('expected {"data": [ {feature: value}, ... ]}')
        labels, scores = predict(pd.DataFrame.from_records(records))
    except (ValueError, KeyError, TypeError) as error:
        return {"error": str(error)}
    return {"predictions": labels, "probabilities": scores}


def score_file(source: Path, target: Path) -> int:
    frame = read_table(source)
    labels, scores = predict(frame)
    scored = frame.assign(prediction=labels, probability=scores)
    target.parent.mkdir(parents=True, exist_ok=True)
    scored.to_csv(target, index=False)
    return len(scored)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a CSV file in batch.")
    parser.add_argument("--input", required=True, type=Path)
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--model-dir", type=Path)
    args = parser.parse_args(argv)
    if args.model_dir:
        os.environ["MODEL_DIR"] = str(args.model_dir)
    try:
        rows = score_file(args.input, args.output)
    except DataError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"scored {rows} rows -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
