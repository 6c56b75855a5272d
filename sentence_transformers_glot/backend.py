"""Which aggregation backend ``backend="auto"`` picks, and the dense backend's memory guard.

The rule comes from ``benchmarks/backend_grid.py`` (results in ``benchmarks/results/backend_grid.json``):
on 2 CPU cores the dense masked-matmul backend wins for every graph up to the length printed there,
the edge-list backend beyond it and for sparse top-k graphs on long inputs.
"""

from __future__ import annotations

from sentence_transformers_glot.aggregation import HAS_TORCH_SCATTER

BACKENDS = ("auto", "dense", "scatter")

# Longest padded length at which "auto" still picks the dense backend (from the benchmark).
DENSE_MAX_LENGTH = 512
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
        if length <= DENSE_MAX_LENGTH and dense_adjacency_bytes(batch, length) <= DENSE_MAX_BYTES:
            return "dense"
        return "scatter"
    if backend == "dense" and dense_adjacency_bytes(batch, length) > DENSE_MAX_BYTES:
        raise MemoryError(
            f"GlotPooling(backend='dense') would build a {batch}x{length}x{length} adjacency "
            f"({dense_adjacency_bytes(batch, length) / 2**30:.1f} GiB, limit {DENSE_MAX_BYTES / 2**30:.0f} GiB). "
            "Use backend='scatter' (or 'auto'), set top_k to keep the graph sparse, or encode smaller batches."
        )
    return backend


def scatter_kernels_available() -> bool:
    """True when torch-scatter is importable (the 'scatter' backend then uses its segment kernels)."""
    return HAS_TORCH_SCATTER
