"""Node features: hidden layers chosen and mixed with learned weights (``layers``), and each token normalised
(``input_norm``), through GlotPooling."""

from __future__ import annotations

import pytest
import torch
from helpers import pooled, random_batch

from sentence_transformers_glot import GlotPooling


@pytest.mark.parametrize("input_norm", ["layer", "rms"])
def test_normalised_inputs_make_the_pooling_scale_free(input_norm):
    x, mask = random_batch(3, 8, 16, seed=10)
    torch.manual_seed(0)
    plain = GlotPooling(16, threshold=0.1).eval()
    normed = GlotPooling(16, threshold=0.1, input_norm=input_norm).eval()
    normed.load_state_dict(plain.state_dict())
    torch.testing.assert_close(pooled(normed, 40.0 * x, mask), pooled(normed, x, mask), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(pooled(plain, 40.0 * x, mask), pooled(plain, x, mask), atol=1e-2)


def features_with_layers(num_hidden: int = 4, seed: int = 11) -> tuple[dict, list[torch.Tensor], torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    _, mask = random_batch(3, 6, 16, seed=seed)
    states = [torch.randn(3, 6, 16, generator=gen) for _ in range(num_hidden)]
    return {"token_embeddings": states[-1], "all_layer_embeddings": tuple(states),
            "attention_mask": mask.long()}, states, mask


def test_layer_mix_starts_as_the_mean_of_the_chosen_layers():
    features, states, mask = features_with_layers()
    torch.manual_seed(0)
    mixed = GlotPooling(16, threshold=0.1, layers=[1, -1]).eval()
    plain = GlotPooling(16, threshold=0.1).eval()
    plain.load_state_dict({k: v for k, v in mixed.state_dict().items() if k != "layer_weights"})
    expected = pooled(plain, (states[1] + states[-1]) / 2, mask)
    torch.testing.assert_close(mixed(dict(features))["sentence_embedding"], expected, atol=1e-5, rtol=1e-5)


def test_layer_mix_weights_are_learned():
    features, _, _ = features_with_layers()
    module = GlotPooling(16, threshold=0.1, layers=[0, 2, 3])
    module(dict(features))["sentence_embedding"].sum().backward()
    assert module.layer_weights.grad is not None and module.layer_weights.grad.abs().sum() > 0


def test_a_single_layer_reads_that_hidden_state():
    features, states, mask = features_with_layers()
    torch.manual_seed(0)
    one = GlotPooling(16, threshold=0.1, layers=[2]).eval()
    assert one.layer_weights is None
    torch.testing.assert_close(one(dict(features))["sentence_embedding"], pooled(one_as_plain(one), states[2], mask))


def one_as_plain(module: GlotPooling) -> GlotPooling:
    config = {**module.get_config_dict(), "layers": None}
    config.pop("format_version")
    plain = GlotPooling(**config).eval()
    plain.load_state_dict(module.state_dict())
    return plain


def test_layers_without_hidden_states_or_out_of_range_say_how_to_fix():
    features, _, _ = features_with_layers(num_hidden=4)
    module = GlotPooling(16, threshold=0.1, layers=[1, 7])
    with pytest.raises(ValueError, match=r"`layers` names \[7\].*4 hidden states.*-4\.\.3"):
        module(dict(features))
    del features["all_layer_embeddings"]
    with pytest.raises(ValueError, match=r"all_layer_embeddings.*output_hidden_states = True"):
        module(dict(features))


def test_node_features_are_the_mix_then_the_norm_in_float32():
    from sentence_transformers_glot.nn.node_features import mix_layers, node_features, normalize_inputs

    states = torch.randn(5, 3, 8, dtype=torch.float64) * 40
    logits = torch.tensor([0.5, -1.0, 2.0])
    got = node_features(states, True, logits, "layer")
    assert got.dtype == torch.float32 and got.shape == (5, 8)
    assert torch.allclose(got, normalize_inputs(mix_layers(states.float(), logits), "layer"), atol=1e-5)
    assert torch.equal(node_features(states[:, 0], False, None, "none"), states[:, 0].float())
