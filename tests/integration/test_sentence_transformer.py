"""GlotPooling inside a SentenceTransformer: encode, save, reload bit-identically, on real and tiny backbones."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from sentence_transformers_glot import GlotPooling, load_glot_model
from sentence_transformers_glot._compat import Transformer, token_dimension
from sentence_transformers_glot.loading import check_glot_model

SENTENCES = [
    "a b c d",
    "w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 w12",
    "w3",
    "q r s t u v w1 w2 a b",
]


def build(backbone_dir: str, **glot) -> SentenceTransformer:
    torch.manual_seed(0)
    transformer = Transformer(backbone_dir)
    pooling = GlotPooling(token_dimension(transformer), **glot)
    return SentenceTransformer(modules=[transformer, pooling], device="cpu")


@pytest.mark.parametrize("backbone", ["tiny_bert_dir", "tiny_llama_dir"])
@pytest.mark.parametrize("glot", [{"threshold": 0.3}, {"threshold": None, "top_k": 2, "conv": "gat"}])
def test_encode_save_load_is_bit_identical(backbone, glot, request, tmp_path):
    model = build(request.getfixturevalue(backbone), **glot)
    embeddings = model.encode(SENTENCES, batch_size=3)
    assert embeddings.shape == (4, model[1].get_embedding_dimension())
    assert np.isfinite(embeddings).all()
    model.save(str(tmp_path / "model"))
    files = os.listdir(tmp_path / "model" / "1_GlotPooling")
    assert sorted(files) == ["config.json", "model.safetensors"]
    reloaded = SentenceTransformer(str(tmp_path / "model"), trust_remote_code=True, device="cpu")
    assert isinstance(reloaded[1], GlotPooling)
    assert np.array_equal(reloaded.encode(SENTENCES, batch_size=3), embeddings)
    assert np.array_equal(load_glot_model(str(tmp_path / "model"), device="cpu").encode(SENTENCES, batch_size=3),
                          embeddings)


def test_left_padded_decoder_batches_match_single_sentences(tiny_llama_dir):
    model = build(tiny_llama_dir, threshold=0.2)
    assert model[0].tokenizer.padding_side == "left"
    batched = model.encode(SENTENCES, batch_size=4)
    alone = np.stack([model.encode([s])[0] for s in SENTENCES])
    assert np.abs(batched - alone).max() <= 1e-5


def test_last_token_preset_on_left_padded_decoder_equals_st_pooling(tiny_llama_dir):
    try:
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:
        from sentence_transformers.models import Pooling
    glot = SentenceTransformer(modules=[Transformer(tiny_llama_dir), GlotPooling.baseline("last", 48)], device="cpu")
    st = SentenceTransformer(modules=[Transformer(tiny_llama_dir), Pooling(48, pooling_mode="lasttoken")],
                             device="cpu")
    assert np.abs(glot.encode(SENTENCES) - st.encode(SENTENCES)).max() <= 1e-6


def test_offline_minilm_end_to_end(minilm_dir, tmp_path):
    transformer = Transformer(minilm_dir)
    torch.manual_seed(0)
    model = SentenceTransformer(modules=[transformer, GlotPooling(384)], device="cpu")
    sentences = ["A man is playing a guitar.", "Someone plays an instrument.", "The stock market fell sharply."]
    embeddings = model.encode(sentences)
    assert embeddings.shape == (3, 384 + 2 * 256) and np.isfinite(embeddings).all()
    model.save(str(tmp_path / "glot-minilm"))
    assert np.array_equal(load_glot_model(str(tmp_path / "glot-minilm"), device="cpu").encode(sentences), embeddings)
    # the mean preset reproduces the packaged model's own (mean) pooling exactly
    mean = SentenceTransformer(modules=[transformer, GlotPooling.baseline("mean", 384)], device="cpu")
    reference = SentenceTransformer(minilm_dir, device="cpu")
    assert np.abs(mean.encode(sentences, normalize_embeddings=True) - reference.encode(sentences)).max() <= 1e-6


# ---------------------------------------------------------------------------- broken folders
def small_pooling() -> GlotPooling:
    torch.manual_seed(0)
    return GlotPooling(16, threshold=0.5, hidden_dim=8, conv="gat")


@pytest.fixture()
def saved_pooling(tmp_path) -> str:
    small_pooling().save(str(tmp_path))
    return str(tmp_path)


DELETE = object()


def edit_config(folder: str, **changes) -> None:
    path = os.path.join(folder, "config.json")
    with open(path) as f:
        config = json.load(f)
    for key, value in changes.items():
        if value is DELETE:
            config.pop(key)
        else:
            config[key] = value
    with open(path, "w") as f:
        json.dump(config, f)


def test_round_trip_of_the_module_alone(saved_pooling):
    original = small_pooling()
    loaded = GlotPooling.load(saved_pooling)
    assert loaded.get_config_dict() == original.get_config_dict()
    assert loaded.state_dict().keys() == original.state_dict().keys()
    for name, tensor in original.state_dict().items():
        assert torch.equal(tensor, loaded.state_dict()[name]), name


@pytest.mark.parametrize(
    "changes,error",
    [
        ({"hidden_dim": 12}, r"weights in .*model\.safetensors.*has shape \(8, 16\), config implies \(12, 16\)"),
        ({"num_layers": 3}, r"missing gnn\.layers\.2"),
        ({"temperature": 0.1, "top_k": DELETE},
         r"config\.json.*unknown keys \['temperature'\], missing keys \['top_k'\]"),
        ({"format_version": 99}, r"config\.json has format_version 99.*Upgrade"),
        ({"threshold": 3.0}, r"`threshold`.*config\.json"),
    ],
    ids=["shape-mismatch", "missing-weights", "unknown-and-missing-keys", "newer-format", "invalid-value"],
)
def test_broken_config_gives_an_error_naming_file_and_problem(saved_pooling, changes, error):
    edit_config(saved_pooling, **changes)
    with pytest.raises(ValueError, match=error):
        GlotPooling.load(saved_pooling)


def test_truncated_weights(saved_pooling):
    path = os.path.join(saved_pooling, "model.safetensors")
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read .*model.safetensors"):
        GlotPooling.load(saved_pooling)


def test_load_glot_model_refuses_foreign_code(tiny_bert_dir, tmp_path):
    model = build(tiny_bert_dir, threshold=0.3)
    model.save(str(tmp_path))
    modules_path = tmp_path / "modules.json"
    modules = json.loads(modules_path.read_text())
    assert [m["type"].split(".")[0] for m in modules] == ["sentence_transformers", "sentence_transformers_glot"]
    check_glot_model(str(tmp_path))
    modules[1]["type"] = "evil_package.Pooling"
    modules_path.write_text(json.dumps(modules))
    with pytest.raises(ValueError, match="evil_package.Pooling"):
        load_glot_model(str(tmp_path))
    modules[1]["type"] = "sentence_transformers_glot.pooling.GlotPooling"
    modules_path.write_text(json.dumps(modules))
    config = json.loads((tmp_path / "config.json").read_text())
    config["auto_map"] = {"AutoModel": "modeling_evil.EvilModel"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="auto_map"):
        load_glot_model(str(tmp_path))


def test_cli_encode_with_a_saved_model(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    build(tiny_bert_dir, threshold=0.3).save(str(tmp_path / "model"))
    out = tmp_path / "emb.npy"
    assert main(["encode", "--model", str(tmp_path / "model"), "--output", str(out), "a b", "c d e"]) == 0
    embeddings = np.load(out)
    assert embeddings.shape == (2, 32 + 2 * 256)
    assert "encoded 2 sentences" in capsys.readouterr().err  # stdout stays clean for pipelines


def test_cli_encode_reads_stdin_and_files_and_writes_by_extension(tiny_bert_dir, tmp_path, capsys, monkeypatch):
    import io

    from sentence_transformers_glot.cli import main

    model = build(tiny_bert_dir, threshold=0.3)
    model.save(str(tmp_path / "model"))
    texts = ["a b", 'c "d" e', "a,b, with commas"]
    expected = model.encode(texts)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(texts) + "\n\n"))
    output = str(tmp_path / "e.jsonl")
    assert main(["encode", "--model", str(tmp_path / "model"), "--input", "-", "--output", output]) == 0
    records = [json.loads(line) for line in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == texts
    np.testing.assert_allclose(np.array([r["embedding"] for r in records]), expected, atol=1e-5)
    (tmp_path / "texts.txt").write_text("\n".join(texts) + "\n", encoding="utf-8")
    assert main(["encode", "--model", str(tmp_path / "model"), "--input", str(tmp_path / "texts.txt"),
                 "--output", str(tmp_path / "e.csv")]) == 0
    with open(tmp_path / "e.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:2] == ["text", "e0"] and [r[0] for r in rows[1:]] == texts
    np.testing.assert_allclose(np.array([[float(v) for v in r[1:]] for r in rows[1:]]), expected, atol=1e-5)
    capsys.readouterr()


def test_cli_encode_refuses_an_unknown_output_extension_before_loading(tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    assert main(["encode", "--model", str(tmp_path / "missing"), "--output", str(tmp_path / "x.json"), "a"]) == 2
    err = capsys.readouterr().err
    assert "x.json" in err and ".npy, .jsonl, .csv" in err
    assert not list(tmp_path.iterdir())  # neither x.json nor x.json.npy


def test_cli_encode_warns_without_a_trained_model(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    assert main(["encode", "--backbone", tiny_bert_dir, "--threshold", "0.3", "--output", str(tmp_path / "e.npy"),
                 "a b"]) == 0
    assert "untrained" in capsys.readouterr().err and np.load(tmp_path / "e.npy").shape[0] == 1


def test_multi_process_pool_encoding_matches_single_process(tiny_bert_dir):
    model = build(tiny_bert_dir, threshold=0.3)
    sentences = SENTENCES * 5
    expected = model.encode(sentences, batch_size=4)
    pool = model.start_multi_process_pool(["cpu", "cpu"])
    try:
        if hasattr(model, "encode_multi_process"):  # 5.x
            got = model.encode_multi_process(sentences, pool, batch_size=4, chunk_size=5)
        else:
            got = model.encode(sentences, pool=pool, batch_size=4, chunk_size=5)
    finally:
        model.stop_multi_process_pool(pool)
    assert np.abs(got - expected).max() <= 1e-5


def test_config_that_is_not_json_names_the_file(saved_pooling):
    with open(os.path.join(saved_pooling, "config.json"), "w") as f:
        f.write('{"word_embedding_dimension": 16,')  # cut off mid-write by some other tool
    with pytest.raises(ValueError, match=r"config\.json: not valid JSON \(.*line 1 column"):
        GlotPooling.load(saved_pooling)
