"""The model-quality gate: metrics against the Plan and the production model.

    python -m <package>.evaluate [--config config/model.yml]
        [--model-dir models] [--production-dir models/production]
        [--out reports]

Scores the held-out split, then checks each metric against its minimum in
config/model.yml and the primary metric against the production model's,
which is scored on the same held-out rows (a champion's metrics from its
own, older split are not comparable). The production model comes from the
model registry (`make baseline`, tracking.py); the table says when there is
none yet or the registry could not be read. Writes ``metrics.json`` and a
markdown table (``quality.md``) to ``--out`` and the verdict to the
training's MLflow run. Exit code 0 when the gate passes, 1 when it fails,
2 when the input is unusable.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import joblib

from . import metrics, tracking
from .config import ConfigError, ModelConfig, load_config
from .data import DataError, load_dataset, require_columns, split
from .train import INFO_FILE, MODEL_FILE

DEFAULT_PRODUCTION = Path("models/production")


@dataclass(frozen=True)
class Check:
    metric: str
    value: float | None
    threshold: float | None
    baseline: float | None
    passed: bool
    reason: str


def gate(
    config: ModelConfig,
    scores: dict[str, float],
    baseline: dict[str, float] | None,
) -> list[Check]:
    """One check per metric with a threshold, plus the primary metric's
    drop against the production model."""
    checks = []
    quality = config.quality
    names = dict.fromkeys([quality.primary_metric, *quality.thresholds])
    for name in names:
        value = scores.get(name)
        threshold = quality.thresholds.get(name)
        base = (baseline or {}).get(name)
        passed, reason = True, "ok"
        if value is None:
            passed, reason = False, "not computed"
        elif threshold is not None and value < threshold:
            passed, reason = False, f"below the minimum {threshold}"
        if (
            passed
            and name == quality.primary_metric
            and base is not None
            and base - value > quality.max_drop_vs_production
        ):
            passed = False
            reason = (
                f"{base - value:.4f} below production "
                f"(allowed {quality.max_drop_vs_production})"
            )
        checks.append(Check(name, value, threshold, base, passed, reason))
    return checks


def markdown(checks: list[Check], model_name: str, note: str = "") -> str:
    def show(number: float | None) -> str:
        return "n/a" if number is None else f"{number:.4f}"

    verdict = "passed" if all(c.passed for c in checks) else "FAILED"
    lines = [
        f"## Model quality gate: {verdict}",
        "",
        f"Model `{model_name}` on the held-out split.",
        "",
        *([f"Baseline: {note}", ""] if note else []),
        "| metric | value | threshold | baseline | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in checks:
        result = "pass" if c.passed else f"FAIL: {c.reason}"
        lines.append(
            f"| {c.metric} | {show(c.value)} | {show(c.threshold)} "
            f"| {show(c.baseline)} | {result} |"
        )
    return "\n".join(lines) + "\n"


def production_model(folder: Path) -> tuple[Path | None, str]:
    """The production model's folder when `make baseline` fetched one, and
    a sentence that says what the gate compares with."""
    state_file = folder / "baseline.json"
    if not state_file.is_file():
        return None, (
            "no production model fetched (`make baseline`); thresholds only"
        )
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read {state_file}: {error}") from error
    name = state.get("name", "the model")
    if state.get("status") == "found" and (folder / MODEL_FILE).is_file():
        return folder, (
            f"production model {name} version {state.get('version')}, "
            "scored on the same held-out rows"
        )
    if state.get("status") == "none":
        return None, (
            f"no production model registered yet ({name}@"
            f"{tracking.PRODUCTION_ALIAS}); thresholds only"
        )
    return None, (
        "WARNING: the model registry could not be read "
        f"({state.get('error', 'unknown error')}); thresholds only"
    )


def score(model_dir: Path, frame, target: str) -> dict[str, float]:
    model_path = model_dir / MODEL_FILE
    if not model_path.is_file():
        raise DataError(f"no model at {model_path}; run the train task first")
    model = joblib.load(model_path)
    info = json.loads((model_dir / INFO_FILE).read_text(encoding="utf-8"))
    require_columns(frame, info["features"], "the held-out data")
    features = frame[info["features"]]
    return metrics.compute(
        frame[target],
        model.predict(features),
        model.predict_proba(features)[:, 1],
    )


def evaluate(
    config: ModelConfig, model_dir: Path, baseline: Path | None
) -> tuple[dict[str, float], list[Check]]:
    """The candidate in ``model_dir`` and, when given, the production model
    in ``baseline``, both scored on the same held-out split."""
    frame = load_dataset(config.data_source)
    _, test = split(frame, config.target, config.test_size, config.seed)
    scores = score(model_dir, test, config.target)
    production = None
    if baseline is not None:
        production = score(baseline, test, config.target)
    return scores, gate(config, scores, production)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="default: config/model.yml")
    parser.add_argument("--model-dir", default="models", type=Path)
    parser.add_argument(
        "--production-dir", default=DEFAULT_PRODUCTION, type=Path
    )
    parser.add_argument("--out", default="reports", type=Path)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        production, note = production_model(args.production_dir)
        scores, checks = evaluate(config, args.model_dir, production)
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    passed = all(check.passed for check in checks)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "model": config.name,
        "passed": passed,
        "metrics": scores,
        "baseline": note,
        "checks": [asdict(check) for check in checks],
    }
    (args.out / "metrics.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    table = markdown(checks, config.name, note)
    (args.out / "quality.md").write_text(table, encoding="utf-8")
    print(table)
    log_verdict(args.model_dir, scores, passed, note)
    return 0 if passed else 1


def log_verdict(
    model_dir: Path, scores: dict[str, float], passed: bool, note: str
) -> None:
    """Add the verdict to the training's MLflow run, when it is in this
    store (a model trained on Azure ML logged its run there) and the run
    does not carry this verdict yet: MLflow is loaded only to log."""
    info_path = model_dir / INFO_FILE
    try:
        info = json.loads(info_path.read_text("utf-8"))
        run_id = info.get("mlflow_run_id")
        if not run_id or tracking.skip_reason() is not None:
            return
        verdict = {"passed": passed, "baseline": note}
        if info.get("mlflow_verdict") == verdict:
            print(f"mlflow: run {run_id} has this verdict already")
            return
        tracking.log_gate(run_id, scores, verdict)
        info["mlflow_verdict"] = verdict
        info_path.write_text(json.dumps(info, indent=2) + "\n", "utf-8")
        print(f"mlflow: verdict logged to run {run_id}")
    except Exception as error:  # the verdict stands without the log
        print(f"warning: the verdict was not logged to MLflow: {error}")


if __name__ == "__main__":
    sys.exit(main())
