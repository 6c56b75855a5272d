"""How dense the cosine token graph is at a threshold, per backbone: the first thing to check when GLOT
does not beat AdaPool (GLOT with K = 0).

For each backbone, reads the cached last-layer token states of the validation split of ``--task`` (built by
``glot benchmark`` / ``glot train`` with the same ``--max-train``/``--max-eval``; nothing is encoded), and
reports, over all ordered pairs ``i != j`` of real tokens of the same sentence, the quantiles of their
cosine similarity and the fraction of pairs that are edges at each threshold. With a nearly complete
graph, SAGE's neighbour mean is close to the sentence mean and message passing adds little.

Reproduce::

    python -m benchmarks.quality.graph_density --backbones minilm --max-train 6000
    python -m benchmarks.quality.graph_density --backbones smollm2-135m --max-train 2000 --max-eval 1000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

THRESHOLDS = (0.0, 0.3, 0.5, 0.6, 0.8, 0.9)


def pair_cosines(states, sentences: int) -> np.ndarray:
    """Cosine similarities of all ordered pairs of distinct real tokens within each of the first sentences."""
    from sentence_transformers_glot.nn.similarity import normalize_tokens

    x, mask = states.batch(np.arange(min(sentences, len(states))))
    xn = normalize_tokens(torch.where(mask[..., None], x, 0.0))
    sim = xn @ xn.transpose(1, 2)
    eye = torch.eye(sim.shape[-1], dtype=torch.bool)
    valid = mask[:, :, None] & mask[:, None, :] & ~eye
    return sim[valid].numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbones", nargs="+", default=["minilm"])
    parser.add_argument("--task", default="movie-polarity")
    parser.add_argument("--max-train", type=int, default=None)
    parser.add_argument("--max-eval", type=int, default=None)
    parser.add_argument("--sentences", type=int, default=300)
    parser.add_argument("--output", default="benchmarks/results/suite/graph_density.json")
    args = parser.parse_args(argv)

    from sentence_transformers_glot.evaluation.report import script_command, write_json
    from sentence_transformers_glot.training.config import TrainConfig
    from sentence_transformers_glot.training.inputs import cache_task_states, resolve_task

    rows = []
    for backbone in args.backbones:
        config = TrainConfig(backbone=backbone, task=args.task, max_train=args.max_train, max_eval=args.max_eval)
        states = cache_task_states(config, resolve_task(config, None))["validation"][0]
        cos = pair_cosines(states, args.sentences)
        row = {"backbone": backbone, "task": args.task, "pairs": int(cos.size),
               "quantiles": {q: float(np.quantile(cos, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)},
               "density": {t: float((cos > t).mean()) for t in THRESHOLDS}}
        rows.append(row)
        print(f"{backbone}: {row['pairs']:,} token pairs; cosine quantiles 5/25/50/75/95%: "
              + " / ".join(f"{v:.2f}" for v in row["quantiles"].values()))
        print("  edge density at tau " + ", ".join(f"{t}: {d:.1%}" for t, d in row["density"].items()))
    out = Path(args.output)
    previous = json.loads(out.read_text())["rows"] if out.exists() else []
    keep = [r for r in previous if (r["backbone"], r["task"]) not in {(r2["backbone"], r2["task"]) for r2 in rows}]
    write_json(out, script_command(argv), rows=keep + rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
