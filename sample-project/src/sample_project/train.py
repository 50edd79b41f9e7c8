"""Train the model and save it, with what monitoring needs, to models/.

    python -m <package>.train [--config config/model.yml] [--out models]

Writes ``model.joblib`` (the fitted pipeline), ``model-info.json`` (the
features, data source and a fingerprint of the training data) and
``reference.csv`` (the training rows, so that monitoring can compare new
batches without access to the training data).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import joblib
import pandas as pd

from .config import ConfigError, ModelConfig, load_config
from .data import DataError, load_dataset, split
from .features import build_model, feature_columns

MODEL_FILE = "model.joblib"
INFO_FILE = "model-info.json"
REFERENCE_FILE = "reference.csv"


def fingerprint(frame: pd.DataFrame) -> str:
    """A short, stable hash of the data: the data version in reports."""
    digest = hashlib.sha256(frame.to_csv(index=False).encode("utf-8"))
    return digest.hexdigest()[:16]


def train(config: ModelConfig, out_dir: Path) -> dict[str, object]:
    frame = load_dataset(config.data_source)
    train_rows, _ = split(frame, config.target, config.test_size, config.seed)
    columns = feature_columns(train_rows, config.target)
    model = build_model(
        columns, random_state=config.seed, **config.hyperparameters
    )
    model.fit(train_rows[columns], train_rows[config.target])

    out_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out_dir / MODEL_FILE)
    train_rows[[*columns, config.target]].to_csv(
        out_dir / REFERENCE_FILE, index=False
    )
    info = {
        "name": config.name,
        "target": config.target,
        "features": columns,
        "data_source": config.data_source,
        "data_version": fingerprint(frame),
        "training_rows": len(train_rows),
    }
    (out_dir / INFO_FILE).write_text(
        json.dumps(info, indent=2) + "\n", encoding="utf-8"
    )
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="default: config/model.yml")
    parser.add_argument("--out", default="models", type=Path)
    args = parser.parse_args(argv)
    try:
        info = train(load_config(args.config), args.out)
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(
        f"trained {info['name']} on {info['training_rows']} rows "
        f"(data {info['data_version']}) -> {args.out / MODEL_FILE}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
