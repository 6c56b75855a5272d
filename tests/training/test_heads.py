"""Task heads: every pair head and the regression head train through the loop; ``head_dim`` gives heads the same
size whatever the pooled width."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import config, toy_task

from sentence_transformers_glot.training.heads import TaskHead
from sentence_transformers_glot.training.loop import train


@pytest.mark.parametrize("kind", ["pair-classification", "similarity", "contrastive"])
def test_pair_heads(tiny_llama_dir, tmp_path, state_cache, kind):
    regression = kind == "similarity"
    task = toy_task(pair=True, regression=regression)
    head = None if kind != "contrastive" else "contrastive"
    result = train(config(tiny_llama_dir, head=head, epochs=1), tmp_path / kind, task=task, cache=state_cache,
                   export=False)
    assert np.isfinite(result.test)
    assert result.metric == ("spearman" if regression else "accuracy")


def test_regression_head_on_single_texts(tiny_bert_dir, tmp_path, state_cache):
    result = train(config(tiny_bert_dir, epochs=2), tmp_path / "reg", task=toy_task(regression=True), cache=state_cache,
                   export=False)
    assert result.metric == "spearman" and result.validation > 20


@pytest.mark.parametrize("kind", ["classification", "pair-classification", "similarity"])
def test_head_dim_gives_heads_the_same_size_whatever_the_pooled_width(kind, tmp_path):
    def size(head: TaskHead) -> int:
        return sum(p.numel() for p in head.parameters() if p is not head.reduce.weight and p is not head.reduce.bias)

    labels = {"num_labels": 2} if kind != "similarity" else {}
    narrow, wide = TaskHead(kind, 384, head_dim=64, **labels), TaskHead(kind, 896, head_dim=64, **labels)
    assert size(narrow) == size(wide)
    u, v = torch.randn(3, 896), torch.randn(3, 896)
    out = wide(u, v if kind != "classification" else None)
    assert out.shape[0] == 3
    wide.save(str(tmp_path))
    again = TaskHead.load(str(tmp_path))
    assert again.head_dim == 64 and torch.equal(again(u, v if kind != "classification" else None), out)
