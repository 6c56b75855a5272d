"""Task metrics, reported x100 like the GLUE tables (accuracy, F1, MCC, Spearman, Pearson)."""

from __future__ import annotations

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

METRICS = ("accuracy", "f1", "macro_f1", "mcc", "spearman", "pearson")


def compute_metric(name: str, predictions: np.ndarray, labels: np.ndarray) -> float:
    """``name`` of ``predictions`` (class ids, or scores for the correlations) against ``labels``, x100."""
    if name == "accuracy":
        value = accuracy_score(labels, predictions)
    elif name == "f1":
        value = f1_score(labels, predictions, average="binary", pos_label=1)
    elif name == "macro_f1":
        value = f1_score(labels, predictions, average="macro")
    elif name == "mcc":
        value = matthews_corrcoef(labels, predictions)
    elif name == "spearman":
        value = spearmanr(predictions, labels).statistic
    elif name == "pearson":
        value = pearsonr(predictions, labels).statistic
    else:
        raise ValueError(f"unknown metric {name!r}; expected one of {METRICS}")
    return float(100.0 * np.nan_to_num(value))


def constant_level(name: str, labels: np.ndarray) -> float:
    """The best ``name`` a model reaches by giving every example of ``labels`` one answer (x100): every class
    in turn for the class metrics (F1 of the positive class: 2p / (1 + p) for a positive share p, by always
    answering it), 0 for MCC and the correlations. A run scoring near it has learned nothing from its input."""
    labels = np.asarray(labels)
    if name in ("mcc", "spearman", "pearson"):
        return 0.0
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; expected one of {METRICS}")
    return max(compute_metric(name, np.full_like(labels, value), labels) for value in np.unique(labels))
