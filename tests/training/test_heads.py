"""Task heads: every pair head and the regression head train through the loop; ``head_dim`` gives heads the same
size whatever the pooled width."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import config, toy_task

from sentence_transformers_glot.options import HEADS, PAIR_HEADS
from sentence_transformers_glot.training.heads import TaskHead
from sentence_transformers_glot.training.run import train


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


#: every head kind with a label or score per example (the contrastive head has none: in-batch InfoNCE over pairs)
SUPERVISED_HEADS = [kind for kind in HEADS if kind != "contrastive"]


@pytest.mark.parametrize("kind", SUPERVISED_HEADS)
def test_head_dim_gives_heads_the_same_size_whatever_the_pooled_width(kind, tmp_path):
    def size(head: TaskHead) -> int:
        return sum(p.numel() for p in head.parameters() if p is not head.reduce.weight and p is not head.reduce.bias)

    labels = {"num_labels": 2} if "classification" in kind else {}
    narrow, wide = TaskHead(kind, 384, head_dim=64, **labels), TaskHead(kind, 896, head_dim=64, **labels)
    assert size(narrow) == size(wide)
    u, v = torch.randn(3, 896), torch.randn(3, 896)
    pair = kind in PAIR_HEADS
    out = wide(u, v if pair else None)
    assert out.shape[0] == 3
    wide.save(str(tmp_path))
    again = TaskHead.load(str(tmp_path))
    assert again.head_dim == 64 and torch.equal(again(u, v if pair else None), out)


@pytest.mark.parametrize("kind", SUPERVISED_HEADS)
def test_a_normalised_head_reads_the_same_vector_at_any_scale_and_round_trips(kind, tmp_path):
    torch.manual_seed(0)
    labels = {"num_labels": 3} if "classification" in kind else {}
    head = TaskHead(kind, 16, normalize=True, **labels)
    u, v = torch.randn(4, 16), torch.randn(4, 16)
    pair = kind in PAIR_HEADS
    out = head(u, v if pair else None)
    # a decoder's pooled vectors are large: the normalised head sees the same input at 50x the scale, moved
    scaled = head(50 * u + 3, (50 * v + 3) if pair else None)
    torch.testing.assert_close(scaled, out, rtol=1e-4, atol=1e-4)
    plain = TaskHead(kind, 16, **labels)
    plain.load_state_dict(head.state_dict())
    assert not torch.allclose(plain(50 * u, (50 * v) if pair else None), out, atol=1e-2)  # without it: not so
    head.save(str(tmp_path / "norm"))
    again = TaskHead.load(str(tmp_path / "norm"))
    assert again.normalize and torch.equal(again(u, v if pair else None), out)
    plain.save(str(tmp_path / "plain"))
    assert "normalize" not in plain.config()  # heads saved before the option load and save as they were
    assert not TaskHead.load(str(tmp_path / "plain")).normalize
    with pytest.raises(ValueError, match="`normalize` must be True or False"):
        TaskHead(kind, 16, normalize="yes", **labels)


@pytest.mark.parametrize(("pair", "head_norm", "expected"), [
    (True, None, True), (False, None, False), (True, False, False), (False, True, True)])
def test_head_norm_reaches_the_trained_and_exported_head(tiny_llama_dir, tmp_path, state_cache, pair, head_norm,
                                                         expected):
    result = train(config(tiny_llama_dir, epochs=1, head_norm=head_norm), tmp_path / "run", task=toy_task(pair=pair),
                   cache=state_cache)
    head = TaskHead.load(str(Path(result.model_dir) / "task_head"))
    assert head.kind == ("pair-classification" if pair else "classification")
    assert head.normalize is expected  # by default only the pair-classification head normalises
