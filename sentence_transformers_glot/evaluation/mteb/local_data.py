"""The local tasks' data, read from the offline data sets into the formats mteb's task types read: classification
(``text``, ``label``: train and test), clustering (``sentences``, ``labels``), retrieval (corpus, queries, relevant
documents), pair classification (``sentence1``, ``sentence2``, ``labels``) and STS (the same with ``score``).
``limit`` keeps the first rows of each class (taken round-robin), or the first rows, for quick tests.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers_glot.evaluation.mteb.tasks import LocalTaskSpec


def stratified_head(labels: np.ndarray, limit: int | None) -> np.ndarray:
    """Row indices of the first ``limit`` rows taken round-robin over the classes (first rows of each class)."""
    n = len(labels)
    if limit is None or limit >= n:
        return np.arange(n)
    rank = np.zeros(n, dtype=np.int64)
    seen: dict[Any, int] = {}
    for i, label in enumerate(labels.tolist()):
        rank[i] = seen.get(label, 0)
        seen[label] = rank[i] + 1
    order = np.lexsort((np.arange(n), rank))  # by rank within class, then by position
    return np.sort(order[:limit])


def load_classification(spec: LocalTaskSpec, data_dir: str | None, limit: int | None) -> Any:
    from datasets import Dataset, DatasetDict

    from sentence_transformers_glot.data import load_task

    task = load_task(spec.source, cache_dir=data_dir)
    splits = {}
    for split in ("train", "test"):
        data = task.splits[split]
        rows = stratified_head(np.asarray(data.labels), limit)
        splits[split] = Dataset.from_dict({"text": [data.texts[i] for i in rows],
                                           "label": [int(data.labels[i]) for i in rows]})
    return DatasetDict(splits)


def load_clustering(spec: LocalTaskSpec, data_dir: str | None, limit: int | None) -> Any:
    from datasets import Dataset, DatasetDict

    from sentence_transformers_glot.data import load_task

    test = load_task(spec.source, cache_dir=data_dir).splits["test"]
    rows = stratified_head(np.asarray(test.labels), limit)
    return DatasetDict({"test": Dataset.from_dict({"sentences": [test.texts[i] for i in rows],
                                                   "labels": [int(test.labels[i]) for i in rows]})})


def load_pairs(spec: LocalTaskSpec, data_dir: str | None, limit: int | None) -> Any:
    """The test split of a pair task as mteb's pair classification (``labels``) or STS (``score``) reads it."""
    from datasets import Dataset, DatasetDict

    from sentence_transformers_glot.data import load_task

    test = load_task(spec.source, cache_dir=data_dir).splits["test"]
    labels = np.asarray(test.labels)
    rows = stratified_head(labels, limit) if spec.kind == "pair-classification" else np.arange(len(labels))[:limit]
    target = ({"labels": [int(labels[i]) for i in rows]} if spec.kind == "pair-classification"
              else {"score": [float(labels[i]) for i in rows]})
    return DatasetDict({"test": Dataset.from_dict({"sentence1": [test.texts[i] for i in rows],
                                                   "sentence2": [test.texts_b[i] for i in rows], **target})})


def load_fiqa(data_dir: str | None, limit: int | None) -> dict[str, Any]:
    from datasets import Dataset

    from sentence_transformers_glot.data import data_file

    path = data_file("fiqa", "fiqa-test.jsonl", cache_dir=data_dir)
    with open(path, encoding="utf-8") as f:
        pairs = [json.loads(line) for line in f if line.strip()]
    if limit is not None:
        pairs = pairs[:limit]
    doc_ids: dict[str, str] = {}  # answer text -> id: a repeated answer is one document, relevant to each question
    queries, relevant = [], {}
    for i, pair in enumerate(pairs):
        doc_id = doc_ids.setdefault(pair["answer"], f"d{len(doc_ids)}")
        queries.append({"id": f"q{i}", "text": pair["question"]})
        relevant[f"q{i}"] = {doc_id: 1}
    corpus = [{"id": doc_id, "text": text, "title": ""} for text, doc_id in doc_ids.items()]
    return {"corpus": Dataset.from_list(corpus), "queries": Dataset.from_list(queries),
            "relevant_docs": relevant, "top_ranked": None}
