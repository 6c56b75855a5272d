"""A model's identity follows what decides its embeddings, by content."""

from __future__ import annotations

import torch
from helpers import glot_model

from sentence_transformers_glot.identity import model_fingerprint, state_key


def test_the_state_key_follows_content_and_settings_not_tensor_versions(tiny_bert_dir):
    model = glot_model(tiny_bert_dir, threshold=0.3, hidden_dim=8)
    key = state_key(model)
    assert state_key(model) == key and model_fingerprint(model) == model_fingerprint(model)
    parameter = next(model[1].parameters())
    original = parameter.detach().clone()
    parameter.data.mul_(1.0)  # same content: same key
    assert state_key(model) == key
    parameter.data.add_(0.5)  # through .data: torch's version counter does not move, the content does
    assert state_key(model)[0] != key[0]
    before = state_key(model)
    model.truncate_dim = 4
    assert state_key(model)[2] != before[2] and state_key(model)[0] == before[0]
    with torch.no_grad():
        parameter.copy_(original)
    assert state_key(model)[0] == key[0]  # back to the same weights: the same content digest
