"""Relational probing tasks built from real sentences: word order, clause order and acceptability.

A bag of token states cannot solve these tasks: the label lives in how the words are arranged, not in
which words there are. Each builder takes real sentences and returns ``(texts, labels, counts)``; it is pure
(no I/O) and deterministic: every random choice is a SHA-256 of the seed, a salt and the sentence, so the
same sentences give the same examples on every machine and in any order. The loaders that read the
packaged corpora, split the examples and describe the tasks are in
:mod:`sentence_transformers_glot.data`.

* :func:`build_bigram_shift` (SentEval BShift, Conneau et al., 2018): label 1 when two adjacent words were
  swapped. Each sentence appears once, original or shifted. Only two alphabetic words, neither of them the
  first word, are ever swapped, so punctuation, capitalisation and the first-word token of a
  sentence-piece tokenizer stay as they were, and the bag of words is unchanged.
* :func:`build_coordination_inversion` (SentEval CoordInv): a sentence ``A, <conj> B.`` with one comma and
  one coordinating conjunction, or its inversion ``B, <conj> A.`` (label 1). The first letter moves with
  the sentence start, so both classes are capitalised alike.
* :func:`build_acceptability` (a CoLA stand-in): a real sentence (label 1, acceptable) or one corrupted
  (label 0) by one of :data:`CORRUPTIONS`: two adjacent words swapped, a function word deleted, a function
  word doubled, or a subject-verb agreement flip (is/are, was/were, has/have, ...). Deletion and doubling
  use the same words and are chosen equally often, so the two classes have the same mean length.

:func:`leak_baselines` measures what a model that ignores order gets: a length-only threshold and a
bag-of-words logistic regression. On a sound probing task both stay near chance.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from sentence_transformers_glot.data.tasks import TaskData

#: Coordinating conjunctions that join the two clauses of a coordination-inversion sentence.
CONJUNCTIONS = ("and", "but", "so", "or", "yet")
#: Corruptions of the acceptability task.
CORRUPTIONS = ("swap", "delete", "double", "agreement")
#: Function words that the acceptability task deletes or doubles (each removal leaves a sentence missing a
#: preposition, an article or an infinitive marker).
FUNCTION_WORDS = ("a", "an", "of", "to", "at", "by", "for", "from", "with", "in", "on")
#: Agreement flips of the acceptability task, both ways.
AGREEMENT = {"is": "are", "are": "is", "was": "were", "were": "was", "has": "have", "have": "has",
             "does": "do", "do": "does", "isn't": "aren't", "aren't": "isn't", "wasn't": "weren't",
             "weren't": "wasn't", "doesn't": "don't", "don't": "doesn't"}

_WORD = re.compile(r"^[A-Za-z][A-Za-z'-]*[A-Za-z]$|^[A-Za-z]$")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
_TWEET_NOISE = re.compile(r"(?:^|\s)(?:@\w+|#\w+|https?://\S+|www\.\S+|RT)(?=\s|$)")
_COORDINATION = re.compile(r", (" + "|".join(CONJUNCTIONS) + r") ")


def _unit(seed: int, salt: str, text: str) -> float:
    """A number in [0, 1) from SHA-256 of seed, salt and text: the builders' only source of chance."""
    digest = hashlib.sha256(f"{salt}\x1f{seed}\x1f{text}".encode("utf-8", "surrogatepass")).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / 2.0**53  # 53 bits: exact in a float, always < 1


def _ranked(texts: Sequence[str], seed: int, salt: str) -> list[str]:
    """``texts`` in a seeded order that depends only on each text."""
    return sorted(texts, key=lambda text: (_unit(seed, salt, text), text))


def sentences(texts: Iterable[str], min_words: int = 6, max_words: int = 40, tweets: bool = False) -> list[str]:
    """The sentences of ``texts`` with ``min_words``..``max_words`` words, whitespace normalised.

    Texts are cut after ``.``, ``!`` or ``?`` followed by a capital or a quote. With ``tweets=True`` mentions,
    hashtags, links and ``RT`` are removed first. Sentences with a character outside printable ASCII (emoji,
    mis-decoded bytes), a backslash, or no final ``.``, ``!`` or ``?`` are left out.
    """
    out = []
    for text in texts:
        if tweets:
            text = _TWEET_NOISE.sub(" ", text)
        for sentence in _SENTENCE_BREAK.split(" ".join(text.split())):
            words = sentence.split()
            if (min_words <= len(words) <= max_words and sentence[-1] in ".!?"
                    and all(" " <= char <= "~" for char in sentence) and "\\" not in sentence):
                out.append(" ".join(words))
    return out


def _swappable(words: Sequence[str]) -> list[int]:
    """Positions ``i >= 1`` where words ``i`` and ``i + 1`` are both alphabetic and differ (case-insensitively)."""
    return [i for i in range(1, len(words) - 1)
            if _WORD.match(words[i]) and _WORD.match(words[i + 1]) and words[i].lower() != words[i + 1].lower()]


def _pick(options: Sequence[Any], seed: int, salt: str, text: str) -> Any:
    return options[int(_unit(seed, salt, text) * len(options))]


def swap_adjacent(sentence: str, seed: int = 0) -> str | None:
    """``sentence`` with one seeded pair of adjacent words swapped (see :func:`build_bigram_shift`), or
    ``None`` when no pair qualifies."""
    words = sentence.split()
    positions = _swappable(words)
    if not positions:
        return None
    i = _pick(positions, seed, "swap-position", sentence)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _balanced_labels(candidates: Sequence[str], seed: int, salt: str, size: int | None) -> list[tuple[str, int]]:
    """(sentence, label) for at most ``size`` candidates in seeded order: exactly half get label 1."""
    chosen = _ranked(list(dict.fromkeys(candidates)), seed, salt)
    if size is not None:
        chosen = chosen[:size]
    chosen = chosen[: len(chosen) - len(chosen) % 2]
    positives = set(_ranked(chosen, seed, salt + "-label")[: len(chosen) // 2])
    return [(sentence, int(sentence in positives)) for sentence in chosen]


def build_bigram_shift(pool: Sequence[str], seed: int, size: int | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Bigram shift: each of at most ``size`` sentences once, half of them with two adjacent words swapped
    (label 1). Sentences with no swappable pair are left out.

    Returns:
        (texts, labels, counts) with counts ``{"pool", "eligible", "examples"}``.
    """
    eligible = [sentence for sentence in dict.fromkeys(pool) if _swappable(sentence.split())]
    texts, labels = [], []
    for sentence, label in _balanced_labels(eligible, seed, "bigram-shift", size):
        texts.append(swap_adjacent(sentence, seed) if label else sentence)
        labels.append(label)
    return texts, np.asarray(labels, dtype=np.int64), {"pool": len(pool), "eligible": len(eligible),
                                                         "examples": len(texts)}


def common_words(pool: Iterable[str], ratio: float = 10.0) -> set[str]:
    """Lower-case words of ``pool`` seen past a sentence's first word at least ``ratio`` times as often in
    lower case as capitalised: words whose capital at a sentence start is only the sentence start's
    (``the``, ``it``), not a name's (``Road`` in *Road to Perdition*)."""
    lower, capitalised = Counter(), Counter()
    for sentence in pool:
        for word in sentence.split()[1:]:
            if word.islower():
                lower[word] += 1
            elif word[:1].isupper():
                capitalised[word.lower()] += 1
    return {word for word, count in lower.items() if count >= ratio * capitalised[word]}


def coordination_parts(sentence: str) -> tuple[str, str, str, str] | None:
    """``(first clause, conjunction, second clause, final punctuation)`` of ``A, <conj> B.``, or ``None``.

    The sentence needs exactly one ``, <conj> `` with a conjunction of :data:`CONJUNCTIONS`, both clauses of at
    least 3 words, a final ``.``, ``!`` or ``?``, and no quotes, brackets, colons or semicolons; the first clause
    starts with a capital and the second does not end a sentence inside it.
    """
    if any(char in sentence for char in "\"()[]`;:") or sentence[-1] not in ".!?" or not sentence[0].isupper():
        return None
    matches = list(_COORDINATION.finditer(sentence))
    if len(matches) != 1:
        return None
    match = matches[0]
    first, second, end = sentence[: match.start()], sentence[match.end(): -1].rstrip(), sentence[-1]
    if len(first.split()) < 3 or len(second.split()) < 3 or any(char in second for char in ".!?"):
        return None
    return first, match.group(1), second, end


def _is_i(word: str) -> bool:
    """``I``, ``I'm``, ``I've``, ...: words that keep their capital anywhere."""
    return word == "I" or word.startswith("I'")


def invert_coordination(parts: tuple[str, str, str, str], common: set[str]) -> str:
    """``B, <conj> A.`` from the parts of ``A, <conj> B.`` (see :func:`coordination_parts`).

    ``B``'s first letter becomes a capital; ``A``'s first word is lower-cased only when it is a word of
    ``common`` (see :func:`common_words`), so names keep their capitals and ``I`` stays ``I``.
    """
    first, conjunction, second, end = parts
    head, _, rest = first.partition(" ")
    if head.lower() in common and not _is_i(head):
        first = head.lower() + " " + rest
    return f"{second[0].upper()}{second[1:]}, {conjunction} {first}{end}"


def build_coordination_inversion(pool: Sequence[str], seed: int, size: int | None = None
                                 ) -> tuple[list[str], np.ndarray, dict]:
    """Coordination inversion: each of at most ``size`` eligible sentences once, half of them with their
    two clauses swapped (label 1).

    Returns:
        (texts, labels, counts) with counts ``{"pool", "eligible", "examples"}`` and one count per conjunction.
    """
    common = common_words(pool)
    parts = {sentence: p for sentence in dict.fromkeys(pool) if (p := coordination_parts(sentence))}
    texts, labels, conjunctions = [], [], dict.fromkeys(CONJUNCTIONS, 0)
    for sentence, label in _balanced_labels(list(parts), seed, "coordination-inversion", size):
        texts.append(invert_coordination(parts[sentence], common) if label else sentence)
        labels.append(label)
        conjunctions[parts[sentence][1]] += 1
    return texts, np.asarray(labels, dtype=np.int64), {"pool": len(pool), "eligible": len(parts),
                                                         "examples": len(texts), **conjunctions}


def _positions(words: Sequence[str], vocabulary: Sequence[str] | dict) -> list[int]:
    return [i for i in range(1, len(words)) if words[i] in vocabulary]


def corruptions_of(sentence: str) -> list[str]:
    """The :data:`CORRUPTIONS` that apply to ``sentence`` (deletion and doubling always together)."""
    words = sentence.split()
    found = []
    if _swappable(words):
        found.append("swap")
    if _positions(words, FUNCTION_WORDS):
        found += ["delete", "double"]
    if _positions(words, AGREEMENT):
        found.append("agreement")
    return found


def corrupt(sentence: str, kind: str, seed: int = 0) -> str:
    """``sentence`` corrupted by ``kind`` (one of :data:`CORRUPTIONS`) at a seeded position.

    Raises:
        ValueError: ``kind`` is unknown or does not apply to ``sentence`` (see :func:`corruptions_of`).
    """
    if kind not in CORRUPTIONS:
        raise ValueError(f"corrupt: `kind` must be one of {CORRUPTIONS}; got {kind!r}.")
    if kind not in corruptions_of(sentence):
        raise ValueError(f"corrupt: {kind!r} does not apply to {sentence!r}; check corruptions_of() first.")
    if kind == "swap":
        return swap_adjacent(sentence, seed)  # type: ignore[return-value]
    words = sentence.split()
    vocabulary = AGREEMENT if kind == "agreement" else FUNCTION_WORDS
    i = _pick(_positions(words, vocabulary), seed, f"{kind}-position", sentence)
    if kind == "delete":
        del words[i]
    elif kind == "double":
        words.insert(i, words[i])
    else:
        words[i] = AGREEMENT[words[i]]
    return " ".join(words)


def _acceptability(pool: Sequence[str], seed: int, size: int | None) -> tuple[list[tuple[str, int, str | None]], int]:
    """(the examples of :func:`acceptability_examples`, the number of eligible sentences)."""
    eligible = [sentence for sentence in dict.fromkeys(pool) if corruptions_of(sentence)]
    examples = []
    for sentence, acceptable in _balanced_labels(eligible, seed, "acceptability", size):
        kind = None if acceptable else _pick(corruptions_of(sentence), seed, "corruption", sentence)
        examples.append((sentence if kind is None else corrupt(sentence, kind, seed), acceptable, kind))
    return examples, len(eligible)


def acceptability_examples(pool: Sequence[str], seed: int, size: int | None = None
                           ) -> list[tuple[str, int, str | None]]:
    """``(text, label, corruption)`` of the acceptability task, in seeded order (see :func:`build_acceptability`);
    ``corruption`` is ``None`` for the kept sentences."""
    return _acceptability(pool, seed, size)[0]


def build_acceptability(pool: Sequence[str], seed: int, size: int | None = None) -> tuple[list[str], np.ndarray, dict]:
    """Acceptability: at most ``size`` sentences, half kept (label 1) and half corrupted (label 0).

    Which sentences are corrupted depends only on a hash, not on their content; each corrupted sentence
    gets one corruption drawn uniformly from those that apply to it (see :func:`corruptions_of`);
    :func:`acceptability_examples` tells which.

    Returns:
        (texts, labels, counts) with counts ``{"pool", "eligible", "examples"}`` and one count per corruption.
    """
    examples, eligible = _acceptability(pool, seed, size)
    kinds = Counter(kind for _, _, kind in examples if kind is not None)
    return ([text for text, _, _ in examples], np.asarray([label for _, label, _ in examples], dtype=np.int64),
            {"pool": len(pool), "eligible": eligible, "examples": len(examples),
             **{kind: kinds[kind] for kind in CORRUPTIONS}})


def leak_baselines(task) -> dict[str, float]:
    """Test scores (x100) of readers that ignore word order, fit on ``task``'s train split.

    * ``length_words``: accuracy of the best word-count threshold (what length alone gives);
    * ``length_tokens``: the same on character count (a stand-in for a tokenizer's count);
    * ``bag_of_words``: the task metric of a logistic regression on cased unigram counts (pairs: the two
      texts' counts side by side).
    On a sound probing task all three stay near chance (50 accuracy, 0 MCC, 50 F1 for a balanced set).
    """
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    from sentence_transformers_glot.metrics import compute_metric

    train, test = task.splits["train"], task.splits["test"]
    vectoriser = CountVectorizer(lowercase=False, token_pattern=r"[^\s]+", min_df=2)
    vectoriser.fit(train.texts + (train.texts_b or []))

    def features(split):
        x = vectoriser.transform(split.texts)
        return x if split.texts_b is None else hstack([x, vectoriser.transform(split.texts_b)]).tocsr()

    model = LogisticRegression(max_iter=2000, C=1.0).fit(features(train), train.labels)
    return {"length_words": length_only_accuracy(task), "length_chars": length_only_accuracy(task, length=len),
            "bag_of_words": compute_metric(task.metric, model.predict(features(test)), test.labels)}


def length_only_accuracy(task: TaskData, length: Callable[[str], int] | None = None) -> float:
    """Test accuracy (x100) of the best length-threshold classifier fit on ``task``'s train split.

    The classifier predicts one class when an example's length is above a threshold and the other class
    otherwise; threshold and direction maximise training accuracy. ``length`` counts a text's units
    (default: whitespace-separated words; pass a tokenizer's count for backbone tokens).
    """
    length = length or (lambda text: len(text.split()))
    train, test = task.splits["train"], task.splits["test"]
    x = np.array([length(t) for t in train.texts], dtype=np.float64)
    y = train.labels.astype(np.int64)
    values = np.unique(x)
    thresholds = np.concatenate([[values[0] - 1], (values[:-1] + values[1:]) / 2, [values[-1] + 1]])
    best = (-1.0, 0.0, 1)
    for threshold in thresholds:
        above = x > threshold
        for positive_above in (1, 0):
            predicted = np.where(above, positive_above, 1 - positive_above)
            accuracy = float((predicted == y).mean())
            if accuracy > best[0]:
                best = (accuracy, float(threshold), positive_above)
    _, threshold, positive_above = best
    x_test = np.array([length(t) for t in test.texts], dtype=np.float64)
    predicted = np.where(x_test > threshold, positive_above, 1 - positive_above)
    return float(100.0 * (predicted == test.labels).mean())
