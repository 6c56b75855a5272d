"""``glot stress-test``: every pooling method on the signal-dilution task of
:mod:`sentence_transformers_glot.data.distractors`, at every (protocol, distractor ratio, seed).

:func:`run_stress_test` trains every method on every cell with the same budget and model selection (best
validation epoch, reported on test), skips finished cells, and writes ``stress.json``, ``stress.md`` and
``stress.png`` under ``output_dir``.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentence_transformers_glot.cli_args import SEED, add_dataclass_arguments, dataclass_kwargs, layer_indices, number
from sentence_transformers_glot.data import TaskData
from sentence_transformers_glot.data.distractors import (
    PROTOCOLS,
    RATIOS,
    Source,
    length_only_accuracy,
    make_stress_task,
    source_name,
)
from sentence_transformers_glot.evaluation.grid import run_cell
from sentence_transformers_glot.evaluation.stress_report import markdown_tables, write_stress_results
from sentence_transformers_glot.training.config import TrainConfig

logger = logging.getLogger(__name__)

#: The reference's stress-test GLOT settings: tau 0.6, K 4, hidden 64 (its lr was 1e-4).
STRESS_GLOT: dict[str, Any] = {"threshold": 0.6, "num_layers": 4, "hidden_dim": 64}


#: The TrainConfig fields ``glot stress-test`` takes as flags (the grid sets the rest, :func:`stress_template`),
#: and the settings its template changes from TrainConfig's defaults.
STRESS_FLAGS = ("epochs", "lr", "threads")
STRESS_SETTINGS: dict[str, Any] = {"epochs": 5, "lr": 1e-3, "max_length": 256}


def stress_template(**changes: Any) -> TrainConfig:
    """The stress test's cell template: 5 epochs at lr 1e-3 for every method (one lr, no tuning), GLOT with
    :data:`STRESS_GLOT` (the reference's stress setting), max length 256 (which truncates none of the default
    examples; each cell records its ``truncated`` count), with ``changes`` on top."""
    return TrainConfig(**{**STRESS_SETTINGS, "glot": dict(STRESS_GLOT), **changes})


# ------------------------------------------------------------------------------------------------ runner
def _token_counter(backbone: str) -> Callable[[Sequence[str]], np.ndarray]:
    """Texts -> backbone token counts without special tokens (the backbone's own tokenizer)."""
    from transformers import AutoTokenizer

    from sentence_transformers_glot.backbones.registry import resolve_backbone

    tokenizer = AutoTokenizer.from_pretrained(resolve_backbone(backbone))

    def count(texts: Sequence[str]) -> np.ndarray:
        ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return np.array([len(i) for i in ids], dtype=np.int64)

    return count


def _task_facts(task: TaskData, count_tokens: Callable[[Sequence[str]], np.ndarray] | None,
                max_length: int) -> dict[str, Any]:
    """Length-only accuracies, realised distractor fractions (words and, if possible, backbone tokens)."""
    facts: dict[str, Any] = {"length_only_words": length_only_accuracy(task),
                             "vocabulary_size": len(task.extra["vocabulary"]),
                             "stop_list_size": len(task.extra["stop_list"])}
    test = task.splits["test"]
    words = np.array([len(t.split()) for t in test.texts])
    facts["distractor_fraction_words"] = float(np.mean(task.extra["test"]["distractors"] / words))
    facts["mean_words"] = float(words.mean())
    if count_tokens is not None:
        lengths = {split: count_tokens(task.splits[split].texts) for split in ("train", "test")}
        lookup = {text: n for split in lengths for text, n in zip(task.splits[split].texts, lengths[split])}
        facts["length_only_tokens"] = length_only_accuracy(task, length=lambda text: int(lookup[text]))
        signal_tokens = count_tokens(task.extra["test"]["signal"])
        facts["distractor_fraction_tokens"] = float(np.mean(1 - signal_tokens / np.maximum(lengths["test"], 1)))
        facts["max_tokens"] = int(max(int(v.max()) for v in lengths.values()))
        facts["truncated"] = int(sum(int((v + 2 > max_length).sum()) for v in lengths.values()))
        if facts["truncated"]:
            logger.warning("%s: %d examples exceed max_length=%d and are truncated", task.name, facts["truncated"],
                           max_length)
    return facts


def run_stress_test(
    backbone: str = "minilm",
    methods: Sequence[str] | None = None,
    ratios: Sequence[float] = RATIOS, protocols: Sequence[str] = PROTOCOLS, seeds: Sequence[int] = (0,),
    n_train: int = 1200, n_val: int = 200, n_test: int = 600,
    template: TrainConfig | None = None,
    output_dir: str | Path = "benchmarks/results/stress",
    cache=None,
    source: Source = "movie-polarity",
    placement: str | None = None,
    layers: Sequence[int] | None = None,
    command: str = "",
) -> list[dict[str, Any]]:
    """Train every method on every (protocol, ratio, seed) cell; write ``stress.json``, ``stress.md``, ``stress.png``.

    Every cell is one :func:`~sentence_transformers_glot.training.train` run per method with the same budget (the
    best validation epoch reported on test). Run folders live under ``output_dir/runs``; a finished cell is read
    back and an unfinished one resumes from its checkpoint.

    Args:
        methods: pooling methods, named as in ``glot benchmark`` (``None``:
            :func:`~sentence_transformers_glot.evaluation.methods.default_methods`).
        layers: hidden layers every method pools, mixed with learned weights; ``None``: the last layer.
        template: every cell's :class:`TrainConfig` but for what the grid sets (backbone, task, pooling, seed);
            default :func:`stress_template`.
        cache: a :class:`~sentence_transformers_glot.training.cache.StateCache` (default: the user cache).
        source, n_train, n_val, n_test, placement: see :func:`make_stress_task` (``placement=None``: each
            protocol's own).

    Returns:
        One row per (protocol, ratio, seed, method): validation and test accuracy and the cell's facts
        (length-only accuracies, realised distractor fractions, truncated examples).
    """
    from tqdm.auto import tqdm

    from sentence_transformers_glot.backbones.record import BackboneRecord
    from sentence_transformers_glot.evaluation.methods import default_methods, method_pooling

    record = BackboneRecord.of(backbone)  # worked out once, for every cell
    methods = tuple(methods or default_methods(record))
    template = template or stress_template()
    mix = {} if layers is None else {"layers": [int(layer) for layer in layers]}
    # every method's pooling before any run: an unknown name fails first
    poolings = {method: method_pooling(method, template.glot.changes("glot")) for method in methods}
    count_tokens = _token_counter_or_none(backbone)
    started, rows = time.perf_counter(), []
    cells = [(p, r, s) for p in protocols for r in ratios for s in seeds]
    with tqdm(total=len(cells) * len(methods), desc="stress test", unit="run") as bar:
        for protocol, ratio, seed in cells:
            task = make_stress_task(float(ratio), protocol, n_train, n_val, n_test, seed, source, placement=placement)
            key = {"protocol": protocol, "ratio": float(ratio), "seed": seed}
            facts = _task_facts(task, count_tokens, template.max_length)
            rows += _run_methods(task, key, facts, poolings, template, mix, record, Path(output_dir), cache, bar)
    settings = {"backbone": backbone, "methods": list(methods), "ratios": [float(r) for r in ratios],
                "protocols": list(protocols), "seeds": list(seeds), "n_train": n_train, "n_val": n_val,
                "n_test": n_test, **_template_settings(template), "glot": template.glot.changes("glot"),
                "source": source_name(source), "placement": placement, "max_length": template.max_length,
                "threads": template.threads, "layers": mix.get("layers")}
    write_stress_results(rows, Path(output_dir), settings, command, time.perf_counter() - started)
    return rows


def _run_methods(task: TaskData, key: dict[str, Any], facts: dict[str, Any],
                 poolings: dict[str, tuple[str, dict[str, Any]]], template: TrainConfig, mix: dict[str, Any],
                 record: Any, output_dir: Path, cache: Any, bar: Any) -> list[dict[str, Any]]:
    """One stress cell (its ``task``, ``key``: protocol, ratio and seed, and the task's ``facts``): every method of
    ``poolings`` trained, or read back, under ``output_dir/runs``; its rows."""
    from sentence_transformers_glot.training.run_identity import run_name

    rows = []
    for method, (pooling, options) in poolings.items():
        bar.set_postfix_str(f"{key['protocol']} r={key['ratio']:g} seed {key['seed']} {method}")
        config = dataclasses.replace(template, backbone=record.name, task=task.name, pooling=pooling,
                                     glot={**options, **mix}, seed=key["seed"])
        result, skipped = run_cell(config, output_dir / "runs" / run_name(config, backbone=record), lambda: task,
                                   cache=cache, backbone=record)
        rows.append({**key, "method": method, **_result_values(result), "resumed": skipped, "task": task.name,
                     **facts})
        bar.update()
    return rows


def _token_counter_or_none(backbone: str) -> Callable[[Sequence[str]], np.ndarray] | None:
    """:func:`_token_counter`, or ``None`` (with a warning) when the tokenizer cannot be had: the token facts are
    a bonus, words are always reported."""
    try:
        return _token_counter(backbone)
    except Exception as error:  # noqa: BLE001
        logger.warning("no token counts for %s (%s); reporting word counts only", backbone, error)
        return None


def _result_values(result: Any) -> dict[str, Any]:
    """A cell's scores and costs, as its row holds them."""
    return {"validation": result.validation, "test": result.test, "best_epoch": result.best_epoch,
            "train_seconds": result.train_seconds, "cache_seconds": result.cache_seconds,
            "trainable_parameters": result.trainable_parameters}


def _template_settings(template: TrainConfig) -> dict[str, Any]:
    """The optimisation settings ``stress.json`` records (the same for every method)."""
    return {"epochs": template.epochs, "lr": template.lr, "batch_size": template.batch_size}


# ------------------------------------------------------------------------------------------------ CLI
def _ratio_list(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"a distractor ratio must be in [0, 1); got {text}")
    return value


def add_stress_arguments(parser) -> None:
    """Flags of ``glot stress-test`` on an ``argparse`` (sub)parser."""
    parser.add_argument("--backbone", default="minilm", help="short name, local folder or Hugging Face id")
    parser.add_argument("--methods", nargs="+", default=None,
                        help="pooling methods, named as in glot benchmark (e.g. glot glot-plus glot+ln adapool); "
                             "default: glot mean max cls adapool, + last for decoders")
    parser.add_argument("--ratios", nargs="+", type=_ratio_list, default=list(RATIOS),
                        help="distractor fractions in [0, 1)")
    parser.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS),
                        help="paper: the reference construction; controlled: without its length leak")
    parser.add_argument("--seeds", nargs="+", type=SEED, default=[0], help="one cell per seed")
    parser.add_argument("--n-train", type=number(int, 2), default=1200, help="training examples per cell (even)")
    parser.add_argument("--n-val", type=number(int, 1), default=200, help="validation examples per cell")
    parser.add_argument("--n-test", type=number(int, 1), default=600, help="test examples per cell")
    parser.add_argument("--layers", type=layer_indices, default=None,
                        help="hidden layers every method pools, mixed with learned weights (e.g. 0,1,2,3,4,5,6); "
                             "default: the last layer")
    parser.add_argument("--source", default="movie-polarity",
                        help="signal source: an offline binary task (movie-polarity) or 'template'")
    parser.add_argument("--placement", choices=["block", "interleave"], default=None,
                        help="override where distractors go (default: block for paper, interleave for controlled)")
    # the template's epochs, lr and threads are flags (one learning rate for every method)
    add_dataclass_arguments(parser, TrainConfig, only=STRESS_FLAGS, defaults=STRESS_SETTINGS)
    parser.add_argument("--output", default="benchmarks/results/stress", help="results folder (runs/ inside)")


def stress_command(args) -> int:
    """Run :func:`run_stress_test` from parsed ``add_stress_arguments`` flags; print the tables."""
    import sys

    template = stress_template(**dataclass_kwargs(args, TrainConfig))  # checked before any work
    rows = run_stress_test(backbone=args.backbone, methods=args.methods, ratios=args.ratios, protocols=args.protocols,
                           seeds=args.seeds, n_train=args.n_train, n_val=args.n_val, n_test=args.n_test,
                           template=template, source=args.source, placement=args.placement, layers=args.layers,
                           output_dir=args.output, command=" ".join(sys.argv))
    print(markdown_tables(rows))
    print(f"results: {Path(args.output) / 'stress.json'}, {Path(args.output) / 'stress.md'}, "
          f"{Path(args.output) / 'stress.png'}")
    return 0
