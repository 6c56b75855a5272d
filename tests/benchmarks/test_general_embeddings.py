"""benchmarks/quality/general_embeddings.py: the backbone's own poolings and trained models on every task, cached,
with means over tasks and per task type."""

from __future__ import annotations

import pytest
from helpers import ROOT

pytest.importorskip("mteb")


@pytest.fixture()
def general(monkeypatch):
    import importlib

    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("benchmarks.quality.general_embeddings")


def test_every_model_on_every_task_with_means_per_type_and_cached_results(general, tiny_bert_dir, tiny_llama_dir,
                                                                          tmp_path):
    from mteb.mocks.mock_tasks import MockClassificationTask, MockSTSTask

    models = general.backbone_models(tiny_bert_dir)
    assert list(models) == [f"{tiny_bert_dir.rsplit('/', 1)[-1]}-mean", f"{tiny_bert_dir.rsplit('/', 1)[-1]}-cls"]
    decoder = general.backbone_models(tiny_llama_dir)
    assert [name.rsplit("-", 1)[-1] for name in decoder] == ["mean", "lasttoken"]  # a decoder's last token
    tasks = [MockClassificationTask(), MockSTSTask()]
    rows = general.evaluate_models(models, tasks, tmp_path / "cache")
    assert [(r["model"].rsplit("-", 1)[-1], r["kind"]) for r in rows] == [
        ("mean", "Classification"), ("mean", "STS"), ("cls", "Classification"), ("cls", "STS")]
    table = general.summary_table(rows)
    assert "mean Classification" in table and "mean STS" in table and table.count("\n") == 3
    again = general.evaluate_models(models, [MockClassificationTask(), MockSTSTask()], tmp_path / "cache")
    assert all(r["reused"] for r in again) and [r["score"] for r in again] == [r["score"] for r in rows]
