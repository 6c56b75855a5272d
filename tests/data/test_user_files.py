"""Users' own CSV, TSV and JSONL files as tasks: column detection, targets and metrics, split columns, errors that
name the problem, quoting, and line separators inside texts."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from helpers import assert_partition, class_file, split_texts, write_csv, write_jsonl

from sentence_transformers_glot.data import (
    DEFAULT_SEED,
    SPLITS,
    load_task,
)


def test_csv_single_text_classification_with_auto_detected_columns(tmp_path):
    path = class_file(tmp_path, 40, 40)
    task = load_task(str(path))
    assert (task.objective, task.metric, task.num_labels, task.is_pair) == ("classification", "accuracy", 2, False)
    assert task.label_names == ["0", "1"]
    assert task.name == "file:data.csv"
    assert [len(task.splits[s]) for s in SPLITS] == [64, 8, 8]
    assert task.splits["train"].labels.dtype == np.int64
    for examples in split_texts(task).values():  # each text keeps its own label
        assert all(text.endswith(f"class {label}") for text, _, label in examples)
    assert_partition(task, 80)
    assert task.extra["seed"] == DEFAULT_SEED


def test_tsv_pair_regression_keeps_pairs_and_scores_together(tmp_path):
    rows = [[f"first {i}", f"second {i}", i / 10] for i in range(50)]
    path = write_csv(tmp_path / "pairs.tsv", ["sentence1", "sentence2", "score"], rows, delimiter="\t")
    task = load_task(str(path))
    assert (task.objective, task.metric, task.num_labels, task.is_pair) == ("regression", "spearman", None, True)
    assert task.splits["test"].labels.dtype == np.float32
    for examples in split_texts(task).values():
        for a, b, score in examples:
            i = int(a.split()[1])
            assert b == f"second {i}" and score == pytest.approx(i / 10)
    assert [len(task.splits[s]) for s in SPLITS] == [40, 5, 5]


def test_jsonl_string_labels_map_to_ids_in_sorted_order(tmp_path):
    labels = ["pos", "neg", "neu"]
    records = [{"text_a": f"premise {i}", "text_b": f"hypothesis {i}", "label": labels[i % 3]} for i in range(60)]
    task = load_task(str(write_jsonl(tmp_path / "nli.jsonl", records)))
    assert task.is_pair and task.objective == "classification"
    assert task.label_names == ["neg", "neu", "pos"] and task.num_labels == 3
    for examples in split_texts(task).values():
        for a, _, label in examples:
            assert task.label_names[label] == labels[int(a.split()[1]) % 3]


def test_explicit_columns_and_label_inference(tmp_path):
    rows = [[f"review {i}", f"{(i % 3) + 1}.0", i * 0.37] for i in range(30)]
    path = write_csv(tmp_path / "stars.csv", ["review", "stars", "sentiment"], rows)
    stars = load_task(str(path), text_column="review", label_column="stars")
    assert stars.objective == "classification" and stars.label_names == ["1", "2", "3"]  # 1.0, 2.0, 3.0 are classes
    as_scores = load_task(str(path), text_column="review", score_column="stars")
    assert as_scores.objective == "regression"  # a score column means regression even when values are integers
    floats = load_task(str(path), text_column="review", label_column="sentiment")
    assert floats.objective == "regression"  # non-integer numbers are scores
    forced = load_task(str(path), text_column="review", label_column="stars", objective="regression")
    assert forced.objective == "regression" and forced.metric == "spearman"
    assert load_task(str(path), text_column="review", label_column="stars", metric="macro_f1").metric == "macro_f1"


def test_split_column_is_used_and_validation_carved_when_absent(tmp_path):
    names = ["train"] * 20 + ["dev"] * 4 + ["test"] * 6
    rows = [[f"text {i}", i % 2, names[i]] for i in range(30)]
    task = load_task(str(write_csv(tmp_path / "s.csv", ["text", "label", "part"], rows)), split_column="part")
    assert [len(task.splits[s]) for s in SPLITS] == [20, 4, 6]
    assert task.splits["validation"].texts == [f"text {i}" for i in range(20, 24)]
    assert task.splits["test"].texts == [f"text {i}" for i in range(24, 30)]

    rows = [[f"text {i}", i % 2, "test" if i >= 40 else "train"] for i in range(50)]
    task = load_task(str(write_csv(tmp_path / "t.csv", ["text", "label", "split"], rows)), split_column="split")
    assert [len(task.splits[s]) for s in SPLITS] == [36, 4, 10]
    assert set(task.splits["validation"].texts) < {f"text {i}" for i in range(40)}
    assert task.splits["test"].texts == [f"text {i}" for i in range(40, 50)]


# -------------------------------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize("content, kwargs, message", [
    ("text,label\n", {}, "has no data rows"),
    ("text,label\na,0\nb,1\nc,0\n", {}, "split is empty"),
    ("review,label\na,0\n", {"text_column": "text"}, r"no column 'text'; its columns are: review, label"),
    ("text,y\na,0\n", {"label_column": "label"}, r"no column 'label'; its columns are: text, y"),
    ("body,y\na,0\n", {}, r"no text column found .* its columns are: body, y"),
    ("text,y\na,0\n", {}, r"no target column found .* its columns are: text, y"),
    ("text,label\na,1\nb,0.5\n", {"objective": "classification"}, r"integer class labels.*'0.5' at row 2 \(line 3\)"),
    ("text,label\na,1\nb,nan\n", {}, r"'nan' \(NaN or infinite\) at row 2 \(line 3\)"),
    ("text,label\na,1\nb,good\n", {"objective": "regression"}, r"mixes numbers and text: the text 'good' at row 2"),
    ("text,label\na,bad\nb,good\n", {"objective": "regression"}, r"numeric targets.*'bad' at row 1"),
    ("text,label\na,1\nb,\n", {}, r"missing value at row 2 \(line 3\)"),
    ("text,label\na,1\n,0\n", {}, r"text column 'text' has a missing or empty value at row 2"),
    ("sentence1,sentence2,label\na,b,1\nc,,0\n", {}, r"pair column 'sentence2' .* at row 2 \(line 3\)"),
    ("text,label,score\na,1,0.2\n", {"label_column": "label", "score_column": "score"}, "not both"),
    ("text,label\na,1\n", {"objective": "ranking"}, "objective='ranking'"),
    ("text,label\na,1\nb,0\n", {"metric": "spearman"}, "does not fit a classification task"),
    ("text,label\na,1\nb,0\nc,2\n", {"metric": "f1"}, "use 'macro_f1'"),
    ("text,label,part\na,1,train\nb,0,holdout\n", {"split_column": "part"}, r"'holdout' at row 2"),
    ("text,label,part\na,1,train\nb,0,train\n", {"split_column": "part"}, "marks no 'test' rows"),
    ("text,label\na,1,extra\n", {}, "more fields than the header"),
    ("text,label\na,1\n", {"colour": "red"}, "unknown option.*colour"),
    ("text,label\na,1\n", {"seed": "13"}, "seed must be an integer"),
])
def test_bad_files_raise_errors_that_name_the_problem(tmp_path, content, kwargs, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_task(str(path), **kwargs)


def test_bad_jsonl_and_missing_file(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{"text": "b", "label": \n', encoding="utf-8")
    with pytest.raises(ValueError, match="line 2: not valid JSON"):
        load_task(str(path))
    with pytest.raises(FileNotFoundError, match="no such data file"):
        load_task(str(tmp_path / "absent.csv"))


# ------------------------------------------------------------------------------------------ quotes and line separators
def _rows_text(n: int) -> list[str]:
    return [f"review number {i} was {'good' if i % 2 else 'bad'}" for i in range(n)]


def test_tsv_text_starting_with_a_quote_does_not_swallow_lines(tmp_path):
    texts = _rows_text(200)
    texts[10] = '"Great" film, they said'
    texts[50] = '"an unclosed quote at the start'
    path = tmp_path / "mine.tsv"
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{i % 2}\n" for i, t in enumerate(texts)), encoding="utf-8")
    task = load_task(str(path))
    read = [t for split in task.splits.values() for t in split.texts]
    assert len(read) == 200 and texts[10] in read and texts[50] in read


def test_tsv_quoted_throughout_is_unquoted(tmp_path):
    path = tmp_path / "quoted.tsv"
    lines = ['"text"\t"label"'] + [f'"{t} ""quoted"""\t"{i % 2}"' for i, t in enumerate(_rows_text(40))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = [t for split in load_task(str(path)).splits.values() for t in split.texts]
    assert len(read) == 40 and all(t.endswith(' "quoted"') for t in read)


def test_csv_unclosed_quote_names_its_line(tmp_path):
    lines = ["text,label"] + [f"{t},{i % 2}" for i, t in enumerate(_rows_text(30))]
    lines[7] = '"this quote never closes,1'
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"mine.csv, line 8"):
        load_task(str(path))


def _merged_rows_file(tmp_path, rows: int, swallowed: int, distinct_texts: int | None = None):
    """A CSV whose quote at row 6 swallows ``swallowed`` rows (the quote closes ``swallowed + 1`` lines later)."""
    texts = _rows_text(rows) if distinct_texts is None else [f"t{i % distinct_texts}" for i in range(rows)]
    lines = ["text,label"] + [f"{t},{i % 2}" for i, t in enumerate(texts)]
    lines[5] = '"starts a quote,1'
    lines[6 + swallowed] = 'and closes it here",0'
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("rows, swallowed, distinct", [(30, 3, None), (20, 4, 3), (30, 1, None)])
def test_merged_rows_are_a_warning_naming_row_and_lines_and_strict_refuses(tmp_path, rows, swallowed, distinct):
    """A parseable file is never refused by default; a quote that swallowed rows (several, one, or in a file
    whose texts repeat like labels) is a warning that names the row, its lines and rows against lines."""
    from sentence_transformers_glot.data.user_files import SuspiciousQuoteWarning

    path = _merged_rows_file(tmp_path, rows, swallowed, distinct)
    last = 6 + swallowed + 1
    expected = rf"mine.csv, row 5 \(lines 6-{last}\): a quoted field spans {last - 5} lines, {swallowed} of which look"
    with pytest.warns(SuspiciousQuoteWarning, match=expected) as caught:
        task = load_task(str(path))
    assert f"({rows - swallowed - 1} rows in {rows + 1} lines)" in str(caught[0].message)
    assert sum(len(split.texts) for split in task.splits.values()) == rows - swallowed - 1  # read as the csv parses
    with pytest.raises(ValueError, match=expected):
        load_task(str(path), strict_quotes=True)


def test_correct_pandas_export_with_row_shaped_lines_loads(tmp_path):
    """Quoted texts holding lines shaped like rows (a checklist ``acting, pos``) are valid CSV: loaded, with a
    warning only, never refused."""
    from sentence_transformers_glot.data.user_files import SuspiciousQuoteWarning

    rows = [[t, i % 2] for i, t in enumerate(_rows_text(30))]
    rows[3][0] = "my checklist:\nacting, pos\nplot, neg"
    rows[8][0] = "opening, 1\nending, 0"
    path = tmp_path / "export.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    with pytest.warns(SuspiciousQuoteWarning):
        task = load_task(str(path))
    read = [t for split in task.splits.values() for t in split.texts]
    assert len(read) == 30 and "my checklist:\nacting, pos\nplot, neg" in read and "opening, 1\nending, 0" in read


def test_csv_multiline_quoted_field_is_one_row(tmp_path):
    rows = [[t, i % 2] for i, t in enumerate(_rows_text(30))]
    rows[3][0] = "first line of a review\nsecond line of it"
    path = write_csv(tmp_path / "multi.csv", ["text", "label"], rows)
    read = [t for split in load_task(str(path)).splits.values() for t in split.texts]
    assert len(read) == 30 and "first line of a review\nsecond line of it" in read


def test_csv_written_by_the_csv_module_with_paragraphs_is_accepted(tmp_path):
    paragraphs = [f"Paragraph one of document {i}, with commas, in it.\nSecond paragraph, one comma.\n"
                  "Third, one too.\n\n"
                  f"A third, after a blank line: \"quoted\" words, and 1,0 numbers." for i in range(30)]
    rows = [[text, ["sport", "politics"][i % 2]] for i, text in enumerate(paragraphs)]
    path = write_csv(tmp_path / "docs.csv", ["text", "label"], rows)
    read = sorted(t for split in load_task(str(path)).splits.values() for t in split.texts)
    assert read == sorted(paragraphs)


def test_texts_with_unicode_line_separators_stay_whole_in_csv_and_jsonl(tmp_path):
    texts = [f"page {i}\x0cnext\u2028line\x85end" for i in range(30)]
    csv_path = write_csv(tmp_path / "odd.csv", ["text", "label"], [[t, i % 2] for i, t in enumerate(texts)])
    jsonl_path = tmp_path / "odd.jsonl"
    jsonl_path.write_text("".join(json.dumps({"text": t, "label": i % 2}, ensure_ascii=False) + "\n"
                                  for i, t in enumerate(texts)), encoding="utf-8")
    for path in (csv_path, jsonl_path):
        read = sorted(t for split in load_task(str(path)).splits.values() for t in split.texts)
        assert read == sorted(texts)


def test_a_score_column_with_one_value_is_refused_naming_file_and_column(tmp_path):
    path = write_csv(tmp_path / "flat.csv", ["text", "score"], [[f"text {i}", 3.0] for i in range(40)])
    with pytest.raises(ValueError, match=r"flat.csv: the score column 'score' holds one value \(3\)"):
        load_task(str(path))
