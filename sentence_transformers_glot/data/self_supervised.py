"""Self-supervised pairs from unlabelled documents: two spans of one document are a positive pair, and the other
documents of a batch are its negatives (the ``contrastive`` head's in-batch InfoNCE).

``load_task("spans:<source>")`` builds the task (see :mod:`sentence_transformers_glot.data.registry`): ``<source>``
is a task name, whose texts (every split, both sides of pairs, repeats removed) are the documents, or the path of
a ``.txt`` file with one document per line. A document of at least two sentences is cut between its sentences
(the first half of them against the rest); a one-sentence document of at least :data:`MIN_WORDS` words is cut
between its words; shorter ones are left out. Documents, not pairs, are split 80/10/10 by a seeded hash, so no
document is in two splits. The task's head is ``contrastive``; its metric is in-batch retrieval accuracy.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from sentence_transformers_glot.data.splits import (
    DEFAULT_SEED,
    assemble_task,
    non_default_options,
    split_80_10_10,
    split_sizes,
    task_version,
)
from sentence_transformers_glot.data.tasks import Split, TaskData

#: The prefix of a self-supervised task's name.
PREFIX = "spans:"
#: A one-sentence document needs this many words to make two spans.
MIN_WORDS = 6
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def two_spans(document: str) -> tuple[str, str] | None:
    """``document`` cut into two spans: between its sentences (the first half of them, then the rest), or for one
    sentence between its words; ``None`` when it is too short (fewer than :data:`MIN_WORDS` words)."""
    sentences = [s for s in _SENTENCE_END.split(" ".join(document.split())) if s]
    if len(sentences) >= 2:
        half = (len(sentences) + 1) // 2
        return " ".join(sentences[:half]), " ".join(sentences[half:])
    words = document.split()
    if len(words) < MIN_WORDS:
        return None
    return " ".join(words[: len(words) // 2]), " ".join(words[len(words) // 2:])


def span_task(source: str, documents: Sequence[str], version: str, seed: int = DEFAULT_SEED) -> TaskData:
    """The self-supervised task ``spans:<source>`` from ``documents`` (``version``: the source's data version)."""
    unique = list(dict.fromkeys(" ".join(d.split()) for d in documents if d and d.strip()))
    pairs = [(doc, spans) for doc in unique if (spans := two_spans(doc)) is not None]
    if len(pairs) < 30:
        raise ValueError(f"task {PREFIX}{source}: {len(pairs)} documents make two spans (at least {MIN_WORDS} words, "
                         "or two sentences); at least 30 are needed.")
    splits = {}
    for split, index in split_80_10_10([doc for doc, _ in pairs], None, seed).items():
        a = [pairs[i][1][0] for i in index]
        b = [pairs[i][1][1] for i in index]
        splits[split] = Split(texts=a, labels=np.ones(len(a), dtype=np.int64), texts_b=b)
    description = (f"Self-supervised pairs: two spans of one document of {source} (between its sentences, or its "
                   f"words), trained with in-batch negatives. {len(unique):,} documents, {len(pairs):,} with two "
                   f"spans; documents split by a seeded hash (seed {seed}). Sizes {split_sizes(splits)}.")
    return assemble_task(f"{PREFIX}{source}", "classification", "accuracy", splits, ["other", "same document"],
                         description, task_version(f"spans1-{version}", non_default_options(seed)),
                         {"head": "contrastive", "documents": len(unique), "seed": seed})
