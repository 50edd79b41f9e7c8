import json
from dataclasses import replace

import pytest

from sample_project.evaluate import gate, markdown, production_model


def passing_scores(config):
    return {
        name: minimum + 0.01
        for name, minimum in config.quality.thresholds.items()
    }


def test_the_gate_passes_scores_above_every_threshold(config):
    checks = gate(config, passing_scores(config), baseline=None)
    assert all(check.passed for check in checks)


def test_the_gate_fails_a_score_below_its_threshold(config):
    scores = passing_scores(config)
    scores["accuracy"] = config.quality.thresholds["accuracy"] - 0.01
    failed = [c.metric for c in gate(config, scores, None) if not c.passed]
    assert failed == ["accuracy"]


def test_the_gate_fails_a_drop_against_production(config):
    scores = passing_scores(config)
    primary = config.quality.primary_metric
    drop = config.quality.max_drop_vs_production + 0.01
    baseline = {primary: scores[primary] + drop}
    failed = [c.metric for c in gate(config, scores, baseline) if not c.passed]
    assert failed == [primary]


def test_the_gate_allows_a_small_drop(config):
    scores = passing_scores(config)
    primary = config.quality.primary_metric
    small = replace(config.quality, max_drop_vs_production=0.05)
    baseline = {primary: scores[primary] + 0.01}
    checks = gate(replace(config, quality=small), scores, baseline)
    assert all(check.passed for check in checks)


def test_the_summary_is_a_markdown_table(config):
    table = markdown(gate(config, passing_scores(config), None), "m")
    assert "| metric | value | threshold | baseline | result |" in table
    assert table.count("| pass |") == len(config.quality.thresholds)


@pytest.mark.parametrize(
    ("state", "says"),
    [
        (None, "no production model fetched"),
        ({"status": "none"}, "no production model registered yet"),
        ({"status": "unreadable", "error": "x"}, "could not be read"),
    ],
)
def test_the_gate_says_what_it_compares_with(tmp_path, state, says):
    if state is not None:
        (tmp_path / "baseline.json").write_text(json.dumps(state))
    folder, note = production_model(tmp_path)
    assert folder is None
    assert says in note
