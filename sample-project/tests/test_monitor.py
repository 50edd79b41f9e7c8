import numpy as np
import pandas as pd
import pytest

from sample_project import monitor
from sample_project.data import DataError


@pytest.fixture
def batches(splits):
    reference, current = splits
    return reference, current


def test_no_drift_on_a_same_distribution_split(batches, config, scoring):
    reference, current = batches
    report = monitor.monitor(reference, current, config)
    assert report["drifted_features"] == []
    assert not report["breach"]


def test_drift_is_found_on_a_shifted_copy(batches, config, scoring):
    reference, current = batches
    shifted = current.copy()
    column = reference.columns[0]
    shifted[column] = shifted[column] + 2 * reference[column].std()
    report = monitor.monitor(reference, shifted, config)
    assert column in report["drifted_features"]
    assert report["breach"]


def test_degradation_is_found_on_corrupted_labels(batches, config, scoring):
    reference, current = batches
    corrupted = current.copy()
    corrupted[config.target] = 1 - corrupted[config.target]
    report = monitor.monitor(reference, corrupted, config)
    assert report["drifted_features"] == []
    assert any(row["breached"] for row in report["metrics"].values())
    assert report["breach"]


def test_psi_is_zero_for_identical_samples():
    sample = np.random.default_rng(0).normal(size=1000)
    assert monitor.psi(sample, sample) == pytest.approx(0.0, abs=1e-9)


def test_a_missing_column_is_rejected_clearly(batches, config):
    reference, current = batches
    with pytest.raises(DataError, match="missing columns"):
        monitor.monitor(
            reference, current.drop(columns=current.columns[0]), config
        )


def test_the_command_exits_3_on_drift_and_writes_reports(
    batches, config, scoring, tmp_path
):
    reference, current = batches
    shifted = current.assign(**{current.columns[0]: current.iloc[:, 0] * 3})
    ref_path, cur_path = tmp_path / "ref.csv", tmp_path / "cur.csv"
    reference.to_csv(ref_path, index=False)
    shifted.to_csv(cur_path, index=False)
    out = tmp_path / "report"
    code = monitor.main(
        [
            "--reference",
            str(ref_path),
            "--current",
            str(cur_path),
            "--out",
            str(out),
        ]
    )
    assert code == monitor.EXIT_BREACH
    assert (out / "report.json").is_file() and (out / "report.md").is_file()


def test_the_command_exits_2_on_an_empty_file(batches, tmp_path):
    reference, _ = batches
    ref_path, empty = tmp_path / "ref.csv", tmp_path / "empty.csv"
    reference.to_csv(ref_path, index=False)
    empty.write_text("", encoding="utf-8")
    args = ["--reference", str(ref_path), "--current", str(empty)]
    assert monitor.main([*args, "--out", str(tmp_path / "o")]) == 2


def test_the_command_exits_0_without_drift(batches, scoring, tmp_path):
    reference, current = batches
    ref_path, cur_path = tmp_path / "ref.csv", tmp_path / "cur.csv"
    reference.to_csv(ref_path, index=False)
    current.drop(columns="target").to_csv(cur_path, index=False)
    args = ["--reference", str(ref_path), "--current", str(cur_path)]
    assert monitor.main([*args, "--out", str(tmp_path / "o")]) == 0
    assert isinstance(
        pd.read_json(tmp_path / "o" / "report.json", typ="series"), pd.Series
    )
