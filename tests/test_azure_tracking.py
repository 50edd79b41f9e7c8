"""The generated tracking code against a stand-in for Azure ML's MLflow
tracking server: it serves runs, artefacts and the model registry but not
MLflow 3's logged-models API (/api/2.0/mlflow/logged-models; Azure/azure-sdk-
for-python#44896, Azure/azureml-examples#3902). Training's run, `promote`
and the gate's fetch of the production model must all work there."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from helpers import generate

pytestmark = pytest.mark.e2e  # runs the generated project's MLflow code


def refuse_logged_models(monkeypatch) -> None:
    """Every store call that maps to /api/2.0/mlflow/logged-models fails
    the way Azure ML answers it (404, ENDPOINT_NOT_FOUND)."""
    from mlflow.exceptions import MlflowException
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    def refused(*args, **kwargs):
        raise MlflowException(
            "404: /api/2.0/mlflow/logged-models is not served by this "
            "tracking server",
            error_code="ENDPOINT_NOT_FOUND",
        )

    names = [n for n in dir(SqlAlchemyStore) if "logged_model" in n]
    assert "create_logged_model" in names
    for name in names:
        monkeypatch.setattr(SqlAlchemyStore, name, refused)


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch):
    project = generate(tmp_path / "fraud-model", git=False, iac="none")
    path = project / "src" / "fraud_model" / "tracking.py"
    spec = importlib.util.spec_from_file_location("azure_tracking", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["azure_tracking"] = module
    spec.loader.exec_module(module)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/ml.db")
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    monkeypatch.chdir(tmp_path)
    refuse_logged_models(monkeypatch)
    yield module
    sys.modules.pop("azure_tracking", None)


def model_dir(tmp_path: Path):
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0] * 3, "b": [1.0, 0.0] * 6})
    target = [0, 0, 1, 1] * 3
    model = LogisticRegression().fit(frame, target)
    out = tmp_path / "models"
    out.mkdir()
    joblib.dump(model, out / "model.joblib")
    frame.to_csv(out / "reference.csv", index=False)
    info = {"name": "fraud-model", "data_version": "d1", "features": ["a", "b"],
            "data_source": "data/sample.csv"}  # fmt: skip
    (out / "model-info.json").write_text(json.dumps(info))
    return out, model, frame


def test_the_stand_in_refuses_what_azure_ml_refuses(tracking, tmp_path):
    import mlflow
    from mlflow.exceptions import MlflowException

    _, model, _ = model_dir(tmp_path)
    mlflow.set_tracking_uri(tracking.tracking_uri())
    with (
        mlflow.start_run(),
        pytest.raises(MlflowException, match="logged-models"),
    ):
        mlflow.sklearn.log_model(model, name="model")


def test_train_promote_and_fetch_work_without_logged_models(tracking, tmp_path):
    out, model, frame = model_dir(tmp_path)
    run_id = tracking.log_model_run(
        out, model, frame.head(5), {"C": 1.0}, {"auc": 0.9}, "train"
    )
    info = json.loads((out / "model-info.json").read_text())
    info["mlflow_run_id"] = run_id
    (out / "model-info.json").write_text(json.dumps(info))
    name, version = tracking.promote(out)
    assert (name, version) == ("fraud-model", "1")
    fetched = tracking.fetch_production(name, tmp_path / "production")
    assert fetched["status"] == "found"
    assert (tmp_path / "production" / "model.joblib").is_file()
