"""Texts from users' line files: one text per ``\\n``-terminated line, pairs line-aligned, and outputs checked before
any work (issue 22, items 2, 3 and 7)."""

from __future__ import annotations

import numpy as np
import pytest
from test_predict import trained
from test_training import toy_task

from sentence_transformers_glot.embeddings_file import read_lines, read_text_pairs, read_texts


def test_lines_split_on_newlines_only(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("one\x0cpage\r\ntwo\u2028lines\nthree\x85x\n", encoding="utf-8", newline="")
    assert read_lines(path) == ["one\x0cpage", "two\u2028lines", "three\x85x"]
    assert read_texts(path) == ["one\x0cpage", "two\u2028lines", "three\x85x"]


def test_blank_lines_are_dropped_with_a_count(tmp_path, capsys):
    path = tmp_path / "texts.txt"
    path.write_text("a\n\n  \nb\n")
    assert read_texts(path) == ["a", "b"]
    assert "skipped 2 blank line(s)" in capsys.readouterr().err


def test_pairs_stay_line_aligned(tmp_path, capsys):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("q1\n\nq3\n")
    b.write_text("r1\n\nr3\n")
    assert read_text_pairs(a, b) == (["q1", "q3"], ["r1", "r3"])  # blank on both sides: skipped together
    assert "skipped 1 line(s) blank in both files" in capsys.readouterr().err
    b.write_text("r1\nr2\nr3\n")
    with pytest.raises(ValueError, match="line 2 is blank in .*a.txt"):
        read_text_pairs(a, b)
    b.write_text("r1\n\nr3\nr4\n")
    with pytest.raises(ValueError, match="has 3 lines .* has 4"):
        read_text_pairs(a, b)


def test_cli_predict_keeps_pairs_aligned_across_blank_lines(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    task = toy_task(pair=True)
    result = trained(tiny_bert_dir, tmp_path, task)
    (tmp_path / "a.txt").write_text("a b\nc d\n\ne f\n")
    (tmp_path / "b.txt").write_text("a c\n\nb d\ne g\n")
    capsys.readouterr()
    assert main(["predict", "--model", result.model_dir, "--input", str(tmp_path / "a.txt"),
                 "--input-b", str(tmp_path / "b.txt")]) == 2
    assert "line 2 is blank" in capsys.readouterr().err
    (tmp_path / "b.txt").write_text("a c\nb d\n\ne g\n")
    assert main(["predict", "--model", result.model_dir, "--input", str(tmp_path / "a.txt"),
                 "--input-b", str(tmp_path / "b.txt")]) == 0
    rows = [line.split("\t")[1:] for line in capsys.readouterr().out.strip().splitlines()]
    assert rows == [["a b", "a c"], ["c d", "b d"], ["e f", "e g"]]


def test_cli_encode_gives_one_row_per_line(tiny_bert_dir, tmp_path):
    from sentence_transformers_glot.cli import main

    path = tmp_path / "texts.txt"
    path.write_text("a\x0cb\nc\u2028d\ne f\n", encoding="utf-8")
    out = tmp_path / "emb.npy"
    assert main(["encode", "--backbone", tiny_bert_dir, "--input", str(path), "--output", str(out)]) == 0
    assert np.load(out).shape[0] == 3


def test_cli_encode_checks_the_output_folder_before_encoding(tiny_bert_dir, tmp_path, capsys, monkeypatch):
    from sentence_transformers_glot import cli

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    def no_model(*args, **kwargs):
        raise AssertionError("the model must not load before the output is checked")

    monkeypatch.setattr("sentence_transformers_glot.backbones.registry.resolve_backbone", no_model)
    assert cli.main(["encode", "--backbone", tiny_bert_dir, "--output", str(blocker / "sub" / "emb.npy"), "a"]) == 2
    assert "--output" in capsys.readouterr().err


def test_a_one_class_label_column_fails_before_the_cache_naming_file_and_column(tiny_bert_dir, tmp_path, capsys,
                                                                                 monkeypatch):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "reviews.csv"
    data.write_text("text,verdict\n" + "".join(f"text number {i},good\n" for i in range(30)))
    runs = tmp_path / "runs"
    assert main(["train", "--backbone", tiny_bert_dir, "--task", str(data), "--label-column", "verdict",
                 "--runs", str(runs)]) == 2
    err = capsys.readouterr().err
    assert "reviews.csv" in err and "'verdict'" in err and "one class" in err
    assert not runs.exists() or not any(runs.iterdir())
    assert not (tmp_path / "cache").exists()
