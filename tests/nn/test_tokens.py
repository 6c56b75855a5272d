"""Which token states a pooling reads: masks, shapes and the pooled tokens, each with its error."""

from __future__ import annotations

import pytest
import torch

from sentence_transformers_glot.nn.tokens import check_token_states, layer_states, pooled_tokens, real_token_mask


def test_the_real_token_mask_is_checked():
    x = torch.zeros(2, 4, 8)
    assert real_token_mask(x, None).all() and real_token_mask(x, None).shape == (2, 4)
    assert real_token_mask(x, torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0]])).sum() == 3
    with pytest.raises(ValueError, match="does not match token_embeddings shape"):
        real_token_mask(x, torch.ones(2, 5))
    with pytest.raises(ValueError, match=r"only 0 \(padding\) and 1"):
        real_token_mask(x, torch.tensor([[1, 2, 0, 0], [1, 0, 0, 0]]))


def test_states_must_have_the_shape_the_module_was_built_for():
    check_token_states(torch.zeros(2, 4, 8), 2, None, 8)
    check_token_states(torch.zeros(5, 3, 8), 1, [0, 2, 4], 8)
    with pytest.raises(ValueError, match=r"must be \(batch, length, dim\)"):
        check_token_states(torch.zeros(2, 8), 2, None, 8)
    with pytest.raises(ValueError, match="hold 2 layers, but layers"):
        check_token_states(torch.zeros(2, 4, 2, 8), 2, [0, 1, 2], 8)
    with pytest.raises(ValueError, match="Use word_embedding_dimension=6"):
        check_token_states(torch.zeros(2, 4, 6), 2, None, 8)
    with pytest.raises(ValueError, match="all_layer_embeddings"):
        layer_states({}, [0, 1])


def test_pooled_tokens_leave_out_the_sink_and_the_prompt():
    real = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]])
    assert pooled_tokens(real, False, True).tolist() == real.bool().tolist()
    assert pooled_tokens(real, True, True).tolist() == [[0, 1, 1, 1, 0], [0, 1, 0, 0, 0]]
    assert pooled_tokens(real, False, False, prompt_length=2).tolist() == [[0, 0, 1, 1, 0], [0, 0, 0, 0, 0]]
