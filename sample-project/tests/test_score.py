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
