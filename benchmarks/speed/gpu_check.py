"""One prepared GPU check: GlotPooling on CUDA against the CPU, encode throughput, and speed against the authors'.

Run once on a machine with a CUDA GPU (under 5 minutes; one JSON)::

    python -m benchmarks.speed.gpu_check --output benchmarks/results/speed/gpu_check.json

It measures, in this order, writing the JSON after each part so that a cut-off run keeps what it finished:

1. **Equality**: GlotPooling with the same weights on CUDA and on the CPU, on the same token states, for both
   backends (dense, scatter) and every conv (sage, gat, gcn, gin), in float32 and under bf16 autocast (the
   module computes its graph in float32 either way): the largest absolute difference, target <= 1e-4.
2. **Encode throughput**: ``model.encode`` of MiniLM + GlotPooling against MiniLM + mean ``Pooling`` (one shared
   backbone) at batch 32 / 128 / 512 and padded length 128 / 512: sentences per second, the ratio of wall times
   (target at batch 128: <= 1.05) and the peak CUDA memory.
3. **Forward + backward** of GlotPooling(conv="gat") against the authors' module with the published code's graph
   construction and with the efficient PyG rewrite (``authors_module.py``; needs ``torch_geometric``), batch 32 to
   256, padded length 128: milliseconds (CUDA-synchronised medians) and peak memory (target at batch 32:
   >= 10x the published code).

On a machine without CUDA it runs the same code in a small CPU smoke mode (one backend and conv pair, one tiny
encode, no authors' rows unless ``torch_geometric`` is installed), says that the CUDA parts were skipped, and
writes ``"cuda": false``: CI runs it that way, so the script a GPU session runs once is the one that was tested.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.common import synthetic_batch, synthetic_states
from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.evaluation.report import script_command

CONVS = ("sage", "gat", "gcn", "gin")
BACKENDS = ("dense", "scatter")


def synchronise(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def median_ms(fn, device: str, repeats: int) -> float:
    fn()  # warm-up (kernels, allocator)
    times = []
    for _ in range(repeats):
        synchronise(device)
        start = time.perf_counter()
        fn()
        synchronise(device)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def peak_mb(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None


def reset_peak(device: str) -> None:
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()


def equality(device: str, smoke: bool) -> list[dict[str, Any]]:
    """GlotPooling on ``device`` against the CPU, same weights and states."""
    rows = []
    x, mask = synthetic_states(384, seed=0, batch_size=16 if smoke else 64, length=48 if smoke else 128)
    for backend in BACKENDS[:1] if smoke else BACKENDS:
        for conv in CONVS[:2] if smoke else CONVS:
            torch.manual_seed(0)
            cpu = GlotPooling(384, conv=conv, backend=backend, attention_sink="keep").eval()
            other = GlotPooling(384, conv=conv, backend=backend, attention_sink="keep").eval()
            other.load_state_dict(cpu.state_dict())
            other.to(device)
            with torch.no_grad():
                expected = cpu({"token_embeddings": x, "attention_mask": mask})["sentence_embedding"]
                for precision in ("float32", "bf16-autocast"):
                    features = {"token_embeddings": x.to(device), "attention_mask": mask.to(device)}
                    with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=precision != "float32"):
                        got = other(features)["sentence_embedding"].float().cpu()
                    diff = float((got - expected).abs().max())
                    rows.append({"backend": backend, "conv": conv, "precision": precision, "max_abs_diff": diff,
                                 "within_1e-4": diff <= 1e-4})
                    print(f"  equality {backend:7s} {conv:4s} {precision:13s} max |diff| {diff:.2e}", flush=True)
    return rows


def encode_throughput(device: str, smoke: bool, repeats: int) -> list[dict[str, Any]]:
    """MiniLM + GlotPooling against MiniLM + mean pooling, one shared backbone."""
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot._compat import Pooling, Transformer
    from sentence_transformers_glot.backbones.registry import resolve_backbone

    rows = []
    sizes = [(8, 32)] if smoke else [(b, n) for n in (128, 512) for b in (32, 128, 512)]
    for batch, length in sizes:
        transformer = Transformer(resolve_backbone("minilm"), max_seq_length=length)
        dim = transformer.auto_model.config.hidden_size
        torch.manual_seed(0)
        glot = SentenceTransformer(modules=[transformer, GlotPooling(dim, attention_sink="keep")], device=device)
        mean = SentenceTransformer(modules=[transformer, Pooling(dim, pooling_mode="mean")], device=device)
        words = " ".join(f"word{i % 97}" for i in range(length))  # long enough to fill `length` tokens
        sentences = [f"{i} {words}" for i in range(batch * (1 if smoke else 4))]
        timings = {}
        for name, model in (("glot", glot), ("mean", mean)):
            reset_peak(device)
            seconds = median_ms(lambda m=model: m.encode(sentences, batch_size=batch, show_progress_bar=False),
                                device, repeats) / 1000
            timings[name] = {"sentences_per_s": round(len(sentences) / seconds, 1), "peak_mb": peak_mb(device)}
        ratio = timings["mean"]["sentences_per_s"] / timings["glot"]["sentences_per_s"]
        measured = {f"{k}_{m}": v for m, t in timings.items() for k, v in t.items()}
        rows.append({"batch": batch, "length": length, **measured, "overhead": round(ratio, 3)})
        print(f"  encode batch {batch:4d} L {length:4d}: GLOT {timings['glot']['sentences_per_s']:9.1f}/s, mean "
              f"{timings['mean']['sentences_per_s']:9.1f}/s, overhead {ratio:.3f}x", flush=True)
    return rows


def against_authors(device: str, smoke: bool, repeats: int) -> list[dict[str, Any]]:
    """Forward + backward of GlotPooling(conv="gat") against both authors' rows."""
    try:  # the authors' module is written with PyTorch Geometric, a benchmark-only dependency
        import torch_geometric  # noqa: F401
    except ImportError as err:
        print(f"  authors' rows skipped: {err} (pip install torch_geometric)", flush=True)
        return []
    from benchmarks.speed.authors_module import AuthorsGLOT, copy_weights

    rows = []
    for batch in (8,) if smoke else (32, 64, 128, 256):
        x, mask = synthetic_batch(384, seed=batch, batch_size=batch, length=32 if smoke else 128)
        x, mask = x.to(device), mask.to(device)
        torch.manual_seed(0)
        ours = GlotPooling(384, conv="gat", attention_sink="keep").to(device)
        contenders = {"glot_pooling": lambda xs, m, p=ours: p.pool(xs, m)}
        for build in ("reference", "matmul"):
            module = AuthorsGLOT(384, graph_build=build)
            copy_weights(module, ours.cpu())
            module.to(device)
            contenders[build] = module
        ours.to(device)
        row: dict[str, Any] = {"batch": batch, "length": x.shape[1]}
        for name, fn in contenders.items():
            def step(f=fn) -> None:
                xg = x.clone().requires_grad_(True)
                f(xg, mask).sum().backward()
            reset_peak(device)
            row[f"{name}_ms"] = round(median_ms(step, device, repeats), 2)
            row[f"{name}_peak_mb"] = peak_mb(device)
        row["speedup_vs_published"] = round(row["reference_ms"] / row["glot_pooling_ms"], 2)
        row["speedup_vs_efficient_pyg"] = round(row["matmul_ms"] / row["glot_pooling_ms"], 2)
        rows.append(row)
        print(f"  forward+backward batch {batch:3d}: GlotPooling {row['glot_pooling_ms']} ms, published code "
              f"{row['reference_ms']} ms ({row['speedup_vs_published']}x), efficient PyG {row['matmul_ms']} ms "
              f"({row['speedup_vs_efficient_pyg']}x)", flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="benchmarks/results/speed/gpu_check.json")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="the small CPU mode even when CUDA is there")
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available() and not args.smoke
    device = "cuda" if cuda else "cpu"
    smoke = not cuda
    if smoke:
        print("gpu_check: no CUDA device (or --smoke): CUDA parts skipped; running the small CPU smoke mode",
              flush=True)
    result: dict[str, Any] = {
        "cuda": cuda, "device": torch.cuda.get_device_name(0) if cuda else "cpu", "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": script_command(argv),
        "note": None if cuda else "no CUDA device: CPU smoke mode, not a GPU measurement",
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    parts = (("equality", lambda: equality(device, smoke)),
             ("encode", lambda: encode_throughput(device, smoke, 1 if smoke else args.repeats)),
             ("forward_backward_vs_authors", lambda: against_authors(device, smoke, 1 if smoke else args.repeats)))
    for name, run in parts:
        print(f"{name}:", flush=True)
        result[name] = run()
        output.write_text(json.dumps(result, indent=1))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
