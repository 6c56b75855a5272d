"""The sentence-transformers names that moved between 5.x and 6.x resolve to working classes."""

from __future__ import annotations

from sentence_transformers_glot._compat import Module, Pooling, Transformer, token_dimension


def test_the_moved_names_are_the_installed_versions_classes(tiny_bert_dir):
    transformer = Transformer(tiny_bert_dir)
    assert isinstance(transformer, Module) and token_dimension(transformer) == 32
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(modules=[transformer, Pooling(32, pooling_mode="mean")], device="cpu")
    assert model.encode(["w1 w2", "w3"]).shape == (2, 32)


def test_keep_float32_honours_device_moves_and_refuses_half_casts():
    import torch

    from sentence_transformers_glot._compat import keep_float32

    t = torch.ones(3)
    assert keep_float32(lambda x: x.half())(t).dtype == torch.float32
    assert keep_float32(lambda x: x.to(torch.bfloat16))(t).dtype == torch.float32
    assert keep_float32(lambda x: x.double())(t).dtype == torch.float64  # only the half casts are refused
    assert keep_float32(lambda x: x.half())(torch.ones(2, dtype=torch.int64)).dtype == torch.float16
