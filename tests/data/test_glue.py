"""GLUE, offline: stand-ins with GLUE's schema load with their objective, metric, pairs and splits; the errors for
a missing package, an unreachable hub, hidden labels and bad pairs."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from helpers import split_texts

from sentence_transformers_glot.data import (
    load_task,
)

# config: (text columns, objective, metric, num_labels, official split used as test)
GLUE_EXPECTED = {
    "cola": (("sentence",), "classification", "mcc", 2, "validation"),
    "sst2": (("sentence",), "classification", "accuracy", 2, "validation"),
    "stsb": (("sentence1", "sentence2"), "regression", "spearman", None, "validation"),
    "mrpc": (("sentence1", "sentence2"), "classification", "f1", 2, "validation"),
    "qqp": (("question1", "question2"), "classification", "f1", 2, "validation"),
    "mnli": (("premise", "hypothesis"), "classification", "accuracy", 3, "validation_matched"),
    "qnli": (("question", "sentence"), "classification", "accuracy", 2, "validation"),
    "rte": (("sentence1", "sentence2"), "classification", "accuracy", 2, "validation"),
    "wnli": (("sentence1", "sentence2"), "classification", "accuracy", 2, "validation"),
}


def glue_split(columns, n: int, prefix: str, num_labels: int | None, hidden: bool = False) -> dict[str, list]:
    data = {column: [f"{prefix} {column} {i}" for i in range(n)] for column in columns}
    if hidden:
        data["label"] = [-1] * n
    else:
        data["label"] = [i % num_labels for i in range(n)] if num_labels else [(i % 11) / 2 for i in range(n)]
    data["idx"] = list(range(n))
    return data


def glue_standin(config: str, n_train: int = 60, n_eval: int = 12) -> dict[str, dict[str, list]]:
    columns, _, _, num_labels, test_split = GLUE_EXPECTED[config]
    data = {"train": glue_split(columns, n_train, "train", num_labels),
            test_split: glue_split(columns, n_eval, "dev", num_labels),
            "test": glue_split(columns, 5, "test", num_labels, hidden=True)}
    if config == "mnli":
        data["validation_mismatched"] = glue_split(columns, n_eval, "mismatched", num_labels)
    return data


@pytest.mark.parametrize("config", list(GLUE_EXPECTED))
def test_glue_standin_loads_with_objective_metric_pairs_and_splits(config):
    columns, objective, metric, num_labels, test_split = GLUE_EXPECTED[config]
    standin = glue_standin(config)
    task = load_task(config, dataset=standin)
    assert (task.name, task.objective, task.metric, task.num_labels) == (config, objective, metric, num_labels)
    assert task.is_pair == (len(columns) == 2)
    official = standin[test_split]
    assert task.splits["test"].texts == official[columns[0]]  # test = the official validation split, in order
    if task.is_pair:
        assert task.splits["test"].texts_b == official[columns[1]]
    carved = task.splits["train"].texts + task.splits["validation"].texts
    assert sorted(carved) == sorted(standin["train"][columns[0]])  # validation comes out of train
    assert not set(task.splits["train"].texts) & set(task.splits["validation"].texts)
    assert len(task.splits["validation"]) == 6  # 10% of 60 (per class where classification)
    if objective == "classification":
        assert task.splits["validation"].labels.dtype == np.int64
        assert set(task.splits["validation"].labels.tolist()) == set(range(num_labels))
        assert len(task.label_names) == num_labels
    else:
        assert task.splits["validation"].labels.dtype == np.float32 and task.label_names is None
    assert test_split in task.description


def test_glue_real_datasetdict_and_save_to_disk(tmp_path):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"sentence1": datasets.Value("string"), "sentence2": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["not_equivalent", "equivalent"]),
                                  "idx": datasets.Value("int32")})
    standin = glue_standin("mrpc")
    dataset_dict = datasets.DatasetDict({name: datasets.Dataset.from_dict(split, features=features)
                                         for name, split in standin.items()})
    dataset_dict.save_to_disk(str(tmp_path / "mrpc"))
    from_memory = load_task("mrpc", dataset=dataset_dict)
    from_disk = load_task("mrpc", dataset=str(tmp_path / "mrpc"))
    from_dict = load_task("mrpc", dataset=standin)
    assert split_texts(from_memory) == split_texts(from_disk) == split_texts(from_dict)
    assert from_disk.label_names == ["not_equivalent", "equivalent"]
    assert from_disk.is_pair and from_disk.metric == "f1"


def test_glue_errors_missing_package_unreachable_hub_hidden_labels_and_bad_pairs(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` raises ImportError
    with pytest.raises(ImportError, match="pip install datasets"):
        load_task("sst2")

    def unreachable(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'nyu-mll/glue' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=unreachable))
    with pytest.raises(RuntimeError, match=r"from the Hugging Face hub: ConnectionError.*pass dataset="):
        load_task("cola")

    hidden = glue_standin("rte")
    hidden["validation"]["label"] = [-1] * len(hidden["validation"]["label"])
    with pytest.raises(ValueError, match="hidden labels"):
        load_task("rte", dataset=hidden)

    short = glue_standin("qqp")
    short["train"]["question2"] = short["train"]["question2"][:-1]
    with pytest.raises(ValueError, match=r"different lengths \(60 and 59\)"):
        load_task("qqp", dataset=short)

    missing = glue_standin("stsb")
    missing["train"]["sentence2"][7] = None
    with pytest.raises(ValueError, match=r"pair column 'sentence2' .* 'train' row 7"):
        load_task("stsb", dataset=missing)

    nan = glue_standin("stsb")
    nan["validation"]["label"][3] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite at row 3"):
        load_task("stsb", dataset=nan)

    no_column = glue_standin("qnli")
    del no_column["train"]["question"]
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['question'\]"):
        load_task("qnli", dataset=no_column)
