"""Which graph representation ``backend="auto"`` uses, and the memory guards of both.

The rule was measured with ``python -m benchmarks.speed.backend_grid`` (``docs/configuration.md``, "Backends", has
the numbers and the machines). The dense backend's aggregation costs a batched matmul over all ``B * L * L``
pairs; the edge list's costs the edges (a CSR sparse x dense product) plus turning the adjacency into an edge
list. So the edge list pays off when few of the ``B * L * L`` pairs are edges and ``L`` is long enough for the
saving to exceed that conversion:

* ``"auto"`` uses the edge list when ``L >= SPARSE_MIN_LENGTH`` and at most ``SPARSE_MAX_DENSITY`` of the
  ``B * L * L`` pairs are edges: known in advance for a top-k graph, and otherwise counted exactly on
  ``L / 16`` (at most 64) evenly spaced rows of the similarity matrix, at most 1/16 of the full cost;
  the dense adjacency otherwise;
* an adjacency over ``AUTO_DENSE_MAX_BYTES`` is never built by ``"auto"``: the row-blocked edge list is.

``"dense"`` and ``"scatter"`` force one representation; ``"dense"`` refuses an adjacency over
``DENSE_MAX_BYTES`` and the edge list refuses more than ``MAX_EDGES`` edges, each with a ``MemoryError``
that says what to change, so no setting runs the machine out of memory.
"""

from __future__ import annotations

from sentence_transformers_glot.options import BACKENDS  # noqa: F401  (re-exported)

#: "auto" uses an edge list from this padded length on, when the graph is sparse enough (shorter sentences: the
#: dense adjacency was as fast or faster in the backend grid).
SPARSE_MIN_LENGTH = 128
#: ... and at most this fraction of the B * L * L pairs are edges.
SPARSE_MAX_DENSITY = 0.10
#: Largest dense adjacency (bytes of B * L * L float32) "auto" builds before measuring the density.
AUTO_DENSE_MAX_BYTES = 256 << 20
#: Largest dense adjacency backend="dense" agrees to build.
DENSE_MAX_BYTES = 2 << 30
#: Most edges an edge list may hold (about 2.4 GiB of int64 indices and float32 weights).
MAX_EDGES = 100_000_000


def dense_adjacency_bytes(batch: int, length: int) -> int:
    """Bytes of one ``(B, L, L)`` float32 adjacency."""
    return 4 * batch * length * length


def top_k_density(length: int, top_k: int | None) -> float | None:
    """Upper bound on a top-k graph's density (edges / ``L * L`` per sentence); ``None`` without top-k."""
    if top_k is None or length < 2:
        return None
    return min(top_k, length - 1) * length / (length * length)


def prefer_edge_list(length: int, density: float) -> bool:
    """Whether ``"auto"`` turns a graph of this padded length and density into an edge list."""
    return length >= SPARSE_MIN_LENGTH and density <= SPARSE_MAX_DENSITY


def choose_backend(backend: str, batch: int, length: int, top_k: int | None) -> str:
    """The representation to *build* for a padded ``batch x length`` batch: ``"dense"`` or ``"scatter"``.

    For ``"auto"`` a ``"dense"`` answer at ``L >= SPARSE_MIN_LENGTH`` is provisional: the graph's
    estimated density decides (see :func:`sentence_transformers_glot.nn.graph.build_graph`).

    Raises:
        MemoryError: ``backend="dense"`` was asked for a batch whose adjacency exceeds ``DENSE_MAX_BYTES``.
    """
    if backend == "auto":
        known = top_k_density(length, top_k)
        if known is not None and prefer_edge_list(length, known):
            return "scatter"
        return "scatter" if dense_adjacency_bytes(batch, length) > AUTO_DENSE_MAX_BYTES else "dense"
    if backend == "dense" and dense_adjacency_bytes(batch, length) > DENSE_MAX_BYTES:
        raise MemoryError(
            f"GlotPooling(backend='dense') would build a {batch}x{length}x{length} adjacency "
            f"({dense_adjacency_bytes(batch, length) / 2**30:.1f} GiB, limit {DENSE_MAX_BYTES / 2**30:.0f} GiB). "
            "Use backend='scatter' (or 'auto'), set top_k to keep the graph sparse, or encode smaller batches."
        )
    return backend
