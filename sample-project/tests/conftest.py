"""Shared fixtures: the project's config, the sample data, a trained model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sample_project.config import ModelConfig, load_config
from sample_project.data import load_dataset, split
from sample_project.train import train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def config() -> ModelConfig:
    os.environ["MODEL_CONFIG"] = str(ROOT / "config" / "model.yml")
    return load_config()


@pytest.fixture(scope="session")
def frame(config):
    return load_dataset(config.data_source)


@pytest.fixture(scope="session")
def splits(frame, config):
    return split(frame, config.target, config.test_size, config.seed)


@pytest.fixture(scope="session")
def model_dir(config, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("models")
    train(config, out)
    return out


@pytest.fixture(scope="session")
def sample_request() -> str:
    return (ROOT / "deploy" / "sample-request.json").read_text("utf-8")


@pytest.fixture
def scoring(model_dir, monkeypatch):
    """The scoring module pointed at a freshly trained model."""
    from sample_project import score

    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    monkeypatch.setattr(score, "_model", None)
    score.init()
    return score


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
