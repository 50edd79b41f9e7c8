"""The Plan step: what the model must achieve, read from config/model.yml.

One file holds the model's requirements: the data source, the metric
thresholds of the quality gate, the largest drop allowed against the
production model, and the drift limits that monitoring applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG = Path("config/model.yml")
SUPPORTED_METRICS = ("roc_auc", "accuracy", "f1", "precision", "recall")


class ConfigError(ValueError):
    """config/model.yml is missing a value or has a wrong one."""


@dataclass(frozen=True)
class QualityGate:
    primary_metric: str
    thresholds: dict[str, float]
    max_drop_vs_production: float


@dataclass(frozen=True)
class DriftLimits:
    psi_threshold: float
    ks_pvalue: float


@dataclass(frozen=True)
class ModelConfig:
    name: str
    target: str
    data_source: str
    test_size: float
    seed: int
    quality: QualityGate
    drift: DriftLimits
    hyperparameters: dict[str, Any] = field(default_factory=dict)


def config_path(path: str | Path | None = None) -> Path:
    """The config file: the argument, $MODEL_CONFIG, or config/model.yml."""
    return Path(path or os.environ.get("MODEL_CONFIG") or DEFAULT_CONFIG)


def load_config(path: str | Path | None = None) -> ModelConfig:
    source = config_path(path)
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except OSError as error:
        raise ConfigError(f"cannot read {source}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(f"{source} is not valid YAML: {error}") from error
    try:
        model, data = raw["model"], raw["data"]
        quality, monitoring = raw["quality"], raw["monitoring"]
        gate = QualityGate(
            primary_metric=str(quality["primary_metric"]),
            thresholds={
                str(k): float(v) for k, v in quality["thresholds"].items()
            },
            max_drop_vs_production=float(quality["max_drop_vs_production"]),
        )
        config = ModelConfig(
            name=str(model["name"]),
            target=str(model["target"]),
            data_source=str(data["source"]),
            test_size=float(data["test_size"]),
            seed=int(data["seed"]),
            quality=gate,
            drift=DriftLimits(
                psi_threshold=float(monitoring["psi_threshold"]),
                ks_pvalue=float(monitoring["ks_pvalue"]),
            ),
            hyperparameters=dict(model.get("hyperparameters") or {}),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ConfigError(f"{source}: missing or invalid {error}") from error
    unknown = set(gate.thresholds) - set(SUPPORTED_METRICS)
    if gate.primary_metric not in SUPPORTED_METRICS or unknown:
        raise ConfigError(
            f"{source}: metrics must be among {', '.join(SUPPORTED_METRICS)}"
        )
    if not 0 < config.test_size < 1:
        raise ConfigError(f"{source}: data.test_size must be between 0 and 1")
    return config
