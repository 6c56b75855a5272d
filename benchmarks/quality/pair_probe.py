"""How much a pair task's label can be read from a frozen backbone's pooled states, with no pooling to train.

For one pair-classification task (``fiqa-pairs`` by default) and each backbone, this reads the benchmark's
hidden-state cache (the same ``--max-train`` / ``--max-eval`` samples; built on first use), pools every text by
the mean (or the last) of its token states (a decoder's first position, the attention sink, left out, as the
default GlotPooling does) and fits, on the training pairs:

* a logistic regression on the SBERT pair features ``[u, v, |u - v|, u * v]`` (the package's pair head, trained
  to convergence instead of 3 epochs), its inverse regularisation ``C`` chosen on validation, with the pooled
  vectors raw, layer-normalised, or standardised by the training vectors' per-coordinate mean and std;
* a threshold on ``cos(u - mu, v - mu)`` (``mu``: the training vectors' mean, which removes the common direction
  of anisotropic decoder states), chosen on validation: no parameters beyond it.

Each is reported on validation and test beside the level of a constant answer
(:func:`~sentence_transformers_glot.metrics.constant_level`; F1 50.0 for "always a match" at a third of matches).
When even these probes stay within a few points of the constant level, no pooling trained with a small head on
the same data can be told apart from another on that cell: the scores measure noise.

Reproduce (from the repository root; minutes once the benchmark's caches exist)::

    python -m benchmarks.quality.pair_probe --backbones minilm smollm2-135m gemma3-270m --task fiqa-pairs \\
        --max-train 2000 --max-eval 1000 --output benchmarks/results/decoders/diagnosis/pair-probe.json
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from sentence_transformers_glot.data import SPLITS
from sentence_transformers_glot.evaluation.report import markdown_table, script_command, write_json
from sentence_transformers_glot.metrics import compute_metric, constant_level
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.inputs import cache_task_states, resolve_task

NORMALISATIONS = ("raw", "layernorm", "standardised")
C_GRID = (0.001, 0.01, 0.1, 1.0)


def pooled_vectors(states, how: str, skip_first: bool, batch: int = 256) -> np.ndarray:
    """Mean (or last) token state of every text in ``states`` (a cache's TokenStates), ``(n, d)``."""
    out = []
    for start in range(0, len(states), batch):
        x, mask = states.batch(np.arange(start, min(start + batch, len(states))))
        mask = mask.clone()
        if skip_first:
            mask[:, 0] = False
        if how == "mean":
            out.append(((x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)).numpy())
        else:
            last = mask.long().cumsum(1).argmax(1)
            out.append(x[np.arange(len(x)), last].numpy())
    return np.concatenate(out)


def pair_features(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.concatenate([u, v, np.abs(u - v), u * v], axis=1)


def probe(backbone: str, task_name: str, max_train: int | None, max_eval: int | None, how: str) -> dict:
    """The probes of one backbone: per normalisation the validation-chosen logistic regression, and the
    cosine threshold; validation and test scores in the task's metric."""
    from sklearn.linear_model import LogisticRegression

    from sentence_transformers_glot.backbones.registry import is_decoder

    config = TrainConfig(backbone=backbone, task=task_name, max_train=max_train, max_eval=max_eval)
    task = resolve_task(config, None)
    if not task.is_pair or task.objective != "classification":
        raise SystemExit(f"pair_probe: {task_name!r} is not a pair-classification task")
    states = cache_task_states(config, task)
    skip_first = is_decoder(backbone)
    pooled = {split: tuple(pooled_vectors(side, how, skip_first) for side in states[split]) for split in SPLITS}
    labels = {split: task.splits[split].labels for split in SPLITS}
    train = np.concatenate(pooled["train"])
    mu, sd = train.mean(0), train.std(0) + 1e-6
    transforms = {
        "raw": lambda x: x,
        "layernorm": lambda x: (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + 1e-6),
        "standardised": lambda x: (x - mu) / sd,
    }
    result = {"backbone": backbone, "pooled": how, "sink_left_out": skip_first, "metric": task.metric,
              "constant_level": {s: round(constant_level(task.metric, labels[s]), 2) for s in ("validation", "test")},
              "sizes": {s: len(labels[s]) for s in SPLITS}, "logistic": {}}
    for name in NORMALISATIONS:
        f = transforms[name]
        features = {s: pair_features(f(pooled[s][0]), f(pooled[s][1])) for s in SPLITS}
        best = None
        for c in C_GRID:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = LogisticRegression(C=c, max_iter=3000).fit(features["train"], labels["train"])
            scores = {s: round(compute_metric(task.metric, model.predict(features[s]), labels[s]), 2)
                      for s in ("validation", "test")}
            if best is None or scores["validation"] > best["validation"]:
                best = {"C": c, **scores}
        result["logistic"][name] = best

    cosines = {}
    for split in ("validation", "test"):
        u, v = pooled[split][0] - mu, pooled[split][1] - mu
        cosines[split] = (u * v).sum(1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1) + 1e-12)
    candidates = np.quantile(cosines["validation"], np.linspace(0.02, 0.98, 49))
    val = [compute_metric(task.metric, (cosines["validation"] > t).astype(int), labels["validation"])
           for t in candidates]
    threshold = float(candidates[int(np.argmax(val))])
    result["cosine_threshold"] = {
        "threshold": round(threshold, 4), "validation": round(max(val), 2),
        "test": round(compute_metric(task.metric, (cosines["test"] > threshold).astype(int), labels["test"]), 2)}
    return result


def table(rows: list[dict]) -> str:
    out = []
    for r in rows:
        level = f"{r['constant_level']['validation']} / {r['constant_level']['test']}"
        for name, best in r["logistic"].items():
            out.append([r["backbone"], r["pooled"], f"logistic, {name} (C {best['C']:g})", best["validation"],
                        best["test"], level])
        cos = r["cosine_threshold"]
        out.append([r["backbone"], r["pooled"], f"cosine > {cos['threshold']} (centred)", cos["validation"],
                    cos["test"], level])
    return markdown_table(["backbone", "pooled", "probe", "validation", "test", "constant answer (val / test)"], out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbones", nargs="+", default=["minilm", "smollm2-135m", "gemma3-270m"])
    parser.add_argument("--task", default="fiqa-pairs")
    parser.add_argument("--pooled", nargs="+", choices=("mean", "last"), default=["mean", "last"])
    parser.add_argument("--max-train", type=int, default=2000)
    parser.add_argument("--max-eval", type=int, default=1000)
    parser.add_argument("--output", default="benchmarks/results/decoders/diagnosis/pair-probe.json")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    rows = [probe(b, args.task, args.max_train, args.max_eval, how) for b in args.backbones for how in args.pooled]
    print(table(rows))
    write_json(args.output, script_command(argv), task=args.task, rows=rows)
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
