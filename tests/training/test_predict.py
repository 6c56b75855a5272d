"""Trained model folders predict through their task head; parameter-free baselines export as plain Pooling."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from test_training import config, toy_task

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.training import train
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.predict import load_predictor


def trained(tiny_bert_dir, tmp_path, task, **overrides):
    settings = config(tiny_bert_dir, **overrides)
    result = train(settings, tmp_path / "run", task=task, cache=StateCache(tmp_path / "cache", dtype="float32"))
    return result


def test_predictions_name_the_classes_and_match_the_run(tiny_bert_dir, tmp_path):
    task = toy_task()
    task = dataclasses.replace(task, label_names=["without a", "with a"])
    result = trained(tiny_bert_dir, tmp_path, task)
    predictor = load_predictor(result.model_dir)
    test = task.splits["test"]
    predicted = predictor.predict(test.texts)
    assert set(predicted) <= {"without a", "with a"}
    accuracy = 100 * np.mean([p == task.label_names[y] for p, y in zip(predicted, test.labels)])
    assert abs(accuracy - result.test) <= 100 / len(test.texts) + 1e-9  # the run's own test score (one flip at most)
    with pytest.raises(ValueError, match="single texts"):
        predictor.predict(test.texts, test.texts)


def test_pair_regression_predicts_scores_on_the_task_scale(tiny_bert_dir, tmp_path):
    task = toy_task(pair=True, regression=True)
    result = trained(tiny_bert_dir, tmp_path, task)
    test = task.splits["test"]
    scores = load_predictor(result.model_dir).predict(test.texts, test.texts_b)
    assert len(scores) == len(test.texts) and all(isinstance(s, float) for s in scores)
    assert -1.0 <= min(scores) and max(scores) <= 6.0  # similarity head: cosine mapped back onto 0..5
    with pytest.raises(ValueError, match="pairs"):
        load_predictor(result.model_dir).predict(test.texts)


def test_cli_predict(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    result = trained(tiny_bert_dir, tmp_path, toy_task())
    capsys.readouterr()  # the training's own output
    assert main(["predict", "--model", result.model_dir, "a b c", "d e f"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[1] for line in lines] == ["a b c", "d e f"]
    assert all(line.split("\t")[0] in ("0", "1") for line in lines)
    assert main(["predict", "--model", str(tmp_path)]) == 2  # no texts / not a model folder: one clear line


@pytest.mark.parametrize("baseline", ["mean", "max", "cls", "last"])
def test_parameter_free_baselines_export_as_plain_pooling(tiny_bert_dir, tmp_path, baseline):
    result = trained(tiny_bert_dir, tmp_path, toy_task(), pooling=baseline, glot={})
    folder = Path(result.model_dir)
    types = [m["type"] for m in json.loads((folder / "modules.json").read_text())]
    assert all(t.startswith("sentence_transformers.") for t in types), types
    plain = SentenceTransformer(str(folder), device="cpu")  # no plugin class, no trust_remote_code
    reference = SentenceTransformer(modules=[plain[0], GlotPooling.baseline(baseline, 32)], device="cpu")
    texts = ["a b c d", "e f", "g h i j k l"]
    torch.testing.assert_close(torch.as_tensor(plain.encode(texts)), torch.as_tensor(reference.encode(texts)),
                               atol=1e-5, rtol=1e-5)
    assert load_predictor(folder).predict(texts)  # the head still predicts


def test_contrastive_head_scores_each_pair(tiny_bert_dir, tmp_path):
    task = toy_task(pair=True)
    result = trained(tiny_bert_dir, tmp_path, task, head="contrastive")
    test = task.splits["test"]
    predictor = load_predictor(result.model_dir)
    scores = predictor.predict(test.texts, test.texts_b)
    first = predictor.predict(test.texts[:1], test.texts_b[:1])
    assert len(scores) == len(test.texts) and all(-1.0 - 1e-6 <= s <= 1.0 + 1e-6 for s in scores)
    assert abs(first[0] - scores[0]) < 1e-5  # a pair's score does not depend on the other pairs


def test_cli_predict_pairs_from_files(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    task = toy_task(pair=True)
    result = trained(tiny_bert_dir, tmp_path, task)
    test = task.splits["test"]
    (tmp_path / "a.txt").write_text("\n".join(test.texts[:3]) + "\n")
    (tmp_path / "b.txt").write_text("\n".join(test.texts_b[:3]) + "\n")
    capsys.readouterr()
    assert main(["predict", "--model", result.model_dir, "--input", str(tmp_path / "a.txt"),
                 "--input-b", str(tmp_path / "b.txt")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[1:] for line in lines] == [[a, b] for a, b in zip(test.texts[:3], test.texts_b[:3])]
    assert main(["predict", "--model", result.model_dir, "a b", "--input", str(tmp_path / "a.txt")]) == 2
    assert "not both" in capsys.readouterr().err
