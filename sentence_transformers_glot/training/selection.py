"""``--pooling auto``: let the user's data choose the pooling. From one hidden-state cache, train GLOT (SAGE and GAT)
and the strongest baselines for the backbone's kind at the candidate learning rates, choose on validation only, and
export the chosen model with the record of every candidate.

The candidates (:func:`candidates`): GLOT with SAGE and with GAT, AdaPool, mean pooling, and the last token on a
decoder or [CLS] on an encoder: the methods that were best on some cell of the benchmarks. Each candidate runs at
every learning rate and seed of the :class:`SelectionBudget`, each run an ordinary run folder under ``runs`` (so an
interrupted selection resumes, and a later ``glot train`` of the same configuration reads the run back). The rule:
the (candidate, learning rate) with the highest mean validation score over the seeds wins (the first in candidate
order on a tie); of its seeds, the run with the best validation score is exported. Test scores play no part; the
chosen run's is reported, the others' only on request, marked as not used for the choice.

The selection's own folder, ``runs/<backbone>-<task>-auto-<hash>/``, holds ``selection.json`` (every candidate's
validation mean ± std over its seeds, at each learning rate; the choice; the rule; the budget), ``metrics.json``
(the chosen run's metrics with the selection) and ``model/``, the chosen model, whose card shows the selection.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sentence_transformers_glot.backbones.record import BackboneRecord
from sentence_transformers_glot.io import atomic_write_text
from sentence_transformers_glot.options import options_taken
from sentence_transformers_glot.training.config import METRICS_NAME, RunResult, TrainConfig
from sentence_transformers_glot.training.run_identity import config_dict, run_name

#: What the selection writes in its folder.
SELECTION_NAME = "selection.json"
#: The rule, as ``selection.json`` and the card state it.
RULE = ("highest mean validation score over the seeds, per (candidate, learning rate); the first candidate on a "
        "tie; of the winner's seeds, the run with the best validation score is exported. Test scores are not used.")


@dataclass(frozen=True)
class SelectionBudget:
    """What ``--pooling auto`` may spend: every candidate trains at each learning rate with each seed.

    The default, one seed at the two learning rates of the tuned protocol, costs about five GLOT runs from the
    cache (four GLOT runs, and six runs of baselines that train only a head or a scorer).

    Attributes:
        select_seeds: the seeds each candidate trains with; its validation score is their mean (default: the
            run's seed).
        select_lrs: the learning rates each candidate tries (the tuned protocol's 2e-4 and 2e-3).
        select_epochs: epochs of each candidate run (default: the run's epochs).
        select_report_test: also report the test scores of the candidates not chosen (marked as not used for the
            choice).
    """

    select_seeds: list[int] | None = None
    select_lrs: list[float] = field(default_factory=lambda: [2e-4, 2e-3])
    select_epochs: int | None = None
    select_report_test: bool = False

    def __post_init__(self) -> None:
        if self.select_seeds is not None and not self.select_seeds:
            raise ValueError("SelectionBudget: `select_seeds` must name at least one seed (e.g. [0]) or be None.")
        if not self.select_lrs or any(not (isinstance(lr, (int, float)) and 0 < lr < float("inf"))
                                      for lr in self.select_lrs):
            raise ValueError(f"SelectionBudget: `select_lrs` must be positive learning rates (e.g. [2e-4, 2e-3]); "
                             f"got {self.select_lrs!r}.")
        if self.select_epochs is not None and not (isinstance(self.select_epochs, int) and self.select_epochs >= 1):
            raise ValueError(f"SelectionBudget: `select_epochs` must be an int >= 1 or None; got "
                             f"{self.select_epochs!r}.")


@dataclass
class Selection:
    """What :func:`select_pooling` chose: the winning candidate, its run, and every candidate's record."""

    choice: str
    lr: float
    run_dir: str
    model_dir: str | None
    result: RunResult
    candidates: list[dict[str, Any]]
    folder: str


def candidates(backbone: BackboneRecord) -> dict[str, tuple[str, dict[str, Any]]]:
    """Candidate name -> (``TrainConfig.pooling``, GLOT options it fixes): GLOT with SAGE and with GAT, AdaPool,
    mean pooling, and the last token (a decoder) or [CLS] (an encoder)."""
    token = "last" if backbone.decoder else "cls"
    return {"glot-sage": ("glot", {"conv": "sage"}), "glot-gat": ("glot", {"conv": "gat"}),
            "adapool": ("adapool", {}), "mean": ("mean", {}), token: (token, {})}


def candidate_configs(template: TrainConfig, budget: SelectionBudget,
                      backbone: BackboneRecord) -> list[tuple[str, TrainConfig]]:
    """(candidate, config) of every run the selection trains: the template's settings and GLOT options (a baseline
    keeps those it takes), with each candidate's pooling, each learning rate and each seed."""
    if template.pooling != "glot":
        raise ValueError(f"select_pooling: the template's pooling is what the selection sets; build it with "
                         f"pooling='glot' (its options are the GLOT candidates'), not {template.pooling!r}.")
    given = template.glot.changes("glot")
    if template.also_tasks:
        raise ValueError("--pooling auto chooses the pooling for one task; drop --also-tasks (or train the tasks "
                         "together with --pooling glot).")
    if template.init_from is not None:
        raise ValueError("--pooling auto trains every candidate from scratch; --init-from starts one pooling from "
                         "trained weights: use it with --pooling glot (or the source's pooling).")
    if "conv" in given:
        raise ValueError("--pooling auto chooses the conv itself (GLOT with SAGE and with GAT are candidates); drop "
                         f"conv={given['conv']!r}, or train that GLOT with --pooling glot.")
    seeds = budget.select_seeds or [template.seed]
    runs = []
    for name, (pooling, fixed) in candidates(backbone).items():
        options = {**{k: v for k, v in given.items() if k in options_taken(pooling)}, **fixed}
        for lr in budget.select_lrs:
            for seed in seeds:
                runs.append((name, dataclasses.replace(template, pooling=pooling, glot=options, lr=float(lr),
                                                       seed=int(seed), epochs=budget.select_epochs or template.epochs)))
    return runs


def selection_folder(template: TrainConfig, budget: SelectionBudget, backbone: BackboneRecord) -> str:
    """The selection's folder name, ``<backbone>-<task>-auto-seed<s>-<hash>``: a hash of the template's identity
    (:func:`~sentence_transformers_glot.training.run_identity.run_name`'s) and of the budget."""
    stem, digest = run_name(template, "auto", backbone).rsplit("-", 1)
    budget_json = json.dumps(dataclasses.asdict(budget), sort_keys=True)
    return f"{stem}-{hashlib.sha256((digest + budget_json).encode()).hexdigest()[:8]}"


def summarise(results: list[tuple[str, TrainConfig, RunResult]], report_test: bool) -> list[dict[str, Any]]:
    """Every candidate's record: per learning rate, the validation mean ± std over its seeds (and the test mean,
    when asked for, marked as not used); the candidate's best learning rate by validation."""
    records: dict[str, dict[str, Any]] = {}
    for name, config, result in results:
        record = records.setdefault(name, {"candidate": name, "pooling": config.pooling,
                                           "options": config.glot.changes(config.pooling), "lrs": {}})
        cell = record["lrs"].setdefault(repr(config.lr), {"lr": config.lr, "validation": [], "test": [],
                                                           "collapsed": 0})
        cell["validation"].append(result.validation)
        cell["test"].append(result.test)
        cell["collapsed"] += int(result.collapsed)
    for record in records.values():
        for cell in record["lrs"].values():
            values, tests = cell.pop("validation"), cell.pop("test")
            cell.update(validation_mean=float(np.mean(values)), validation_std=_std(values), seeds=len(values))
            if report_test:
                cell.update(test_mean=float(np.mean(tests)), test_std=_std(tests), test_used_for_choice=False)
        best = max(record["lrs"].values(), key=lambda c: c["validation_mean"])
        record.update(lr=best["lr"], validation_mean=best["validation_mean"], validation_std=best["validation_std"],
                      seeds=best["seeds"])
        record["lrs"] = list(record["lrs"].values())
    return list(records.values())


def _std(values: list[float]) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def choose(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The winning record under :data:`RULE` (the first of the highest mean validation scores)."""
    return max(records, key=lambda r: r["validation_mean"])  # max keeps the first of equal keys


def select_pooling(template: TrainConfig, runs: str | Path = "runs", budget: SelectionBudget | None = None, *,
                   task: Any = None, cache: Any = None, backbone: BackboneRecord | None = None,
                   export: bool = True) -> Selection:
    """Choose the pooling for ``template``'s backbone and task on validation, and export the chosen model.

    Args:
        template: the run's settings (task, backbone, epochs, GLOT options for the GLOT candidates, ...); its
            ``pooling`` and ``lr`` are what the selection sets.
        runs: the folder of run folders; every candidate run is one, and the selection's own folder is beside
            them (:func:`selection_folder`).
        budget: the seeds, learning rates and epochs each candidate gets (default :class:`SelectionBudget`).
        task: the task data (default: loaded once from ``template.task``); cache: the hidden-state cache (default:
            the user's), shared by every candidate.
        backbone: the command's record of the backbone (made here when not given).
        export: write the chosen model to the selection folder's ``model/``.

    Returns:
        The :class:`Selection`; ``selection.json`` in its folder holds the same record.
    """
    from tqdm.auto import tqdm

    from sentence_transformers_glot.training.inputs import resolve_task
    from sentence_transformers_glot.training.run import train

    budget = budget or SelectionBudget()
    backbone = backbone or BackboneRecord.of(template.backbone)
    plan = candidate_configs(template, budget, backbone)  # (a refused option fails before the data loads)
    task = resolve_task(template, task)  # loaded once for every candidate
    results = []
    with tqdm(plan, desc="--pooling auto", unit="run") as bar:
        for name, config in bar:
            bar.set_postfix_str(f"{name} lr {config.lr:g} seed {config.seed}")
            run_dir = Path(runs) / run_name(config, name, backbone)  # labelled by candidate: ...-glot-gat-seed0-...
            results.append((name, config, train(config, run_dir, task=task, cache=cache, export=False,
                                                backbone=backbone)))
    records = summarise(results, budget.select_report_test)
    winner = choose(records)
    chosen = max((r for r in results if r[0] == winner["candidate"] and r[1].lr == winner["lr"]),
                 key=lambda r: r[2].validation)
    run_dir = Path(runs) / run_name(chosen[1], chosen[0], backbone)
    folder = Path(runs) / selection_folder(template, budget, backbone)
    selection = Selection(winner["candidate"], winner["lr"], str(run_dir), None, chosen[2], records, str(folder))
    _write(selection, template, budget, chosen[1], task, backbone, export)
    return selection


def _write(selection: Selection, template: TrainConfig, budget: SelectionBudget, chosen: TrainConfig, task: Any,
           backbone: BackboneRecord, export: bool) -> None:
    """The selection folder: the chosen model (``export``) with the selection on its card, ``selection.json`` and
    ``metrics.json``, each written atomically."""
    from sentence_transformers_glot.training.run import export_run

    folder = Path(selection.folder)
    record = {"rule": RULE, "choice": selection.choice, "lr": selection.lr, "seed": chosen.seed,
              "run": Path(selection.run_dir).name, "metric": selection.result.metric,
              "validation": selection.result.validation, "test": selection.result.test,
              "budget": dataclasses.asdict(budget), "candidates": selection.candidates,
              "template": config_dict(template, backbone)}
    if export:
        card = {k: record[k] for k in ("rule", "choice", "lr", "metric", "candidates")}
        selection.model_dir = str(export_run(chosen, selection.run_dir, folder / "model", task, backbone, card))
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(folder / SELECTION_NAME, json.dumps(record, indent=2) + "\n")
    metrics = {**dataclasses.asdict(selection.result), "model_dir": selection.model_dir, "selection": record}
    atomic_write_text(folder / METRICS_NAME, json.dumps(metrics, indent=2) + "\n")


def format_selection(selection: Selection) -> str:
    """The console table: every candidate at its best learning rate, its validation mean ± std (and test, when
    the budget asked for it), the choice marked, and where the model went."""
    lines = [f"{'candidate':11s} {'lr':>8s} {'validation':>16s} {'seeds':>5s}"]
    for record in selection.candidates:
        best = next(c for c in record["lrs"] if c["lr"] == record["lr"])
        test = (f"   test {best['test_mean']:.2f} ± {best['test_std']:.2f} (not used)" if "test_mean" in best else "")
        mark = "  <- chosen" if record["candidate"] == selection.choice else ""
        lines.append(f"{record['candidate']:11s} {record['lr']:8g} {record['validation_mean']:8.2f} ± "
                     f"{record['validation_std']:5.2f} {record['seeds']:5d}{test}{mark}")
    lines.append(f"chose {selection.choice} at lr {selection.lr:g} on validation ({selection.result.metric}); its test "
                 f"score {selection.result.test:.2f}. Record: {Path(selection.folder) / SELECTION_NAME}"
                 + (f"; model: {selection.model_dir}" if selection.model_dir else ""))
    return "\n".join(lines)
