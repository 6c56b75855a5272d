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


def read_lines(path: str | Path, stdin: TextIO | None = None, encoding: str = "utf-8") -> list[str]:
    """The lines of a text file in ``encoding`` (``"-"``: ``stdin``), split on ``\\n`` only (a ``\\r`` before it is
    dropped): form feeds, U+0085 and U+2028 inside a line stay in its text, so line ``i`` is always row ``i``.
    A final newline ends the last line; it does not start an empty one."""
    text = (stdin or sys.stdin).read() if str(path) == "-" else read_text_file(path, encoding)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_texts(path: str | Path, stdin: TextIO | None = None, encoding: str = "utf-8") -> list[str]:
    """The non-blank lines of a text file (``"-"``: stdin), one text per line (:func:`read_lines`); blank lines are
    dropped and counted on stderr, so that a user can tell rows from line numbers."""
    lines = read_lines(path, stdin, encoding)
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise ValueError(f"--input {str(path)!r} holds no text (one text per line)")
    if len(texts) < len(lines):
        print(f"glot: {str(path)!r}: skipped {len(lines) - len(texts)} blank line(s); row i of the output is the "
              "i-th non-blank line", file=sys.stderr)
    return texts


def read_text_pairs(path_a: str | Path, path_b: str | Path, encoding: str = "utf-8") -> tuple[list[str], list[str]]:
    """Line-aligned text pairs from two files: line ``i`` of one is paired with line ``i`` of the other. Files
    of different lengths, or a line blank on one side only, raise an error naming the line; lines blank on both
    sides are skipped together (counted on stderr)."""
    a, b = read_lines(path_a, encoding=encoding), read_lines(path_b, encoding=encoding)
    if len(a) != len(b):
        raise ValueError(f"--input {str(path_a)!r} has {len(a)} lines and --input-b {str(path_b)!r} has {len(b)}; "
                         "line i of one is paired with line i of the other, so they must have as many lines")
    for number, (left, right) in enumerate(zip(a, b), start=1):
        if bool(left.strip()) != bool(right.strip()):
            blank, other = (path_a, path_b) if not left.strip() else (path_b, path_a)
            raise ValueError(f"line {number} is blank in {str(blank)!r} but not in {str(other)!r}; pairs are "
                             "line-aligned, so fill or remove the line in both files")
    kept = [(left, right) for left, right in zip(a, b) if left.strip()]
    if not kept:
        raise ValueError(f"--input {str(path_a)!r} and --input-b {str(path_b)!r} hold no text pairs")
    if len(kept) < len(a):
        print(f"glot: skipped {len(a) - len(kept)} line(s) blank in both files", file=sys.stderr)
    return [left for left, _ in kept], [right for _, right in kept]


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
