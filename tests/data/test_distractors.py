"""The signal-dilution stress test's data: the controlled and paper protocols, seeds, signals shared across ratios
and protocols, the template source, and argument checks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from helpers import STRESS_SIZES, tiny_source

from sentence_transformers_glot.data import SPLITS, TaskData, distractors
from sentence_transformers_glot.data.distractors import PAPER_LENGTH_GAP, length_only_accuracy, make_stress_task

RATIOS = (0.0, 0.2, 0.5, 0.8, 0.9)
SOURCE = tiny_source()
SIZES = STRESS_SIZES


def distractor_words(text: str, signal: str) -> Counter:
    rest = Counter(text.split())
    rest.subtract(Counter(signal.split()))
    assert min(rest.values(), default=0) >= 0, "every signal word is in the example"
    return +rest


def is_subsequence(signal: list[str], words: list[str]) -> bool:
    it = iter(words)
    return all(any(w == s for w in it) for s in signal)


def is_contiguous(signal: list[str], words: list[str]) -> bool:
    k = len(signal)
    return any(words[i : i + k] == signal for i in range(len(words) - k + 1))


def by_label(task: TaskData, split: str) -> dict[int, list[int]]:
    data = task.splits[split]
    return {c: sorted(len(t.split()) for t, y in zip(data.texts, data.labels) if y == c) for c in (0, 1)}


@pytest.mark.parametrize("ratio", RATIOS)
def test_controlled_protocol(ratio):
    task = make_stress_task(ratio, "controlled", seed=3, source=SOURCE, min_words=3, max_words=10, **SIZES)
    vocabulary, stop = set(task.extra["vocabulary"]), set(task.extra["stop_list"])
    assert {"w1", "w2", "not"} <= stop and not {"w1", "w2", "not"} & vocabulary
    for split in SPLITS:
        data, extra = task.splits[split], task.extra[split]
        assert len(data) == SIZES[{"train": "n_train", "validation": "n_val", "test": "n_test"}[split]]
        assert np.bincount(data.labels).tolist() == [len(data) // 2] * 2
        lengths = by_label(task, split)
        assert lengths[0] == lengths[1], "identical length distributions in both classes"
        for text, signal, count in zip(data.texts, extra["signal"], extra["distractors"]):
            words, signal_words = text.split(), signal.split()
            assert is_subsequence(signal_words, words), "the signal sentence is intact and in order"
            noise = distractor_words(text, signal)
            assert sum(noise.values()) == count == len(words) - len(signal_words)
            assert set(noise) <= vocabulary and not set(noise) & stop
            total = len(words)
            assert abs(count / total - ratio) <= 0.5 * (1 - ratio) / total + 1e-12, "ratio exact within rounding"
    assert length_only_accuracy(task) == 50.0


def test_controlled_distractors_are_scattered_not_only_around_the_signal():
    task = make_stress_task(0.5, "controlled", seed=0, source=SOURCE, min_words=3, max_words=10, **SIZES)
    data = task.splits["train"]
    contiguous = sum(is_contiguous(s.split(), t.split()) for t, s in zip(data.texts, task.extra["train"]["signal"]))
    assert contiguous < len(data) // 4, "most examples have distractors between signal words"
    block = make_stress_task(0.5, "controlled", seed=0, source=SOURCE, min_words=3, max_words=10,
                             placement="block", **SIZES)
    assert all(is_contiguous(s.split(), t.split())
               for t, s in zip(block.splits["train"].texts, block.extra["train"]["signal"]))


@pytest.mark.parametrize("protocol", ["paper", "controlled"])
def test_a_seed_fixes_everything(protocol):
    def make(seed):
        return make_stress_task(0.8, protocol, seed=seed, source=SOURCE, min_words=3, max_words=10, **SIZES)
    one, again, other = make(1), make(1), make(2)
    for split in SPLITS:
        assert one.splits[split].texts == again.splits[split].texts
        assert one.splits[split].labels.tolist() == again.splits[split].labels.tolist()
        assert one.splits[split].texts != other.splits[split].texts
    assert one.name == again.name != other.name


def test_signals_are_shared_across_ratios_and_protocols_and_never_cross_splits():
    tasks = [make_stress_task(r, p, seed=0, source=SOURCE, min_words=3, max_words=10, **SIZES)
             for r in (0.0, 0.9) for p in ("paper", "controlled")]
    for split in SPLITS:
        signals = [sorted(t.extra[split]["signal"]) for t in tasks]
        assert all(s == signals[0] for s in signals)
    sets = [set(tasks[0].extra[s]["signal"]) for s in SPLITS]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    controlled_zero = tasks[1]
    assert controlled_zero.splits["test"].texts == controlled_zero.extra["test"]["signal"], "ratio 0: no distractor"


@pytest.mark.parametrize("ratio", RATIOS)
def test_paper_protocol_reproduces_the_reference_leaks(ratio):
    task = make_stress_task(ratio, "paper", seed=0, source=SOURCE, min_words=3, max_words=10, **SIZES)
    assert "not" in task.extra["vocabulary"] and "no" in task.extra["vocabulary"]
    fixed = distractors.distractor_count(ratio, task.extra["mean_signal_words"])
    for split in SPLITS:
        data, extra = task.splits[split], task.extra[split]
        for text, signal, count, label in zip(data.texts, extra["signal"], extra["distractors"], data.labels):
            assert is_contiguous(signal.split(), text.split()), "the signal is one block, as in the reference"
            assert count == fixed + (PAPER_LENGTH_GAP if label == 0 else 0), "negatives: 11 more noise words"
    assert length_only_accuracy(task) == 100.0, "the label leaks through the length"


@pytest.mark.parametrize("protocol", ["paper", "controlled"])
def test_template_source_needs_no_data(protocol):
    task = make_stress_task(0.9, protocol, seed=0, source="template", n_train=200, n_val=20, n_test=200)
    data, extra = task.splits["test"], task.extra["test"]
    for text, signal, label in zip(data.texts, extra["signal"], data.labels):
        signal_words = signal.split()
        assert signal_words[-1] in distractors.TEMPLATE_NOUNS
        assert (set(signal_words) & set(distractors.TEMPLATE_MODIFIERS)) == ({*()} if label else {signal_words[-2]})
        if protocol == "paper" and label == 0:  # the reference's needle: 10 noise words between modifier and noun
            words = text.split()
            start = next(i for i in range(len(words)) if words[i : i + len(signal_words) - 1] == signal_words[:-1])
            assert words[start + len(signal_words) - 1 + distractors.PAPER_RELATIONAL_DISTANCE] == signal_words[-1]
    leak = length_only_accuracy(task)
    if protocol == "paper":
        assert leak == 100.0
    else:
        assert leak == 50.0
        assert {"not", "no", "some"} <= set(task.extra["stop_list"]), "negations and the positive quantifier"
        assert not set(distractors.TEMPLATE_MODIFIERS) & set(task.extra["vocabulary"])


def test_invalid_arguments():
    with pytest.raises(ValueError, match="ratio"):
        make_stress_task(1.0, source=SOURCE)
    with pytest.raises(ValueError, match="protocol"):
        make_stress_task(0.5, "exact", source=SOURCE)
    with pytest.raises(ValueError, match="even"):
        make_stress_task(0.5, source=SOURCE, n_train=11)
    with pytest.raises(ValueError, match="pairs"):
        make_stress_task(0.5, source=SOURCE, n_train=4000)
