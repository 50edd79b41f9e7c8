"""Train the model and save it, with what monitoring needs, to models/.

    python -m <package>.train [--config config/model.yml] [--out models]
                              [--data PATH]

--data reads the rows from PATH instead of data.source: the Azure ML job
(deploy/train-job.yml) passes the copy of data.source that Azure ML
downloaded for it; model-info.json still names data.source.

Writes ``model.joblib`` (the fitted pipeline), ``model-info.json`` (the
features, data source, a fingerprint of the training data and the package
versions that scoring compares with its own) and ``reference.csv`` (the
training rows, so that monitoring can compare new batches without access to
the training data). Logs a run to MLflow (see tracking.py): parameters, the
held-out metrics the quality gate checks, the data fingerprint and the model
with its signature; --no-tracking skips it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import joblib
import pandas as pd

from . import metrics, tracking
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


def train(
    config: ModelConfig, out_dir: Path, data: str | None = None
) -> dict[str, object]:
    frame = load_dataset(data or config.data_source)
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
        "packages": tracking.package_versions(),
    }
    (out_dir / INFO_FILE).write_text(
        json.dumps(info, indent=2) + "\n", encoding="utf-8"
    )
    return info


def track(config: ModelConfig, out_dir: Path, data: str | None = None) -> str:
    """Log the trained model and its held-out metrics to MLflow; the run id
    goes into model-info.json so that the gate adds its verdict to it."""
    model = joblib.load(out_dir / MODEL_FILE)
    info_path = out_dir / INFO_FILE
    info = json.loads(info_path.read_text(encoding="utf-8"))
    frame = load_dataset(data or config.data_source)
    _, test = split(frame, config.target, config.test_size, config.seed)
    features = test[info["features"]]
    scores = metrics.compute(
        test[config.target],
        model.predict(features),
        model.predict_proba(features)[:, 1],
    )
    params = {
        **config.hyperparameters,
        "test_size": config.test_size,
        "seed": config.seed,
        "training_rows": info["training_rows"],
    }
    verdict = thresholds_verdict(config, scores)
    run_id = tracking.log_model_run(
        out_dir, model, features.head(5), params, scores, "train", verdict
    )
    info["mlflow_run_id"] = run_id
    if verdict is not None:
        info["mlflow_verdict"] = verdict
    info_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return run_id


def thresholds_verdict(
    config: ModelConfig, scores: dict[str, float]
) -> dict[str, object] | None:
    """The gate's verdict when it compares with the thresholds only (no
    production model fetched), so that the run carries it from the start
    and `make quality` right after `make train` need not load MLflow."""
    from .evaluate import DEFAULT_PRODUCTION, gate, production_model

    try:
        production, note = production_model(DEFAULT_PRODUCTION)
    except DataError:
        return None
    if production is not None:
        return None  # the gate scores the production model too, and logs
    checks = gate(config, scores, None)
    return {"passed": all(c.passed for c in checks), "baseline": note}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="default: config/model.yml")
    parser.add_argument("--out", default="models", type=Path)
    parser.add_argument("--no-tracking", action="store_true")
    parser.add_argument("--data", help="read the rows here, not data.source")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        info = train(config, args.out, args.data)
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    skipped = "--no-tracking" if args.no_tracking else tracking.skip_reason()
    if skipped:
        print(f"mlflow: not logged ({skipped})")
    else:
        try:
            run_id = track(config, args.out, args.data)
        except Exception as error:  # tracking must name what failed
            print(
                f"error: cannot log the run to MLflow at "
                f"{tracking.tracking_uri()}: {error}",
                file=sys.stderr,
            )
            return 1
        print(f"mlflow: run {run_id} at {tracking.tracking_uri()}")
    print(
        f"trained {info['name']} on {info['training_rows']} rows "
        f"(data {info['data_version']}) -> {args.out / MODEL_FILE}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
