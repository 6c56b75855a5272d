"""Is a probing task learnable at all? An order-aware reference reader on the cached token states.

A probing task says something about a pooling method only if *some* reader learns it from the frozen
states. This script trains a 1-D convolution over the tokens (kernel 3, 256 channels, ReLU, masked max over
positions, linear classifier) on the same cached states, splits, budget and learning-rate grid as
``glot benchmark`` (3 epochs, batch 32, AdamW, each learning rate's best validation epoch, the learning rate
with the best mean validation score over seeds), on the last layer and on a middle layer. The convolution
sees word order through its kernel; mean pooling and a bag of words do not. Selection and the headline
number are on **validation**; test is printed beside it.

The reader lives here, in ``benchmarks/quality/``, and not in the package: it is a yardstick, not a pooling method.

Reproduce (MiniLM, about 10 minutes of one core once the benchmark has built the caches)::

    python -m benchmarks.quality.conv_probe --backbone minilm --layers -1 3 --max-train 4000 \\
        --output benchmarks/results/relational/conv-probe-minilm.json
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from sentence_transformers_glot.evaluation.report import (
    script_command,
    write_json,
)
from sentence_transformers_glot.metrics import compute_metric


class ConvReader(nn.Module):
    """logits = W max_t ReLU(Conv1d_k(X))_t + b, the max over real tokens only.

    Called like the benchmark's pooling-with-head: ``reader((states, mask))``.
    """

    def __init__(self, dim: int, num_labels: int, channels: int = 256, kernel: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv1d(dim, channels, kernel, padding=kernel // 2)
        self.out = nn.Linear(channels, num_labels)

    def forward(self, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        states, mask = batch
        h = torch.relu(self.conv((states * mask[..., None]).transpose(1, 2))).transpose(1, 2)
        return self.out(h.masked_fill(~mask[..., None], float("-inf")).amax(dim=1))


def predict(model: nn.Module, states, batch_size: int = 128) -> np.ndarray:
    """Class ids of every example of one split's cached ``states``."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(states.batch(np.arange(start, min(start + batch_size, len(states))))).argmax(-1)
                          for start in range(0, len(states), batch_size)]).numpy()


def fit(model: nn.Module, states: dict, task, lr: float, seed: int, epochs: int = 3,
        batch_size: int = 32) -> tuple[float, float, nn.Module]:
    """Train ``model`` (cross-entropy, AdamW without weight decay) on single-text classification states.

    Returns (best validation score, test score at that epoch, the model with that epoch's weights). The data
    order follows the benchmark's rule (a generator seeded with seed and epoch)."""
    train_states, labels = states["train"][0], task.splits["train"].labels
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)  # as glot benchmark
    best, best_state = (-np.inf, np.nan), None
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed * 100_003 + epoch)).numpy()
        for start in range(0, len(order), batch_size):
            index = order[start:start + batch_size]
            loss = nn.functional.cross_entropy(model(train_states.batch(index)), torch.from_numpy(labels[index]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        validation = compute_metric(task.metric, predict(model, states["validation"][0]),
                                    task.splits["validation"].labels)
        if validation > best[0]:
            test = compute_metric(task.metric, predict(model, states["test"][0]), task.splits["test"].labels)
            best, best_state = (validation, test), {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    return best[0], best[1], model


def run(states: dict, task, lr: float, seed: int) -> tuple[float, float]:
    """(best validation score, test score at that epoch) of one convolution reader."""
    torch.manual_seed(seed)
    validation, test, _ = fit(ConvReader(states["train"][0].dim, task.num_labels), states, task, lr, seed)
    return validation, test


def main(argv: list[str] | None = None) -> None:
    from sentence_transformers_glot.data import PROBING_TASKS
    from sentence_transformers_glot.training.config import TrainConfig
    from sentence_transformers_glot.training.inputs import cache_task_states, resolve_task

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backbone", default="minilm")
    parser.add_argument("--tasks", nargs="+", default=list(PROBING_TASKS))
    parser.add_argument("--layers", nargs="+", type=int, default=[-1, 3])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--lrs", nargs="+", type=float, default=[2e-4, 2e-3])
    parser.add_argument("--max-train", type=int, default=4000)
    parser.add_argument("--max-eval", type=int, default=None)
    parser.add_argument("--output", default="benchmarks/results/relational/conv-probe-minilm.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)

    rows = []
    cells = [(t, layer, lr, s) for t in args.tasks for layer in args.layers for lr in args.lrs for s in args.seeds]
    states_of = {}
    for task_name, layer, lr, seed in tqdm(cells, desc="conv probe", unit="run"):
        config = TrainConfig(backbone=args.backbone, task=task_name, layer=layer, max_train=args.max_train,
                             max_eval=args.max_eval)
        if (task_name, layer) not in states_of:
            task = resolve_task(config, None)
            states_of = {(task_name, layer): (task, cache_task_states(config, task))}  # one entry open at a time
        task, states = states_of[(task_name, layer)]
        validation, test = run(states, task, lr, seed)
        rows.append({"task": task_name, "layer": layer, "lr": lr, "seed": seed, "metric": task.metric,
                     "validation": validation, "test": test})

    summary = []
    print(f"\n1-D convolution reader on {args.backbone} (validation picks the learning rate; mean ± std over seeds)\n")
    print("| task | layer | lr | validation | test |\n|---|---|---|---|---|")
    for task_name in args.tasks:
        for layer in args.layers:
            by_lr = {lr: [r for r in rows if (r["task"], r["layer"], r["lr"]) == (task_name, layer, lr)]
                     for lr in args.lrs}
            lr = max(by_lr, key=lambda value: np.mean([r["validation"] for r in by_lr[value]]))
            val, test = (np.array([r[key] for r in by_lr[lr]]) for key in ("validation", "test"))
            ddof = 1 if len(val) > 1 else 0
            summary.append({"task": task_name, "layer": layer, "lr": lr, "metric": by_lr[lr][0]["metric"],
                            "validation_mean": float(val.mean()), "validation_std": float(val.std(ddof=ddof)),
                            "test_mean": float(test.mean()), "test_std": float(test.std(ddof=ddof))})
            print(f"| {task_name} ({by_lr[lr][0]['metric']}) | {layer} | {lr:g} | {val.mean():.2f} ± "
                  f"{val.std(ddof=ddof):.2f} | {test.mean():.2f} ± {test.std(ddof=ddof):.2f} |")
    write_json(args.output, script_command(argv), backbone=args.backbone, max_train=args.max_train,
               cells=rows, summary=summary)
    print(f"\nresults: {args.output}")


if __name__ == "__main__":
    main()
