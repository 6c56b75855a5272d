"""The ``glot`` command line: parsing, one-line errors, and the train, encode and predict commands end to end on a
tiny BERT."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from helpers import glot_model, toy_task, trained

from sentence_transformers_glot.cli import build_parser


# -------------------------------------------------------------------------------------------------- parsing and errors
def test_version_flag(capsys):
    from sentence_transformers_glot import __version__

    with pytest.raises(SystemExit) as done:
        build_parser().parse_args(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"glot {__version__}"


def test_cli_parses_layer_groups_and_the_new_flags():
    from sentence_transformers_glot.cli import build_parser
    from sentence_transformers_glot.cli_args import glot_kwargs

    args = build_parser().parse_args(["benchmark", "--layers", "-1", "8,9,10", "--sequence-window", "2",
                                      "--edge-weight", "cosine", "--input-norm", "layer"])
    assert args.layers == [-1, [8, 9, 10]]
    assert glot_kwargs(args) == {"sequence_window": 2, "edge_weight": "cosine", "input_norm": "layer"}
    assert build_parser().parse_args(["train", "--layers", "3", "4"]).layers == [3, 4]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["benchmark", "--layers", "8,x"])


def test_the_command_line_takes_auto_and_the_sink_choice():
    from sentence_transformers_glot.cli import build_parser

    args = build_parser().parse_args(["train", "--threshold", "auto", "--attention-sink", "keep",
                                      "--warmup-ratio", "0.2", "--max-grad-norm", "0.5", "--head-dim", "64"])
    assert (args.threshold, args.attention_sink, args.warmup_ratio, args.max_grad_norm, args.head_dim) == (
        "auto", "keep", 0.2, 0.5, 64)
    assert build_parser().parse_args(["train", "--threshold", "0.7"]).threshold == 0.7
    assert build_parser().parse_args(["benchmark", "--max-grad-norm", "none"]).max_grad_norm is None
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--threshold", "high"])


def test_errors_are_one_line_unless_a_traceback_is_asked_for(monkeypatch, capsys, tmp_path):
    from sentence_transformers_glot.cli import main

    assert main(["encode", "--output", str(tmp_path / "x.json"), "a"]) == 2
    assert capsys.readouterr().err.startswith("glot: error: --output")
    monkeypatch.setenv("GLOT_TRACEBACK", "1")
    with pytest.raises(ValueError, match="the extension picks the format"):
        main(["encode", "--output", str(tmp_path / "x.json"), "a"])


def test_cli_reports_bad_names_clearly(tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    assert main(["train", "--task", "movie-polarityy", "--runs", str(tmp_path)]) == 2
    assert "movie-polarity" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------------- glot train
def test_cli_train_on_a_users_csv_prints_both_poolings(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    task = toy_task(n=60)
    rows = ["text,label"] + [f"{t},{y}" for t, y in zip(task.splits["train"].texts, task.splits["train"].labels)]
    (tmp_path / "mine.csv").write_text("\n".join(rows) + "\n")
    code = main(["train", "--backbone", tiny_bert_dir, "--task", str(tmp_path / "mine.csv"), "--pooling", "glot",
                 "mean",
                 "--epochs", "1", "--runs", str(tmp_path / "runs"), "--threshold", "0.3", "--hidden-dim", "8",
                 "--json", str(tmp_path / "results.json")])
    assert code == 0
    out = capsys.readouterr().out
    assert "glot: test accuracy" in out and "mean: test accuracy" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["pooling"] for r in results] == ["glot", "mean"]
    for r in results:
        assert Path(r["model_dir"]).parent.parent == tmp_path / "runs"
        assert (Path(r["model_dir"]) / "modules.json").exists()
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_a_data_file_edited_in_place_trains_again(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    task = toy_task(n=60)
    pairs = list(zip(task.splits["train"].texts, task.splits["train"].labels))
    data = tmp_path / "mine.csv"
    args = ["train", "--backbone", tiny_bert_dir, "--task", str(data), "--pooling", "mean", "--epochs", "1",
            "--runs", str(tmp_path / "runs"), "--no-export"]
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in pairs))
    assert main(args) == 0
    assert "mean epoch 1/1: validation accuracy" in capsys.readouterr().out  # per-epoch scores are printed
    assert main(args) == 0  # unchanged file: the finished run is read back, no second folder
    assert len(list((tmp_path / "runs").iterdir())) == 1
    data.write_text("text,label\n" + "".join(f"{t},{1 - y}\n" for t, y in pairs))  # same path, flipped labels
    assert main(args) == 0
    assert len(list((tmp_path / "runs").iterdir())) == 2
    capsys.readouterr()


@pytest.mark.parametrize("flags, named", [(["--threshold", "2"], "threshold"), (["--hidden-dim", "0"], "hidden_dim"),
                                           (["--label-column", "stars"], "stars")])
def test_bad_options_fail_before_the_cache_and_leave_no_run_folder(tiny_bert_dir, tmp_path, monkeypatch, capsys,
                                                                   flags, named):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "mine.csv"
    task = toy_task(n=60)
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(task.splits["train"].texts,
                                                                            task.splits["train"].labels)))
    code = main(["train", "--backbone", tiny_bert_dir, "--task", str(data), "--runs", str(tmp_path / "runs"), *flags])
    assert code == 2 and named in capsys.readouterr().err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    assert not (tmp_path / "cache" / "states").exists()


def test_an_unreachable_backbone_is_one_line_and_leaves_no_run_folder(tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = tmp_path / "mine.csv"
    task = toy_task(n=60)
    data.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in zip(task.splits["train"].texts,
                                                                            task.splits["train"].labels)))
    code = main(["train", "--backbone", "no-such-org/no-such-model", "--task", str(data),
                 "--runs", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("glot: error:") and "no-such-org/no-such-model" in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


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


# --------------------------------------------------------------------------------------------------------- glot encode
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


# -------------------------------------------------------------------------------------------------------- glot predict
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


def test_max_length_beyond_the_backbones_positions_is_one_line_before_any_work(tiny_bert_dir, tmp_path, monkeypatch,
                                                                                  capsys):
    """MiniLM takes 512 tokens: a longer --max-length fails in one line before the cache or the model loads (it
    used to end in a transformers traceback mid-way)."""
    from sentence_transformers_glot.cli import main

    def no_work(*args, **kwargs):
        raise AssertionError("no work may start")

    monkeypatch.setattr("sentence_transformers_glot.training.run.cache_task_states", no_work)
    monkeypatch.setattr("sentence_transformers_glot.backbones.registry.resolve_backbone", no_work)
    limit = json.loads((Path(tiny_bert_dir) / "config.json").read_text())["max_position_embeddings"]
    for argv in (["train", "--backbone", "minilm", "--max-length", "1000", "--runs", str(tmp_path / "runs")],
                 ["train", "--backbone", tiny_bert_dir, "--max-length", str(limit + 1), "--runs",
                  str(tmp_path / "runs")],
                 ["encode", "--max-length", "1000", "a text"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "max_length" in err.replace("-", "_") and "or less" in err, err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_encode_refuses_fresh_head_flags_with_a_trained_model(tmp_path, capsys):
    from sentence_transformers_glot.cli import main

    assert main(["encode", "--model", str(tmp_path), "--conv", "gat", "--seed", "3", "a text"]) == 2
    err = capsys.readouterr().err
    assert "--seed, --conv build a fresh head" in err and len(err.strip().splitlines()) == 1
