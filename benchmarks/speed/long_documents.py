"""Pooling one long document: time and peak memory of GlotPooling, exact top-k against a window, L = 512 ... 32,768.

What is measured: ``GlotPooling(576, threshold=None, top_k=16).pool(x, mask)`` (2 SAGE layers, hidden
256, jumping knowledge "cat", attention readout; ``backend="auto"``, which picks the edge list at these
lengths) under ``torch.inference_mode()`` on one document of ``L`` float32 token states of dimension
576 (SmolLM2's width), built like the backend grid's (a document direction, 64 topic centres, noise).
Each length runs in a fresh process: a first call, whose peak resident memory over the resident memory
just before it is the pooling step's peak (the kernel's ``VmHWM`` mark, reset through
``/proc/self/clear_refs`` just before the call), then further calls; the median time of all
``--repeats`` calls is reported.

The same for the windowed graph (``graph_window=64, threshold=None, top_k=16``: the 16 most similar tokens
among the 64 before and after each token), whose cost grows linearly with the length, against the exact top-k
graph's quadratic similarity matrix.

Also shown: the dense threshold mode (``threshold=0.8``, ``backend="dense"``) at the lengths whose
``L x L`` adjacency exceeds its memory budget refuses with ``MemoryError`` before allocating anything,
and ``backend="auto"`` with the same threshold falls back to the row-blocked edge list.

Reproduce (about 3 min on 2 AMD EPYC cores at 1 thread)::

    python -m benchmarks.speed.long_documents  # -> benchmarks/results/long-documents/long_documents.json
    python -m benchmarks.speed.long_documents --lengths 512 1024 2048 4096 8192 16384 32768 --modes top-k window \
        --threshold-lengths --output benchmarks/results/long-documents/long_documents_window.json
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

LENGTHS = (512, 1024, 2048, 4096, 8192, 16384)
#: GlotPooling options per mode.
MODES = {"top-k": {"threshold": None, "top_k": 16}, "threshold": {"threshold": 0.8},
         "window": {"threshold": None, "top_k": 16, "graph_window": 64}}
DIM = 576


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (``VmHWM``) so that the next reading covers only what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """Peak resident memory since the last :func:`reset_peak` (else since the process started)."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def document(length: int, dim: int, seed: int = 0):
    import torch

    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(64, dim, generator=gen)
    topic = torch.randint(0, 64, (length,), generator=gen)
    x = torch.randn(1, 1, dim, generator=gen) + 0.8 * centres[topic][None] + torch.randn(1, length, dim, generator=gen)
    return x, torch.ones(1, length, dtype=torch.bool)


def worker(length: int, repeats: int, mode: str) -> dict:
    import torch

    from sentence_transformers_glot import GlotPooling
    from sentence_transformers_glot.nn.backend import choose_backend

    torch.manual_seed(0)
    options = MODES[mode]
    pooling = GlotPooling(DIM, **options).eval()
    x, mask = document(length, DIM)
    backend = "window" if "graph_window" in options else choose_backend("auto", 1, length, options.get("top_k"))
    row = {"L": length, "mode": mode, "backend": backend}
    with torch.inference_mode():
        row["peak_reset"] = reset_peak()
        before = rss_mb()
        started = time.perf_counter()
        pooling.pool(x, mask)
        first = time.perf_counter() - started
        row["peak_mb"] = peak_mb() - before
        times = [first]
        for _ in range(repeats - 1):
            started = time.perf_counter()
            pooling.pool(x, mask)
            times.append(time.perf_counter() - started)
    row["seconds"] = statistics.median(times)
    if mode == "threshold":
        try:
            GlotPooling(DIM, threshold=0.8, backend="dense").pool(x, mask)
            row["dense"] = "ran"
        except MemoryError as err:
            row["dense"] = f"MemoryError: {err}"
    return row


def plot(rows: list[dict], path: str) -> None:
    """Time and peak memory against the length, one line per mode, log-log (a straight line of slope 1 is
    linear)."""
    from sentence_transformers_glot.evaluation.report import pyplot

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for mode in dict.fromkeys(r["mode"] for r in rows if r["mode"] != "threshold"):
        mine = [r for r in rows if r["mode"] == mode]
        lengths = [r["L"] for r in mine]
        axes[0].plot(lengths, [r["seconds"] for r in mine], marker="o", label=mode)
        axes[1].plot(lengths, [r["peak_mb"] for r in mine], marker="o", label=mode)
    for ax, what in zip(axes, ("seconds per document", "peak memory (MB)")):
        ax.set(xscale="log", yscale="log", xlabel="document length (tokens)", ylabel=what)
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    axes[0].set_title("one document, d = 576: exact top-k vs a 64-token window")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", nargs="+", type=int, default=list(LENGTHS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--modes", nargs="+", default=["top-k"], choices=["top-k", "window"],
                        help="graphs to time at every length")
    parser.add_argument("--threshold-lengths", nargs="*", type=int, default=[16384, 32768],
                        help="lengths at which to show the dense threshold mode's refusal and auto's fallback")
    parser.add_argument("--output", default="benchmarks/results/long-documents/long_documents.json")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    if args.worker:
        print(json.dumps(worker(int(args.worker[0]), args.repeats, args.worker[1])))
        return 0

    from sentence_transformers_glot.evaluation.report import script_command, write_json

    rows = []
    jobs = [(n, mode) for n in args.lengths for mode in args.modes] + [(n, "threshold") for n in args.threshold_lengths]
    for length, mode in jobs:
        done = subprocess.run([sys.executable, __file__, "--worker", str(length), mode, "--repeats", str(args.repeats),
                               "--threads", str(args.threads)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-3000:])
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {rows[-1]}", flush=True)

    print(f"\none document, d = {DIM}, {args.threads} thread(s), median of {args.repeats}")
    print(f"{'mode':<10}{'L':>7}{'backend':>9}{'seconds':>9}{'s / L (us)':>12}{'peak MB':>9}{'MB / 1k tokens':>16}")
    for r in rows:
        print(f"{r['mode']:<10}{r['L']:>7}{r['backend']:>9}{r['seconds']:>9.3f}{r['seconds'] / r['L'] * 1e6:>12.1f}"
              f"{r['peak_mb']:>9.0f}{r['peak_mb'] / r['L'] * 1000:>16.1f}")
        if "dense" in r:
            print(f"{'':<10}backend='dense': {r['dense']}")
    write_json(args.output, script_command(argv), rows=rows)
    print(f"results: {args.output}")
    plot(rows, str(Path(args.output).with_suffix(".png")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
