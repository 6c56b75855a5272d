"""Wall time of GlotPooling's graph build + GNN forward for each aggregation backend, over a grid.

What is measured: ``GlotPooling.pool(x, mask)`` (cosine token graph, ``num_layers=2`` ``conv="sage"``
layers with ``jumping_knowledge="cat"``, attention readout) in ``torch.inference_mode()`` on random
float32 token states of dimension ``d = 384``, for

* padded length ``L`` in 16, 32, ..., 2048, batch ``B = max(1, 4096 // L)`` (about 4096 padded tokens),
  real lengths uniform in ``[L // 2, L]`` with right padding (seeded);
* three graphs: ``threshold`` at the cosine quantile that makes about 5 % and about 30 % of the valid
  pairs (``i != j``, both real) edges (``"tau, 5%"``, ``"tau, 30%"``), and ``threshold=None, top_k=16``
  (``"top-16"``); the measured density (edges / valid pairs, counted by the package's own graph builder)
  is reported;
* ``hidden_dim`` 64 and 256;
* three backends: ``dense``, ``edge list`` (``backend="scatter"``) and ``auto`` (timed as it runs, its
  density estimate included). ``dense`` is skipped where ``dense_adjacency_bytes(B, L) > DENSE_MAX_BYTES``.

Token states are ``x = s_b + 0.8 c_{b, k(i)} + n_i`` (a per-sentence direction, one of 8 per-sentence
cluster centres, token noise; all Gaussian), so similarities have structure and the degree varies
between tokens; ``tau`` is then read off the actual similarities of the batch, so the densities are
honest. Each grid point warms every backend up once (and checks that they agree on the output), then
runs ``--repeats`` timed calls per backend round-robin, so machine noise hits all backends alike; the
table reports the median in ms, ``best`` is the faster of ``dense`` and ``edge list``, ``auto picks`` is
the representation ``build_graph(..., "auto")`` returns, and ``auto/best`` is auto's time over the best.

Reproduce (about 2 min for the full grid on 2 AMD EPYC cores at 1 thread)::

    python -m benchmarks.speed.backend_grid          # full grid -> benchmarks/results/speed/backend_grid.json
    python -m benchmarks.speed.backend_grid --quick  # smoke run: L in 16, 64, 256, 3 repeats

Profile and findings (1 thread, 7 repeats, torch 2.13 CPU; ``benchmarks/results/speed/backend_grid.json``):

* The linear layers and the readout are the same for both backends; the backends differ in the
  aggregation. Dense: a batched matmul over all ``B * L * L`` pairs (padding included). Edge list: the
  row-blocked ``nonzero`` that lists the edges, then one CSR sparse x dense product per aggregation.
* Before the CSR product the edge list gathered an ``(E, D)`` tensor of neighbour features and reduced
  it (torch-scatter ``segment_csr`` or ``index_add_``): 3-9x slower than dense at 30 % density, and 12x
  slower than the CSR product at 16k tokens x 16 neighbours. With the CSR product the edge list is
  1.2-1.6x faster than dense on sparse graphs (<= 10 % of pairs) from L = 256 on, and dense stays ahead
  on short inputs and dense graphs (30 % of pairs at L <= 1024).
* ``auto`` (see ``sentence_transformers_glot.nn.backend``) uses the edge list when L >= 256 and at most 10 %
  of the pairs are edges (estimated on L / 16 rows, at most 64). In the committed run it was within 10 %
  of the best at 46 of 48 points. The two exceptions: L = 1024 top-16, at 1.20, where auto runs the
  edge list's very code, so that is noise; and L = 128, 5 %, hidden 256, at 1.11 (dense below L = 256).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

import sentence_transformers_glot.nn.functional as aggregation
from benchmarks.common import milliseconds
from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.evaluation.report import machine_description
from sentence_transformers_glot.nn.backend import DENSE_MAX_BYTES, dense_adjacency_bytes
from sentence_transformers_glot.nn.graph import DenseTokenGraph
from sentence_transformers_glot.nn.graph_builders import build_graph, build_sparse_graph

DIM = 384
HIDDEN_DIMS = (64, 256)
FULL_LENGTHS = (16, 32, 64, 128, 256, 512, 1024, 2048)
QUICK_LENGTHS = (16, 64, 256)
TARGET_DENSITIES = (0.05, 0.30)
TOP_K = 16
NUM_CLUSTERS = 8

# Column name of each measured backend -> GlotPooling's backend. SAGE's aggregation on the edge list is a
# CSR sparse x dense product, the same code with or without torch-scatter (which the readout's segment softmax
# and GAT use).
BACKENDS: dict[str, str] = {"dense": "dense", "edge list": "scatter", "auto": "auto"}
FORCED = ("dense", "edge list")  # "best" is the faster of these two; "auto" is timed as it runs


@dataclass(frozen=True)
class GraphSpec:
    """One graph setting of the grid: its label and GlotPooling's ``threshold``/``top_k``."""

    label: str
    threshold: float | None
    top_k: int | None


def make_batch(length: int, batch: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Token states ``(B, L, DIM)`` (zero on padding) and a right-padded mask with lengths in ``[L//2, L]``."""
    lengths = torch.randint(max(1, length // 2), length + 1, (batch,), generator=generator)
    mask = torch.arange(length)[None, :] < lengths[:, None]
    scale = DIM**-0.5
    sentence = torch.randn(batch, 1, DIM, generator=generator) * scale
    centres = torch.randn(batch, NUM_CLUSTERS, DIM, generator=generator) * scale
    cluster = torch.randint(0, NUM_CLUSTERS, (batch, length), generator=generator)
    noise = torch.randn(batch, length, DIM, generator=generator) * scale
    x = sentence + 0.8 * torch.gather(centres, 1, cluster[..., None].expand(-1, -1, DIM)) + noise
    return x * mask[..., None], mask


def valid_pair_similarities(x: Tensor, mask: Tensor) -> Tensor:
    """Cosine similarities of all ordered pairs ``i != j`` of real tokens of the same sentence (flat)."""
    xn = torch.nn.functional.normalize(x, dim=-1)
    sim = torch.bmm(xn, xn.transpose(1, 2))
    eye = torch.eye(x.shape[1], dtype=torch.bool)
    return sim[mask[:, :, None] & mask[:, None, :] & ~eye]


def threshold_for_density(sims: Tensor, density: float) -> float:
    """``tau`` such that a fraction ``density`` of ``sims`` is strictly greater than it."""
    rank = min(sims.numel(), max(1, round((1.0 - density) * sims.numel())))
    return float(torch.kthvalue(sims, rank).values)


def measured_density(x: Tensor, mask: Tensor, spec: GraphSpec) -> float:
    """Edges / valid pairs of the graph the package builds for ``spec``."""
    lengths = mask.sum(1)
    pairs = int((lengths * (lengths - 1)).sum())
    edges = build_sparse_graph(x, mask, spec.threshold, spec.top_k).src.numel()
    return edges / max(1, pairs)


def measure_point(
    x: Tensor, mask: Tensor, spec: GraphSpec, hidden_dim: int, repeats: int, seed: int
) -> dict[str, Any]:
    """Median ms per backend for one grid point (``None`` = skipped or unavailable), plus output agreement."""
    batch, length, _ = x.shape
    skipped: dict[str, str] = {}
    if dense_adjacency_bytes(batch, length) > DENSE_MAX_BYTES:
        skipped["dense"] = "skipped"  # the adjacency would exceed DENSE_MAX_BYTES
    columns = [name for name in BACKENDS if name not in skipped]

    modules: dict[str, GlotPooling] = {}
    for name in columns:
        torch.manual_seed(seed)  # identical weights for every backend
        modules[name] = GlotPooling(
            DIM, threshold=spec.threshold, top_k=spec.top_k, num_layers=2, hidden_dim=hidden_dim,
            conv="sage", readout="attention", backend=BACKENDS[name],
        ).eval()

    def call(name: str) -> Tensor:
        return modules[name].pool(x, mask)

    reference = None
    max_abs_diff = 0.0
    for name in columns:  # warm-up, and a check that all backends compute the same thing
        out = call(name)
        if reference is None:
            reference = out
        else:
            max_abs_diff = max(max_abs_diff, float((out - reference).abs().max()))
    times: dict[str, list[float]] = {name: [] for name in columns}
    for _ in range(repeats):
        for name in columns:
            times[name].append(milliseconds(lambda: call(name)))
    medians: dict[str, float | None] = {name: None for name in BACKENDS}
    medians.update({name: statistics.median(values) for name, values in times.items()})
    return {"ms": medians, "all_ms": times, "skipped": skipped, "max_abs_diff": max_abs_diff}


def graph_specs(x: Tensor, mask: Tensor) -> list[GraphSpec]:
    """The three graph settings for this batch (``tau`` by quantile of its own similarities)."""
    sims = valid_pair_similarities(x, mask)
    specs = [
        GraphSpec(f"tau, {round(100 * d)}%", threshold_for_density(sims, d), None) for d in TARGET_DENSITIES
    ]
    return specs + [GraphSpec(f"top-{TOP_K}", None, TOP_K)]


def machine_info(threads: int) -> dict[str, Any]:
    """Header for the JSON file."""
    torch_scatter_version = None
    if aggregation.HAS_TORCH_SCATTER:
        import torch_scatter

        torch_scatter_version = torch_scatter.__version__
    return {
        "processor": machine_description(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": threads,
        "torch_scatter_available": aggregation.HAS_TORCH_SCATTER,
        "torch_scatter_version": torch_scatter_version,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def _fmt_ms(value: float | None, skipped: str | None) -> str:
    return skipped or "n/a" if value is None else f"{value:.2f}"


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The results as a Markdown table."""
    header = ["L", "B", "graph", "density", "hidden", *(f"{name} ms" for name in BACKENDS), "best",
              "auto picks", "auto/best"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        cells = [str(row["L"]), str(row["B"]), row["graph"], f"{100 * row['density']:.1f}%", str(row["hidden"])]
        cells += [_fmt_ms(row["ms"][name], row["skipped"].get(name)) for name in BACKENDS]
        cells += [row["best"], row["auto_picks"], f"{row['auto_over_best']:.2f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per backend (default 7; 3 with --quick)")
    parser.add_argument("--lengths", type=str, default=None, help="comma list of padded lengths (default full grid)")
    parser.add_argument("--tokens", type=int, default=4096, help="padded tokens per batch, B = max(1, tokens // L)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smoke run: lengths 16,64,256 and 3 repeats")
    parser.add_argument("--out", type=str, default=None,
                        help="JSON path (default benchmarks/results/speed/backend_grid.json, *_quick.json with "
                             "--quick)")
    args = parser.parse_args()
    if args.out is None:
        name = "backend_grid_quick.json" if args.quick else "backend_grid.json"
        args.out = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "results", "speed", name)
    if args.lengths is None:
        args.lengths = ",".join(map(str, QUICK_LENGTHS if args.quick else FULL_LENGTHS))
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    lengths = [int(v) for v in args.lengths.split(",") if v.strip()]
    print(f"threads={torch.get_num_threads()} repeats={args.repeats} tokens/batch={args.tokens} "
          f"torch={torch.__version__} torch_scatter={aggregation.HAS_TORCH_SCATTER}")

    rows: list[dict[str, Any]] = []
    with torch.inference_mode():
        batches = {}
        for length in lengths:
            generator = torch.Generator().manual_seed(args.seed * 100_003 + length)
            x, mask = make_batch(length, max(1, args.tokens // length), generator)
            batches[length] = (x, mask, graph_specs(x, mask))
        points = [(length, spec, hidden) for length in lengths for spec in batches[length][2] for hidden in HIDDEN_DIMS]
        densities: dict[tuple[int, str], float] = {}
        for length, spec, hidden in tqdm(points, desc="grid points"):
            x, mask, _ = batches[length]
            batch = x.shape[0]
            if (length, spec.label) not in densities:
                densities[(length, spec.label)] = measured_density(x, mask, spec)
            result = measure_point(x, mask, spec, hidden, args.repeats, args.seed)
            measured = {name: result["ms"][name] for name in FORCED if result["ms"][name] is not None}
            best = min(measured, key=measured.__getitem__)
            graph = build_graph(x, mask, spec.threshold, spec.top_k, "auto")
            pick = "dense" if isinstance(graph, DenseTokenGraph) else "edge list"
            picked_ms = result["ms"]["auto"]
            rows.append({
                "L": length, "B": batch, "graph": spec.label, "threshold": spec.threshold, "top_k": spec.top_k,
                "density": densities[(length, spec.label)], "hidden": hidden, "ms": result["ms"],
                "all_ms": result["all_ms"], "skipped": result["skipped"], "best": best, "auto_picks": pick,
                "auto_ms": picked_ms,
                "auto_over_best": (picked_ms / measured[best]) if picked_ms is not None else float("nan"),
                "max_abs_diff_between_backends": result["max_abs_diff"],
            })

    print(markdown_table(rows))
    header = machine_info(torch.get_num_threads())
    header.update(repeats=args.repeats, tokens_per_batch=args.tokens, seed=args.seed, dim=DIM,
                  num_layers=2, conv="sage", readout="attention", statistic="median ms of pool(x, mask)")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"header": header, "rows": rows}, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
