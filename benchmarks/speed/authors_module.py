"""GlotPooling against the authors' module: what a user would otherwise run.

:class:`AuthorsGLOT` is written here from the public description of the reference code (see
``REFERENCE.md``): PyTorch Geometric's ``GATConv`` (one head) with a constant edge feature 1.0
(``edge_dim=1``), a graph built per sentence in a Python loop (an edge wherever the cosine similarity of two
real tokens exceeds tau, the diagonal included, so every token has a self-loop), ``Batch.from_data_list``,
ReLU after each layer, jumping-knowledge concatenation ``[x || h1 || h2]``, and a Linear-Tanh-Linear scorer
with a softmax per graph (``torch_geometric.utils.softmax``) and a ``scatter_add`` of the weighted tokens.
It builds each sentence's graph one of two ways (``graph_build``):

* ``"reference"``, as the published code does: ``F.cosine_similarity`` of the broadcast ``(n, 1, d)`` and
  ``(1, n, d)`` token tensors (an ``(n, n, d)`` intermediate), ``(sim > tau).float()``, PyG's
  ``dense_to_sparse`` (edge index and the adjacency's values, 1.0, as the edge feature), one ``Data`` each;
* ``"matmul"``, an efficient rewrite: the unit vectors' ``unit @ unit.T > tau`` and ``nonzero``.

Both are timed: the first is the code a user would download, the second what a careful PyG user would write.

Equality first. With GlotPooling(conv="gat")'s weights copied in and the edge-feature term zeroed (it adds
one learnable scalar per layer inside the LeakyReLU that GlotPooling leaves out: it carries no information),
the two pooled vectors agree to ~1e-6. The self-loops agree too: the authors' come from the similarity
diagonal (cos(x_i, x_i) = 1 > tau; PyG's GATConv replaces them by its own, one per node), GlotPooling's GAT
adds exactly one per token. (For sage/gcn/gin the diagonal would be a real difference: GlotPooling's
neighbourhoods exclude the token itself, as the paper's formula says.)

Then timing, GlotPooling against both (interleaved), at batch 32, padded length 128 (real lengths uniform in
[32, 128], the first 128), d = 384 and
576, tau 0.8 on synthetic states with a shared direction so that graphs are not empty, ``--threads``
torch threads: forward, forward + backward, and one training epoch from a cache (``--epoch-batches``
batches read from a memory-mapped ``TokenStates`` like the real cache's, a linear classification head,
AdamW), medians of interleaved runs, printed as ratios.

    pip install torch_geometric          # the "bench" extra; never a dependency of the package
    python -m benchmarks.speed.authors_module  # -> benchmarks/results/speed/authors_module.json
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import milliseconds, synthetic_batch
from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.evaluation.report import markdown_table, script_command, write_json
from sentence_transformers_glot.training.cache import TokenStates


class AuthorsGLOT(nn.Module):
    """The reference code's GLOT head as a user would write it with PyTorch Geometric."""

    def __init__(self, dim: int, hidden: int = 256, num_layers: int = 2, threshold: float = 0.8,
                 graph_build: str = "matmul") -> None:
        super().__init__()
        from torch_geometric.nn import GATConv

        if graph_build not in ("reference", "matmul"):
            raise ValueError(f"graph_build must be 'reference' or 'matmul'; got {graph_build!r}")
        self.threshold, self.graph_build = threshold, graph_build
        dims = [dim] + [hidden] * num_layers
        self.convs = nn.ModuleList(GATConv(dims[i], dims[i + 1], heads=1, edge_dim=1) for i in range(num_layers))
        out = self.out_dim = dim + num_layers * hidden
        self.scorer = nn.Sequential(nn.Linear(out, max(128, out // 2)), nn.Tanh(), nn.Linear(max(128, out // 2), 1))

    def graphs(self, x: torch.Tensor, mask: torch.Tensor):
        """One ``Data`` per sentence, built in a Python loop, batched with ``Batch.from_data_list``."""
        from torch_geometric.data import Batch, Data
        from torch_geometric.utils import dense_to_sparse

        data = []
        for b in range(x.shape[0]):
            h = x[b][mask[b]]
            if self.graph_build == "reference":  # the published code's construction
                sim = F.cosine_similarity(h.unsqueeze(1), h.unsqueeze(0), dim=-1)  # via an (n, n, d) tensor
                edge_index, edge_weight = dense_to_sparse((sim > self.threshold).float())  # diagonal kept
                data.append(Data(x=h, edge_index=edge_index, edge_attr=edge_weight[:, None]))
                continue
            unit = F.normalize(h, dim=-1)
            edge_index = ((unit @ unit.T) > self.threshold).nonzero().T  # the diagonal: self-loops
            data.append(Data(x=h, edge_index=edge_index, edge_attr=torch.ones(edge_index.shape[1], 1)))
        return Batch.from_data_list(data)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        from torch_geometric.utils import softmax
        from torch_scatter import scatter_add

        graph = self.graphs(x, mask)
        h, outputs = graph.x, [graph.x]
        for conv in self.convs:
            h = torch.relu(conv(h, graph.edge_index, edge_attr=graph.edge_attr))
            outputs.append(h)
        u = torch.cat(outputs, dim=-1)
        weights = softmax(self.scorer(u).squeeze(-1), graph.batch)
        return scatter_add(weights[:, None] * u, graph.batch, dim=0, dim_size=x.shape[0])


def copy_weights(authors: AuthorsGLOT, pooling: GlotPooling) -> None:
    """GlotPooling(conv="gat")'s parameters into the authors' module; the edge-feature term set to zero."""
    with torch.no_grad():
        for theirs, ours in zip(authors.convs, pooling.gnn.layers):
            theirs.lin.weight.copy_(ours.lin.weight)
            theirs.att_src.copy_(ours.att_src.view(1, 1, -1))
            theirs.att_dst.copy_(ours.att_dst.view(1, 1, -1))
            theirs.bias.copy_(ours.bias)
            theirs.att_edge.zero_()
        authors.scorer[0].weight.copy_(pooling.attention.proj.weight)
        authors.scorer[0].bias.copy_(pooling.attention.proj.bias)
        authors.scorer[2].weight.copy_(pooling.attention.score.weight)
        authors.scorer[2].bias.zero_()


def synthetic_cache(dim: int, batches: int, batch_size: int = 32) -> TokenStates:
    """``batches`` synthetic batches laid out as the cache stores them (real tokens only, one shard)."""
    tokens, lengths = [], []
    for i in range(batches):
        x, mask = synthetic_batch(dim, seed=1000 + i, batch_size=batch_size)
        tokens.append(x[mask].numpy())
        lengths.append(mask.sum(1).numpy())
    lengths_all = np.concatenate(lengths)
    return TokenStates(shards=[np.concatenate(tokens)], lengths=lengths_all, shard_size=len(lengths_all), dim=dim)


def epoch_runner(pool: nn.Module, states: TokenStates, batch_size: int, seed: int = 0):
    """One training epoch from ``states`` (a linear 2-class head, AdamW) with the pooling ``pool``."""
    head = nn.Linear(pool.out_dim, 2)
    optimiser = torch.optim.AdamW([*pool.parameters(), *head.parameters()], lr=2e-4)
    labels = torch.randint(0, 2, (len(states),), generator=torch.Generator().manual_seed(seed))

    def once() -> None:
        for start in range(0, len(states), batch_size):
            index = np.arange(start, min(start + batch_size, len(states)))
            x, mask = states.batch(index)
            loss = F.cross_entropy(head(pool(x, mask)), labels[index])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()

    return once


class Ours(nn.Module):
    """GlotPooling.pool as a module with ``out_dim``, for the epoch runner."""

    def __init__(self, pooling: GlotPooling) -> None:
        super().__init__()
        self.pooling, self.out_dim = pooling, pooling.get_sentence_embedding_dimension()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.pooling.pool(x, mask)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--epoch-batches", type=int, default=8, help="batches of 32 in the timed epoch")
    parser.add_argument("--dims", type=int, nargs="+", default=[384, 576])
    parser.add_argument("--backend", default="auto", help="GlotPooling backend")
    parser.add_argument("--output", default="benchmarks/results/speed/authors_module.json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    rows = []
    for dim in args.dims:
        torch.manual_seed(0)
        pooling = GlotPooling(dim, conv="gat", backend=args.backend, attention_sink="keep")
        authors = {build: AuthorsGLOT(dim, graph_build=build) for build in ("reference", "matmul")}
        for module in authors.values():
            copy_weights(module, pooling)
        x, mask = synthetic_batch(dim, seed=dim)
        diffs = {}
        with torch.no_grad():
            ours_z = pooling.pool(x, mask)
            for build, module in authors.items():
                diffs[build] = (ours_z - module(x, mask)).abs().max().item()
                assert diffs[build] <= 1e-4 * max(1.0, ours_z.abs().max().item()), (
                    f"d={dim}: GlotPooling and the authors' module ({build} graphs) disagree by {diffs[build]}")
        edges = int(authors["matmul"].graphs(x, mask).edge_index.shape[1] - mask.sum())
        states = synthetic_cache(dim, args.epoch_batches)
        ours_module = Ours(pooling)

        def forward(module):
            def run() -> None:
                with torch.no_grad():
                    module(x, mask)
            return run

        def backward(module):
            def run() -> None:
                xg = x.clone().requires_grad_(True)
                module(xg, mask).sum().backward()
                module.zero_grad(set_to_none=True)
            return run

        contenders = {"glot_pooling": ours_module, "reference": authors["reference"], "authors": authors["matmul"]}
        modes = {"forward": {k: forward(m) for k, m in contenders.items()},
                 "forward+backward": {k: backward(m) for k, m in contenders.items()},
                 f"epoch ({len(states)} sentences)": {k: epoch_runner(m, states, 32) for k, m in contenders.items()}}
        for mode, fns in modes.items():
            for fn in fns.values():  # warm-up
                fn()
            times: dict[str, list[float]] = {k: [] for k in fns}
            for _ in range(args.repeats):  # interleaved: noise on the shared machine hits all alike
                for key, fn in fns.items():
                    times[key].append(milliseconds(fn))
            med = {k: statistics.median(v) for k, v in times.items()}
            rows.append({"dim": dim, "mode": mode, "glot_pooling_ms": round(med["glot_pooling"], 2),
                         "reference_ms": round(med["reference"], 2), "authors_ms": round(med["authors"], 2),
                         "speedup_vs_reference": round(med["reference"] / med["glot_pooling"], 2),
                         "speedup": round(med["authors"] / med["glot_pooling"], 2),
                         "max_abs_diff": diffs["matmul"], "max_abs_diff_reference": diffs["reference"],
                         "similarity_edges_off_diagonal": edges, "all_ms": times})
            print(f"d={dim} {mode}: GlotPooling {med['glot_pooling']:.1f} ms, the published code's graphs "
                  f"{med['reference']:.1f} ms ({med['reference'] / med['glot_pooling']:.2f}x), efficient PyG rewrite "
                  f"{med['authors']:.1f} ms ({med['authors'] / med['glot_pooling']:.2f}x)", flush=True)
    print(markdown_table(["d", "measured", "GlotPooling (ms)", "authors' code, published graphs (ms)", "speed-up",
                          "authors' module, efficient PyG (ms)", "speed-up"],
                         [[r["dim"], r["mode"], r["glot_pooling_ms"], r["reference_ms"],
                           f"{r['speedup_vs_reference']}x", r["authors_ms"], f"{r['speedup']}x"] for r in rows],
                         align="---:"))
    write_json(args.output, script_command(argv), settings={"threads": args.threads, "repeats": args.repeats,
                                                            "batch": 32, "length": 128, "backend": args.backend},
               rows=rows)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
