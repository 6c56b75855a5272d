"""GlotPooling against the FLOP floor: the time of its own matrix products alone.

A ``TorchDispatchMode`` records every matrix product that GlotPooling's forward (and, separately, its
forward + backward) issues: ``mm``, ``addmm``, ``bmm``, ``baddbmm``, ``mv``, ``addmv`` (and their in-place
forms), with their operands' shapes and strides. Replaying exactly those products on fresh tensors of the
same layouts, back to back and with nothing else, takes the least time any implementation that performs them
can take on this CPU: the floor. The script reports GlotPooling's forward and forward + backward against it
(target: within 1.3x), the FLOPs, and, from ``torch.profiler``, where the time above the floor goes.

Shapes as in ``authors_module.py``: batch 32, padded length 128 (real lengths uniform in [32, 128]),
d = 384 and 576, the paper's configuration (tau 0.8, 2 layers, hidden 256, jumping knowledge "cat",
attention readout) with ``--conv`` sage (the paper's formula) and gat (the reference code's), 1 thread,
medians of interleaved runs.

    python -m benchmarks.speed.flop_floor  # -> benchmarks/results/speed/flop_floor.json
"""

from __future__ import annotations

import argparse
import statistics

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.common import milliseconds, synthetic_batch
from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.evaluation.report import markdown_table, script_command, write_json

aten = torch.ops.aten
PRODUCTS = {aten.mm.default, aten.addmm.default, aten.addmm_.default, aten.bmm.default, aten.baddbmm.default,
            aten.baddbmm_.default, aten.mv.default, aten.addmv.default, aten.addmv_.default}


class Operand:
    """The layout of one tensor argument of a recorded product (a sparse one, the edge list's CSR adjacency,
    is kept as it is: its pattern is the graph)."""

    def __init__(self, tensor: torch.Tensor) -> None:
        self.shape = tuple(tensor.shape)
        self.sparse = tensor.detach().clone() if tensor.layout != torch.strided else None
        self.nnz = int(tensor._nnz()) if self.sparse is not None else None
        self.stride = tuple(tensor.stride()) if self.sparse is None else None

    def make(self) -> torch.Tensor:
        if self.sparse is not None:
            return self.sparse
        size = 1 + sum((n - 1) * st for n, st in zip(self.shape, self.stride))
        return torch.randn(size).as_strided(self.shape, self.stride)


class RecordProducts(TorchDispatchMode):
    """Records (op, arguments with each tensor replaced by its :class:`Operand`, kwargs) of every product."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func in PRODUCTS:
            layout = [Operand(a) if isinstance(a, torch.Tensor) else a for a in args]
            self.calls.append((func, layout, dict(kwargs or {})))
        return func(*args, **(kwargs or {}))


def product_flops(func, layout) -> int:
    """2 x multiply-adds of one recorded product."""
    operands = [item for item in layout if isinstance(item, Operand)]
    shapes = [item.shape for item in operands]
    if operands[-2].sparse is not None:  # CSR adjacency x dense: one multiply-add per edge and column
        return 2 * operands[-2].nnz * shapes[-1][-1]
    if func in (aten.mm.default, aten.addmm.default, aten.addmm_.default):
        (m, k), (_, n) = shapes[-2], shapes[-1]
        return 2 * m * k * n
    if func in (aten.bmm.default, aten.baddbmm.default, aten.baddbmm_.default):
        (b, m, k), (_, _, n) = shapes[-2], shapes[-1]
        return 2 * b * m * k * n
    (m, k) = shapes[-2]
    return 2 * m * k


def replayer(calls):
    """A function running the recorded products alone, on tensors made once with the recorded layouts."""
    prepared = [(func, [a.make() if isinstance(a, Operand) else a for a in layout], kwargs)
                for func, layout, kwargs in calls]

    def run() -> None:
        for func, args, kwargs in prepared:
            func(*args, **kwargs)

    return run


def above_floor_profile(fn, top: int = 8) -> list[dict]:
    """The operators other than matrix products that take the most self time in ``fn``."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            fn()
    names = {"aten::mm", "aten::addmm", "aten::addmm_", "aten::bmm", "aten::baddbmm", "aten::baddbmm_", "aten::mv",
             "aten::addmv", "aten::addmv_"}
    events = [e for e in prof.key_averages() if e.key not in names and e.self_cpu_time_total > 0]
    events.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in prof.key_averages())
    return [{"op": e.key, "share": round(e.self_cpu_time_total / total, 3)} for e in events[:top]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--dims", type=int, nargs="+", default=[384, 576])
    parser.add_argument("--convs", nargs="+", default=["sage", "gat"])
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--output", default="benchmarks/results/speed/flop_floor.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    rows = []
    for dim in args.dims:
        x, mask = synthetic_batch(dim, seed=dim)
        for conv in args.convs:
            torch.manual_seed(0)
            pooling = GlotPooling(dim, conv=conv, backend=args.backend)

            def forward() -> None:
                with torch.no_grad():
                    pooling.pool(x, mask)

            def backward() -> None:
                xg = x.clone().requires_grad_(True)
                pooling.pool(xg, mask).sum().backward()
                pooling.zero_grad(set_to_none=True)

            for mode, fn in (("forward", forward), ("forward+backward", backward)):
                fn()  # warm-up (and the backend's choice)
                with RecordProducts() as recorder:
                    fn()
                floor = replayer(recorder.calls)
                floor()
                times: dict[str, list[float]] = {"glot_pooling": [], "floor": []}
                for _ in range(args.repeats):
                    times["glot_pooling"].append(milliseconds(fn))
                    times["floor"].append(milliseconds(floor))
                med = {k: statistics.median(v) for k, v in times.items()}
                gflop = sum(product_flops(f, layout) for f, layout, _ in recorder.calls) / 1e9
                row = {"dim": dim, "conv": conv, "mode": mode, "products": len(recorder.calls),
                       "gflop": round(gflop, 3), "glot_pooling_ms": round(med["glot_pooling"], 2),
                       "floor_ms": round(med["floor"], 2), "ratio": round(med["glot_pooling"] / med["floor"], 3),
                       "floor_gflops_per_s": round(gflop / med["floor"] * 1e3, 1),
                       "above_floor": above_floor_profile(fn), "all_ms": times}
                rows.append(row)
                print(f"d={dim} {conv} {mode}: GlotPooling {med['glot_pooling']:.1f} ms, floor {med['floor']:.1f} ms "
                      f"({row['ratio']:.2f}x; {len(recorder.calls)} products, {gflop:.2f} GFLOP); above the floor: "
                      + ", ".join(f"{e['op']} {100 * e['share']:.0f}%" for e in row["above_floor"][:4]), flush=True)
    print(markdown_table(["d", "conv", "measured", "GlotPooling (ms)", "floor (ms)", "ratio (target <= 1.3)"],
                         [[r["dim"], r["conv"], r["mode"], r["glot_pooling_ms"], r["floor_ms"], r["ratio"]]
                          for r in rows], align="---:"))
    write_json(args.output, script_command(argv), settings={"threads": args.threads, "repeats": args.repeats,
                                                            "batch": 32, "length": 128, "backend": args.backend},
               rows=rows)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
