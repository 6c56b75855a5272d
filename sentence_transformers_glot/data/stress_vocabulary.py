"""The controlled stress protocol's distractor vocabulary: the source's own frequent words, less the words that
carry its label (class-skewed document frequencies) and negations (:mod:`sentence_transformers_glot.data.distractors`
builds the stress tasks with it)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

#: Negations and negative quantifiers kept out of controlled distractors (with any word containing "n't").
NEGATIONS = frozenset(
    "not no never none nothing nobody nowhere neither nor without cannot cant dont doesnt didnt isnt wasnt arent "
    "werent wont wouldnt couldnt shouldnt hardly barely scarcely seldom rarely lack lacks lacking lacked excluding "
    "except fail fails failed".split()
)
SKEW_MAX_RATIO = 1.25
VOCAB_MIN_COUNT = 20

_WORD = re.compile(r"[a-z][a-z0-9]*")


def normal_word(word: str) -> str:
    """``word`` lower-cased, without the punctuation around it."""
    return word.strip(".,;:!?\"'()[]{}-").lower()


def class_skewed_words(texts: Sequence[str], labels: Sequence[int], max_ratio: float = SKEW_MAX_RATIO,
                       min_count: int = 1) -> set[str]:
    """Words whose class document frequencies differ by more than ``max_ratio`` (either way).

    The frequency of a word in a class is (sentences of the class containing it + 1) / (sentences of the
    class + 2); only words in at least ``min_count`` sentences are considered. Binary labels (0/1).
    """
    df = [Counter(), Counter()]
    labels = np.asarray(labels)
    sizes = [int((labels == c).sum()) for c in (0, 1)]
    for text, label in zip(texts, labels):
        df[int(label)].update({normal_word(w) for w in text.split()})
    skewed = set()
    for word in set(df[0]) | set(df[1]):
        if df[0][word] + df[1][word] < min_count:
            continue
        rate = [(df[c][word] + 1) / (sizes[c] + 2) for c in (0, 1)]
        if max(rate) / min(rate) > max_ratio:
            skewed.add(word)
    return skewed


def is_negation(word: str) -> bool:
    """A word of :data:`NEGATIONS` or a contraction with "n't"."""
    word = word.lower()
    return word in NEGATIONS or "n't" in word


def controlled_vocabulary(texts: Sequence[str], labels: Sequence[int], candidates: Sequence[str] | None = None,
                          min_count: int = VOCAB_MIN_COUNT, max_ratio: float = SKEW_MAX_RATIO
                          ) -> tuple[list[str], list[str]]:
    """(distractor vocabulary, stop-listed candidates) for the controlled protocol.

    Candidates: ``candidates`` if given, else every alphabetic word in at least ``min_count`` of ``texts``.
    Removed: negations and :func:`class_skewed_words` of ``(texts, labels)``.
    """
    if candidates is None:
        counts = Counter()
        for text in texts:
            counts.update({w for w in map(normal_word, text.split()) if _WORD.fullmatch(w)})
        candidates = [w for w, c in counts.items() if c >= min_count]
    skewed = class_skewed_words(texts, labels, max_ratio=max_ratio, min_count=min(min_count, 2))
    keep, stop = [], []
    for word in sorted(set(candidates)):
        (stop if is_negation(word) or word in skewed else keep).append(word)
    if len(keep) < 2:
        raise ValueError(f"controlled distractor vocabulary has {len(keep)} words left after the stop-list; "
                         "the source is too small or too skewed.")
    return keep, stop
