"""Model metrics, computed the same way by the gate and by monitoring."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def compute(y_true, y_pred, y_score) -> dict[str, float]:
    scores = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "f1": skm.f1_score(y_true, y_pred, zero_division=0),
        "precision": skm.precision_score(y_true, y_pred, zero_division=0),
        "recall": skm.recall_score(y_true, y_pred, zero_division=0),
    }
    if len(np.unique(y_true)) > 1:
        scores["roc_auc"] = skm.roc_auc_score(y_true, y_score)
    return {name: round(float(value), 4) for name, value in scores.items()}
