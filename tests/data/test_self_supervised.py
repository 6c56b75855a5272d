"""Self-supervised pairs: two spans of one document, documents split without overlap, from a task's texts or a
text file, trained with the contrastive head."""

from __future__ import annotations

import pytest

from sentence_transformers_glot.data import SPLITS, load_task
from sentence_transformers_glot.data.self_supervised import MIN_WORDS, span_task, two_spans

DOCUMENTS = [f"Document {i} talks about topic {i % 7}. It adds a second sentence {i}. And a third one {i}!"
             for i in range(60)] + [f"one sentence with quite a few words number {i}" for i in range(20)]


def test_a_document_is_cut_between_sentences_or_words_and_short_ones_are_left_out():
    assert two_spans("First one. Second one. Third one!") == ("First one. Second one.", "Third one!")
    assert two_spans("a b c d e f g") == ("a b c", "d e f g")
    assert two_spans(" ".join(["w"] * (MIN_WORDS - 1))) is None


def test_documents_are_split_once_and_every_pair_holds_two_spans_of_one_document():
    task = span_task("docs", DOCUMENTS + DOCUMENTS[:5], "v1")  # repeats count once
    assert task.name == "spans:docs" and task.extra["head"] == "contrastive" and task.extra["documents"] == 80
    seen = {}
    for split in SPLITS:
        data = task.splits[split]
        assert (data.labels == 1).all() and len(data.texts) == len(data.texts_b)
        for a, b in zip(data.texts, data.texts_b):
            seen.setdefault(f"{a} {b}", set()).add(split)  # the two spans put back together: one document
    assert set(seen) == set(DOCUMENTS) and all(len(splits) == 1 for splits in seen.values())
    assert span_task("docs", DOCUMENTS, "v1").splits["test"].texts == task.splits["test"].texts  # deterministic
    with pytest.raises(ValueError, match="at least 30 are needed"):
        span_task("tiny", DOCUMENTS[:10], "v1")


def test_a_text_file_is_a_source_and_its_content_names_the_run(tmp_path, tiny_bert_dir, state_cache):
    from helpers import config

    from sentence_transformers_glot.training import train
    from sentence_transformers_glot.training.run_identity import run_name

    docs = tmp_path / "docs.txt"
    docs.write_text("\n".join(DOCUMENTS) + "\n")
    task = load_task(f"spans:{docs}")
    assert task.is_pair and len(task.splits["train"]) > 40
    settings = config(tiny_bert_dir, task=f"spans:{docs}", epochs=1)
    before = run_name(settings)
    assert ":" not in before  # a folder name on every system
    result = train(settings, tmp_path / "run", cache=state_cache, export=False)
    assert result.metric == "accuracy" and 0 <= result.test <= 100  # in-batch retrieval accuracy
    docs.write_text("\n".join(DOCUMENTS[::-1][:70]) + "\n")
    assert run_name(settings) != before  # an edited file is another run
    with pytest.raises(ValueError, match="trains the contrastive head; drop head='pair-classification'"):
        train(config(tiny_bert_dir, task=f"spans:{docs}", head="pair-classification"), tmp_path / "bad",
              cache=state_cache)
    with pytest.raises(FileNotFoundError, match="no such document file"):
        load_task(f"spans:{tmp_path / 'missing.txt'}")
