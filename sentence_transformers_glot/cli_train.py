"""``glot train`` and ``glot benchmark``: training runs and grids of them, with flags generated from
:class:`~sentence_transformers_glot.training.config.TrainConfig` and GlotOptions."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sentence_transformers_glot.cli_args import (
    SEED,
    add_command,
    add_dataclass_arguments,
    add_glot_flags,
    glot_kwargs,
    number,
)


def format_results(results, task_name: str) -> str:
    """A plain-text table of runs side by side."""
    lines = [f"task {task_name}: test {results[0].metric} of the epoch with the best validation score",
             f"{'pooling':10s} {'test':>8s} {'valid':>8s} {'epoch':>5s} {'params':>10s} {'train s':>8s}"]
    for r in results:
        lines.append(f"{r.pooling:10s} {r.test:8.2f} {r.validation:8.2f} {r.best_epoch:5d} "
                     f"{r.trainable_parameters:10,d} {r.train_seconds:8.1f}")
    return "\n".join(lines)


def _train(args: argparse.Namespace) -> int:
    import time

    from sentence_transformers_glot.backbones.record import BackboneRecord
    from sentence_transformers_glot.distributed import init_distributed
    from sentence_transformers_glot.io import check_writable_folder
    from sentence_transformers_glot.training.config_file import config_text
    from sentence_transformers_glot.training.run import train
    from sentence_transformers_glot.training.run_identity import run_name

    rank = init_distributed()
    if _selects(args):
        return _select(args)
    configs = _train_configs(args)  # every run's config is built (and checked) before the first one starts
    if args.print_config:
        print(config_text(configs), end="")
        return 0
    check_writable_folder(args.runs, "--runs")  # before any cache build or training
    backbone = BackboneRecord.of(configs[0].backbone)  # worked out once, for every run of the command
    results = []
    started = time.perf_counter()
    for config in configs:
        pooling = config.pooling
        run_dir = Path(args.runs) / run_name(config, backbone=backbone)
        result = train(config, run_dir, export=not args.no_export, backbone=backbone)
        if rank != 0:
            continue
        print(f"{pooling}: test {result.metric} {result.test:.2f} (validation {result.validation:.2f}, "
              f"epoch {result.best_epoch}); cache {result.cache_seconds:.1f} s, training {result.train_seconds:.1f} s; "
              f"run folder {run_dir}", flush=True)
        results.append(result)
    if rank != 0:
        return 0
    print()
    print(format_results(results, configs[0].task))
    print(f"total wall time {time.perf_counter() - started:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2))
    return 0


def _selects(args: argparse.Namespace) -> bool:
    """Whether ``glot train`` chooses the pooling (``--pooling auto``); the budget flags without it, or ``auto``
    beside other poolings, are refused in one line."""
    from sentence_transformers_glot.cli_args import dataclass_kwargs
    from sentence_transformers_glot.training.selection import SelectionBudget

    poolings = getattr(args, "pooling", [])
    if "auto" in poolings and len(poolings) > 1:
        raise ValueError("--pooling auto chooses among GLOT and the baselines itself; give it alone.")
    budget = dataclass_kwargs(args, SelectionBudget)
    if budget and "auto" not in poolings:
        flags = ", ".join("--" + name.replace("_", "-") for name in budget)
        raise ValueError(f"{flags} set the budget of --pooling auto; add --pooling auto, or drop them.")
    return "auto" in poolings


def _select(args: argparse.Namespace) -> int:
    """``glot train --pooling auto``: the pooling chosen on validation (:mod:`~sentence_transformers_glot.training.
    selection`), the chosen model exported with the record of every candidate."""
    from sentence_transformers_glot.cli_args import dataclass_kwargs
    from sentence_transformers_glot.io import check_writable_folder
    from sentence_transformers_glot.training.config_file import config_text
    from sentence_transformers_glot.training.selection import SelectionBudget, format_selection, select_pooling

    args.pooling = ["glot"]  # the template: every candidate's settings but its pooling, learning rate and seed
    (template,) = _train_configs(args)
    budget = SelectionBudget(**dataclass_kwargs(args, SelectionBudget))
    if args.print_config:
        print(config_text([template]), end="")
        return 0
    check_writable_folder(args.runs, "--runs")
    selection = select_pooling(template, args.runs, budget, export=not args.no_export)
    print(format_selection(selection))
    if args.json:
        Path(args.json).write_text(json.dumps({"choice": selection.choice, "lr": selection.lr,
                                               "candidates": selection.candidates, "folder": selection.folder},
                                              indent=2))
    return 0


def _train_configs(args: argparse.Namespace) -> list:
    """``glot train``'s run configs: the ``--config`` file's settings (if any), with the flags given on top; one
    config per pooling, each with the GLOT options it takes."""
    from sentence_transformers_glot.cli_args import dataclass_kwargs
    from sentence_transformers_glot.options import options_per_pooling
    from sentence_transformers_glot.training.config import TrainConfig
    from sentence_transformers_glot.training.config_file import read_config_file

    file = read_config_file(args.config) if args.config else {}
    columns = ("text_column", "text_b_column", "label_column", "score_column", "encoding")
    task_options = {**file.pop("task_options", {}),
                    **{k: getattr(args, k) for k in columns if getattr(args, k) is not None}}
    if args.strict_quotes:
        task_options["strict_quotes"] = True
    given = {**file.pop("glot", {}), **glot_kwargs(args),
             **({"layers": args.layers} if hasattr(args, "layers") else {})}
    poolings = file.pop("pooling", ["glot"])
    poolings = args.pooling if hasattr(args, "pooling") else ([poolings] if isinstance(poolings, str) else poolings)
    settings = {**file, **dataclass_kwargs(args, TrainConfig, skip=("pooling", "glot", "task_options"))}
    return [TrainConfig(**settings, pooling=pooling, glot=options, task_options=task_options)
            for pooling, options in options_per_pooling(list(poolings), given, "glot train --pooling").items()]


def _benchmark(args: argparse.Namespace) -> int:
    import shlex

    import torch

    from sentence_transformers_glot.cli_args import dataclass_kwargs
    from sentence_transformers_glot.evaluation.benchmark import run_benchmark
    from sentence_transformers_glot.evaluation.suite_report import markdown_tables
    from sentence_transformers_glot.io import check_writable_folder
    from sentence_transformers_glot.training.config import TrainConfig

    check_writable_folder(args.output, "--output")
    # every cell's config but for what the grid sets, checked in one line before anything runs
    template = TrainConfig(**dataclass_kwargs(args, TrainConfig), glot=glot_kwargs(args))
    torch.set_num_threads(template.threads)
    rows = run_benchmark(
        args.backbones, args.tasks, methods=args.methods, seeds=args.seeds, lrs=args.lrs, layers=args.layers,
        template=template, output=args.output, command="glot " + shlex.join(sys.argv[1:]),
        only_finished=args.only_finished,
    )
    print(markdown_tables(rows))
    print(f"results: {args.output}/suite.json, suite.md, suite.png")
    return 0


#: The TrainConfig fields that ``glot benchmark`` takes as flags, for its cells' template (the grid sets the rest).
BENCHMARK_SETTINGS = ("epochs", "batch_size", "max_length", "max_train", "max_eval", "threads", "cache_dtype",
                      "warmup_ratio", "max_grad_norm", "head_dim", "head_norm")


def _layer_spec(text: str) -> int | list[int]:
    """``"3"`` -> 3 (one hidden layer); ``"8,9,10"`` -> [8, 9, 10] (mixed by GlotPooling(layers=...))."""
    from sentence_transformers_glot.cli_args import layer_indices

    parts = layer_indices(text)
    return parts[0] if "," not in text else parts


def add_train_commands(commands: argparse._SubParsersAction) -> None:
    """The ``train`` and ``benchmark`` subcommands."""
    from sentence_transformers_glot.options import POOLINGS
    from sentence_transformers_glot.training.config import TrainConfig
    from sentence_transformers_glot.training.selection import SelectionBudget

    train = add_command(commands, "train", help="train pooling + task head on a frozen backbone")
    train.add_argument("--pooling", nargs="+", default=argparse.SUPPRESS, choices=(*POOLINGS, "auto"),
                       help="one run per pooling: glot and/or the baselines (default: glot); auto: choose among GLOT "
                            "(SAGE, GAT) and the strongest baselines on validation, and export the chosen model")
    train.add_argument("--config", metavar="FILE",
                       help="a YAML (or JSON) file of settings, as --print-config writes them; flags given on the "
                            "command line win over it")
    train.add_argument("--print-config", action="store_true",
                       help="print the runs' settings as YAML (every field, defaults included) and exit: save it "
                            "and repeat the runs with --config FILE")
    add_dataclass_arguments(train, TrainConfig, skip=("pooling", "glot", "task_options"))
    train.add_argument("--layers", nargs="+", type=number(int), default=argparse.SUPPRESS,
                       help="hidden layers mixed with learned weights (GlotPooling(layers=...), every --pooling); "
                            "the exported model computes them itself, e.g. --layers 3 4 5")
    train.add_argument("--runs", default="runs", help="folder for run folders")
    train.add_argument("--no-export", action="store_true", help="do not save the trained model folder")
    train.add_argument("--json", help="also write the results as JSON here")
    for column in ("text_column", "text_b_column", "label_column", "score_column"):
        train.add_argument("--" + column.replace("_", "-"), default=None, help="for a user's data file")
    train.add_argument("--encoding", default=None, help="text encoding of a user's data file (default: utf-8-sig, "
                                                        "UTF-8 with or without a byte-order mark)")
    train.add_argument("--strict-quotes", action="store_true",
                       help="refuse a user's CSV/TSV file whose quoted field spans lines that look like rows (by "
                            "default that is a warning)")
    add_glot_flags(train)
    add_dataclass_arguments(train.add_argument_group("--pooling auto's budget"), SelectionBudget)
    train.set_defaults(run=_train)

    bench = add_command(commands, "benchmark", help="backbones x tasks x methods x seeds, resumable, table + plot")
    bench.add_argument("--backbones", nargs="+", default=["minilm"], help="short names, local folders or Hub ids")
    bench.add_argument("--tasks", nargs="+", default=["movie-polarity", "movie-rating", "tweet-sentiment",
                                                      "subjectivity", "20newsgroups", "reuters-r8"],
                       help="task names (glot data list) or data files")
    bench.add_argument("--methods", nargs="+", default=None,
                       help="default: glot-sage glot-gat adapool mean max cls, and last for decoders (glot-<conv>: "
                            "GLOT with that conv; glot: the default GLOT, conv='auto')")
    bench.add_argument("--seeds", nargs="+", type=SEED, default=[0, 1, 2],
                       help="one run per seed (mean ± std)")
    bench.add_argument("--lrs", nargs="+", type=number(float, 0, above=True), default=[2e-4],
                       help="learning rates tried for every method; each method keeps the best on validation")
    bench.add_argument("--layers", nargs="+", type=_layer_spec, default=[-1],
                       help="hidden layers feeding the pooling, each a separate cell (-1: the last; e.g. -1 3); "
                            "a comma-separated group is one cell of mixed layers (e.g. -1 8,9,10)")
    bench.add_argument("--only-finished", action="store_true",
                       help="train nothing: write the results of the cells already finished (e.g. while another "
                            "process runs this benchmark)")
    add_dataclass_arguments(bench, TrainConfig, only=BENCHMARK_SETTINGS)
    bench.add_argument("--output", default="benchmarks/results/suite",
                       help="results folder: suite.json, suite.md, plots, and runs/ (resumed from)")
    add_glot_flags(bench)
    bench.set_defaults(run=_benchmark)
