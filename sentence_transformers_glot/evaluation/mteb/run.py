"""Evaluate a saved (GLOT) model with MTEB: built-in MTEB tasks and local tasks built from the offline data.

    rows = run_mteb("runs/minilm-movie-polarity-glot-seed0-74049b87/model",
                    ["glot-movie-polarity-classification", "glot-20newsgroups-clustering", "glot-fiqa-retrieval"])
    print(format_table(rows))

Tasks: see :mod:`sentence_transformers_glot.evaluation.mteb.tasks`.

Result names: each model gets a name of its own and a revision from a hash of its weights and config
(:mod:`sentence_transformers_glot.identity`). Results go to ``output_folder`` (default: mteb's own result cache,
``$MTEB_CACHE`` or ``~/.cache/mteb``) as ``results/<name>/<revision>/<task>.json``. Without ``overwrite`` a
finished (model, task) is read back instead of evaluated again, unless the cached result was made from other
task data (another ``dataset_revision``: e.g. another data version or a ``limit``), which is evaluated again.

mteb is an optional dependency (``pip install 'mteb>=2.8.2'``, the oldest version tested; see
``benchmarks/compat/mteb_floor.py``), imported only when used.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mteb import AbsTask
    from sentence_transformers import SentenceTransformer

from sentence_transformers_glot.cli_args import THREADS, number
from sentence_transformers_glot.evaluation.mteb.tasks import LOCAL_TASKS, require_mteb, resolve_tasks
from sentence_transformers_glot.identity import result_name

logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------------------------------------------
# Models and their result names
# ----------------------------------------------------------------------------------------------------------------


def load_model(path: str | os.PathLike, device: str | None = None) -> SentenceTransformer:
    """Load a saved model folder: a GLOT model through ``load_glot_model``, else a plain SentenceTransformer folder."""
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot.loading import load_glot_model

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no such model folder: {folder}. Pass a folder written by SentenceTransformer.save (e.g. a training "
            "run's `runs/<run>/model`); to evaluate a Hugging Face hub model, load it with SentenceTransformer(id) "
            "and pass the object to run_mteb.")
    if (folder / "modules.json").is_file():
        return load_glot_model(str(folder), device=device)  # refuses (ValueError) foreign module classes
    logger.warning("%s has no modules.json: loading it as a plain Transformer with mean pooling", folder)
    return SentenceTransformer(str(folder), device=device)


def _wrap(model: SentenceTransformer, name: str, revision: str) -> Any:
    """mteb's SentenceTransformer wrapper with our name and revision (the model object itself is not changed)."""
    import warnings

    from mteb.models import SentenceTransformerEncoderWrapper

    with warnings.catch_warnings():  # mteb calls APIs that sentence-transformers 6 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        wrapper = SentenceTransformerEncoderWrapper(model)
    wrapper.mteb_model_meta = wrapper.mteb_model_meta.model_copy(update={"name": name, "revision": revision})
    return wrapper


# ----------------------------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------------------------


def run_mteb(
    model: str | os.PathLike | SentenceTransformer,
    tasks: Sequence[str | AbsTask],
    output_folder: str | os.PathLike | None = None,
    name: str | None = None,
    batch_size: int = 32,
    overwrite: bool = False,
    data_dir: str | None = None,
    show_progress_bar: bool = False,
) -> list[dict[str, Any]]:
    """Evaluate ``model`` on ``tasks`` with ``mteb.evaluate`` and return one row per task.

    Args:
        model: a saved model folder (a GLOT model, loaded with ``load_glot_model``, or a plain SentenceTransformer
            folder) or a loaded ``SentenceTransformer``.
        tasks: local task names (:data:`LOCAL_TASKS`, offline), built-in MTEB task names (online) or ``mteb.AbsTask``
            objects.
        output_folder: the result cache (default: mteb's, ``$MTEB_CACHE`` or ``~/.cache/mteb``); results land in
            ``<output_folder>/results/<name>/<revision>/<task>.json``.
        name: the model's result name (default: derived from the folder and the model's fingerprint, see
            :func:`result_name`).
        batch_size: encoding batch size.
        overwrite: evaluate again even when a finished result is cached.
        data_dir: the offline data cache of the local tasks.
        show_progress_bar: show mteb's and the encoder's progress bars.

    Returns:
        Rows ``{"task", "metric", "score", "model", "revision", "seconds", "reused", "file"}``: the task's main score
        (mteb's scale, usually 0-1) averaged over its eval splits and subsets, the evaluation time mteb recorded, and
        whether the result was read from the cache.
    """
    mteb = require_mteb()
    resolved = resolve_tasks(tasks, data_dir=data_dir)
    if isinstance(model, (str, os.PathLike)):
        folder: str | os.PathLike | None = model
        model = load_model(model)
    else:
        from sentence_transformers import SentenceTransformer

        if not isinstance(model, SentenceTransformer):
            raise TypeError(f"model must be a folder path or a SentenceTransformer, not {type(model).__name__}")
        folder = None
    model_name, revision = result_name(model, folder, name)
    wrapper = _wrap(model, model_name, revision)
    cache = mteb.ResultCache(Path(output_folder).expanduser()) if output_folder is not None else mteb.ResultCache()
    encode_kwargs = {"batch_size": batch_size, "show_progress_bar": show_progress_bar}

    return [_evaluate_task(mteb, task, wrapper, cache, overwrite, encode_kwargs, show_progress_bar)
            for task in resolved]


def _evaluate_task(mteb: Any, task: AbsTask, wrapper: Any, cache: Any, overwrite: bool, encode_kwargs: dict,
                   show_progress_bar: bool) -> dict[str, Any]:
    """One task's row of :func:`run_mteb`: evaluated, or read from ``cache`` when a finished result made from the
    same data revision is there (and ``overwrite`` is off)."""
    meta = wrapper.mteb_model_meta
    task_name = task.metadata.name
    existing = None if overwrite else cache.load_task_result(task_name, meta)
    if existing is not None and existing.dataset_revision != task.metadata.revision:
        logger.info("%s: cached result was made from data revision %s, not %s: evaluating again",
                    task_name, existing.dataset_revision, task.metadata.revision)
        strategy = "always"
    else:
        strategy = "always" if overwrite else "only-missing"
    reused = existing is not None and strategy != "always" and not existing.get_missing_evaluations(task)
    start = time.perf_counter()
    try:
        result = mteb.evaluate(wrapper, task, cache=cache, overwrite_strategy=strategy,
                               encode_kwargs=dict(encode_kwargs), co2_tracker=False,
                               show_progress_bar=show_progress_bar)
    except Exception as err:
        if task_name not in LOCAL_TASKS and _looks_offline(err):
            raise ConnectionError(f"{task_name} is a built-in MTEB task: mteb downloads its data from the Hugging "
                                  f"Face hub, which failed ({type(err).__name__}: {err}). Built-in tasks need "
                                  f"internet; offline, use the local tasks: {', '.join(LOCAL_TASKS)}") from err
        raise
    # read back what was saved (mteb rounds scores when it writes them), so fresh and reused rows agree
    task_result = cache.load_task_result(task_name, meta) or result.task_results[0]
    logger.info("%s: %.1f s", task_name, time.perf_counter() - start)
    return {
        "task": task_name,
        "metric": task.metadata.main_score,
        "score": float(task_result.get_score(splits=list(task.eval_splits))),
        "model": meta.name,
        "revision": meta.revision,
        "seconds": task_result.evaluation_time,
        "reused": reused,
        "file": str(cache.get_task_result_path(task_name, meta)),
    }


def benchmark_tasks(name: str) -> list[AbsTask]:
    """The tasks of a named MTEB benchmark (``mteb.get_benchmark``), with an error listing close names."""
    mteb = require_mteb()
    try:
        return list(mteb.get_benchmark(name).tasks)
    except (KeyError, ValueError) as err:
        raise ValueError(f"--benchmark {name!r}: not an MTEB benchmark ({err}); mteb.get_benchmarks() lists them, "
                         "e.g. 'MTEB(eng, v2)'") from None


def _looks_offline(err: BaseException) -> bool:
    text = f"{type(err).__name__} {err}".lower()
    return any(word in text for word in ("offline", "connection", "resolve", "network", "timed out", "max retries",
                                         "couldn't reach"))


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of :func:`run_mteb`'s rows: task, metric, score (x100, 2 decimals), model, seconds."""
    lines = ["| task | metric | score (x100) | model | eval s |", "|---|---|---|---|---|"]
    for row in rows:
        seconds = row.get("seconds")
        took = f"{seconds:.1f}" if isinstance(seconds, (int, float)) else "-"
        if row.get("reused"):
            took += " (cached)"
        lines.append(f"| {row['task']} | {row['metric']} | {100 * row['score']:.2f} | {row['model']} | {took} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# Command line: `glot mteb`
# ----------------------------------------------------------------------------------------------------------------


def add_mteb_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``glot mteb`` options to ``parser`` (and ``run=mteb_command`` as its default action)."""
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="a saved model folder (GLOT or plain sentence-transformers)")
    parser.add_argument("--tasks", nargs="+", default=None, metavar="TASK",
                        help=f"local tasks ({', '.join(LOCAL_TASKS)}) or built-in MTEB task names (need internet)")
    parser.add_argument("--benchmark", default=None, metavar="NAME",
                        help="a named MTEB benchmark instead of --tasks, e.g. 'MTEB(eng, v2)' (needs internet)")
    parser.add_argument("--output", default=None, metavar="DIR",
                        help="result cache folder (default: mteb's own, $MTEB_CACHE or ~/.cache/mteb)")
    parser.add_argument("--name", default=None, help="result name (default: folder name + model fingerprint)")
    parser.add_argument("--batch-size", type=number(int, 1), default=32, help="encode batch size")
    parser.add_argument("--overwrite", action="store_true", help="evaluate again even when results are cached")
    parser.add_argument("--data-dir", default=None,
                        help="offline data cache (default $GLOT_DATA_DIR or ~/.cache/sentence-transformers-glot/data)")
    parser.add_argument("--threads", type=THREADS, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", default=None, help="also write the rows as JSON here")
    parser.set_defaults(run=mteb_command)
    return parser


def mteb_command(args: argparse.Namespace) -> int:
    """Run ``glot mteb``: evaluate, print the Markdown table and the wall time; returns the exit status."""
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    if bool(args.tasks) == bool(getattr(args, "benchmark", None)):
        raise ValueError("glot mteb: name the tasks with --tasks, or a benchmark with --benchmark (one of the two)")
    tasks = args.tasks or benchmark_tasks(args.benchmark)
    start = time.perf_counter()
    rows = run_mteb(args.model, tasks, output_folder=args.output, name=getattr(args, "name", None),
                    batch_size=args.batch_size, overwrite=args.overwrite, data_dir=args.data_dir,
                    show_progress_bar=True)
    print(format_table(rows))
    print(f"results: {Path(rows[0]['file']).parent if rows else args.output}")
    print(f"wall time {time.perf_counter() - start:.1f} s")
    if getattr(args, "json", None):
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


__all__ = [
    "add_mteb_arguments", "benchmark_tasks", "format_table", "load_model", "mteb_command", "run_mteb",
]
