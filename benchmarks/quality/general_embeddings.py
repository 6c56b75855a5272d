"""One model for many tasks: every model on every local MTEB task, with averages per task type.

The models: the backbone's own poolings (sentence-transformers' ``Pooling``: mean pooling and the last token on a
decoder, mean and [CLS] on an encoder) and any trained model folders given (``--models name=folder``: per-task
GLOT models, transferred ones, a self-supervised or general GLOT). Each is evaluated with ``glot mteb``'s
:func:`~sentence_transformers_glot.evaluation.mteb.run.run_mteb` on the local tasks (classification, clustering,
retrieval, pair classification, STS: every task type, offline), results cached per model so that a second run
reads them back. ``--limit`` keeps the first rows of each task (each class's, round-robin), for decoders on one
core: the limit is recorded in every result and the table.

The table gives every (model, task) main score (x100), the mean over the tasks, and the mean per task type.

Reproduce (MiniLM, full tasks, a few minutes on one core)::

    python -m benchmarks.quality.general_embeddings --backbone minilm \\
        --models glot-movie-polarity=runs/<run>/model --output benchmarks/results/general/minilm.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sentence_transformers_glot.evaluation.mteb.tasks import LOCAL_TASKS, get_local_task
from sentence_transformers_glot.evaluation.report import markdown_table, run_header
from sentence_transformers_glot.io import atomic_write_text


def backbone_models(backbone: str, max_length: int = 256) -> dict[str, Any]:
    """The backbone's own poolings as SentenceTransformers: mean, and the last token (decoder) or [CLS] (encoder)."""
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot._compat import Pooling, token_dimension
    from sentence_transformers_glot.backbones.record import BackboneRecord
    from sentence_transformers_glot.backbones.states import backbone_transformer

    record = BackboneRecord.of(backbone)
    models = {}
    for mode in ("mean", "lasttoken" if record.decoder else "cls"):
        transformer = backbone_transformer(record.folder(), max_length)
        pooling = Pooling(token_dimension(transformer), pooling_mode=mode)
        models[f"{Path(backbone).name}-{mode}"] = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    return models


def evaluate_models(models: dict[str, Any], tasks: Sequence[Any], output: Path, limit: int | None = None,
                    data_dir: str | None = None, batch_size: int = 32) -> list[dict[str, Any]]:
    """Every model (a SentenceTransformer or a folder) on every task (a local task's name, or an ``mteb.AbsTask``),
    through ``run_mteb`` with results cached under ``output``: one row per (model, task), with the task's type."""
    from sentence_transformers_glot.evaluation.mteb.run import run_mteb

    rows = []
    for label, model in models.items():
        resolved = [get_local_task(t, data_dir=data_dir, limit=limit) if isinstance(t, str) else t for t in tasks]
        kinds = {task.metadata.name: task.metadata.type for task in resolved}
        for row in run_mteb(model, resolved, output_folder=str(output), batch_size=batch_size, data_dir=data_dir):
            rows.append({**row, "model": label, "result_name": row["model"], "kind": kinds[row["task"]]})
    return rows


def summary_table(rows: list[dict[str, Any]]) -> str:
    """Models as rows; every task's main score (x100), the mean over tasks and the mean per task type."""
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    kinds = list(dict.fromkeys(r["kind"] for r in rows))
    table = []
    for model in dict.fromkeys(r["model"] for r in rows):
        scores = {r["task"]: 100 * r["score"] for r in rows if r["model"] == model}
        kind_of = {r["task"]: r["kind"] for r in rows}
        by_kind = [np.mean([scores[t] for t in tasks if kind_of[t] == kind and t in scores]) for kind in kinds]
        table.append([model, *(f"{scores[t]:.2f}" if t in scores else "" for t in tasks),
                      f"{np.mean(list(scores.values())):.2f}", *(f"{v:.2f}" for v in by_kind)])
    return markdown_table(["model", *tasks, "mean", *(f"mean {k}" for k in kinds)], table, align="---:")


def main(argv: list[str] | None = None) -> None:
    import shlex
    import sys

    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="minilm")
    parser.add_argument("--models", nargs="*", default=[], help="name=folder of trained models to evaluate too")
    parser.add_argument("--tasks", nargs="+", default=list(LOCAL_TASKS))
    parser.add_argument("--limit", type=int, default=None, help="first rows of each task (for slow backbones)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/general/general.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    models: dict[str, Any] = backbone_models(args.backbone)
    for item in args.models:
        name, _, folder = item.partition("=")
        if not folder:
            parser.error(f"--models takes name=folder; got {item!r}")
        models[name] = folder
    rows = evaluate_models(models, args.tasks, args.output.parent / "mteb-cache", args.limit)
    table = summary_table(rows)
    print(table)
    command = "python -m benchmarks.quality.general_embeddings " + shlex.join(sys.argv[1:] if argv is None else argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.output, json.dumps({"header": run_header(command), "limit": args.limit, "rows": rows},
                                              indent=2))
    atomic_write_text(args.output.with_suffix(".md"), table + "\n")


if __name__ == "__main__":
    main()
