"""Training cost: a GLOT head trained from the hidden-state cache against LoRA fine-tuning of the backbone.

Both learn movie-review polarity from the same ``--examples`` (1,000) training sentences of the offline
``movie-polarity`` task, batch 32, AdamW at lr 2e-4, one epoch, max length 128, on the same backbone:

* **GLOT**: ``GlotPooling(d)`` (the default config) + a linear classification head, trained on the
  backbone's token states read from the float16 hidden-state cache; the backbone is not even loaded.
* **LoRA**: ``peft`` LoRA adapters of rank 8 (alpha 16, no dropout) on the attention projections (query,
  key, value and output: BERT's ``query key value attention.output.dense``, Llama's ``q_proj k_proj
  v_proj o_proj``) + mean pooling + the same kind of head; every step runs the backbone forward and
  backward.
* **cache build**: the one-time cost GLOT pays first, encoding the same sentences into a fresh cache.

Each of the three runs in its own process, so that the peak resident memory (``ru_maxrss``) is its own.
Reported per backbone: trainable parameters, seconds per epoch, peak memory, and the ratios LoRA / GLOT
(targets: parameters >= 20x, time >= 100x).

Reproduce (about 10 min on 2 AMD EPYC cores at 1 thread)::

    pip install -e ".[bench]"   # peft
    glot data fetch movie-polarity
    python -m benchmarks.speed.lora_vs_glot  # -> benchmarks/results/speed/lora_vs_glot.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time

LORA_TARGETS = {"bert": ["query", "key", "value", "attention.output.dense"],
                "llama": ["q_proj", "k_proj", "v_proj", "o_proj"]}
LR = 2e-4


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def trainable(module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def sentences_and_labels(examples: int):
    import torch

    from sentence_transformers_glot.data import load_task

    train = load_task("movie-polarity").splits["train"]
    return train.texts[:examples], torch.from_numpy(train.labels[:examples])


def batches(n: int, batch_size: int, seed: int = 0):
    import torch

    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def worker_cache(backbone: str, examples: int, cache_dir: str, batch_size: int) -> dict:
    from sentence_transformers_glot.backbones.registry import resolve_backbone
    from sentence_transformers_glot.backbones.states import load_backbone, transformer_encoder
    from sentence_transformers_glot.training.cache import StateCache, backbone_fingerprint

    texts, _ = sentences_and_labels(examples)
    path = resolve_backbone(backbone)
    model = load_backbone(path, 128)
    started = time.perf_counter()
    StateCache(cache_dir).get_or_build(texts, transformer_encoder(model), backbone_fingerprint(path), 128, -1,
                                       description="lora-vs-glot")
    return {"seconds": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb()}


def worker_glot(backbone: str, examples: int, cache_dir: str, batch_size: int) -> dict:
    import torch

    from sentence_transformers_glot import GlotPooling
    from sentence_transformers_glot.backbones.registry import resolve_backbone
    from sentence_transformers_glot.training.cache import StateCache, backbone_fingerprint
    from sentence_transformers_glot.training.heads import TaskHead
    from sentence_transformers_glot.training.model import PoolingWithHead

    texts, labels = sentences_and_labels(examples)
    path = resolve_backbone(backbone)

    def not_cached(_texts):
        raise RuntimeError("the cache worker runs first")

    states = StateCache(cache_dir).get_or_build(texts, not_cached, backbone_fingerprint(path), 128, -1)
    torch.manual_seed(0)
    pooling = GlotPooling(states.dim)
    model = PoolingWithHead(pooling, TaskHead("classification", pooling.get_embedding_dimension(), num_labels=2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
    model.train()
    started = time.perf_counter()
    for index in batches(len(texts), batch_size):
        loss = model.head.loss(model(states.packed(index.numpy())), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return {"seconds": time.perf_counter() - started, "trainable": trainable(model), "peak_rss_mb": peak_rss_mb()}


def worker_lora(backbone: str, examples: int, cache_dir: str, batch_size: int, rank: int = 8) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel, AutoTokenizer

    from sentence_transformers_glot.backbones.registry import resolve_backbone

    texts, labels = sentences_and_labels(examples)
    path = resolve_backbone(backbone)
    tokenizer = AutoTokenizer.from_pretrained(path)
    base = AutoModel.from_pretrained(path, dtype=torch.float32)
    family = "llama" if base.config.model_type in ("llama", "gemma3_text", "gemma3") else "bert"
    torch.manual_seed(0)
    model = get_peft_model(base, LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.0,
                                            target_modules=LORA_TARGETS[family]))
    head = torch.nn.Linear(base.config.hidden_size, 2)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad] + list(head.parameters()), lr=LR)
    model.train()
    started = time.perf_counter()
    for index in batches(len(texts), batch_size):
        batch = tokenizer([texts[i] for i in index], padding=True, truncation=True, max_length=128, return_tensors="pt")
        states = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        pooled = (states * mask).sum(1) / mask.sum(1)
        loss = torch.nn.functional.cross_entropy(head(pooled), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "trainable": trainable(model) + trainable(head), "peak_rss_mb": peak_rss_mb(),
            "targets": LORA_TARGETS[family], "rank": rank}


WORKERS = {"cache": worker_cache, "glot": worker_glot, "lora": worker_lora}


def run_worker(kind: str, backbone: str, examples: int, cache_dir: str, batch_size: int, threads: int) -> dict:
    command = [sys.executable, __file__, "--worker", kind, "--backbones", backbone, "--examples", str(examples),
               "--cache-dir", cache_dir, "--batch-size", str(batch_size), "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbones", nargs="+", default=["minilm", "smollm2-135m"])
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default="benchmarks/results/speed/lora_vs_glot.json")
    parser.add_argument("--worker", choices=list(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--cache-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        import torch

        torch.set_num_threads(args.threads)
        result = WORKERS[args.worker](args.backbones[0], args.examples, args.cache_dir, args.batch_size)
        print(json.dumps(result))
        return 0

    import torch

    from sentence_transformers_glot.evaluation.report import script_command, write_json

    torch.set_num_threads(args.threads)  # recorded in the header; each worker pins its own
    rows = []
    for backbone in args.backbones:
        with tempfile.TemporaryDirectory(prefix="lora-vs-glot-") as cache_dir:
            row = {"backbone": backbone, "examples": args.examples}
            for kind in ("cache", "glot", "lora"):
                row[kind] = run_worker(kind, backbone, args.examples, cache_dir, args.batch_size, args.threads)
                print(f"  {backbone} {kind}: {row[kind]}", flush=True)
        row["parameter_ratio"] = row["lora"]["trainable"] / row["glot"]["trainable"]
        row["time_ratio"] = row["lora"]["seconds"] / row["glot"]["seconds"]
        row["time_ratio_with_cache_build"] = row["lora"]["seconds"] / (row["glot"]["seconds"] + row["cache"]["seconds"])
        rows.append(row)

    print(f"\none epoch over {args.examples} movie-review sentences, batch {args.batch_size}, {args.threads} thread(s)")
    print(f"{'backbone':<14}{'':>6}{'trainable':>12}{'s/epoch':>10}{'peak MB':>10}")
    for row in rows:
        for kind in ("glot", "lora", "cache"):
            r = row[kind]
            print(f"{row['backbone']:<14}{kind:>6}{r.get('trainable', ''):>12}{r['seconds']:>10.1f}"
                  f"{r['peak_rss_mb']:>10.0f}")
        print(f"{'':<14}LoRA/GLOT: parameters {row['parameter_ratio']:.2f}x (target >= 20), time per epoch "
              f"{row['time_ratio']:.1f}x (target >= 100), time incl. the one-time cache build "
              f"{row['time_ratio_with_cache_build']:.2f}x")
    write_json(args.output, script_command(argv), rows=rows)
    print(f"results: {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
