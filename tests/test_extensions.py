"""GlotPooling's options beyond the paper: word-order relations, soft edges, input normalisation, layer mixing.

Each option is off by default and, off, leaves the module exactly as the paper's (same state dict, same
outputs); each is checked against a direct computation, across both backends and both padding sides.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import random_batch, to_left_padding
from sentence_transformers import SentenceTransformer

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot._compat import Transformer, token_dimension
from sentence_transformers_glot.nn.conv import CONVS, SequenceConv, gcn_propagate
from sentence_transformers_glot.nn.graph import build_dense_graph, build_sparse_graph
from sentence_transformers_glot.nn.packing import PackedNodes


def pooled(module: GlotPooling, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return module({"token_embeddings": x, "attention_mask": mask.long()})["sentence_embedding"]


# ----------------------------------------------------------------------------- defaults change nothing
def test_defaults_add_no_parameters_and_keep_the_paper_state_dict():
    paper = GlotPooling(16, threshold=0.2)
    names = set(paper.state_dict())
    assert not any("sequence" in name or "layer_weights" in name for name in names)
    assert GlotPooling(16, threshold=0.2, edge_weight="binary", input_norm="none").state_dict().keys() == names


def test_a_version_1_config_loads_with_the_paper_defaults(tmp_path):
    torch.manual_seed(0)
    module = GlotPooling(16, threshold=0.2).eval()
    module.save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["format_version"] == 5
    old = {key: value for key, value in config.items()
           if key not in ("sequence_window", "edge_weight", "input_norm", "layers", "include_prompt",
                          "attention_sink", "edge_density", "graph_window")}
    old["format_version"] = 1
    (tmp_path / "config.json").write_text(json.dumps(old))
    loaded = GlotPooling.load(str(tmp_path))
    assert (loaded.sequence_window, loaded.edge_weight, loaded.input_norm, loaded.layers) == (0, "binary", "none", None)
    x, mask = random_batch(3, 7, 16, seed=1)
    assert torch.equal(pooled(loaded, x, mask), pooled(module, x, mask))


def test_a_version_2_config_loads_including_the_prompt(tmp_path):
    GlotPooling(16, threshold=0.2).save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    for key in ("include_prompt", "attention_sink", "edge_density", "graph_window"):
        del config[key]
    config["format_version"] = 2
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert GlotPooling.load(str(tmp_path)).include_prompt is True
    # load_config (sentence-transformers' hook) gives the migrated keyword arguments, with no format_version
    config = GlotPooling.load_config(str(tmp_path))
    assert set(config) == set(GlotPooling.config_keys) and config["attention_sink"] == "keep"
    assert config["graph_window"] is None and config["edge_density"] == 0.05


def test_load_config_names_the_file_of_a_bad_value(tmp_path):
    GlotPooling(16).save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "conv": "transformer"}))
    with pytest.raises(ValueError, match=r"`conv` must be one of .*\(in .*config.json\)"):
        GlotPooling.load_config(str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no config.json"):
        GlotPooling.load_config(str(tmp_path / "missing"))


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_include_prompt_false_pools_as_if_the_prompt_were_not_there(padding_side):
    torch.manual_seed(0)
    module = GlotPooling(16, threshold=0.1, sequence_window=1, include_prompt=False).eval()
    x, mask = random_batch(3, 9, 16, seed=2, padding_side=padding_side, min_length=4)
    prompt = 2
    with torch.no_grad():
        pooled_without = module({"token_embeddings": x, "attention_mask": mask, "prompt_length": prompt})
        alone = []
        for row, row_mask in zip(x, mask):
            rest = row[row_mask.bool()][prompt:]  # the sentence after its prompt, encoded on its own
            alone.append(module({"token_embeddings": rest[None], "attention_mask": torch.ones(1, len(rest))})[
                "sentence_embedding"][0])
        everything = module({"token_embeddings": x, "attention_mask": mask})["sentence_embedding"]
    torch.testing.assert_close(pooled_without["sentence_embedding"], torch.stack(alone), atol=1e-5, rtol=1e-5)
    assert not torch.allclose(everything, pooled_without["sentence_embedding"])  # no prompt_length: every token


def test_a_current_config_must_be_complete(tmp_path):
    GlotPooling(16, threshold=0.2).save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    del config["sequence_window"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"missing keys \['sequence_window'\]"):
        GlotPooling.load(str(tmp_path))


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sequence_window": -1}, r"`sequence_window` must be an int >= 0"),
        ({"sequence_window": 1.5}, r"`sequence_window` must be an int >= 0"),
        ({"sequence_window": 2, "num_layers": 0}, r"`sequence_window`.*num_layers=0.*set num_layers >= 1"),
        ({"edge_weight": "soft"}, r"`edge_weight` must be one of \('binary', 'cosine'\)"),
        ({"input_norm": "batch"}, r"`input_norm` must be one of \('none', 'layer', 'rms'\)"),
        ({"layers": []}, r"`layers` must be None or a non-empty list"),
        ({"layers": [1, 1]}, r"`layers` must be None or a non-empty list of distinct"),
        ({"layers": [1.0]}, r"`layers` must be None or a non-empty list"),
    ],
)
def test_bad_options_name_the_parameter(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GlotPooling(16, threshold=0.2, **kwargs)


# ----------------------------------------------------------------------------- word-order relations
def reference_window_mean(h: torch.Tensor, mask: torch.Tensor, window: int, direction: int) -> torch.Tensor:
    """Per sentence, in Python: the mean of the states up to ``window`` real tokens before/after each token."""
    rows = []
    for b in range(mask.shape[0]):
        tokens = h[b][mask[b]]
        for i in range(len(tokens)):
            picked = [tokens[i + direction * k] for k in range(1, window + 1) if 0 <= i + direction * k < len(tokens)]
            rows.append(torch.stack(picked).mean(0) if picked else torch.zeros(h.shape[-1]))
    return torch.stack(rows)


@pytest.mark.parametrize("window", [1, 2, 5])
@pytest.mark.parametrize("direction", [-1, 1])
def test_window_mean_counts_over_real_tokens_for_either_padding(window, direction):
    x, mask = random_batch(4, 9, 5, seed=window, min_length=1)
    expected = reference_window_mean(x, mask, window, direction)
    for xs, ms in ((x, mask), to_left_padding(x, mask)):
        nodes = PackedNodes.from_mask(ms)
        got = SequenceConv.window_mean(nodes.pack(xs), nodes, window, direction)
        torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_sequence_conv_equals_its_formula():
    torch.manual_seed(0)
    conv = SequenceConv(6, 4, window=2)
    x, mask = random_batch(3, 8, 6, seed=3)
    nodes = PackedNodes.from_mask(mask)
    expected = (reference_window_mean(x, mask, 2, -1) @ conv.lin_prev.weight.T
                + reference_window_mean(x, mask, 2, 1) @ conv.lin_next.weight.T)
    torch.testing.assert_close(conv(nodes.pack(x), nodes), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("conv", CONVS)
def test_order_edges_make_glot_see_word_order(conv):
    """The paper's GLOT is a function of the *set* of tokens: reversing a sentence leaves its vector unchanged.
    With sequence_window > 0 it changes, and the extra weights are the only difference."""
    torch.manual_seed(0)
    x, mask = random_batch(3, 8, 16, seed=4, min_length=8)  # full rows, so reversal keeps the mask
    reversed_x = x.flip(1)
    paper = GlotPooling(16, threshold=0.1, conv=conv).eval()
    torch.testing.assert_close(pooled(paper, x, mask), pooled(paper, reversed_x, mask), atol=1e-5, rtol=1e-5)
    ordered = GlotPooling(16, threshold=0.1, conv=conv, sequence_window=1).eval()
    difference = (pooled(ordered, x, mask) - pooled(ordered, reversed_x, mask)).abs().max()
    assert difference > 1e-3
    extra = set(ordered.state_dict()) - set(paper.state_dict())
    assert extra == {f"gnn.sequence_layers.{i}.lin_{side}.weight" for i in range(2) for side in ("prev", "next")}


@pytest.mark.parametrize("conv", CONVS)
@pytest.mark.parametrize("edge_weight", ["binary", "cosine"])
def test_options_agree_across_backends_and_padding_sides(conv, edge_weight):
    config = dict(threshold=0.0, conv=conv, sequence_window=2, edge_weight=edge_weight, input_norm="layer")
    torch.manual_seed(0)
    dense = GlotPooling(16, backend="dense", **config).eval()
    scatter = GlotPooling(16, backend="scatter", **config).eval()
    scatter.load_state_dict(dense.state_dict())
    x, mask = random_batch(5, 11, 16, seed=5)
    expected = pooled(dense, x, mask)
    torch.testing.assert_close(pooled(scatter, x, mask), expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pooled(dense, *to_left_padding(x, mask)), expected, atol=1e-5, rtol=1e-5)


def test_each_row_alone_equals_its_row_of_the_batch():
    torch.manual_seed(0)
    module = GlotPooling(16, threshold=0.1, conv="gat", sequence_window=3, edge_weight="cosine",
                         input_norm="rms").eval()
    x, mask = random_batch(4, 10, 16, seed=6)
    batched = pooled(module, x, mask)
    for b in range(4):
        alone = pooled(module, x[b : b + 1, mask[b]], mask[b : b + 1, mask[b]])
        torch.testing.assert_close(alone[0], batched[b], atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------- soft edges
def test_cosine_edges_weigh_each_neighbour_by_its_cosine():
    x, mask = random_batch(3, 9, 8, seed=7)
    graph = build_dense_graph(x, mask, threshold=0.1, edge_weight="cosine")
    xn = torch.nn.functional.normalize(x, dim=-1)
    cos = xn @ xn.transpose(1, 2)
    binary = build_dense_graph(x, mask, threshold=0.1).adj
    torch.testing.assert_close(graph.adj, torch.where(binary > 0, cos, 0.0), atol=1e-6, rtol=0)
    h = torch.randn(int(mask.sum()), 5)
    padded = graph.nodes.to_padded(h)
    weights = graph.adj
    expected = (weights @ padded) / weights.sum(-1, keepdim=True).where(weights.sum(-1, keepdim=True) > 0, 1.0)
    torch.testing.assert_close(graph.aggregate(h, "mean"), graph.nodes.pack(expected), atol=1e-6, rtol=0)
    sparse = build_sparse_graph(x, mask, threshold=0.1, edge_weight="cosine")
    torch.testing.assert_close(sparse.aggregate(h, "mean"), graph.aggregate(h, "mean"), atol=1e-6, rtol=0)
    torch.testing.assert_close(gcn_propagate(sparse, h), gcn_propagate(graph, h), atol=1e-6, rtol=0)


def test_cosine_edges_drop_pairs_with_a_negative_cosine():
    x, mask = random_batch(2, 12, 8, seed=8)
    graph = build_dense_graph(x, mask, threshold=-1.0, edge_weight="cosine")
    xn = torch.nn.functional.normalize(x, dim=-1)
    cos = xn @ xn.transpose(1, 2)
    assert (cos < 0).any()
    assert not (graph.adj[cos <= 0] != 0).any()
    assert (graph.adj >= 0).all()


def test_gcn_on_cosine_edges_equals_the_pyg_normalisation_with_edge_weights():
    """GCN with soft edges is PyG's GCNConv(edge_weight=w): D^-1/2 (A_w + I) D^-1/2 with D = 1 + sum_j w_ij."""
    x, mask = random_batch(1, 7, 8, seed=9, min_length=7)
    graph = build_dense_graph(x, mask, threshold=0.0, edge_weight="cosine")
    a = graph.adj[0] + torch.eye(7)
    d = a.sum(-1)
    expected = a / torch.sqrt(d[:, None] * d[None, :])
    h = torch.randn(7, 3)
    torch.testing.assert_close(gcn_propagate(graph, h), expected @ h, atol=1e-6, rtol=0)


# ----------------------------------------------------------------------------- input normalisation
@pytest.mark.parametrize("input_norm", ["layer", "rms"])
def test_normalised_inputs_make_the_pooling_scale_free(input_norm):
    x, mask = random_batch(3, 8, 16, seed=10)
    torch.manual_seed(0)
    plain = GlotPooling(16, threshold=0.1).eval()
    normed = GlotPooling(16, threshold=0.1, input_norm=input_norm).eval()
    normed.load_state_dict(plain.state_dict())
    torch.testing.assert_close(pooled(normed, 40.0 * x, mask), pooled(normed, x, mask), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(pooled(plain, 40.0 * x, mask), pooled(plain, x, mask), atol=1e-2)


# ----------------------------------------------------------------------------- layer mixing
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


def test_pool_checks_the_stacked_layer_axis():
    module = GlotPooling(16, threshold=0.1, layers=[1, 2])
    with pytest.raises(ValueError, match=r"\(batch, length, 2, dim\)"):
        module.pool(torch.randn(2, 5, 16), torch.ones(2, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"hold 3 layers, but layers=\[1, 2\]"):
        module.pool(torch.randn(2, 5, 3, 16), torch.ones(2, 5, dtype=torch.bool))


@pytest.mark.parametrize("backbone", ["tiny_bert_dir", "tiny_llama_dir"])
def test_a_saved_multi_layer_model_encodes_the_same_after_reload(backbone, request, tmp_path):
    """The Transformer saves output_hidden_states with its config, so the reloaded model feeds the same layers."""
    transformer = Transformer(request.getfixturevalue(backbone))
    transformer.auto_model.config.output_hidden_states = True
    torch.manual_seed(0)
    pooling = GlotPooling(token_dimension(transformer), threshold=0.2, layers=[1, -1], sequence_window=1,
                          input_norm="layer", edge_weight="cosine")
    with torch.no_grad():
        pooling.layer_weights.copy_(torch.tensor([0.3, -0.2]))
    model = SentenceTransformer(modules=[transformer, pooling], device="cpu")
    sentences = ["a b c d", "w1 w2 w3 w4 w5 w6", "w3"]
    before = model.encode(sentences, batch_size=2)
    model.save(str(tmp_path / "model"))
    reloaded = SentenceTransformer(str(tmp_path / "model"), device="cpu", trust_remote_code=True)
    assert reloaded[1].layers == [1, -1]
    np.testing.assert_allclose(reloaded.encode(sentences, batch_size=2), before, atol=1e-5, rtol=1e-5)
    # and it is what the pooling computes on the backbone's own hidden states
    features = (getattr(model, "preprocess", None) or model.tokenize)(sentences)
    with torch.no_grad():
        hidden = transformer.auto_model(**{k: features[k] for k in ("input_ids", "attention_mask")},
                                        output_hidden_states=True).hidden_states
        stacked = torch.stack([hidden[1], hidden[-1]], dim=2)
        direct = pooling.eval().pool(stacked, features["attention_mask"].bool()).numpy()
    np.testing.assert_allclose(direct, before, atol=1e-5, rtol=1e-5)


# ----------------------------------------------------------------------------- cache, training, benchmark, CLI
def test_a_multi_layer_cache_entry_stacks_the_layers_under_its_own_key(tmp_path):
    from sentence_transformers_glot.training.cache import StateCache, cache_key

    texts = ["a b c", "d e", "f"]

    def encode(batch):
        return [np.stack([np.full((len(t.split()), 4), layer, np.float32) for layer in (1, 2)], axis=1) for t in batch]

    states = StateCache(tmp_path, dtype="float32").get_or_build(texts, encode, "fp", 16, layer=[1, 2])
    x, mask = states.batch([0, 1, 2])
    assert x.shape == (3, 3, 2, 4) and states.dim == 4
    assert torch.equal(x[0, :, 1], torch.full((3, 4), 2.0)) and not x[2, 1:].any()
    assert cache_key("fp", texts, 16, [1, 2], "float32") != cache_key("fp", texts, 16, -1, "float32")
    assert cache_key("fp", texts, 16, [1, 2], "float32") != cache_key("fp", texts, 16, [2, 1], "float32")


def test_training_on_mixed_layers_exports_a_model_that_reproduces_it(tiny_bert_dir, tmp_path):
    """The cache stores the chosen layers; the exported model computes them from its own hidden states."""
    from test_training import toy_task

    from sentence_transformers_glot import load_glot_model
    from sentence_transformers_glot.training.cache import StateCache
    from sentence_transformers_glot.training.config import TrainConfig
    from sentence_transformers_glot.training.heads import TaskHead
    from sentence_transformers_glot.training.loop import train

    task = toy_task()
    config = TrainConfig(backbone=tiny_bert_dir, task="toy", epochs=2, batch_size=16, lr=5e-3, cache_dtype="float32",
                         glot={"threshold": 0.3, "hidden_dim": 16, "layers": [1, 2], "sequence_window": 1,
                               "input_norm": "layer"}, checkpoint_every=0)
    result = train(config, tmp_path / "run", task=task, cache=StateCache(tmp_path / "cache", dtype="float32"))
    model = load_glot_model(result.model_dir, device="cpu")
    assert model[1].layers == [1, 2] and model[0].auto_model.config.output_hidden_states
    head = TaskHead.load(f"{result.model_dir}/task_head")
    logits = head(torch.from_numpy(model.encode(task.splits["test"].texts)))
    accuracy = 100 * (logits.argmax(-1).numpy() == task.splits["test"].labels).mean()
    assert accuracy == pytest.approx(result.test, abs=1e-9)


def test_layer_and_layers_together_are_refused():
    from sentence_transformers_glot.training.config import TrainConfig

    with pytest.raises(ValueError, match=r"`layer`=3 and glot `layers`=\[1, 2\] both choose"):
        TrainConfig(layer=3, glot={"layers": [1, 2]})
    assert TrainConfig(glot={"layers": [1, 2]}).state_layers == [1, 2]
    assert TrainConfig(layer=3).state_layers == 3


def test_benchmark_methods_carry_options():
    from sentence_transformers_glot.evaluation.methods import is_glot, layer_options, method_pooling, task_label

    assert method_pooling("glot-gat+seq2+cos+ln") == (
        "glot", {"conv": "gat", "sequence_window": 2, "edge_weight": "cosine", "input_norm": "layer"})
    assert method_pooling("adapool+rms") == ("adapool", {"input_norm": "rms"})
    assert method_pooling("glot", {"threshold": 0.5}) == ("glot", {"threshold": 0.5})
    with pytest.raises(ValueError, match=r"a baseline takes only \+ln, \+rms, \+keepsink, not \+seq2"):
        method_pooling("mean+seq2")
    with pytest.raises(ValueError, match=r"unknown option \+wide"):
        method_pooling("glot+wide")
    with pytest.raises(ValueError, match=r"unknown option \+seq0"):
        method_pooling("glot+seq0")
    assert is_glot("glot+seq2") and is_glot("glot-gat+ln") and not is_glot("adapool+ln")
    from sentence_transformers_glot.pooling import PRESETS

    assert method_pooling("glot-plus", {"threshold": 0.5}) == ("glot", {"threshold": 0.5, **PRESETS["glot-plus"]})
    assert method_pooling("glot-plus+rms")[1]["input_norm"] == "rms" and is_glot("glot-plus")
    with pytest.raises(ValueError, match=r"unknown method 'paper'"):
        method_pooling("paper")  # the paper's preset is plain `glot`
    assert layer_options(3) == (3, {}) and layer_options([8, 9]) == (-1, {"layers": [8, 9]})
    assert task_label({"task": "acceptability", "layer": [8, 9]}) == "acceptability@L8+9"
    assert task_label({"task": "acceptability", "layer": 3}) == "acceptability@L3"


def test_cli_parses_layer_groups_and_the_new_flags():
    from sentence_transformers_glot.cli import _glot_kwargs, build_parser

    args = build_parser().parse_args(["benchmark", "--layers", "-1", "8,9,10", "--sequence-window", "2",
                                      "--edge-weight", "cosine", "--input-norm", "layer"])
    assert args.layers == [-1, [8, 9, 10]]
    assert _glot_kwargs(args) == {"sequence_window": 2, "edge_weight": "cosine", "input_norm": "layer"}
    assert build_parser().parse_args(["train", "--layers", "3", "4"]).layers == [3, 4]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["benchmark", "--layers", "8,x"])


def test_spread_layers_run_from_the_embeddings_to_the_last_layer():
    from sentence_transformers_glot.pooling import spread_layers

    assert spread_layers(6) == [0, 1, 2, 3, 4, 5, 6]
    assert spread_layers(30) == [0, 5, 10, 15, 20, 25, 30]
    assert spread_layers(18) == [0, 3, 6, 9, 12, 15, 18]
    assert spread_layers(12, count=4) == [0, 4, 8, 12]
    for depth in range(1, 60):
        layers = spread_layers(depth)
        assert layers[0] == 0 and layers[-1] == depth and len(layers) == min(depth + 1, 7)
        assert layers == sorted(set(layers))
    with pytest.raises(ValueError, match="`num_hidden_layers` must be a positive int"):
        spread_layers(0)


def test_presets_build_the_named_configurations_and_round_trip(tmp_path):
    from sentence_transformers_glot.pooling import PRESETS

    paper = GlotPooling.preset("paper", word_embedding_dimension=16)
    assert paper.get_config_dict() == GlotPooling(16, attention_sink="keep").get_config_dict()
    plus = GlotPooling.preset("glot-plus", word_embedding_dimension=16, num_hidden_layers=4)
    config = plus.get_config_dict()
    assert {key: config[key] for key in PRESETS["glot-plus"]} == PRESETS["glot-plus"]
    assert plus.layers == [0, 1, 2, 3, 4] and plus.layer_weights.shape == (5,)
    assert GlotPooling.preset("glot-plus", 16, layers=[-2, -1], threshold=0.5).layers == [-2, -1]
    plus.save(str(tmp_path))
    assert GlotPooling.load(str(tmp_path)).get_config_dict() == config  # a preset is plain config, not a name
    with pytest.raises(ValueError, match=r"pass `num_hidden_layers`.*or `layers=\[...\]`"):
        GlotPooling.preset("glot-plus", word_embedding_dimension=16)
    with pytest.raises(ValueError, match="`name` must be one of"):
        GlotPooling.preset("glot++", word_embedding_dimension=16)
