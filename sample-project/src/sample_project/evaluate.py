"""The model-quality gate: metrics against the Plan and the production model.

    python -m <package>.evaluate [--config config/model.yml]
        [--model-dir models] [--baseline models/production/metrics.json]
        [--out reports]

Scores the held-out split, then checks each metric against its minimum in
config/model.yml and the primary metric against the production model's
(when a baseline file is given or found). Writes ``metrics.json`` and a
markdown table (``quality.md``) to ``--out``. Exit code 0 when the gate
passes, 1 when it fails, 2 when the input is unusable.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import joblib

from . import metrics
from .config import ConfigError, ModelConfig, load_config
from .data import DataError, load_dataset, require_columns, split
from .train import INFO_FILE, MODEL_FILE

DEFAULT_BASELINE = Path("models/production/metrics.json")


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


def markdown(checks: list[Check], model_name: str) -> str:
    def show(number: float | None) -> str:
        return "n/a" if number is None else f"{number:.4f}"

    verdict = "passed" if all(c.passed for c in checks) else "FAILED"
    lines = [
        f"## Model quality gate: {verdict}",
        "",
        f"Model `{model_name}` on the held-out split.",
        "",
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


def load_baseline(path: Path | None) -> dict[str, float] | None:
    if path is None:
        path = DEFAULT_BASELINE if DEFAULT_BASELINE.is_file() else None
    if path is None:
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DataError(f"cannot read the baseline {path}: {error}") from error
    return {k: float(v) for k, v in raw.get("metrics", raw).items()}


def evaluate(
    config: ModelConfig, model_dir: Path, baseline: dict[str, float] | None
) -> tuple[dict[str, float], list[Check]]:
    model_path = model_dir / MODEL_FILE
    if not model_path.is_file():
        raise DataError(f"no model at {model_path}; run the train task first")
    model = joblib.load(model_path)
    info = json.loads((model_dir / INFO_FILE).read_text(encoding="utf-8"))
    frame = load_dataset(config.data_source)
    _, test = split(frame, config.target, config.test_size, config.seed)
    require_columns(test, info["features"], "the held-out data")
    features = test[info["features"]]
    scores = metrics.compute(
        test[config.target],
        model.predict(features),
        model.predict_proba(features)[:, 1],
    )
    return scores, gate(config, scores, baseline)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="default: config/model.yml")
    parser.add_argument("--model-dir", default="models", type=Path)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--out", default="reports", type=Path)
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        scores, checks = evaluate(
            config, args.model_dir, load_baseline(args.baseline)
        )
    except (ConfigError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    passed = all(check.passed for check in checks)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {
        "model": config.name,
        "passed": passed,
        "metrics": scores,
        "checks": [asdict(check) for check in checks],
    }
    (args.out / "metrics.json").write_text(
        json.dumps(report, indent=2) + "\n", encoding="utf-8"
    )
    table = markdown(checks, config.name)
    (args.out / "quality.md").write_text(table, encoding="utf-8")
    print(table)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
