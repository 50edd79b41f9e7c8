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
