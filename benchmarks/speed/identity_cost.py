"""What it costs for a model's MTEB name to follow its embeddings: the name read against an MTEB task.

A model with GLOT's card answers ``model_card_data.model_name`` (what mteb files results under) with a name
derived from its weights' content and settings (:func:`sentence_transformers_glot.identity.live_identity`),
so every read hashes every parameter and buffer once. Measured here, for MiniLM with a GlotPooling head:
the median time of one name read (``--repeats`` reads), how many times ``mteb.evaluate`` reads the name
while it evaluates one local task, and that task's wall time; the cost is reads x read time against it.

Reproduce (about 1 min on 2 cores at 1 thread)::

    glot data fetch movie-polarity
    python -m benchmarks.speed.identity_cost  # -> benchmarks/results/speed/identity_cost.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="glot-movie-polarity-classification", help="a local MTEB task")
    parser.add_argument("--repeats", type=int, default=20, help="name reads timed")
    parser.add_argument("--output", default="benchmarks/results/speed/identity_cost.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    import mteb
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import GlotPooling
    from sentence_transformers_glot._compat import Transformer, token_dimension
    from sentence_transformers_glot.backbones.registry import resolve_backbone
    from sentence_transformers_glot.evaluation.mteb.tasks import resolve_tasks
    from sentence_transformers_glot.model_card import GlotModelCardData

    transformer = Transformer(resolve_backbone("minilm"))
    model = SentenceTransformer(modules=[transformer, GlotPooling(token_dimension(transformer))], device="cpu")
    card = model.model_card_data
    assert isinstance(card, GlotModelCardData)
    weights = sum(t.numel() * t.element_size() for t in model.state_dict().values())

    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        card.model_name  # noqa: B018  (the read is what is timed)
        times.append(time.perf_counter() - start)

    reads = {"n": 0}
    original = type(card).__getattribute__

    def counting(self, name):
        if name == "model_name":
            reads["n"] += 1
        return original(self, name)

    type(card).__getattribute__ = counting
    try:
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            mteb.evaluate(model, resolve_tasks([args.task]), cache=mteb.ResultCache(cache), show_progress_bar=False)
            task_seconds = time.perf_counter() - start
    finally:
        type(card).__getattribute__ = original
    read_seconds = statistics.median(times)
    row = {"machine": f"{platform.processor() or platform.machine()}, 1 torch thread", "torch": torch.__version__,
           "model": "MiniLM + GlotPooling (default)", "weights_mb": round(weights / 2**20, 1),
           "name_read_ms": round(1000 * read_seconds, 1), "reads_per_evaluate": reads["n"], "task": args.task,
           "task_seconds": round(task_seconds, 1),
           "share_of_task": round(reads["n"] * read_seconds / task_seconds, 4)}
    print("| weights (MB) | one name read (ms) | reads in mteb.evaluate | task wall (s) | share of the task |")
    print("|---|---|---|---|---|")
    print(f"| {row['weights_mb']} | {row['name_read_ms']} | {row['reads_per_evaluate']} | {row['task_seconds']} | "
          f"{100 * row['share_of_task']:.2f}% |")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(row, indent=2) + "\n")
    return row


if __name__ == "__main__":
    main()
