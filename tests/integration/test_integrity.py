"""No silent wrong answers: damaged checkpoints and JSON files, other encodings, unwritable folders, and
values of the wrong kind are detected and named, never turned into a plausible result."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import config, toy_task, write_csv, write_jsonl

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot.data import load_task
from sentence_transformers_glot.embeddings_file import read_texts
from sentence_transformers_glot.io import check_writable_folder, read_json
from sentence_transformers_glot.training.cache import StateCache
from sentence_transformers_glot.training.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from sentence_transformers_glot.training.config import TrainConfig
from sentence_transformers_glot.training.run import train
from sentence_transformers_glot.training.run_identity import config_dict

SETTINGS = dict(checkpoint_every=2, glot={"threshold": 0.3, "hidden_dim": 16, "dropout": 0.2})


def flip_byte(path: Path, offset: int = -100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


# -------------------------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("damaged", [("checkpoint.pt",), ("checkpoint.pt", "checkpoint.pt.prev")])
def test_a_damaged_checkpoint_is_reported_and_the_run_ends_as_if_never_damaged(tiny_bert_dir, tmp_path, caplog,
                                                                                damaged):
    cache = StateCache(tmp_path / "cache", dtype="float32")
    task = toy_task()
    full = train(config(tiny_bert_dir, **SETTINGS), tmp_path / "full", task=task, cache=cache, export=False)
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(config(tiny_bert_dir, **SETTINGS), run, task=task, cache=cache, export=False, stop_after_steps=11)
    for name in damaged:
        flip_byte(run / name)
    with caplog.at_level(logging.WARNING, logger="sentence_transformers_glot"):
        resumed = train(config(tiny_bert_dir, **SETTINGS), run, task=task, cache=cache, export=False)
    assert "checksum mismatch" in caplog.text and str(run / "checkpoint.pt") in caplog.text
    if len(damaged) == 1:
        assert "resuming from the previous checkpoint" in caplog.text
    else:
        assert "starts from scratch" in caplog.text
    assert (resumed.validation, resumed.test, resumed.best_epoch) == (full.validation, full.test, full.best_epoch)
    assert [h["validation"] for h in resumed.history] == [h["validation"] for h in full.history]


def test_checkpoint_files_carry_a_checksum_and_old_ones_still_load(tmp_path):
    state = {"model": {"w": torch.arange(4.0)}, "progress": {"epoch": 1, "history": [{"validation": 50.0}]}}
    save_checkpoint(tmp_path / "c.pt", state)
    assert (tmp_path / "c.pt").read_bytes().startswith(b"GLOT-CHECKPOINT 1 ")
    assert torch.equal(read_checkpoint(tmp_path / "c.pt")["model"]["w"], state["model"]["w"])
    save_checkpoint(tmp_path / "c.pt", {**state, "progress": {"epoch": 2}})  # the first one becomes .prev
    assert read_checkpoint(tmp_path / "c.pt.prev")["progress"]["epoch"] == 1
    truncated = tmp_path / "c.pt"
    truncated.write_bytes(truncated.read_bytes()[:-10])
    with pytest.raises(ValueError, match="checksum mismatch"):
        read_checkpoint(truncated)
    assert load_checkpoint(truncated)["progress"]["epoch"] == 1 and not truncated.exists()
    torch.save(state, tmp_path / "legacy.pt")  # written before checkpoints had a header
    assert read_checkpoint(tmp_path / "legacy.pt")["progress"] == state["progress"]
    (tmp_path / "garbage.pt").write_bytes(b"\x00" * 64)
    assert load_checkpoint(tmp_path / "garbage.pt") is None


# -------------------------------------------------------------------------------------------- JSON files
def test_invalid_json_in_run_and_model_files_names_the_file(tiny_bert_dir, tmp_path):
    from sentence_transformers_glot import load_glot_model
    from sentence_transformers_glot.training.heads import TaskHead

    cache = StateCache(tmp_path / "cache", dtype="float32")
    result = train(config(tiny_bert_dir, epochs=1), tmp_path / "run", task=toy_task(n=48), cache=cache)
    model = Path(result.model_dir)
    # the checksums would name the file first: test the JSON reader here
    for listing in (model / "glot_checksums.json", model / "1_GlotPooling" / "glot_checksums.json"):
        listing.unlink()
    for path, load in [
        (tmp_path / "run" / "metrics.json", lambda: train(config(tiny_bert_dir, epochs=1), tmp_path / "run",
                                                           task=toy_task(n=48), cache=cache)),
        (tmp_path / "run" / "run_config.json", lambda: train(config(tiny_bert_dir, epochs=1), tmp_path / "run",
                                                              task=toy_task(n=48), cache=cache)),
        (model / "modules.json", lambda: load_glot_model(str(model))),
        (model / "1_GlotPooling" / "config.json", lambda: GlotPooling.load(str(model / "1_GlotPooling"))),
        (model / "task_head" / "head_config.json", lambda: TaskHead.load(str(model / "task_head"))),
    ]:
        good = path.read_text()
        path.write_text(good[: len(good) // 2])
        with pytest.raises(ValueError, match=f"{path.name}.*not valid JSON.*line"):
            load()
        assert str(path) in str(pytest.raises(ValueError, load).value)
        path.write_text(good)


def test_read_json_names_a_file_that_is_not_utf8(tmp_path):
    (tmp_path / "x.json").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ValueError, match=r"x\.json: not UTF-8"):
        read_json(tmp_path / "x.json")


# -------------------------------------------------------------------------------------------- encodings
def test_a_latin1_data_file_names_the_file_and_line_and_loads_with_its_encoding(tmp_path):
    rows = [[f"caf\u00e9 number {i}" if i == 7 else f"plain text {i}", i % 2] for i in range(40)]
    path = tmp_path / "latin.csv"
    with open(path, "w", encoding="latin-1", newline="") as handle:
        handle.write("text,label\n" + "".join(f"{t},{y}\n" for t, y in rows))
    with pytest.raises(ValueError, match=r"latin\.csv, line 9: not utf-8-sig text.*--encoding latin-1"):
        load_task(str(path))
    task = load_task(str(path), encoding="latin-1")
    assert any("caf\u00e9" in t for split in task.splits.values() for t in split.texts)
    with pytest.raises(ValueError, match="encoding='klingon'"):
        load_task(str(path), encoding="klingon")


def test_glot_train_has_encoding_and_encode_input_names_a_bad_file(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "mine.csv"
    task = toy_task(n=60)
    data.write_bytes(("text,label\n" + "".join(f"{t} \u00e9,{y}\n" for t, y in zip(task.splits["train"].texts,
                                                                              task.splits["train"].labels)))
                     .encode("latin-1"))
    args = ["train", "--backbone", tiny_bert_dir, "--task", str(data), "--runs", str(tmp_path / "runs"),
            "--epochs", "1", "--threshold", "0.3", "--hidden-dim", "8", "--no-export"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("glot: error: mine.csv, line 2: not utf-8-sig text") and "Traceback" not in err
    assert main([*args, "--encoding", "latin-1"]) == 0
    assert "glot: test accuracy" in capsys.readouterr().out

    texts = tmp_path / "texts.txt"
    texts.write_bytes("na\u00efve\nplain\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"texts\.txt, line 1: not utf-8 text"):
        read_texts(texts)
    assert read_texts(texts, encoding="latin-1") == ["na\u00efve", "plain"]


# -------------------------------------------------------------------------------------------- folders
def test_an_output_folder_that_cannot_be_written_fails_first_in_one_line(tiny_bert_dir, tmp_path, monkeypatch,
                                                                         capsys):
    from sentence_transformers_glot.cli import main

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "a-file").write_text("not a folder")
    code = main(["train", "--backbone", tiny_bert_dir, "--task", "movie-polarity", "--runs",
                 str(tmp_path / "a-file" / "runs")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--runs" in err and "is a file, not a folder" in err
    assert not (tmp_path / "cache").exists()  # refused before anything was built

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)  # as for a read-only folder (tests may run as root)
    with pytest.raises(PermissionError, match="--output 'results': cannot write in .*Permission denied"):
        check_writable_folder("results", "--output")


# -------------------------------------------------------------------------------------------- coercions
def test_a_stray_string_in_a_numeric_label_column_is_an_error_naming_the_row(tmp_path):
    rows = [[f"text {i}", i % 2] for i in range(30)]
    rows[12][1] = "1O"  # a typo: letter O for zero
    with pytest.raises(ValueError, match=r"mixes numbers and text: the text '1O' at row 13 \(line 14\) \(1 such row\)"):
        load_task(str(write_csv(tmp_path / "typo.csv", ["text", "label"], rows)))
    rows = [[f"text {i}", ["pos", "neg"][i % 2]] for i in range(30)]
    rows[3][1] = 1
    with pytest.raises(ValueError, match=r"the number '1' at row 4"):
        load_task(str(write_csv(tmp_path / "names.csv", ["text", "label"], rows)))


@pytest.mark.parametrize("bad", [17, ["a", "list"], {"an": "object"}, True])
def test_a_jsonl_text_that_is_not_a_string_is_an_error(tmp_path, bad):
    records = [{"text": f"sentence {i}", "label": i % 2} for i in range(30)]
    records[5]["text"] = bad
    with pytest.raises(ValueError, match=r"text column 'text' has the \w+ .* at row 6 \(line 6\)"):
        load_task(str(write_jsonl(tmp_path / "bad.jsonl", records)))


def test_integer_token_states_give_float_embeddings():
    torch.manual_seed(0)
    pooling = GlotPooling(8, threshold=0.2, hidden_dim=4)
    states = torch.randint(-3, 4, (2, 5, 8))
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    out = pooling({"token_embeddings": states, "attention_mask": mask})["sentence_embedding"]
    expected = pooling({"token_embeddings": states.float(), "attention_mask": mask})["sentence_embedding"]
    assert out.dtype == torch.float32 and torch.equal(out, expected)


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers(tmp_path):
    literal = GlotPooling(8, threshold=0.5, top_k=3, hidden_dim=4, dropout=0.25, sequence_window=1)
    numpy = GlotPooling(np.int64(8), threshold=np.float64(0.5), top_k=np.int32(3), hidden_dim=np.int64(4),
                        dropout=np.float32(0.25), sequence_window=np.int8(1))
    assert numpy.get_config_dict() == literal.get_config_dict()
    assert all(type(v) in (int, float, str, bool, type(None), list) for v in numpy.get_config_dict().values())
    numpy.save(str(tmp_path / "p"))
    assert GlotPooling.load(str(tmp_path / "p")).get_config_dict() == literal.get_config_dict()
    settings = TrainConfig(epochs=np.int64(2), batch_size=np.int32(8), lr=np.float32(0.5), seed=np.int64(3))
    assert config_dict(settings) == config_dict(TrainConfig(epochs=2, batch_size=8, lr=0.5, seed=3))
    with pytest.raises(ValueError, match="`epochs` must be an int >= 1"):
        TrainConfig(epochs=np.float64(2.0))
    with pytest.raises(ValueError, match="`hidden_dim`"):
        GlotPooling(8, hidden_dim=np.bool_(True))


@pytest.mark.parametrize("mask", [[[1, 2, 1]], [[1, 0, -1]], [[0.5, 1.0, 1.0]]])
def test_an_attention_mask_other_than_0_1_is_refused(mask):
    pooling = GlotPooling(4, threshold=0.2, hidden_dim=4)
    with pytest.raises(ValueError, match="attention_mask must hold only 0 .* and 1"):
        pooling({"token_embeddings": torch.randn(1, 3, 4), "attention_mask": torch.tensor(mask)})
    ok = pooling({"token_embeddings": torch.randn(1, 3, 4), "attention_mask": torch.tensor([[True, True, False]])})
    assert ok["sentence_embedding"].shape == (1, pooling.get_sentence_embedding_dimension())


# ------------------------------------------------------------------------------------------ exported model checksums
def _flip_a_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def test_exported_models_are_verified_and_a_finished_run_exports_again(tiny_bert_dir, tmp_path, capsys):
    from sentence_transformers_glot import load_glot_model
    from sentence_transformers_glot.cli import main
    from sentence_transformers_glot.training.predict import load_predictor

    task, cache = toy_task(), StateCache(tmp_path / "cache", dtype="float32")
    settings = config(tiny_bert_dir, epochs=1)
    result = train(settings, tmp_path / "run", task=task, cache=cache)
    model_dir = Path(result.model_dir)
    assert (model_dir / "glot_checksums.json").is_file()
    expected = load_glot_model(str(model_dir)).encode(["a b c"])
    pooling_weights = next(model_dir.rglob("1_GlotPooling/model.safetensors"))
    for damaged in (pooling_weights, model_dir / "task_head" / "head.safetensors"):
        original = damaged.read_bytes()
        _flip_a_byte(damaged)
        with pytest.raises(ValueError, match=f"{damaged.name}: damaged"):
            load_predictor(model_dir)
        capsys.readouterr()
        assert main(["predict", "--model", str(model_dir), "a b c"]) == 2
        assert damaged.name in capsys.readouterr().err
        damaged.write_bytes(original)
    _flip_a_byte(next(model_dir.rglob("1_GlotPooling/model.safetensors")))
    again = train(settings, tmp_path / "run", task=task, cache=cache)  # finished, but its export is damaged
    assert again.test == result.test
    assert np.array_equal(load_glot_model(str(model_dir)).encode(["a b c"]), expected)
    shutil.rmtree(model_dir)
    train(settings, tmp_path / "run", task=task, cache=cache)  # deleted: exported again
    assert np.array_equal(load_predictor(model_dir).model.encode(["a b c"]), expected)


# ---------------------------------------------------------------------------------------- full disks, read-only folders
def test_write_errors_name_the_path_and_the_cause(tmp_path):
    import errno

    from sentence_transformers_glot.io import atomic_write, atomic_write_folder, write_error

    target = tmp_path / "shard.npy"
    full = write_error(target, OSError("7953792 requested and 3143616 written"))
    assert str(target) in str(full) and "no space left on the disk" in str(full) and "MiB free" in str(full)
    assert "read-only" in str(write_error(target, OSError(errno.EROFS, "Read-only file system", str(target))))
    assert "permission denied" in str(write_error(target, PermissionError(errno.EACCES, "Permission denied")))
    assert write_error(target, ValueError("something else")) is None

    def numpy_short_write(path: str) -> None:
        raise OSError("7953792 requested and 3143616 written")

    with pytest.raises(OSError, match=r"cannot write .*shard\.npy: no space left"):
        atomic_write(target, numpy_short_write)
    assert list(tmp_path.iterdir()) == []  # the partial file is gone

    class SafetensorError(Exception):  # safetensors' own error type, not an OSError
        pass

    def safetensors_full(folder: str) -> None:
        raise SafetensorError('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No '
                              'space left on device" })')

    with pytest.raises(OSError, match=r"cannot write .*model: no space left"):
        atomic_write_folder(tmp_path / "model", safetensors_full)


def test_cli_reports_a_full_disk_during_export_in_one_line(tiny_bert_dir, tmp_path, monkeypatch, capsys):
    from sentence_transformers_glot.cli import main

    def full_disk(self, output_path, *args, **kwargs):
        raise Exception('Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "No space '
                        'left on device" })')

    monkeypatch.setenv("GLOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(GlotPooling, "save", full_disk)
    data = write_csv(tmp_path / "d.csv", ["text", "label"], [[f"w{i} w{i + 1}", i % 2] for i in range(40)])
    assert main(["train", "--backbone", tiny_bert_dir, "--task", str(data), "--epochs", "1", "--runs",
                 str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("glot: error: cannot write") and "no space left" in err[-1]
    assert "Traceback" not in "\n".join(err)


def test_cli_names_the_path_of_a_read_only_folder(monkeypatch, capsys, tmp_path):
    import errno

    from sentence_transformers_glot import cli

    def read_only(args):  # what a read-only cache folder or `glot mteb --output` raises deep inside
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "results"))

    parser = cli.build_parser()
    parse = parser.parse_args

    def parse_with_failing_command(argv=None):
        args = parse(argv)
        args.run = read_only
        return args

    monkeypatch.setattr(parser, "parse_args", parse_with_failing_command)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main(["data", "list"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "results") in err and "read-only" in err and "choose a folder you can write to" in err


def _saved_three_ways(backbone: str, tmp_path: Path) -> dict[str, Path]:
    """The same kind of model folder as each save path writes it: sentence-transformers' ``model.save``,
    ``save_glot_model`` and ``glot train``'s export."""
    from helpers import glot_model

    from sentence_transformers_glot import save_glot_model

    model = glot_model(backbone, threshold=0.3, hidden_dim=16)
    model.save(str(tmp_path / "model-save"))
    save_glot_model(model, tmp_path / "save-glot-model")
    result = train(config(backbone, epochs=1), tmp_path / "run", task=toy_task(n=48),
                   cache=StateCache(tmp_path / "cache", dtype="float32"))
    return {"model.save": tmp_path / "model-save", "save_glot_model": tmp_path / "save-glot-model",
            "export": Path(result.model_dir)}


def _loaders(folder: Path) -> dict:
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot import load_glot_model
    from sentence_transformers_glot.training.predict import load_predictor

    loaders = {
        "SentenceTransformer(trust_remote_code=True)": lambda: SentenceTransformer(str(folder), trust_remote_code=True),
        "load_glot_model": lambda: load_glot_model(str(folder)),
        "GlotPooling.load": lambda: GlotPooling.load(str(folder / "1_GlotPooling")),
    }
    if (folder / "task_head").is_dir():
        loaders["load_predictor"] = lambda: load_predictor(str(folder))
    return loaders


def test_every_save_writes_checksums_and_every_loader_refuses_damaged_glot_weights(tiny_bert_dir, tmp_path):
    """Flipped bytes in the GLOT weights of a folder written by any save path are caught by every loader, the
    sentence-transformers loader the model card names included; the undamaged folders load."""
    folders = _saved_three_ways(tiny_bert_dir, tmp_path)
    for save, folder in folders.items():
        assert (folder / "1_GlotPooling" / "glot_checksums.json").is_file(), save
        for name, load in _loaders(folder).items():
            load()  # intact: loads
        weights = folder / "1_GlotPooling" / "model.safetensors"
        data = bytearray(weights.read_bytes())
        for i in range(len(data) - 16, len(data)):  # tensor bytes at the end: the file still parses
            data[i] ^= 0xFF
        weights.write_bytes(bytes(data))
        for name, load in _loaders(folder).items():
            with pytest.raises(ValueError, match=r"model\.safetensors: damaged"):
                load()
