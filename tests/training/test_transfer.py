"""Transfer between tasks (--init-from, --freeze-pooling): the source's weights really loaded, a frozen pooling
unchanged, incompatible sources refused in one line before the cache, the source part of the run's identity, the
record in run_config.json and the card, and resume."""

from __future__ import annotations

import json

import pytest
import torch
from helpers import config, toy_task
from safetensors.torch import load_file

from sentence_transformers_glot.training import train
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run_identity import run_name
from sentence_transformers_glot.training.transfer import init_pooling, pooling_folder, source_weights

POOLING = "1_GlotPooling/model.safetensors"


@pytest.fixture()
def source(tiny_bert_dir, tmp_path, state_cache):
    """A GLOT run trained on the toy task (single texts), exported."""
    result = train(config(tiny_bert_dir, epochs=1), tmp_path / "source", task=toy_task(), cache=state_cache)
    return tmp_path / "source", result


def test_a_frozen_pooling_is_the_source_and_only_the_head_trains(tiny_bert_dir, tmp_path, state_cache, source):
    folder, _ = source
    target = config(tiny_bert_dir, epochs=2, init_from=str(folder), freeze_pooling=True, seed=5)
    result = train(target, tmp_path / "frozen", task=toy_task(regression=True), cache=state_cache)
    before, after = load_file(str(folder / "model" / POOLING)), load_file(f"{result.model_dir}/{POOLING}")
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    assert result.trainable_parameters < sum(v.numel() for v in before.values())  # the head alone trains
    saved = json.loads((tmp_path / "frozen" / "run_config.json").read_text())
    assert saved["init_from"] == str(folder) and saved["freeze_pooling"] is True
    card = (tmp_path / "frozen" / "model" / "README.md").read_text()
    assert "pooling initialised from" in card and str(folder) in card


def test_a_warm_start_loads_the_source_then_trains_it_and_resumes(tiny_bert_dir, tmp_path, state_cache, source):
    from sentence_transformers_glot.training.model import build_pooling

    folder, _ = source
    warm = config(tiny_bert_dir, epochs=2, init_from=str(folder), checkpoint_every=2)
    pooling = build_pooling(warm, 32, decoder=False)
    init_pooling(pooling, str(folder), tiny_bert_dir)
    loaded = load_file(str(pooling_folder(folder) / "model.safetensors"))
    assert all(torch.equal(pooling.state_dict()[k], v) for k, v in loaded.items())  # the weights really loaded
    task = toy_task(regression=True)
    full = train(warm, tmp_path / "full", task=task, cache=state_cache)
    after = load_file(f"{full.model_dir}/{POOLING}")
    assert any(not torch.equal(after[k], v) for k, v in loaded.items())  # and then trained
    scratch = train(config(tiny_bert_dir, epochs=2, checkpoint_every=2), tmp_path / "scratch", task=task,
                    cache=state_cache, export=False)
    assert scratch.history != full.history
    with pytest.raises(KeyboardInterrupt):
        train(warm, tmp_path / "resumed", task=task, cache=state_cache, stop_after_steps=3)
    resumed = train(warm, tmp_path / "resumed", task=task, cache=state_cache)
    assert resumed.history == full.history and resumed.test == full.test


def test_the_source_weights_are_part_of_the_run_identity(tiny_bert_dir, tmp_path, state_cache, source):
    folder, _ = source
    other = train(config(tiny_bert_dir, epochs=1, seed=1), tmp_path / "other", task=toy_task(), cache=state_cache)
    named = {run_name(config(tiny_bert_dir, init_from=str(path))) for path in (folder, tmp_path / "other")}
    assert len(named) == 2 and other.model_dir is not None
    assert run_name(config(tiny_bert_dir)) not in named
    # a run folder, its exported model and the pooling module name the same weights
    assert source_weights(folder) == source_weights(folder / "model") == source_weights(pooling_folder(folder))


@pytest.mark.parametrize("change, message", [
    ({"glot": {"threshold": 0.3, "hidden_dim": 8}}, r"hidden_dim=16 \(this run: 8\)"),
    ({"pooling": "adapool", "glot": {}}, "its pooling differs from this run's"),
])
def test_a_source_with_other_options_is_refused_before_the_cache(tiny_bert_dir, tmp_path, state_cache, source,
                                                                 change, message):
    folder, _ = source
    with pytest.raises(ValueError, match=message):
        train(config(tiny_bert_dir, init_from=str(folder), **change), tmp_path / "bad", task=toy_task(),
              cache=state_cache)
    assert not (tmp_path / "bad").exists()


def test_other_backbones_and_non_sources_are_refused_in_one_line(tiny_bert_dir, tiny_llama_dir, tmp_path,
                                                                 state_cache):
    llama = train(config(tiny_llama_dir, epochs=1, glot={"threshold": 0.3, "hidden_dim": 16, "conv": "sage",
                                                            "attention_sink": "keep", "input_norm": "none"}),
                  tmp_path / "llama", task=toy_task(), cache=state_cache)
    assert llama.model_dir is not None
    from sentence_transformers_glot.training.model import build_pooling

    pooling = build_pooling(config(tiny_llama_dir, glot={"threshold": 0.3, "hidden_dim": 16, "conv": "sage",
                                                         "attention_sink": "keep", "input_norm": "none"}), 48,
                            decoder=True)
    with pytest.raises(ValueError, match="trained on another backbone: model_type 'llama' \\(this run: 'bert'\\)"):
        init_pooling(pooling, str(tmp_path / "llama"), tiny_bert_dir)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a run folder, an exported model or a saved GlotPooling"):
        pooling_folder(tmp_path / "empty")
    train(config(tiny_bert_dir, epochs=1), tmp_path / "unexported", task=toy_task(), cache=state_cache, export=False)
    with pytest.raises(ValueError, match="holds no exported model"):
        pooling_folder(tmp_path / "unexported")
    with pytest.raises(ValueError, match="`freeze_pooling` trains only the head on a pooling loaded with"):
        TrainConfig(freeze_pooling=True)


def test_a_saved_module_with_auto_options_matches_a_run_that_resolves_them(tiny_bert_dir, tmp_path):
    from sentence_transformers_glot import GlotPooling
    from sentence_transformers_glot.training.model import build_pooling

    saved = GlotPooling(32, threshold=0.3, hidden_dim=16)  # attention_sink and input_norm "auto", as built
    saved.save(str(tmp_path / "module"))
    pooling = build_pooling(config(tiny_bert_dir), 32, decoder=False)  # "keep" and "none": the encoder's
    init_pooling(pooling, str(tmp_path / "module"), tiny_bert_dir)
    assert all(torch.equal(a, b) for a, b in zip(pooling.state_dict().values(), saved.state_dict().values()))
