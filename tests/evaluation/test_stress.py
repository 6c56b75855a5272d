"""Signal-dilution stress test: task construction (both protocols), the length-only check, the runner."""

from __future__ import annotations

import argparse
import importlib.util
import json
from collections import Counter

import numpy as np
import pytest

from sentence_transformers_glot.data import SPLITS, Split, TaskData, distractors
from sentence_transformers_glot.data.distractors import PAPER_LENGTH_GAP, length_only_accuracy, make_stress_task
from sentence_transformers_glot.evaluation import stress
from sentence_transformers_glot.evaluation.stress import add_stress_arguments, run_stress_test
from sentence_transformers_glot.training.cache import StateCache

FILLER = [f"w{i}" for i in range(10, 60)]
RATIOS = (0.0, 0.2, 0.5, 0.8, 0.9)


def tiny_source(n: int = 400, seed: int = 0) -> list[tuple[str, int]]:
    """Sentences of tiny-BERT words: positives hold the marker 'w1', negatives 'w2'; a third of both
    classes hold 'not' (class-balanced, so only the negation list can keep it out of the distractors)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(FILLER, size=int(rng.integers(3, 8))))
        words.insert(int(rng.integers(len(words) + 1)), "w1" if label else "w2")
        if i % 3 == 0:
            words.insert(int(rng.integers(len(words) + 1)), "not")
        out.append((" ".join(words), label))
    return out


SOURCE = tiny_source()
SIZES = dict(n_train=60, n_val=20, n_test=40)


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


def _task(train_lengths, train_labels, test_lengths, test_labels) -> TaskData:
    def split(lengths, labels):
        return Split([" ".join(["x"] * n) for n in lengths], np.array(labels, dtype=np.int64))
    return TaskData(name="lengths", objective="classification", metric="accuracy", num_labels=2,
                    splits={"train": split(train_lengths, train_labels), "validation": split([1], [0]),
                            "test": split(test_lengths, test_labels)})


def test_length_only_accuracy():
    # longer = negative (as in the paper protocol), threshold between 6 and 12
    assert length_only_accuracy(_task([3, 4, 5, 14, 15, 16], [1, 1, 1, 0, 0, 0], [2, 9, 30], [1, 1, 0])) == 100.0
    assert length_only_accuracy(_task([3, 4, 14, 15], [0, 0, 1, 1], [2, 30], [1, 0])) == 0.0  # fit on train only
    same = _task([5, 5, 7, 7], [0, 1, 0, 1], [5, 5, 7, 7, 9, 9], [0, 1, 0, 1, 0, 1])
    assert length_only_accuracy(same) == 50.0
    tokens = _task([1, 1, 2, 2], [0, 0, 1, 1], [1, 2], [0, 1])  # a custom unit: characters
    assert length_only_accuracy(tokens, length=len) == 100.0


def test_run_stress_test_end_to_end_and_resume(tiny_bert_dir, tmp_path, monkeypatch):
    settings = dict(backbone=tiny_bert_dir, methods=("glot", "mean"), ratios=(0.0, 0.5), seeds=(0,), n_train=40,
                    n_val=20, n_test=20, epochs=1, lr=1e-3, source=SOURCE, output_dir=tmp_path / "out",
                    cache=StateCache(tmp_path / "cache", dtype="float32"), max_length=64)
    from sentence_transformers_glot import training

    calls = []
    real_train = training.train

    def counting_train(*args, **kwargs):
        calls.append(args[0].pooling)
        return real_train(*args, **kwargs)

    monkeypatch.setattr("sentence_transformers_glot.training.train", counting_train)
    rows = run_stress_test(**settings)
    assert len(calls) == len(rows) == 2 * 2 * 2
    assert {(r["protocol"], r["ratio"], r["method"]) for r in rows} == {
        (p, r, m) for p in ("paper", "controlled") for r in (0.0, 0.5) for m in ("glot", "mean")}
    for row in rows:
        assert 0 <= row["test"] <= 100 and not row["resumed"]
        assert row["length_only_words"] == (100.0 if row["protocol"] == "paper" else 50.0)
        assert row["truncated"] == 0 and "length_only_tokens" in row
    out = tmp_path / "out"
    saved = json.loads((out / "stress.json").read_text())
    assert len(saved["cells"]) == 8 and saved["settings"]["glot"] == stress.STRESS_GLOT
    table = (out / "stress.md").read_text()
    assert "**paper protocol**" in table and "**controlled protocol**" in table and "length-only (words)" in table
    assert "| glot |" in table and "| 0 | 0.5 |" in table
    if importlib.util.find_spec("matplotlib") is not None:
        assert (out / "stress.png").stat().st_size > 0 and saved["plot"] == "stress.png"
    else:
        assert saved["plot"] is None

    calls.clear()
    again = run_stress_test(**settings)  # everything finished: nothing is trained again
    assert calls == [] and all(r["resumed"] for r in again)
    assert [r["test"] for r in again] == [r["test"] for r in rows]
    finished = sorted((out / "runs").glob("*/metrics.json"))
    assert len(finished) == 8
    finished[0].unlink()  # one cell lost its result: only that cell runs again
    run_stress_test(**settings)
    assert len(calls) == 1


def test_cli_flags_reach_run_stress_test(monkeypatch, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_stress_arguments(parser)
    args = parser.parse_args(["--backbone", "x", "--methods", "glot", "mean", "--ratios", "0", "0.9", "--protocols",
                              "controlled", "--seeds", "0", "1", "--n-train", "100", "--epochs", "2",
                              "--layers", "0,3", "--output", str(tmp_path)])
    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)
        return [{"protocol": "controlled", "ratio": 0.0, "seed": 0, "method": "glot", "test": 80.0,
                 "length_only_words": 50.0, "distractor_fraction_words": 0.0}]

    monkeypatch.setattr(stress, "run_stress_test", fake_run)
    assert stress.stress_command(args) == 0
    assert seen["backbone"] == "x" and seen["methods"] == ["glot", "mean"] and seen["ratios"] == [0.0, 0.9]
    assert seen["protocols"] == ["controlled"] and seen["seeds"] == [0, 1] and seen["n_train"] == 100
    assert seen["epochs"] == 2 and seen["output_dir"] == str(tmp_path) and seen["layers"] == [0, 3]
    assert "| glot | 80.0 |" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        parser.parse_args(["--ratios", "1.5"])


def test_methods_take_benchmark_names_and_every_method_pools_the_same_layers(tiny_bert_dir, tmp_path, monkeypatch):
    """``glot-plus`` and ``+options`` parse as in ``glot benchmark``; ``layers`` reaches every method's config."""
    from sentence_transformers_glot.pooling import PRESETS
    from sentence_transformers_glot.training.config import RunResult

    configs = []

    def fake_train(config, run_dir, **kwargs):
        configs.append(config)
        return RunResult(pooling=config.pooling, metric="accuracy", validation=50.0, test=50.0, best_epoch=0,
                         history=[], trainable_parameters=0, cache_seconds=0.0, train_seconds=0.0, model_dir=None)

    monkeypatch.setattr("sentence_transformers_glot.training.train", fake_train)
    rows = run_stress_test(backbone=tiny_bert_dir, methods=("glot-plus", "adapool+ln", "mean"), ratios=(0.5,),
                           protocols=("controlled",), source=SOURCE, output_dir=tmp_path, layers=[0, 2], **SIZES)
    assert [r["method"] for r in rows] == ["glot-plus", "adapool+ln", "mean"]
    plus, adapool, mean = configs
    assert plus.pooling == "glot"
    assert plus.glot.changes() == {**stress.STRESS_GLOT, **PRESETS["glot-plus"], "layers": [0, 2]}
    assert adapool.pooling == "adapool" and adapool.glot.changes("adapool") == {"input_norm": "layer", "layers": [0, 2]}
    assert mean.pooling == "mean" and mean.glot.changes("mean") == {"layers": [0, 2]}
    assert json.loads((tmp_path / "stress.json").read_text())["settings"]["layers"] == [0, 2]
    with pytest.raises(ValueError, match="unknown method 'glot-plush'"):
        run_stress_test(backbone=tiny_bert_dir, methods=("glot-plush",), source=SOURCE, output_dir=tmp_path, **SIZES)
