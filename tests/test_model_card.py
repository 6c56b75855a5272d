"""Model cards say how to install the plugin and load the model, and carry the GLOT configuration and, for
trained models, the task and scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers import config, toy_task
from sentence_transformers import SentenceTransformer

from sentence_transformers_glot import GlotPooling, load_glot_model, save_glot_model
from sentence_transformers_glot._compat import Module, Transformer
from sentence_transformers_glot.model_card import use_glot_card


@pytest.fixture()
def model(tiny_bert_dir) -> SentenceTransformer:
    torch.manual_seed(0)
    return SentenceTransformer(modules=[Transformer(tiny_bert_dir, max_seq_length=32),
                                        GlotPooling(32, threshold=0.35, hidden_dim=16)], device="cpu")


def assert_glot_card(text: str) -> None:
    header = text.split("---")[1]
    assert "- glot" in header and "- sentence-transformers-glot" in header
    assert "## Installing the plugin" in text and "load_glot_model(" in text
    assert "pip install sentence-transformers-glot\n" not in text  # no release on the index: nothing to resolve
    assert "python -m build" in text and "pip install ./sentence-transformers-glot" in text
    assert "\n# SentenceTransformer\n" not in text and "\n# GLOT on " in text
    assert "| `threshold` | `0.35` |" in text and "| `hidden_dim` | `16` |" in text


def test_save_glot_model_writes_a_card_that_loads_the_model(model, tmp_path):
    save_glot_model(model, tmp_path / "m")
    assert_glot_card((tmp_path / "m" / "README.md").read_text())
    loaded = load_glot_model(str(tmp_path / "m"))
    expected = torch.as_tensor(model.encode(["a b c"]))
    assert torch.allclose(torch.as_tensor(loaded.encode(["a b c"])), expected, atol=1e-6)


HAS_MODEL_READY_HOOK = hasattr(Module, "on_model_ready")  # sentence-transformers 6.0 and later


@pytest.mark.skipif(not HAS_MODEL_READY_HOOK, reason="sentence-transformers 5.x has no on_model_ready hook")
def test_a_model_assembled_by_hand_saves_a_glot_card(model, tmp_path):
    model.save(str(tmp_path / "plain"))  # no helper: sentence-transformers' own save
    assert_glot_card((tmp_path / "plain" / "README.md").read_text())


def test_a_loaded_model_saved_again_gets_a_glot_card(model, tmp_path):
    model.save(str(tmp_path / "plain"), create_model_card=False)
    (tmp_path / "plain" / "README.md").write_text("---\ntags:\n- other\n---\n# someone else's card\n")
    loaded = load_glot_model(str(tmp_path / "plain"))
    loaded.save(str(tmp_path / "again"))
    assert_glot_card((tmp_path / "again" / "README.md").read_text())


def test_use_glot_card_before_a_plain_save(model, tmp_path):
    use_glot_card(model)
    model.save(str(tmp_path / "m"))
    assert_glot_card((tmp_path / "m" / "README.md").read_text())


def test_training_export_card_has_task_metric_and_scores(tiny_bert_dir, tmp_path):
    from sentence_transformers_glot.training import train
    from sentence_transformers_glot.training.cache import StateCache

    settings = config(tiny_bert_dir, glot={"threshold": 0.35, "hidden_dim": 16})
    task = toy_task()
    result = train(settings, tmp_path / "run", task=task, cache=StateCache(tmp_path / "cache", dtype="float32"))
    text = (Path(result.model_dir) / "README.md").read_text()
    assert_glot_card(text)
    assert f"| task | {task.name} |" in text and f"| metric | {result.metric} |" in text
    assert f"| test | {round(result.test, 4)} |" in text
    assert f"trained for {task.name}" in text.splitlines()[text.split("\n").index("---", 1) + 2]  # the title
    assert "task_head/" in text and "load_predictor(" in text and "glot predict --model" in text
    assert json.loads((Path(result.model_dir) / "modules.json").read_text())[1]["type"].startswith(
        "sentence_transformers_glot.")
    load_glot_model(result.model_dir).save(str(tmp_path / "again"))  # a GLOT card with its results is kept
    assert f"| test | {round(result.test, 4)} |" in (tmp_path / "again" / "README.md").read_text()


def test_without_the_plugin_the_error_and_the_card_name_what_to_install(model, tmp_path):
    import subprocess
    import sys

    save_glot_model(model, tmp_path / "m")
    code = ("import sys\n"
            "sys.modules['sentence_transformers_glot'] = None  # as if the plugin were not installed\n"
            "from sentence_transformers import SentenceTransformer\n"
            f"SentenceTransformer({str(tmp_path / 'm')!r}, trust_remote_code=True)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0 and "sentence_transformers_glot" in run.stderr  # sentence-transformers' own message
    card = (tmp_path / "m" / "README.md").read_text()
    assert "No module named 'sentence_transformers_glot'" in card and "install the plugin" in card


def test_the_title_is_the_users_name_or_the_backbones_real_name(tmp_path):
    """A packaged backbone's folder is called ``model``: the title names the model it holds; a name the user sets
    after building the model titles the card."""
    from sentence_transformers_glot.backbones.registry import resolve_backbone

    torch.manual_seed(0)
    transformer = Transformer(resolve_backbone("minilm"), max_seq_length=16)
    minilm = SentenceTransformer(modules=[transformer, GlotPooling(384, hidden_dim=8)], device="cpu")
    save_glot_model(minilm, tmp_path / "plain")
    assert "\n# GLOT on sentence-transformers/all-MiniLM-L6-v2\n" in (tmp_path / "plain" / "README.md").read_text()
    minilm.model_card_data.model_name = "acme/my-glot-sentiment"
    save_glot_model(minilm, tmp_path / "named")
    assert "\n# acme/my-glot-sentiment\n" in (tmp_path / "named" / "README.md").read_text()
