"""The similarity graphs are cut from: the tau cut written once, per sentence or for all."""

from __future__ import annotations

import torch

from sentence_transformers_glot.nn.similarity import normalize_tokens, threshold_cut


def test_the_cut_takes_one_tau_one_per_sentence_or_none():
    sim = torch.tensor([[[0.9, 0.5], [0.5, 0.9]], [[0.3, 0.7], [0.7, 0.3]]])
    valid = torch.ones(2, 2, 2, dtype=torch.bool)
    assert threshold_cut(sim, valid, 0.6).tolist() == (sim > 0.6).tolist()
    per_sentence = threshold_cut(sim, valid, torch.tensor([0.8, 0.2]))  # (B,): each sentence its own tau
    assert per_sentence[0].tolist() == [[True, False], [False, True]] and per_sentence[1].all()
    assert threshold_cut(sim, valid & (sim < 0.8), None).tolist() == (sim < 0.8).tolist()  # every valid pair
    assert threshold_cut(torch.tensor([[0.9, 0.1]]), torch.tensor([[True, True]]), torch.tensor([0.5])).tolist() \
        == [[True, False]]  # packed (N, 2W) bands broadcast the same way


def test_unit_vectors_leave_zero_vectors_zero():
    x = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    assert torch.allclose(normalize_tokens(x), torch.tensor([[0.6, 0.8], [0.0, 0.0]]))
