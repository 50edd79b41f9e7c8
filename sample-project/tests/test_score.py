import json

import pandas as pd


def test_run_answers_the_sample_request(scoring, sample_request):
    answer = scoring.run(sample_request)
    records = json.loads(sample_request)["data"]
    assert "error" not in answer
    assert len(answer["predictions"]) == len(records)
    assert set(answer["predictions"]) <= {0, 1}
    assert all(0.0 <= p <= 1.0 for p in answer["probabilities"])


def test_run_reports_a_bad_request_instead_of_crashing(scoring):
    assert "error" in scoring.run("not json")
    assert "error" in scoring.run(json.dumps({"data": [{"x": 1}]}))
    assert "error" in scoring.run(json.dumps({"data": []}))


def test_batch_scoring_writes_a_prediction_per_row(scoring, splits, tmp_path):
    _, test = splits
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    test.drop(columns="target").to_csv(source, index=False)
    assert scoring.score_file(source, target) == len(test)
    scored = pd.read_csv(target)
    assert {"prediction", "probability"} <= set(scored.columns)


def test_the_inference_server_can_load_score_py_by_path(
    model_dir, sample_request, monkeypatch
):
    """Azure ML loads the scoring script as a file, not as a package module:
    do the same, with the model folder where Azure ML puts it."""
    import importlib.util
    import sys
    from pathlib import Path

    source = next(Path(__file__).parents[1].glob("src/*/score.py"))
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    spec = importlib.util.spec_from_file_location("score_entry", source)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "score_entry", module)
    spec.loader.exec_module(module)
    module.init()
    answer = module.run(sample_request)
    assert len(answer["predictions"]) == len(json.loads(sample_request)["data"])


def test_a_model_that_cannot_load_names_the_package_that_differs(
    model_dir, tmp_path, monkeypatch
):
    from importlib import metadata

    from sample_project import score

    for name in ("model-info.json", "reference.csv"):
        (tmp_path / name).write_bytes((model_dir / name).read_bytes())
    info = json.loads((tmp_path / "model-info.json").read_text())
    info["packages"]["scikit-learn"] = "0.0.1"
    (tmp_path / "model-info.json").write_text(json.dumps(info))
    (tmp_path / "model.joblib").write_bytes(b"not a model")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(score, "_model", None)
    installed = metadata.version("scikit-learn")
    try:
        score.init()
    except score.DataError as error:
        message = str(error)
    else:
        raise AssertionError("init() loaded a broken model")
    assert f"scikit-learn: trained 0.0.1, installed {installed}" in message
