"""Property-based tests of GlotPooling with hypothesis: random configs x batch shapes x masks x padding x dtypes.

Properties:

(a) the output is finite, ``(batch, get_embedding_dimension())`` and of the input's dtype;
(b) batch invariance: each row pooled alone (trimmed to its own tokens) equals its row of the batched result;
(c) the ``GlotPooling.baseline`` presets equal sentence-transformers' ``Pooling``;
(d) ``save`` then ``load`` is bit-identical (state dict, config and outputs).

Profiles (``GLOT_HYPOTHESIS_PROFILE``): ``ci`` (default) runs :data:`CI_EXAMPLES` examples per property,
at least 1,000 in all, derandomised (the same examples on every run, no example database), so CI is
reproducible and bounded in time; ``nightly`` runs ten times as many with fresh randomness each run.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from sentence_transformers.sentence_transformer.modules import Pooling
except ImportError:  # sentence-transformers 5.x
    from sentence_transformers.models import Pooling

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.nn.backend import BACKENDS
from sentence_transformers_glot.nn.gnn import CONVS, JUMPING_KNOWLEDGE
from sentence_transformers_glot.nn.readout import READOUTS
from sentence_transformers_glot.options import EDGE_WEIGHTS
from sentence_transformers_glot.pooling import INPUT_NORMS

# ----------------------------------------------------------------------------- profiles and example budget
MIN_TOTAL_CI_EXAMPLES = 1000
CI_EXAMPLES = {  # examples per property under the "ci" profile
    "test_output_is_finite_with_the_right_shape_and_dtype": 300,
    "test_batch_invariance": 300,
    "test_presets_equal_sentence_transformers_pooling": 250,
    "test_save_load_round_trip_is_bit_identical": 150,
}
NIGHTLY_FACTOR = 10

_COMMON = {"deadline": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=max(CI_EXAMPLES.values()), derandomize=True, database=None, **_COMMON)
settings.register_profile("nightly", max_examples=NIGHTLY_FACTOR * max(CI_EXAMPLES.values()), derandomize=False,
                          **_COMMON)
PROFILE = os.environ.get("GLOT_HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "nightly"):
    raise ValueError(f"GLOT_HYPOTHESIS_PROFILE must be 'ci' or 'nightly'; got {PROFILE!r}.")
_SCALE = 1 if PROFILE == "ci" else NIGHTLY_FACTOR

EXECUTED: Counter[str] = Counter()  # examples actually run per property (checked by test_example_budget)


def budget(name: str) -> settings:
    """The active profile with this property's share of the example budget."""
    return settings(settings.get_profile(PROFILE), max_examples=CI_EXAMPLES[name] * _SCALE)


# ----------------------------------------------------------------------------- strategies
DTYPES = (torch.float32, torch.bfloat16, torch.float16)
ST_MODES = {"mean": "mean", "max": "max", "cls": "cls", "last": "lasttoken"}


@st.composite
def glot_configs(draw) -> dict:
    """Keyword arguments of a valid GlotPooling (everything but word_embedding_dimension)."""
    num_layers = draw(st.integers(0, 3))
    threshold = draw(st.one_of(st.none(), st.floats(-1.0, 1.0, allow_nan=False)))
    top_k = draw(st.one_of(st.none(), st.integers(1, 4)))
    if num_layers > 0 and threshold is None and top_k is None:
        top_k = draw(st.integers(1, 4))  # both None with layers is a documented ValueError
    return {
        "threshold": threshold,
        "top_k": top_k,
        "num_layers": num_layers,
        "hidden_dim": draw(st.integers(1, 8)),
        "conv": draw(st.sampled_from(CONVS)),
        "jumping_knowledge": draw(st.sampled_from(JUMPING_KNOWLEDGE)),
        "readout": draw(st.sampled_from(READOUTS)),
        "readout_hidden_dim": draw(st.one_of(st.none(), st.integers(1, 8))),
        "dropout": draw(st.sampled_from([0.0, 0.5])),  # eval mode: must have no effect
        "backend": draw(st.sampled_from(BACKENDS)),
        # the options beyond the paper (off in about half of the draws)
        "sequence_window": draw(st.integers(0, 3)) if num_layers > 0 else 0,
        "edge_weight": draw(st.sampled_from(EDGE_WEIGHTS)),
        "input_norm": draw(st.sampled_from(INPUT_NORMS)),
    }


@st.composite
def token_batches(draw, dtypes=DTYPES, scales=(0.01, 1.0, 10.0)) -> dict:
    """A padded batch: token states, a contiguous mask (every row >= 1 token) on either side, garbage padding.

    Token states are seeded Gaussians around a shared direction (cosines spread over [-1, 1]); optionally some
    real tokens duplicate another (exact cosine ties) or are all-zero vectors (no direction).
    """
    batch = draw(st.integers(1, 5))
    length = draw(st.integers(1, 12))
    dim = draw(st.integers(4, 24))
    # one-token rows on purpose (half of the draws), then any length
    lengths = draw(st.lists(st.one_of(st.just(1), st.integers(1, length)), min_size=batch, max_size=batch))
    side = draw(st.sampled_from(["right", "left"]))
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**31 - 1))
    scale = draw(st.sampled_from(scales))
    ties = draw(st.sampled_from(["none", "duplicates", "zeros"]))
    pad_value = draw(st.sampled_from([0.0, 7.0, float("nan")]))

    gen = torch.Generator().manual_seed(seed)
    x = scale * (torch.randn(batch, 1, dim, generator=gen) + 0.9 * torch.randn(batch, length, dim, generator=gen))
    positions = torch.arange(length)
    n = torch.tensor(lengths)
    mask = positions[None, :] < n[:, None] if side == "right" else positions[None, :] >= (length - n)[:, None]
    if ties != "none":
        pick = torch.rand(batch, length, generator=gen) < 0.4
        if ties == "duplicates":  # copy each row's first real token
            first = x[torch.arange(batch), mask.int().argmax(1)]
            x = torch.where(pick[..., None], first[:, None, :], x)
        else:
            x = x.masked_fill(pick[..., None], 0.0)
    x = x.masked_fill(~mask[..., None], pad_value).to(dtype)
    return {"x": x, "mask": mask, "lengths": lengths, "side": side, "dtype": dtype}


def make_pooling(dim: int, config: dict, seed: int) -> GlotPooling:
    torch.manual_seed(seed)  # deterministic init inside each example
    return GlotPooling(dim, **config).eval()


def embed(module, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return module({"token_embeddings": x, "attention_mask": mask.long()})["sentence_embedding"]


def half_tolerance(dtype: torch.dtype) -> dict:
    """allclose tolerances for comparing two fp32 results that were each rounded to ``dtype``.

    GlotPooling computes in float32 and rounds once to the input dtype. Two float32 results that agree to
    ``1e-5`` can round to neighbouring ``dtype`` values, so half dtypes get one unit in the last place
    (``rtol = eps``, 2^-7 for bfloat16, 2^-10 for float16) on top of the float32 tolerance.
    """
    if dtype == torch.float32:
        return {"atol": 1e-5, "rtol": 0.0}
    return {"atol": 2e-5, "rtol": torch.finfo(dtype).eps}


# ----------------------------------------------------------------------------- (a) finite, shape, dtype
@budget("test_output_is_finite_with_the_right_shape_and_dtype")
@given(config=glot_configs(), data=token_batches(), seed=st.integers(0, 2**16))
def test_output_is_finite_with_the_right_shape_and_dtype(config, data, seed):
    EXECUTED["test_output_is_finite_with_the_right_shape_and_dtype"] += 1
    x, mask = data["x"], data["mask"]
    pooling = make_pooling(x.shape[-1], config, seed)
    out = embed(pooling, x, mask)
    assert out.shape == (x.shape[0], pooling.get_embedding_dimension())
    assert out.dtype == data["dtype"]
    assert bool(torch.isfinite(out).all()), out


# ----------------------------------------------------------------------------- (b) batch invariance
@budget("test_batch_invariance")
@given(config=glot_configs(), data=token_batches(scales=(1.0,)), seed=st.integers(0, 2**16))
def test_batch_invariance(config, data, seed):
    """Row ``b`` pooled alone, trimmed to its own tokens, equals row ``b`` of the batched result."""
    EXECUTED["test_batch_invariance"] += 1
    x, mask, dtype = data["x"], data["mask"], data["dtype"]
    pooling = make_pooling(x.shape[-1], config, seed)
    batched = embed(pooling, x, mask)
    for b in range(x.shape[0]):
        tokens = x[b : b + 1, mask[b]]  # the row's real tokens, padding of either side removed
        alone = embed(pooling, tokens, torch.ones(tokens.shape[:2], dtype=torch.bool))
        assert alone.dtype == batched.dtype == dtype
        assert torch.allclose(alone[0].float(), batched[b].float(), **half_tolerance(dtype)), (
            b, (alone[0].float() - batched[b].float()).abs().max())


# ----------------------------------------------------------------------------- (c) presets == ST Pooling
@budget("test_presets_equal_sentence_transformers_pooling")
@given(mode=st.sampled_from(sorted(ST_MODES)), data=token_batches(scales=(0.01, 1.0, 100.0)))
def test_presets_equal_sentence_transformers_pooling(mode, data):
    """Same features dict through both modules, either padding side.

    sentence-transformers 6 ``cls`` takes the first real token (``argmax`` of the mask) and ``lasttoken`` the
    last real one, so both agree with our presets for left and right padding. ``max``/``cls``/``last`` select
    input values, so they must agree exactly; ``mean`` sums in float32 in both (ST accumulates half inputs in
    float32 too), so it agrees to float32 rounding, plus one unit in the last place for half dtypes.
    """
    EXECUTED["test_presets_equal_sentence_transformers_pooling"] += 1
    x, mask, dtype = data["x"], data["mask"], data["dtype"]
    dim = x.shape[-1]
    ours = GlotPooling.baseline(mode, word_embedding_dimension=dim).eval()
    assert sum(p.numel() for p in ours.parameters()) == 0
    theirs = Pooling(dim, pooling_mode=ST_MODES[mode])
    # ST multiplies padding by the mask (NaN * 0 = NaN), so hand it zero padding; ours is shown to ignore padding.
    clean = x.masked_fill(~mask[..., None], 0.0)
    got = embed(ours, x, mask)
    assert got.dtype == dtype
    expected = theirs({"token_embeddings": clean, "attention_mask": mask.long()})["sentence_embedding"]
    assert expected.dtype == dtype
    if mode == "mean":
        assert torch.allclose(got.float(), expected.float(), atol=1e-6 * max(1.0, float(x.float().abs().max())),
                              rtol=0.0 if dtype == torch.float32 else torch.finfo(dtype).eps)
    else:
        assert torch.equal(got, expected)


# ----------------------------------------------------------------------------- (d) save / load
@budget("test_save_load_round_trip_is_bit_identical")
@given(config=glot_configs(), data=token_batches(), seed=st.integers(0, 2**16))
def test_save_load_round_trip_is_bit_identical(config, data, seed):
    EXECUTED["test_save_load_round_trip_is_bit_identical"] += 1
    x, mask = data["x"], data["mask"]
    pooling = make_pooling(x.shape[-1], config, seed)
    with torch.no_grad():  # move the weights off their init so a load that silently re-initialised would fail
        for p in pooling.parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(seed)))
    with tempfile.TemporaryDirectory() as folder:
        pooling.save(folder)
        torch.manual_seed(seed + 1)  # a different init for the module `load` constructs
        loaded = GlotPooling.load(folder).eval()
    assert loaded.get_config_dict() == pooling.get_config_dict()
    original, reloaded = pooling.state_dict(), loaded.state_dict()
    assert list(reloaded) == list(original)
    for name, tensor in original.items():
        assert reloaded[name].dtype == tensor.dtype and torch.equal(reloaded[name], tensor), name
    assert torch.equal(embed(loaded, x, mask), embed(pooling, x, mask))


# ----------------------------------------------------------------------------- regression: top-k ties
@pytest.mark.parametrize("backend", ["dense", "scatter"])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_top_k_ties_do_not_depend_on_the_padded_length(backend, padding_side):
    """The first example hypothesis found: an all-zero token has cosine 0 with every other token, so its
    top-1 neighbour is a tie. torch.topk broke it differently for rows of length 3 and 4, so the sentence's
    graph and embedding changed with the batch's padded length. Ties now go to the lowest position."""
    torch.manual_seed(0)
    tokens = torch.randn(1, 3, 4)
    tokens[0, 2] = 0.0
    pooling = GlotPooling(4, threshold=None, top_k=1, num_layers=1, hidden_dim=2, jumping_knowledge="none",
                          backend=backend).eval()
    alone = pooling.pool(tokens, torch.ones(1, 3, dtype=torch.bool))
    for extra in range(1, 40):
        pad, positions = torch.zeros(1, extra, 4), torch.arange(3 + extra)[None]
        if padding_side == "right":
            x, mask = torch.cat([tokens, pad], 1), positions < 3
        else:
            x, mask = torch.cat([pad, tokens], 1), positions >= extra
        assert torch.allclose(pooling.pool(x, mask), alone, atol=1e-6, rtol=0), extra


# ----------------------------------------------------------------------------- the budget itself
def test_example_budget():
    """The ci profile runs >= 1,000 examples in all; when the properties ran in this session, they ran them all."""
    assert sum(CI_EXAMPLES.values()) >= MIN_TOTAL_CI_EXAMPLES
    properties = {name for name, fn in globals().items()
                  if name.startswith("test_") and getattr(fn, "is_hypothesis_test", False)}  # set by @given
    assert set(CI_EXAMPLES) == properties  # every property has a budget entry, and only properties
    for name, count in CI_EXAMPLES.items():
        assert budget(name).max_examples == count * _SCALE
        if PROFILE == "ci":
            assert budget(name).derandomize and budget(name).database is None
    if set(EXECUTED) == set(CI_EXAMPLES):  # the whole file ran, in order: the examples really happened
        for name, count in CI_EXAMPLES.items():
            assert EXECUTED[name] >= count * _SCALE, (name, EXECUTED[name])
