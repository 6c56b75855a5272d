"""``glot encode``'s files: texts in (arguments, a file or stdin, one per line), embeddings out by extension.

=========  ==================================================================================
``.npy``   a ``(n, dim)`` float32 array (``numpy.load``)
``.jsonl`` one ``{"text": ..., "embedding": [...]}`` object per line
``.csv``   a ``text`` column and ``e0 .. e{dim-1}``
=========  ==================================================================================

The output is written atomically, under exactly the name given.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from sentence_transformers_glot.io import atomic_write, atomic_write_text, read_text_file

OUTPUT_SUFFIXES = (".npy", ".jsonl", ".csv")


def check_output(path: str | Path) -> Path:
    """``path`` if its extension names a format this module writes; an error naming the choices otherwise."""
    path = Path(path)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ValueError(f"--output {str(path)!r}: the extension picks the format; use one of "
                         f"{', '.join(OUTPUT_SUFFIXES)}")
    return path


def read_texts(path: str | Path, stdin: TextIO | None = None, encoding: str = "utf-8") -> list[str]:
    """Non-empty lines of a text file in ``encoding``, or of ``stdin`` when ``path`` is ``"-"`` (trailing
    newlines and ``\\r`` removed; every other character is kept)."""
    if str(path) == "-":
        lines = (stdin or sys.stdin).read().splitlines()
    else:
        lines = read_text_file(path, encoding).splitlines()
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise ValueError(f"--input {str(path)!r} holds no text (one text per line)")
    return texts


def command_texts(texts: list[str], path: str | None, command: str, encoding: str = "utf-8") -> list[str]:
    """The texts a command got as arguments, or those of ``--input`` (a file, ``-``: stdin); not both."""
    if path and texts:
        raise ValueError(f"glot {command}: give texts as arguments or --input, not both")
    return read_texts(path, encoding=encoding) if path else list(texts)


def write_embeddings(path: str | Path, texts: list[str], embeddings: np.ndarray) -> Path:
    """Write ``embeddings`` (one row per text) to ``path`` in the format its extension names."""
    path = check_output(path)
    embeddings = np.asarray(embeddings, dtype=np.float32)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        atomic_write(path, lambda tmp: _save_npy(tmp, embeddings))
    elif suffix == ".jsonl":
        atomic_write_text(path, "".join(json.dumps({"text": t, "embedding": e.tolist()}, ensure_ascii=False) + "\n"
                                        for t, e in zip(texts, embeddings)))
    else:
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(["text", *(f"e{i}" for i in range(embeddings.shape[1]))])
        writer.writerows([t, *(repr(float(v)) for v in e)] for t, e in zip(texts, embeddings))
        atomic_write_text(path, out.getvalue())
    return path


def _save_npy(path: str, array: np.ndarray) -> None:
    with open(path, "wb") as handle:  # a handle, so numpy does not append ".npy" to the name
        np.save(handle, array)
