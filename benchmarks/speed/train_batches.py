"""Training steps from the hidden-state cache: the packed path (the cache's rows pooled as they come) against the
padded one it replaced (the rows padded to ``(B, L, d)``, then packed again by the pooling), side by side.

What is measured: forward + backward + AdamW step of GLOT (default options) with a classification head, over
``--batches`` batches of 32 texts drawn from a float16 cache of ``--texts`` synthetic texts (lengths uniform in
[8, 128], d = 384 and 576), reading each batch from the cache as training does; both paths alternate within each
repeat, so the machine's noise hits both alike; medians of ``--repeats``. The two paths pool the same vectors
(``tests/test_pooling.py`` checks it bit for bit), so only time differs.

    python -m benchmarks.speed.train_batches  # -> benchmarks/results/speed/train_batches.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.training.cache import TokenStates
from sentence_transformers_glot.training.heads import TaskHead
from sentence_transformers_glot.training.model import PoolingWithHead


def synthetic_cache(texts: int, dim: int, seed: int = 0) -> TokenStates:
    """A one-shard float16 cache of ``texts`` texts, 8-128 tokens each, with a shared direction (non-empty graphs)."""
    generator = np.random.default_rng(seed)
    lengths = generator.integers(8, 129, size=texts)
    shared = generator.standard_normal(dim)
    tokens = generator.standard_normal((int(lengths.sum()), dim)) + 2.0 * shared
    return TokenStates([tokens.astype(np.float16)], lengths, shard_size=texts, dim=dim)


def time_path(model: PoolingWithHead, optimizer, states: TokenStates, batches: list[np.ndarray], packed: bool,
              labels: torch.Tensor) -> float:
    """Seconds for one pass of training steps over ``batches``."""
    started = time.perf_counter()
    for index in batches:
        if packed:
            pooled = model.pooling.pool_packed(*states.packed(index))
        else:
            pooled = model.pooling.pool(*states.batch(index))
        loss = model.head.loss(model.head(pooled), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=640)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default="benchmarks/results/speed/train_batches.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for dim in (384, 576):
        states = synthetic_cache(args.texts, dim)
        torch.manual_seed(0)
        pooling = GlotPooling(dim, attention_sink="keep", input_norm="none")
        model = PoolingWithHead(pooling, TaskHead("classification", pooling.get_embedding_dimension(), num_labels=2))
        optimizer = torch.optim.AdamW(model.parameters(), lr=2e-4)
        labels = torch.from_numpy(np.random.default_rng(1).integers(0, 2, size=args.texts))
        order = np.random.default_rng(2).permutation(args.texts)
        batches = [order[i : i + 32] for i in range(0, 32 * args.batches, 32)]
        model.train()
        time_path(model, optimizer, states, batches[:2], True, labels)  # warm-up
        padded, packed = [], []
        for repeat in range(args.repeats):
            for path in ((False, True) if repeat % 2 == 0 else (True, False)):
                (packed if path else padded).append(time_path(model, optimizer, states, batches, path, labels))
        row = {"dim": dim, "batches": len(batches), "padded_median_s": statistics.median(padded),
               "packed_median_s": statistics.median(packed)}
        row["speedup"] = row["padded_median_s"] / row["packed_median_s"]
        rows.append(row)
        print(f"d={dim}: padded {row['padded_median_s']:.3f} s, packed {row['packed_median_s']:.3f} s "
              f"({row['speedup']:.2f}x) for {len(batches)} training steps")
    header = {"machine": f"{platform.processor() or platform.machine()}, {args.threads} torch thread(s)",
              "torch": torch.__version__, "command": "python -m benchmarks.speed.train_batches"}
    Path(args.output).write_text(json.dumps({"header": header, "rows": rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
