from pathlib import Path

import pandas as pd
import pytest

from sample_project.data import DataError, load_dataset, read_table, split


def test_sample_data_has_features_and_a_binary_target(frame, config):
    assert len(frame) > 500
    assert set(frame[config.target].unique()) == {0, 1}
    assert frame.drop(columns=config.target).notna().all().all()


def test_split_is_deterministic_and_stratified(frame, config):
    first = split(frame, config.target, config.test_size, config.seed)
    second = split(frame, config.target, config.test_size, config.seed)
    pd.testing.assert_frame_equal(first[1], second[1])
    train_share = first[0][config.target].mean()
    test_share = first[1][config.target].mean()
    assert abs(train_share - test_share) < 0.02
    assert len(first[1]) == pytest.approx(len(frame) * config.test_size, 1)


def test_a_csv_source_is_read(tmp_path: Path):
    path = tmp_path / "data.csv"
    pd.DataFrame({"a": [1.0, 2.0], "target": [0, 1]}).to_csv(path, index=False)
    assert list(load_dataset(str(path)).columns) == ["a", "target"]


def test_a_missing_file_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DataError, match="no data file"):
        load_dataset(str(tmp_path / "missing.csv"))


def test_an_empty_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read|no rows"):
        read_table(path)
