"""glot encode and glot predict: texts in, embeddings and predictions out, every check before the model loads."""

from __future__ import annotations

import csv
import json

import numpy as np
from helpers import glot_model, toy_task, trained


# -------------------------------------------------------------------------------------------------- parsing and errors
def test_cli_encode_with_a_saved_model(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    glot_model(tiny_bert_dir, threshold=0.3).save(str(tmp_path / "model"))
    out = tmp_path / "emb.npy"
    assert main(["encode", "--model", str(tmp_path / "model"), "--output", str(out), "a b", "c d e"]) == 0
    embeddings = np.load(out)
    assert embeddings.shape == (2, 32 + 2 * 256)
    assert "encoded 2 sentences" in capsys.readouterr().err  # stdout stays clean for pipelines


def test_cli_encode_reads_stdin_and_files_and_writes_by_extension(tiny_bert_dir, tmp_path, capsys, monkeypatch):
    import io

    from sentence_transformers_glot.cli import main

    model = glot_model(tiny_bert_dir, threshold=0.3)
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


def test_cli_predict(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    result = trained(tiny_bert_dir, tmp_path, toy_task())
    capsys.readouterr()  # the training's own output
    assert main(["predict", "--model", result.model_dir, "a b c", "d e f"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[1] for line in lines] == ["a b c", "d e f"]
    assert all(line.split("\t")[0] in ("0", "1") for line in lines)
    assert main(["predict", "--model", str(tmp_path)]) == 2  # no texts / not a model folder: one clear line


def test_cli_predict_pairs_from_files(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    task = toy_task(pair=True)
    result = trained(tiny_bert_dir, tmp_path, task)
    test = task.splits["test"]
    (tmp_path / "a.txt").write_text("\n".join(test.texts[:3]) + "\n")
    (tmp_path / "b.txt").write_text("\n".join(test.texts_b[:3]) + "\n")
    capsys.readouterr()
    assert main(["predict", "--model", result.model_dir, "--input", str(tmp_path / "a.txt"),
                 "--input-b", str(tmp_path / "b.txt")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[1:] for line in lines] == [[a, b] for a, b in zip(test.texts[:3], test.texts_b[:3])]
    assert main(["predict", "--model", result.model_dir, "a b", "--input", str(tmp_path / "a.txt")]) == 2
    assert "not both" in capsys.readouterr().err


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


def test_encode_refuses_fresh_head_flags_with_a_trained_model(tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    assert main(["encode", "--model", str(tmp_path), "--conv", "gat", "--seed", "3", "a text"]) == 2
    err = capsys.readouterr().err
    assert "--seed, --conv build a fresh head" in err and len(err.strip().splitlines()) == 1


def test_encode_takes_max_length_for_a_trained_model_and_checks_it_against_its_backbone(tiny_bert_dir, tmp_path,
                                                                                     capsys):
    """``--max-length`` truncates a saved model's inputs (the embeddings change); beyond the backbone's positions
    it is one line."""
    from sentence_transformers_glot.cli import main

    glot_model(tiny_bert_dir, threshold=0.3).save(str(tmp_path / "model"))
    long_text = " ".join(f"w{i % 40}" for i in range(30))
    full, short = tmp_path / "full.npy", tmp_path / "short.npy"
    assert main(["encode", "--model", str(tmp_path / "model"), "--output", str(full), long_text]) == 0
    assert main(["encode", "--model", str(tmp_path / "model"), "--max-length", "4", "--output", str(short),
                 long_text]) == 0
    assert not np.allclose(np.load(full), np.load(short))
    capsys.readouterr()
    assert main(["encode", "--model", str(tmp_path / "model"), "--max-length", "100000", long_text]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "or less" in err
