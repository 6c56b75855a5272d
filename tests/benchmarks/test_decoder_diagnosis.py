"""benchmarks/quality/decoder_diagnosis.py: the attention statistics are those of the module's own readout."""

from __future__ import annotations

import pytest
from helpers import ROOT


@pytest.mark.parametrize("sink", ["keep", "exclude"])
def test_decoder_diagnosis_reads_the_readout_weights_of_the_pooled_tokens(monkeypatch, sink):
    """benchmarks/quality/decoder_diagnosis.py: the attention statistics are those of the module's own readout
    (weights summing to 1 per sentence), and an excluded sink gets no weight."""
    import importlib

    import torch
    from helpers import random_batch

    from sentence_transformers_glot import GlotPooling

    monkeypatch.syspath_prepend(str(ROOT))
    diagnosis = importlib.import_module("benchmarks.quality.decoder_diagnosis")
    x, mask = random_batch(6, 9, 16, seed=4, min_length=3)

    class States:  # the two methods of the hidden-state cache that the diagnosis reads
        def __len__(self):
            return len(x)

        def batch(self, rows):
            return x[rows], mask[rows]

    torch.manual_seed(0)
    pooling = GlotPooling(16, threshold=0.1, hidden_dim=8, attention_sink=sink).eval()
    with torch.no_grad():
        stats = diagnosis.readout_statistics(pooling, States())
    assert 0.0 < stats["entropy"] <= 1.0 and 0.0 < stats["max_weight"] <= 1.0
    if sink == "exclude":
        assert stats["weight_on_first_token"] == 0.0
    else:
        assert 0.0 < stats["weight_on_first_token"] < 1.0
