import numpy as np

from sample_project.features import build_model, feature_columns


def test_feature_columns_exclude_the_target(frame, config):
    columns = feature_columns(frame, config.target)
    assert config.target not in columns
    assert len(columns) == frame.shape[1] - 1


def test_the_pipeline_imputes_missing_values(splits, config):
    train, test = splits
    columns = feature_columns(train, config.target)
    model = build_model(columns, random_state=0)
    model.fit(train[columns], train[config.target])
    holey = test[columns].copy()
    holey.iloc[0, 0] = np.nan
    assert model.predict(holey).shape == (len(holey),)
