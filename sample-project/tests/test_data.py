from pathlib import Path

import pandas as pd
import pytest

from sample_project.data import (
    DataError,
    in_workspace,
    load_dataset,
    main,
    read_table,
    split,
)

DATASTORE_URI = (
    "azureml://subscriptions/0000/resourcegroups/rg/workspaces/ws"
    "/datastores/workspaceblobstore/paths/train.csv"
)


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


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (DATASTORE_URI, True),
        ("sklearn:breast_cancer", False),
        ("data/raw/train.csv", False),
        ("https://example.com/train.csv", False),
    ],
)
def test_only_a_datastore_uri_lives_in_the_workspace(source, expected):
    assert in_workspace(source) is expected


def test_a_short_datastore_uri_asks_for_the_full_one():
    """azureml-fsspec reads only the full form, which names the workspace."""
    with pytest.raises(DataError, match="not a full datastore URI"):
        load_dataset("azureml://datastores/workspaceblobstore/paths/t.csv")


@pytest.mark.parametrize("question", ["source", "in-workspace"])
def test_the_pipelines_read_data_source_through_the_config(
    config, capsys, question
):
    assert main([question]) == 0
    expected = {
        "source": config.data_source,
        "in-workspace": str(in_workspace(config.data_source)).lower(),
    }
    assert capsys.readouterr().out == f"{expected[question]}\n"


def test_training_on_the_job_s_copy_records_data_source(
    config, frame, tmp_path: Path
):
    """The Azure ML job passes the copy of data.source it downloaded
    (`train --data`); the model still names data.source as its data."""
    from sample_project.train import train

    copy = tmp_path / "downloaded.csv"
    frame.to_csv(copy, index=False)
    rows, _ = split(frame, config.target, config.test_size, config.seed)
    info = train(config, tmp_path / "models", str(copy))
    assert info["data_source"] == config.data_source
    assert info["training_rows"] == len(rows)
