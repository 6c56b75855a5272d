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


def test_gradient_shares_and_adam_eps_shares_follow_the_gradients(monkeypatch):
    """Each module's share of the squared gradient norm sums to 1 and scales as its gradient does; after an
    AdamW step, a module that got no gradient has all its coordinates under the eps floor, the others none."""
    import importlib

    import torch

    monkeypatch.syspath_prepend(str(ROOT))
    diagnosis = importlib.import_module("benchmarks.quality.decoder_diagnosis")
    model = torch.nn.ModuleDict({"big": torch.nn.Linear(4, 3), "small": torch.nn.Linear(4, 3),
                                 "idle": torch.nn.Linear(4, 3)})
    model["small"].load_state_dict(model["big"].state_dict())  # same weights: gradients exactly 30x apart
    groups = diagnosis.parameter_groups(model)
    assert set(groups) == {"big", "small", "idle"} and all(len(p) == 2 for p in groups.values())
    x = torch.randn(8, 4)
    loss = 30 * model["big"](x).square().sum() + model["small"](x).square().sum() + 0 * model["idle"](x).sum()
    loss.backward()
    shares = diagnosis.gradient_shares(groups)
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-4)
    assert shares["idle"] == 0.0
    assert shares["big"] == pytest.approx(900 / 901, abs=1e-4) and shares["small"] == pytest.approx(1 / 901, abs=1e-4)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    optimizer.step()
    assert diagnosis.adam_eps_shares(optimizer, groups) == {"big": 0.0, "small": 0.0, "idle": 1.0}
