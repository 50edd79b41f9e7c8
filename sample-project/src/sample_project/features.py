"""Feature engineering: one scikit-learn pipeline, fitted with the model.

Keeping the transformations inside the saved pipeline means the scoring
service applies exactly what training applied.
"""

from __future__ import annotations

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler


def feature_columns(frame: pd.DataFrame, target: str) -> list[str]:
    """Every numeric column but the target, in a stable order."""
    numeric = frame.select_dtypes(include="number").columns
    return [column for column in numeric if column != target]


def split_features(
    frame: pd.DataFrame, target: str
) -> tuple[pd.DataFrame, pd.Series]:
    return frame[feature_columns(frame, target)], frame[target]


def build_preprocessor(columns: list[str]) -> ColumnTransformer:
    numeric = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
        ]
    )
    return ColumnTransformer([("numeric", numeric, columns)])


def build_model(columns: list[str], **hyperparameters: object) -> Pipeline:
    params = {"max_iter": 1000, **hyperparameters}
    return Pipeline(
        [
            ("features", build_preprocessor(columns)),
            ("classifier", LogisticRegression(**params)),
        ]
    )
