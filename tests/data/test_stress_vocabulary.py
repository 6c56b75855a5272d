"""The controlled protocol's distractor vocabulary: frequent words of the source, less class-skewed words and
negations."""

from __future__ import annotations

import pytest

from sentence_transformers_glot.data.stress_vocabulary import (
    class_skewed_words,
    controlled_vocabulary,
    is_negation,
    normal_word,
)


def corpus() -> tuple[list[str], list[int]]:
    positive = [f"great film and a story number {i}" for i in range(30)]
    negative = [f"dull film and a story not number {i}" for i in range(30)]
    return positive + negative, [1] * 30 + [0] * 30


def test_class_skewed_words_are_those_whose_class_frequencies_differ():
    texts, labels = corpus()
    skewed = class_skewed_words(texts, labels)
    assert {"great", "dull", "not"} <= skewed
    assert not {"film", "and", "story", "number"} & skewed  # in every sentence of both classes


def test_the_vocabulary_keeps_frequent_label_free_words_and_stop_lists_the_rest():
    texts, labels = corpus()
    keep, stop = controlled_vocabulary(texts, labels, min_count=20)
    assert keep == ["a", "and", "film", "number", "story"]
    assert {"great", "dull", "not"} <= set(stop)
    assert is_negation("Didn't") and is_negation("never") and not is_negation("night")
    assert normal_word('"Great!"') == "great"
    with pytest.raises(ValueError, match="too small or too skewed"):
        controlled_vocabulary(["good", "bad"], [1, 0], candidates=["good", "bad"], min_count=1)
