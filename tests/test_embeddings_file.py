"""Texts from users' line files: one text per ``\\n``-terminated line, blank lines skipped and counted, pairs
line-aligned (issue 22, items 2 and 3; the commands that read them are tested in test_cli.py)."""

from __future__ import annotations

import pytest

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
