"""glot train from the command line: users' files, one-line errors before the cache, no run folder left."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import toy_task


# -------------------------------------------------------------------------------------------------- parsing and errors
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


# ------------------------------------------------------------------------------------------------------ --pooling auto
def test_pooling_auto_chooses_on_validation_prints_the_table_and_exports_the_choice(tiny_bert_dir, tmp_path,
                                                                                   monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    task = toy_task(n=60)
    rows = ["text,label"] + [f"{t},{y}" for t, y in zip(task.splits["train"].texts, task.splits["train"].labels)]
    (tmp_path / "mine.csv").write_text("\n".join(rows) + "\n")
    args = ["train", "--backbone", tiny_bert_dir, "--task", str(tmp_path / "mine.csv"), "--pooling", "auto",
            "--epochs", "1", "--runs", str(tmp_path / "runs"), "--threshold", "0.3", "--hidden-dim", "8",
            "--select-lrs", "5e-3", "--select-report-test", "--json", str(tmp_path / "choice.json")]
    assert main(args) == 0
    out = capsys.readouterr().out
    choice = json.loads((tmp_path / "choice.json").read_text())
    assert f"chose {choice['choice']} at lr 0.005 on validation" in out and "(not used)" in out
    assert [c["candidate"] for c in choice["candidates"]] == ["glot-sage", "glot-gat", "adapool", "mean", "cls"]
    folder = Path(choice["folder"])
    assert (folder / "model" / "modules.json").exists() and (folder / "selection.json").exists()
    assert json.loads((folder / "selection.json").read_text())["candidates"][0]["options"]["threshold"] == 0.3
    assert len(list((tmp_path / "runs").iterdir())) == 6  # five candidate runs and the selection


@pytest.mark.parametrize("flags, message", [
    (["--pooling", "auto", "mean"], "give it alone"),
    (["--pooling", "glot", "--select-lrs", "1e-3"], "--select-lrs set the budget of --pooling auto"),
    (["--pooling", "auto", "--conv", "gin"], "chooses the conv itself"),
    (["--pooling", "auto", "--select-epochs", "0"], "`select_epochs` must be an int >= 1"),
])
def test_pooling_auto_refuses_what_it_would_ignore_in_one_line(tiny_bert_dir, tmp_path, capsys, flags, message):
    from sentence_transformers_glot.cli import main

    code = main(["train", "--backbone", tiny_bert_dir, "--task", "movie-polarity", "--runs", str(tmp_path / "runs"),
                 *flags])
    assert code != 0 and message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_init_from_and_freeze_pooling_from_the_command_line(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    task = toy_task(n=60)
    rows = ["text,label"] + [f"{t},{y}" for t, y in zip(task.splits["train"].texts, task.splits["train"].labels)]
    (tmp_path / "mine.csv").write_text("\n".join(rows) + "\n")
    common = ["train", "--backbone", tiny_bert_dir, "--task", str(tmp_path / "mine.csv"), "--epochs", "1",
              "--threshold", "0.3", "--hidden-dim", "8", "--json", str(tmp_path / "r.json")]
    assert main([*common, "--runs", str(tmp_path / "source")]) == 0
    (source,) = (tmp_path / "source").iterdir()
    assert main([*common, "--runs", str(tmp_path / "target"), "--init-from", str(source), "--freeze-pooling",
                 "--seed", "3"]) == 0
    (target,) = (tmp_path / "target").iterdir()
    assert json.loads((target / "run_config.json").read_text())["init_from"] == str(source)
    code = main(["train", "--backbone", tiny_bert_dir, "--task", str(tmp_path / "mine.csv"), "--threshold", "0.3",
                 "--runs", str(tmp_path / "bad"), "--init-from", str(source)])
    assert code != 0 and "hidden_dim=8 (this run: 256)" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_multi_task_training_from_the_command_line(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    paths = []
    for seed in (1, 2):
        task = toy_task(n=60, seed=seed)
        rows = ["text,label"] + [f"{t},{y}" for t, y in zip(task.splits["train"].texts, task.splits["train"].labels)]
        paths.append(tmp_path / f"t{seed}.csv")
        paths[-1].write_text("\n".join(rows) + "\n")
    assert main(["train", "--backbone", tiny_bert_dir, "--task", str(paths[0]), "--also-tasks", str(paths[1]),
                 "--sampling", "balanced", "--epochs", "1", "--threshold", "0.3", "--hidden-dim", "8",
                 "--runs", str(tmp_path / "runs")]) == 0
    assert "glot: test mean" in capsys.readouterr().out
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "run_config.json").read_text())["also_tasks"] == [str(paths[1])]
    assert set(json.loads((run / "tasks.json").read_text())) == {str(p) for p in paths}
