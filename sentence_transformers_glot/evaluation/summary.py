"""Benchmark statistics: per (backbone, task, method) the learning rate chosen under a protocol and the
test mean and std over seeds (:func:`aggregate`), and GLOT's paired margin over the best baseline
(:func:`margins`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sentence_transformers_glot.evaluation.grid import mean_std
from sentence_transformers_glot.evaluation.methods import is_glot, task_label

#: The paper's learning rate: the *paper* protocol trains every method at it (3 epochs, batch 32, AdamW).
PAPER_LR = 2e-4
#: ``paper``: every method at :data:`PAPER_LR`; ``tuned``: every method at its best learning rate on validation.
PROTOCOLS = ("paper", "tuned")
#: Margins with a two-sided paired p-value below this are marked significant.
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Summary:
    """One (backbone, task, method): the selected learning rate and its test mean and std over seeds."""

    lr: float | None  # None: rows written before learning-rate grids
    mean: float
    std: float
    seeds: int
    validation: dict[float | None, float]  # mean validation score over seeds, per learning rate tried
    test_by_seed: dict[int, float] = field(default_factory=dict)  # the selected learning rate's test scores
    collapsed: int = 0  # runs of the selected learning rate whose predictions collapsed to one answer


def aggregate(rows: list[dict[str, Any]], protocol: str = "tuned") -> dict[tuple[str, str, str], Summary]:
    """(backbone, task, method) -> :class:`Summary` under ``protocol``.

    ``tuned``: the learning rate with the best mean validation score over seeds; ``paper``: :data:`PAPER_LR`
    (methods never run at it are left out). Rows without an ``lr`` (results written before learning-rate
    grids) count as one learning rate, and as the paper's.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"aggregate: `protocol` must be one of {PROTOCOLS}; got {protocol!r}.")
    groups: dict[tuple[str, str, str], dict[float, list[dict[str, Any]]]] = {}
    for row in rows:
        key = (row["backbone"], task_label(row), row["method"])
        groups.setdefault(key, {}).setdefault(row.get("lr"), []).append(row)
    out = {}
    for key, by_lr in groups.items():
        validation = {lr: float(np.mean([r["validation"] for r in cell])) for lr, cell in by_lr.items()}
        if protocol == "tuned":
            lr = max(validation, key=validation.get)
        else:
            lr = next((lr for lr in by_lr if lr is None or np.isclose(lr, PAPER_LR)), "missing")
            if lr == "missing":
                continue
        test = [r["test"] for r in by_lr[lr]]
        out[key] = Summary(lr, *mean_std(test), len(test), validation, {r["seed"]: r["test"] for r in by_lr[lr]},
                           sum(bool(r.get("collapsed")) for r in by_lr[lr]))
    return out


@dataclass(frozen=True)
class Margin:
    """A GLOT method against the best baseline of a (backbone, task) under one protocol.

    ``baseline`` is the baseline with the highest mean test score (the hardest one for GLOT to beat);
    ``margin`` the mean over the seeds both ran of GLOT's score minus the baseline's (same seed, same split);
    ``p`` the two-sided paired t-test p-value over those seeds (``nan`` with fewer than 2 seeds, or when all
    differences are equal).
    """

    method: str
    baseline: str
    margin: float
    std: float
    seeds: int
    p: float

    @property
    def significant(self) -> bool:
        return bool(self.p < SIGNIFICANCE)


def paired_difference(ours: Any, theirs: Any) -> tuple[float, float]:
    """The mean of the paired differences ``ours - theirs`` (scores of the same seeds, in the same order) and the
    two-sided paired t-test p-value (NaN for one pair, or differences that are all equal)."""
    from scipy.stats import ttest_rel

    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    difference = ours - theirs
    p = float(ttest_rel(ours, theirs).pvalue) if len(ours) > 1 and np.ptp(difference) > 0 else float("nan")
    return (float(difference.mean()) if len(ours) else float("nan")), p


def margins(rows: list[dict[str, Any]], protocol: str = "tuned") -> dict[tuple[str, str, str], Margin]:
    """(backbone, task, GLOT method) -> :class:`Margin` over the best baseline, for every GLOT method
    (``glot``, ``glot-<conv>``) and every (backbone, task) that also has a baseline."""
    summary = aggregate(rows, protocol)
    out = {}
    for backbone, task in dict.fromkeys((b, t) for b, t, _ in summary):
        cells = {m: cell for (b, t, m), cell in summary.items() if (b, t) == (backbone, task)}
        baselines = {m: cell for m, cell in cells.items() if not is_glot(m)}
        if not baselines:
            continue
        baseline = max(baselines, key=lambda m: baselines[m].mean)
        for method, cell in cells.items():
            if not is_glot(method):
                continue
            seeds = sorted(set(cell.test_by_seed) & set(baselines[baseline].test_by_seed))
            ours = np.array([cell.test_by_seed[s] for s in seeds])
            theirs = np.array([baselines[baseline].test_by_seed[s] for s in seeds])
            margin, p = paired_difference(ours, theirs)
            out[(backbone, task, method)] = Margin(
                method, baseline, margin, float((ours - theirs).std(ddof=1)) if len(seeds) > 1 else 0.0, len(seeds), p)
    return out
