"""Signal-dilution stress test: a short signal sentence buried among distractor words.

The GLOT paper reports that GLOT keeps 92-99% accuracy when 90% of the tokens are distractors while
[CLS], mean, max and AdaPool pooling fall to about 48-78%. This module builds that test's data under two
protocols; :mod:`sentence_transformers_glot.evaluation.stress` runs every pooling method on it.

Signal source. By default the signal is a real sentence from the offline ``movie-polarity`` task
(Rotten Tomatoes sentences, label = sign of the human rating; fetch it first with
``glot data fetch movie-polarity``): natural language whose polarity the frozen backbone encodes, with a
ratio-0 accuracy well below 100%, so dilution is measured against the clean-data ceiling. Only sentences of
``min_words``..``max_words`` words (default 4..12) are used, so that a 90%-distractor example stays under
~130 words; the sentences of all three source splits are pooled, paired by word count (one positive with one
negative sentence of the same length) and the pairs split into our train/validation/test by the seed, so no
sentence is in two splits. ``source="template"`` uses the reference code's templated "needle" instead (no
data needed; under the controlled protocol its positives get a quantifier where the negatives have their
modifier, "<context> some keys" vs "<context> not keys", so both classes have the same length), and any list
of ``(text, label)`` pairs or a :class:`TaskData` can be the source.

Distractor ratio. ``ratio`` is the fraction of an example's words that are distractors: a signal of ``s``
words gets ``n = round(ratio * s / (1 - ratio))`` distractor words. The reference code instead inserts
``int(128 * ratio)`` noise words whatever the signal's length, so its 4-word positives are 86% noise at its
ratio 0.2 and 96.6% at 0.9; we follow the paper's wording ("90% distractor tokens").

Protocols.

``"paper"`` reproduces the reference construction and its two defects, so that numbers can be set beside
the paper's:

- noise words are drawn uniformly from the reference's list of 100 common (web) words, which contains
  ``not`` and ``no`` (:data:`PAPER_NOISE_WORDS`);
- the distractor count is the same for every example at a ratio (the reference's count does not depend on
  the example), set so that an average-length positive signal has exactly ``ratio`` distractors;
- negatives are 11 words longer than positives: the reference's negative needle is
  ``<context> <modifier> <10 noise words> <noun>`` against the positive ``<context> <noun>``; with a sentence
  source the negatives get 11 extra noise words. **The label therefore leaks through the length**
  (:func:`length_only_accuracy` is ~100% on this protocol);
- the signal stays one contiguous block at a uniformly random position in the noise.

``"controlled"`` removes both defects:

- positives and negatives come in pairs of equal signal length that get the same distractor count, so the
  two classes have identical length distributions in every split (a length classifier scores 50%);
- distractors come from the source's own training vocabulary (words in >= 20 training sentences) minus a
  stop-list: every word whose smoothed document frequency differs by more than 25% between the classes of
  the source's training split (:func:`class_skewed_words`), and negations (:data:`NEGATIONS`). A distractor is
  label-independent either way; the stop-list keeps words that carry sentiment or negation in this corpus
  out of the noise, so the noise never contradicts the signal and a perfect reader can still recover the
  label. Words that are evaluative but equally frequent in both classes (``good``, ``sad``) stay: no
  lexicon is used;
- distractors are inserted at random positions between the signal's words (a uniform random interleaving;
  the signal's words keep their order), not only before or after it;
- a seed fixes the sentences, the pairing, the split and every distractor.

Both protocols use the same signal pairs for a seed, at every ratio.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from sentence_transformers_glot.data.probing import length_only_accuracy  # noqa: F401  (re-exported)
from sentence_transformers_glot.data.stress_vocabulary import (  # noqa: F401  (re-exported)
    NEGATIONS,
    SKEW_MAX_RATIO,
    VOCAB_MIN_COUNT,
    class_skewed_words,
    controlled_vocabulary,
    is_negation,
)
from sentence_transformers_glot.data.tasks import SPLITS, Split, TaskData

logger = logging.getLogger(__name__)


#: Bump whenever the construction changes: it is part of every stress task's name (so of run folders).
STRESS_VERSION = 1
PROTOCOLS = ("paper", "controlled")
RATIOS = (0.0, 0.2, 0.5, 0.8, 0.9)

#: The reference code's noise vocabulary (100 common web words). It contains "not" and "no".
PAPER_NOISE_WORDS = tuple(
    "the of and to a in for is on that by this with i you it not or be are from at as your all have new more an "
    "was we will home can us about if page my has search free but our one other do no information time they site "
    "he up may what which their news out use any there see only so his when contact here business who web also now "
    "help get pm view online first am been would how were me services some these click its like service x than find "
    "date top yet".split()
)
#: How much longer the reference's negatives are: one modifier and 10 noise words ("relational distance").
PAPER_LENGTH_GAP = 11
PAPER_RELATIONAL_DISTANCE = 10

#: The reference's needle: "<context> <noun>" (label 1) vs "<context> <modifier> <10 noise> <noun>" (label 0).
TEMPLATE_CONTEXTS = ("the delivery contains", "the folder includes", "in the box are")
TEMPLATE_NOUNS = ("keys", "reports", "files", "tickets", "documents", "alerts")
TEMPLATE_MODIFIERS = ("not", "never", "without", "excluding")
#: Controlled template: the positive gets a quantifier where the negative has its modifier (equal lengths).
TEMPLATE_QUANTIFIERS = ("some", "two", "many", "several")

Protocol = Literal["paper", "controlled"]
Source = str | TaskData | Sequence[tuple[str, int]]



# ------------------------------------------------------------------------------------------------ helpers
def _rng(*parts: Any) -> np.random.Generator:
    """A generator seeded by a hash of ``parts`` (the same on every machine and NumPy version)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def distractor_count(ratio: float, signal_words: float) -> int:
    """Distractor words that make ``ratio`` of an example with ``signal_words`` signal words."""
    return round(ratio * signal_words / (1.0 - ratio))


# ------------------------------------------------------------------------------------------------ signals
def source_name(source: Source) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, TaskData):
        return f"{source.name}-v{source.version}"
    digest = hashlib.sha256(json.dumps([[t, int(y)] for t, y in source]).encode()).hexdigest()[:8]
    return f"custom-{digest}"


def _sentence_source(source: Source) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """(all texts, labels, training texts, training labels) of a sentence source."""
    if isinstance(source, str):
        from sentence_transformers_glot.data.registry import load_task

        source = load_task(source)
    if isinstance(source, TaskData):
        if source.is_pair or source.num_labels != 2:
            raise ValueError(f"stress source {source.name!r} must be a binary single-text classification task.")
        texts = [t for split in SPLITS for t in source.splits[split].texts]
        labels = np.concatenate([source.splits[split].labels for split in SPLITS])
        return texts, labels.astype(np.int64), list(source.splits["train"].texts), source.splits["train"].labels
    texts = [t for t, _ in source]
    labels = np.array([int(y) for _, y in source], dtype=np.int64)
    return texts, labels, texts, labels


def _sentence_pairs(texts: Sequence[str], labels: np.ndarray, min_words: int, max_words: int, seed: int
                    ) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(positive words, negative words) pairs of equal length, seeded order; each sentence used once."""
    if set(np.unique(labels).tolist()) - {0, 1}:
        raise ValueError("stress source labels must be 0 (negative) and 1 (positive).")
    by_length: dict[int, list[list[tuple[str, ...]]]] = {}
    seen: set[tuple[str, ...]] = set()
    for text, label in sorted(zip(texts, labels.tolist())):
        words = tuple(text.split())
        if words in seen or not min_words <= len(words) <= max_words:
            continue
        seen.add(words)
        by_length.setdefault(len(words), [[], []])[label].append(words)
    rng = _rng("pairs", seed)
    pairs = []
    for length in sorted(by_length):
        negatives, positives = by_length[length]
        rng.shuffle(negatives)
        rng.shuffle(positives)
        pairs += list(zip(positives, negatives))
    order = rng.permutation(len(pairs))
    return [pairs[i] for i in order]


class _Example:
    """Words of one example with a flag per word: part of the signal or a distractor."""

    def __init__(self, words: list[str], is_signal: list[bool], label: int, signal: str) -> None:
        self.words, self.is_signal, self.label, self.signal = words, is_signal, label, signal


def _place(signal: Sequence[str], noise: Sequence[str], placement: str, rng: np.random.Generator,
           inner_noise: tuple[int, Sequence[str]] | None = None) -> tuple[list[str], list[bool]]:
    """Signal words among ``noise``: one block at a random offset, or a random interleaving."""
    signal_items = [(w, True) for w in signal]
    if inner_noise is not None:  # reference negatives: noise words inside the needle, before the noun
        at, words = inner_noise
        signal_items[at:at] = [(w, False) for w in words]
    noise_items = [(w, False) for w in noise]
    if placement == "block":
        start = int(rng.integers(len(noise_items) + 1))
        items = noise_items[:start] + signal_items + noise_items[start:]
    else:
        total = len(signal_items) + len(noise_items)
        slots = np.zeros(total, dtype=bool)
        slots[rng.choice(total, size=len(signal_items), replace=False)] = True
        signal_iter, noise_iter = iter(signal_items), iter(noise_items)
        items = [next(signal_iter) if s else next(noise_iter) for s in slots]
    return [w for w, _ in items], [flag for _, flag in items]


# ------------------------------------------------------------------------------------------------ task
def make_stress_task(
    ratio: float,
    protocol: Protocol = "controlled",
    n_train: int = 1200,
    n_val: int = 200,
    n_test: int = 600,
    seed: int = 0,
    source: Source = "movie-polarity",
    *,
    placement: Literal["block", "interleave"] | None = None,
    min_words: int = 4,
    max_words: int = 12,
) -> TaskData:
    """A binary task whose examples are a signal sentence among distractor words (``ratio`` of the words).

    Args:
        ratio: fraction of distractor words, in [0, 1).
        protocol: ``"paper"`` (the reference's construction, label leaks through length) or ``"controlled"``;
            see the module docstring.
        n_train, n_val, n_test: examples per split (even numbers: half of each class).
        seed: fixes the signal sentences, their pairing and split, and every distractor.
        source: ``"movie-polarity"`` (default; any offline binary task name works), ``"template"`` (the
            reference's needle), a :class:`TaskData`, or a list of ``(text, label)`` pairs (labels 0/1).
        placement: ``"block"`` (the signal contiguous at a random offset; the paper protocol's default) or
            ``"interleave"`` (distractors at random positions between the signal's words; controlled default).
        min_words, max_words: the signal sentences' word counts (sentence sources).

    Returns:
        A :class:`TaskData` (accuracy, labels 0 negative / 1 positive). ``extra`` holds, per split, each
        example's ``signal`` text and ``distractors`` count, and the ``vocabulary`` and ``stop_list`` used.
    """
    sizes = {"train": n_train, "validation": n_val, "test": n_test}
    placement = _checked(ratio, protocol, sizes, placement)
    template = isinstance(source, str) and source == "template"
    split_pairs, mean_signal, train_texts, train_labels, candidates = _signals(
        source, protocol, sizes, seed, min_words, max_words)
    if protocol == "paper":
        vocabulary, stop_list = list(PAPER_NOISE_WORDS), []
    else:
        vocabulary, stop_list = controlled_vocabulary(train_texts, train_labels, candidates)
    fixed_count = distractor_count(ratio, mean_signal)

    splits, extra = {}, {"ratio": ratio, "protocol": protocol, "placement": placement, "source": source_name(source),
                         "vocabulary": vocabulary, "stop_list": stop_list, "mean_signal_words": mean_signal}
    for split in SPLITS:
        rng = _rng("examples", STRESS_VERSION, protocol, placement, ratio, seed, split)
        examples = [_diluted(words, label, inner_at, ratio, protocol, placement, template, fixed_count, vocabulary,
                             rng)
                    for positive, negative, inner_at in split_pairs[split]
                    for words, label in ((positive, 1), (negative, 0))]
        order = rng.permutation(len(examples))
        examples = [examples[i] for i in order]
        splits[split] = Split([" ".join(e.words) for e in examples], np.array([e.label for e in examples], np.int64))
        extra[split] = {"signal": [e.signal for e in examples],
                        "distractors": np.array([sum(not f for f in e.is_signal) for e in examples])}

    name, description = _describe(ratio, protocol, source_name(source), placement, sizes, min_words, max_words, seed)
    return TaskData(name=name, objective="classification", metric="accuracy", num_labels=2, splits=splits,
                    label_names=["negative", "positive"], description=description,
                    version=f"stress{STRESS_VERSION}", extra=extra)


def _checked(ratio: float, protocol: str, sizes: dict[str, int], placement: str | None) -> str:
    """The placement (``None``: the protocol's), after checking :func:`make_stress_task`'s arguments."""
    if not 0.0 <= ratio < 1.0:
        raise ValueError(f"make_stress_task: `ratio` must be in [0, 1); got {ratio!r}.")
    if protocol not in PROTOCOLS:
        raise ValueError(f"make_stress_task: `protocol` must be one of {PROTOCOLS}; got {protocol!r}.")
    for name, size in sizes.items():
        if not isinstance(size, int) or size < 2 or size % 2:
            raise ValueError(f"make_stress_task: the {name} size must be an even int >= 2; got {size!r}.")
    placement = placement or ("block" if protocol == "paper" else "interleave")
    if placement not in ("block", "interleave"):
        raise ValueError(f"make_stress_task: `placement` must be 'block' or 'interleave'; got {placement!r}.")
    return placement


def _describe(ratio: float, protocol: str, source: str, placement: str, sizes: dict[str, int], min_words: int,
              max_words: int, seed: int) -> tuple[str, str]:
    """A stress task's name (its cache key: every argument, and :data:`STRESS_VERSION`) and description."""
    n_train, n_val, n_test = sizes["train"], sizes["validation"], sizes["test"]
    name = (f"stress{STRESS_VERSION}-{protocol}-{source}-r{ratio:g}-{placement}"
            f"-n{n_train}.{n_val}.{n_test}-w{min_words}.{max_words}-s{seed}")
    description = (f"Signal-dilution stress test ({protocol} protocol): a signal from {source} among "
                   f"distractor words making {ratio:.0%} of the words ({placement} placement). "
                   + ("The label leaks through the length (negatives are 11 words longer) and the noise "
                      "vocabulary contains 'not' and 'no', as in the reference code." if protocol == "paper" else
                      "Classes have identical length distributions; no negation or class-skewed word in the "
                      "distractors."))
    return name, description


def _signals(source: Source, protocol: str, sizes: dict[str, int], seed: int, min_words: int, max_words: int):
    """The signals of every split, ``{split: [(positive words, negative words, inner-noise position or None)]}``,
    their mean length in words, the training texts and labels the controlled vocabulary is checked against, and
    the candidate distractor words (``None``: the source's own vocabulary)."""
    if isinstance(source, str) and source == "template":
        split_pairs = {s: _template_pairs(protocol, sizes[s] // 2, seed, s) for s in SPLITS}
        mean_signal = float(np.mean([len(c.split()) + 1 for c in TEMPLATE_CONTEXTS]))  # paper positives
        train_texts = [" ".join(w) for pos, neg, _ in split_pairs["train"] for w in (pos, neg)]
        train_labels = np.tile([1, 0], len(split_pairs["train"]))
        return split_pairs, mean_signal, train_texts, train_labels, list(PAPER_NOISE_WORDS)
    texts, labels, train_texts, train_labels = _sentence_source(source)
    pairs = _sentence_pairs(texts, labels, min_words, max_words, seed)
    needed = sum(sizes.values()) // 2
    if len(pairs) < needed:
        raise ValueError(f"make_stress_task: the source has {len(pairs)} positive/negative sentence pairs of "
                         f"{min_words}-{max_words} words; {needed} are needed for {sizes}.")
    mean_signal = float(np.mean([len(p) for p, _ in pairs]))  # all pairs: the same for every seed
    split_pairs, start = {}, 0
    for split in SPLITS:
        split_pairs[split] = [(p, n, None) for p, n in pairs[start : start + sizes[split] // 2]]
        start += sizes[split] // 2
    return split_pairs, mean_signal, train_texts, train_labels, None


def _diluted(words: list[str], label: int, inner_at: int | None, ratio: float, protocol: str, placement: str,
             template: bool, fixed_count: int, vocabulary: list[str], rng: np.random.Generator) -> _Example:
    """One example: ``words`` (the signal) among distractors drawn from ``vocabulary`` with ``rng``: as many as
    make ``ratio`` of its words (controlled), or the paper's fixed count, 11 more for a sentence negative."""
    inner = None
    if protocol == "controlled":
        count = distractor_count(ratio, len(words))
    else:
        count = fixed_count + (PAPER_LENGTH_GAP if label == 0 and not template else 0)
        if label == 0 and inner_at is not None:
            inner = (inner_at, [vocabulary[i] for i in rng.integers(len(vocabulary), size=PAPER_RELATIONAL_DISTANCE)])
    noise = [vocabulary[i] for i in rng.integers(len(vocabulary), size=count)]
    out, flags = _place(words, noise, placement, rng, inner)
    return _Example(out, flags, label, " ".join(words))


def _template_pairs(protocol: str, count: int, seed: int, split: str):
    """Reference needles. Paper: ("<ctx> <noun>", "<ctx> <modifier> <noun>" + 10 inner noise words).

    Controlled: ("<ctx> <quantifier> <noun>", "<ctx> <modifier> <noun>"), same context and noun in a pair.
    """
    rng = _rng("template", protocol, seed, split)
    pairs = []
    for _ in range(count):
        context = TEMPLATE_CONTEXTS[rng.integers(len(TEMPLATE_CONTEXTS))].split()
        noun = TEMPLATE_NOUNS[rng.integers(len(TEMPLATE_NOUNS))]
        modifier = TEMPLATE_MODIFIERS[rng.integers(len(TEMPLATE_MODIFIERS))]
        negative = (*context, modifier, noun)
        if protocol == "paper":
            pairs.append(((*context, noun), negative, len(context) + 1))
        else:
            quantifier = TEMPLATE_QUANTIFIERS[rng.integers(len(TEMPLATE_QUANTIFIERS))]
            pairs.append(((*context, quantifier, noun), negative, None))
    return pairs
