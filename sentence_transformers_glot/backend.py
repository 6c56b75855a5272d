"""Which aggregation backend ``backend="auto"`` picks, and the dense backend's memory guard.

The rule comes from ``benchmarks/backend_grid.py`` (results in ``benchmarks/results/backend_grid.json``,
L = 16..2048, 4096 tokens a batch, 1 thread, 2-core AMD EPYC). The edge-list backend's cost grows with
edges x hidden size, the dense backend's with L^2 at matmul speed, so:

* threshold graphs: dense was fastest or within 8% at every point but one (L = 2048, 5% density, hidden 64:
  178 vs 151 ms in the committed run, a tie in an earlier one), and 3-9x faster than the edge list at 30%
  density from L = 256 on; ``auto`` cannot see the density in advance, and a wrong dense pick costs far
  less than a wrong edge-list pick;
* top-k graphs (density about k / L): dense up to L = 1024 (a tie there), the edge list from L = 2048
  (178 vs 224 ms, 241 vs 343 ms), hence the cut at ``L >= 128 * top_k``.

With this rule ``auto`` was within 8% of the fastest backend at 47 of the 48 grid points.
"""

from __future__ import annotations

BACKENDS = ("auto", "dense", "scatter")

# "auto" picks the edge list for top-k graphs once L >= TOP_K_SPARSE_FACTOR * top_k (from the benchmark).
TOP_K_SPARSE_FACTOR = 128
# Largest dense adjacency (B * L * L float32 entries, in bytes) "dense" agrees to build.
DENSE_MAX_BYTES = 2 << 30


def dense_adjacency_bytes(batch: int, length: int) -> int:
    """Bytes of one ``(B, L, L)`` float32 adjacency."""
    return 4 * batch * length * length


def choose_backend(backend: str, batch: int, length: int, top_k: int | None) -> str:
    """Resolve ``backend`` to ``"dense"`` or ``"scatter"`` for a padded batch of ``batch x length`` tokens.

    Raises:
        MemoryError: ``backend="dense"`` was asked for a batch whose adjacency exceeds ``DENSE_MAX_BYTES``.
    """
    if backend == "auto":
        sparse_top_k = top_k is not None and length >= TOP_K_SPARSE_FACTOR * top_k
        if sparse_top_k or dense_adjacency_bytes(batch, length) > DENSE_MAX_BYTES:
            return "scatter"
        return "dense"
    if backend == "dense" and dense_adjacency_bytes(batch, length) > DENSE_MAX_BYTES:
        raise MemoryError(
            f"GlotPooling(backend='dense') would build a {batch}x{length}x{length} adjacency "
            f"({dense_adjacency_bytes(batch, length) / 2**30:.1f} GiB, limit {DENSE_MAX_BYTES / 2**30:.0f} GiB). "
            "Use backend='scatter' (or 'auto'), set top_k to keep the graph sparse, or encode smaller batches."
        )
    return backend

