"""Task metrics, reported x100 like the GLUE tables (accuracy, F1, MCC, Spearman, Pearson)."""

from __future__ import annotations

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

METRICS = ("accuracy", "f1", "macro_f1", "mcc", "spearman", "pearson")


def compute_metric(name: str, predictions: np.ndarray, labels: np.ndarray) -> float:
    """``name`` of ``predictions`` (class ids, or scores for the correlations) against ``labels``, x100.

    A correlation of constant predictions is 0 (they carry no information; the collapse guard names them).
    A metric that is undefined for other reasons (labels that all agree, non-finite predictions) raises
    ``ValueError`` instead of being reported as a number."""
    if name in ("spearman", "pearson", "mcc") and len(labels) and np.all(np.asarray(labels) == np.asarray(labels)[0]):
        raise ValueError(f"{name} is undefined on {len(labels)} examples whose labels are all {labels[0]!r}; the "
                         "split needs at least two different labels")
    if name in ("spearman", "pearson"):
        predictions = np.asarray(predictions, dtype=np.float64)
        if not np.all(np.isfinite(predictions)):
            raise ValueError(f"{name} is undefined: the predictions hold NaN or infinite values")
        if np.all(predictions == predictions[0]):
            return 0.0
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
    if not np.isfinite(value):
        raise ValueError(f"{name} came out {value}: undefined for these predictions and labels")
    return float(100.0 * value)


def noise_margin(name: str, level: float, n: int) -> float:
    """Two standard errors (x100) of a ``name`` score on ``n`` examples for a model that knows nothing, around its
    constant ``level`` (:func:`constant_level`): binomial for the shares (accuracy, F1), ``1 / sqrt(n)`` for MCC and
    the correlations. A validation score no higher than ``level`` plus this has not shown it learned anything."""
    if n <= 0:
        return float("inf")
    if name in ("mcc", "spearman", "pearson"):
        return 200.0 / np.sqrt(n)
    p = min(max(level / 100.0, 0.0), 1.0)
    return float(200.0 * np.sqrt(max(p * (1.0 - p), 1.0 / n) / n))


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
