"""The model itself: trained on the training split, judged on the held-out
split, against the thresholds of the Plan (config/model.yml)."""

import pytest

from sample_project.evaluate import evaluate


@pytest.mark.quality
def test_the_trained_model_meets_every_threshold(config, model_dir):
    scores, checks = evaluate(config, model_dir, baseline=None)
    failures = [
        f"{c.metric}={c.value} ({c.reason})" for c in checks if not c.passed
    ]
    assert not failures, failures
    for name, minimum in config.quality.thresholds.items():
        assert scores[name] >= minimum


@pytest.mark.quality
def test_training_saves_what_scoring_and_monitoring_need(model_dir):
    for name in ("model.joblib", "model-info.json", "reference.csv"):
        assert (model_dir / name).is_file(), name
